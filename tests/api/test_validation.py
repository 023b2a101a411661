"""Bad input is a 400 problem+json naming the field, and nothing is written or audited."""

from __future__ import annotations

import pytest

from customers.identification import nit_check_digit
from customers.models import Branch, Customer, Holding, Product
from tests import factories as f
from tests.api.endpoints import build, customer_body, holding_body, product_body
from tests.api.helpers import assert_problem, audit_count, row, row_count
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

GOOD_NIT_BODY = "900123456"
BAD_NIT = GOOD_NIT_BODY + str((nit_check_digit(GOOD_NIT_BODY) + 1) % 10)


def _company(org, number: str) -> dict:
    body = build(org, customer_body)
    for name in ("first_name", "last_name", "owner"):
        body.pop(name)
    return body | {
        "kind": "company",
        "identification_type": "nit",
        "identification_number": number,
        "legal_name": "Andes Logística S.A.S.",
    }


CUSTOMER_CASES = {
    "bad NIT check digit": (lambda org: _company(org, BAD_NIT), "identification_number"),
    "bad Ecuadorian cédula": (
        lambda org: build(org, customer_body) | {"identification_type": "ci_ec", "identification_number": "1710034066"},
        "identification_number",
    ),
    "cédula with letters": (
        lambda org: build(org, customer_body) | {"identification_number": "52A23456"},
        "identification_number",
    ),
    "unknown identification type": (
        lambda org: build(org, customer_body) | {"identification_type": "ssn"},
        "identification_type",
    ),
    "invalid phone": (lambda org: build(org, customer_body) | {"mobile": "+57 123"}, "mobile"),
    "phone that is text": (lambda org: build(org, customer_body) | {"mobile": "llámame"}, "mobile"),
    "invalid email": (lambda org: build(org, customer_body) | {"email": "ana.perez@"}, "email"),
    "person without last name": (lambda org: build(org, customer_body) | {"last_name": ""}, "last_name"),
    "stratum out of range": (lambda org: build(org, customer_body) | {"stratum": 9}, "stratum"),
    "churn reason on an active customer": (
        lambda org: build(org, customer_body) | {"lifecycle_status": "active", "churn_reason": "personal"},
        "churn_reason",
    ),
    "unknown lifecycle status": (
        lambda org: build(org, customer_body) | {"lifecycle_status": "vip"},
        "lifecycle_status",
    ),
}


@pytest.mark.parametrize("case", sorted(CUSTOMER_CASES))
def test_invalid_customer_is_refused_and_nothing_written(case, org_a, client_as):
    make_body, field = CUSTOMER_CASES[case]
    client = client_as(org_a, "user")
    body = make_body(org_a)
    count, audits = row_count(Customer, org_a.tenant), audit_count(org_a.tenant)
    # when the customer is posted
    response = client.post("/api/v1/customers/", body)
    # then a problem names the field, and neither a row nor an audit entry was written
    problem = assert_problem(response, 400, field)
    assert problem["type"].endswith("/validation-error")
    assert (row_count(Customer, org_a.tenant), audit_count(org_a.tenant)) == (count, audits)


def test_valid_nit_and_ecuadorian_cedula_are_accepted(org_a, org_b, client_as):
    nit = GOOD_NIT_BODY + str(nit_check_digit(GOOD_NIT_BODY))
    assert client_as(org_a, "user").post("/api/v1/customers/", _company(org_a, nit)).status_code == 201
    body = build(org_b, customer_body) | {"identification_type": "ci_ec", "identification_number": "1710034065"}
    assert client_as(org_b, "user").post("/api/v1/customers/", body).status_code == 201


def test_national_mobile_is_read_in_the_tenants_country(org_b, client_as):
    body = build(org_b, customer_body) | {"mobile": "099 123 4567"}
    response = client_as(org_b, "api_key").post("/api/v1/customers/", body)
    assert response.status_code == 201, response.content
    assert response.json()["mobile"] == "+593991234567"


def test_duplicate_identification_names_the_field(org_a, client_as):
    # given an existing customer
    with tenant_context(org_a.tenant.pk):
        existing = f.CustomerFactory(identification_number="52123456")
    client = client_as(org_a, "api_key")
    count, audits = row_count(Customer, org_a.tenant), audit_count(org_a.tenant)
    # when another one is posted with the same document, written with separators
    body = build(org_a, customer_body) | {"identification_number": "52.123.456"}
    problem = assert_problem(client.post("/api/v1/customers/", body), 400, "identification_number")
    # then the rule is named and nothing was written
    assert problem["errors"][0]["code"] == "duplicate-identification"
    assert (row_count(Customer, org_a.tenant), audit_count(org_a.tenant)) == (count, audits)
    assert row(Customer, existing.pk)["first_name"] == existing.first_name


def test_same_identification_in_another_tenant_is_fine(org_a, org_b, client_as):
    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory(identification_number="52123456")
    body = build(org_b, customer_body) | {"identification_number": "52123456"}
    assert client_as(org_b, "user").post("/api/v1/customers/", body).status_code == 201


def test_invalid_update_changes_nothing(org_a, client_as):
    with tenant_context(org_a.tenant.pk):
        customer = f.CustomerFactory()
    before, audits = row(Customer, customer.pk), audit_count(org_a.tenant)
    response = client_as(org_a, "user").patch(
        f"/api/v1/customers/{customer.pk}/", {"city": "Cali", "identification_type": "nit"}
    )
    assert_problem(response, 400, "identification_number")
    assert (row(Customer, customer.pk), audit_count(org_a.tenant)) == (before, audits)


@pytest.mark.parametrize("currency", ["ZZZ", "US", "usd", ""])
def test_invalid_currency_on_product_and_account(currency, org_a, client_as):
    client = client_as(org_a, "user")
    counts = row_count(Product, org_a.tenant), row_count(Holding, org_a.tenant)
    product = build(org_a, product_body) | {"currency": currency}
    holding = build(org_a, holding_body) | {"currency": currency}
    audits = audit_count(org_a.tenant)
    assert_problem(client.post("/api/v1/products/", product), 400, "currency")
    assert_problem(client.post("/api/v1/holdings/", holding), 400, "currency")
    assert (row_count(Product, org_a.tenant), row_count(Holding, org_a.tenant)) == (counts[0] + 1, counts[1])
    assert audit_count(org_a.tenant) == audits


def test_duplicate_codes_name_their_field(org_a, client_as):
    client = client_as(org_a, "user")
    with tenant_context(org_a.tenant.pk):
        holding = f.HoldingFactory(account_number="ACC-1")
    body = build(org_a, holding_body) | {"account_number": "ACC-1"}
    assert (
        assert_problem(client.post("/api/v1/holdings/", body), 400, "account_number")["errors"][0]["code"] == "unique"
    )
    branch = client.post("/api/v1/branches/", {"code": org_a.branches[0].code, "name": "Copia"})
    assert_problem(branch, 400, "code")
    assert row_count(Holding, org_a.tenant) == 1
    assert row(Holding, holding.pk)["account_number"] == "ACC-1"
    assert row_count(Branch, org_a.tenant) == 2


def test_maturity_before_opening_is_refused(org_a, client_as):
    body = build(org_a, holding_body) | {"maturity_date": "2020-01-01"}
    assert_problem(client_as(org_a, "user").post("/api/v1/holdings/", body), 400, "maturity_date")


def test_summary_month_must_be_first_day(org_a, client_as):
    with tenant_context(org_a.tenant.pk):
        holding = f.HoldingFactory()
    response = client_as(org_a, "user").post(
        "/api/v1/monthly-summaries/", {"holding": holding.pk, "month": "2026-02-15"}
    )
    assert_problem(response, 400, "month")


def test_malformed_json_is_a_problem(org_a, client_as):
    response = client_as(org_a, "user").post("/api/v1/customers/", "{not json", content_type="application/json")
    assert_problem(response, 400)


def test_invalid_filter_value_is_a_problem(org_a, client_as):
    response = client_as(org_a, "user").get("/api/v1/customers/", {"lifecycle_status": "vip"})
    assert_problem(response, 400, "lifecycle_status")
