"""Database constraint races surface as a 409 problem, not a 500."""

import pytest
from django.db import IntegrityError

from vector_crm.api.exceptions import problem_details_handler

pytestmark = pytest.mark.django_db


def test_integrity_error_becomes_conflict_problem():
    response = problem_details_handler(IntegrityError("duplicate key value"), {})
    assert response.status_code == 409
    assert response.data["type"].endswith("/conflict")
    assert response.data["status"] == 409
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize("url", ["/api/v1/customers/-5/", "/api/v1/customers/abc/", "/api/v1/nothing-here/"])
def test_an_api_url_no_route_matches_is_a_404_problem(url, org_a, client_as):
    # found by the schemathesis run: ids the route refuses used to get the HTML 404 page
    from tests.api.helpers import assert_problem

    body = assert_problem(client_as(org_a, "api_key").get(url), 404)
    assert body["type"].endswith("/not-found")


def test_outside_the_api_the_404_is_still_the_html_page(client):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize("url", ["/api/v1/customers/", "/api/v1/webhooks/deliveries/"])
def test_a_cursor_that_is_not_ours_is_a_400_naming_it(url, org_a, client_as):
    # found by the schemathesis run: DRF answers an undecodable cursor with 404
    from tests.api.helpers import assert_problem

    assert_problem(client_as(org_a, "api_key").get(url, {"cursor": "not-a-cursor"}), 400, field="cursor")


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/v1/payments/", "holding"),
        ("/api/v1/monthly-summaries/", "customer"),
        ("/api/v1/holdings/", "customer"),
        ("/api/v1/interactions/", "related_id"),
        ("/api/v1/webhooks/deliveries/", "endpoint"),
    ],
)
@pytest.mark.parametrize("value", ["18031636524380721250304", "1.5", "0"])
def test_an_id_filter_out_of_range_is_a_400_naming_it(url, param, value, org_a, client_as):
    # found by the schemathesis run: a 23-digit id overflowed the database integer (500)
    from tests.api.helpers import assert_problem

    assert_problem(client_as(org_a, "api_key").get(url, {param: value}), 400, field=param)


def test_a_form_body_with_too_many_fields_is_a_400_problem(org_a, client_as):
    # found by the schemathesis run: Django's refusal surfaced as its HTML 400 page
    from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

    from tests.api.helpers import assert_problem

    body = encode_multipart(BOUNDARY, {"customer_ids": ["1"] * 1500, "to_owner": "1"})
    response = client_as(org_a, "api_key").post("/api/v1/customers/reassign/", body, content_type=MULTIPART_CONTENT)
    assert assert_problem(response, 400)["type"].endswith("/bad-request")


@pytest.mark.parametrize("content_type", ["text/plain", ""])
def test_a_body_of_an_unsupported_media_type_is_a_documented_415_problem(content_type, org_a, client_as):
    # found by the schemathesis run on PostgreSQL: the 415 was not in the schema
    from tests.api.helpers import assert_problem

    response = client_as(org_a, "api_key").generic("POST", "/api/v1/holdings/", b"x=1", content_type=content_type)
    body = assert_problem(response, 415)
    assert "{" not in body["title"]
    schema = client_as(org_a, "api_key").get("/api/schema/", {"format": "json"}).json()
    assert "415" in schema["paths"]["/api/v1/holdings/"]["post"]["responses"]
