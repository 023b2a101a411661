"""Cross-tenant isolation of every registered endpoint, for a person and for an API key.

For tenant A's object, tenant B answers exactly what it answers for an id that never
existed (404 where the method exists), its lists never show the object, the row is
unchanged afterwards and tenant A's audit trail gains nothing. Ids of tenant A's rows
in B's input are unknown ids: a 400 naming the field, and nothing written anywhere.
"""

from __future__ import annotations

import pytest
from django.urls import get_resolver

from tests import factories as f
from tests.api.conftest import PRINCIPALS
from tests.api.endpoints import (
    ENDPOINTS,
    EXCLUDED_ENDPOINTS,
    REFERENCE_CASES,
    REFERENCE_MAKERS,
    UPDATABLE_ENDPOINTS,
    build,
)
from tests.api.helpers import assert_problem, audit_count, ids, row, row_count
from vector_crm.api.urls import router
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

METHOD_ACTIONS = {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
NEVER_AN_ID = 987_654_321


def test_every_api_endpoint_is_registered():
    registered = {endpoint.basename for endpoint in ENDPOINTS}
    routed = {basename for _prefix, _viewset, basename in router.registry}
    assert routed == registered | set(EXCLUDED_ENDPOINTS)
    assert not registered & set(EXCLUDED_ENDPOINTS)
    assert get_resolver().resolve("/api/v1/customers/1/interactions/").url_name == "customer-interactions"


def _body_for(endpoint, org) -> dict:
    """A valid body in the attacker's own tenant, so only scoping can stop the write."""
    if endpoint.create_body is None:
        return {"kind": "x"}
    return build(org, endpoint.create_body)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("method", sorted(METHOD_ACTIONS))
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_other_tenants_object_is_not_found(endpoint, method, principal, org_a, org_b, client_as):
    # given an object of tenant A and a client of tenant B
    target = build(org_a, endpoint.make)
    before, audit_before = row(endpoint.model, target.pk), audit_count(org_a.tenant)
    client = client_as(org_b, principal)
    body = _body_for(endpoint, org_b) if method in ("put", "patch") else None
    # when B calls the method on A's object and on an id that never existed
    response = getattr(client, method)(endpoint.detail_url(target.pk), body)
    control = getattr(client, method)(endpoint.detail_url(NEVER_AN_ID), body)
    # then both answers are the same, a 404 wherever the method exists
    assert (response.status_code, response.json()) == (control.status_code, control.json())
    if METHOD_ACTIONS[method] in endpoint.actions:
        assert_problem(response, 404)
    else:  # no such method here: refused before any lookup (no write scope, or not allowed)
        assert response.status_code in (403, 405)
    # and A's row and audit trail are untouched
    assert row(endpoint.model, target.pk) == before
    assert audit_count(org_a.tenant) == audit_before


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_lists_show_only_own_tenant(endpoint, principal, org_a, org_b, client_as):
    # given one object in each tenant
    theirs = build(org_a, endpoint.make)
    mine = build(org_b, endpoint.make)
    # when B lists the endpoint
    response = client_as(org_b, principal).get(endpoint.list_url())
    # then B's object is there and A's is not
    assert response.status_code == 200
    listed = ids(response)
    assert mine.pk in listed
    assert theirs.pk not in listed


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("endpoint", "field"), REFERENCE_CASES, ids=lambda v: str(v))
def test_create_with_other_tenants_reference_is_400(endpoint, field, principal, org_a, org_b, client_as):
    # given a valid body of tenant B whose `field` names a row of tenant A
    client = client_as(org_b, principal)
    body = build(org_b, endpoint.create_body)
    body[field] = build(org_a, REFERENCE_MAKERS[field])
    counts = row_count(endpoint.model, org_b.tenant), row_count(endpoint.model, org_a.tenant)
    audits = audit_count(org_b.tenant), audit_count(org_a.tenant)
    # when B posts it
    response = client.post(endpoint.list_url(), body)
    # then it is refused naming the field, the same way as an id that never existed
    problem = assert_problem(response, 400, field)
    body[field] = NEVER_AN_ID
    control = client.post(endpoint.list_url(), body)
    assert [e["code"] for e in problem["errors"]] == [e["code"] for e in control.json()["errors"]]
    # and nothing was written in either tenant
    assert (row_count(endpoint.model, org_b.tenant), row_count(endpoint.model, org_a.tenant)) == counts
    assert (audit_count(org_b.tenant), audit_count(org_a.tenant)) == audits


UPDATE_REFERENCE_CASES = [(e, name) for e in UPDATABLE_ENDPOINTS for name in e.references]


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize(("endpoint", "field"), UPDATE_REFERENCE_CASES, ids=lambda v: str(v))
def test_update_with_other_tenants_reference_changes_nothing(endpoint, field, principal, org_a, org_b, client_as):
    # given B's own object and the id of a row of tenant A
    mine = build(org_b, endpoint.make)
    before = row(endpoint.model, mine.pk)
    foreign_id = build(org_a, REFERENCE_MAKERS[field])
    # when B patches its object to point at A's row
    response = client_as(org_b, principal).patch(endpoint.detail_url(mine.pk), {field: foreign_id})
    # then a changeable reference is refused naming the field; a fixed one is ignored
    if field in endpoint.create_only_references:
        assert response.status_code == 200
    else:
        assert_problem(response, 400, field)
    assert row(endpoint.model, mine.pk) == before


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_other_tenants_customer_timeline_is_not_found(principal, org_a, org_b, client_as):
    # given a customer of A with an interaction
    interaction = build(org_a, lambda org: f.InteractionFactory(tenant=org.tenant))
    client = client_as(org_b, principal)
    # when B asks for that customer's timeline
    response = client.get(f"/api/v1/customers/{interaction.customer_id}/interactions/")
    # then it is a 404 like any unknown customer
    assert_problem(response, 404)
    assert client.get(f"/api/v1/customers/{NEVER_AN_ID}/interactions/").json() == response.json()


@pytest.mark.parametrize("principal", PRINCIPALS)
def test_reassigning_other_tenants_customers_is_refused(principal, org_a, org_b, client_as):
    # given a customer of A owned by A's advisor
    customer = build(org_a, lambda org: f.CustomerFactory(tenant=org.tenant, owner=org["advisor"].user))
    before, audits = row(type(customer), customer.pk), audit_count(org_a.tenant)
    # when B tries to move it to one of B's advisors
    response = client_as(org_b, principal).post(
        "/api/v1/customers/reassign/", {"customer_ids": [customer.pk], "to_owner": org_b["advisor"].user_id}
    )
    # then the id is unknown and the customer keeps its owner
    assert_problem(response, 400, "customer_ids")
    assert row(type(customer), customer.pk) == before
    assert audit_count(org_a.tenant) == audits


def test_filtering_by_other_tenants_branch_reveals_nothing(org_a, org_b, client_as):
    # given a customer in A's north branch
    build(org_a, lambda org: f.CustomerFactory(tenant=org.tenant, branch=org.branches[0]))
    client = client_as(org_b, "user")
    # when B filters its customers by A's branch id and by an id that never existed
    response = client.get("/api/v1/customers/", {"branch": org_a.branches[0].pk})
    control = client.get("/api/v1/customers/", {"branch": NEVER_AN_ID})
    # then both are the same invalid-choice problem
    assert_problem(response, 400, "branch")
    assert response.json()["errors"][0]["code"] == control.json()["errors"][0]["code"]


def test_api_key_acts_in_its_own_tenant_even_with_a_session_of_another(org_a, org_b, api_key_for, api_for):
    # given a browser session in A that also sends B's API key
    with tenant_context(org_a.tenant.pk):
        theirs = f.CustomerFactory(tenant=org_a.tenant)
    client = api_for(org_a["tenant_admin"])
    key = api_key_for(org_b.tenant)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key.credential.raw_key}")
    # when it reads A's customer, then the key's tenant (B) decides: not found
    assert_problem(client.get(f"/api/v1/customers/{theirs.pk}/"), 404)
