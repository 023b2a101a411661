"""Role permissions (people) and API key authentication and scopes (systems)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from customers.models import Branch, Customer, Holding, Interaction
from tests import factories as f
from tests.api.endpoints import build, customer_body
from tests.api.helpers import assert_problem, audit_count, row, row_count
from vector_crm.models import ApiCredential, Tenant
from vector_crm.roles import Role
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def own_customer(org_a):
    with tenant_context(org_a.tenant.pk):
        return f.CustomerFactory(owner=org_a["advisor"].user, branch=org_a.branches[0])


# (role, method, url suffix or None for the list, body) -> expected status
@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.TENANT_ADMIN, True),
        (Role.BRANCH_MANAGER, True),
        (Role.SUPERVISOR, True),
        (Role.ADVISOR, True),
        (Role.MARKETING, False),
        (Role.ANALYST, False),
        (Role.COLLECTIONS_AGENT, False),
        (Role.COLLECTIONS_MANAGER, False),
    ],
)
def test_who_may_create_customers(role, allowed, org_a, api_for):
    body = build(org_a, customer_body)
    body.pop("owner")  # an advisor's new customer goes to their own portfolio
    count, audits = row_count(Customer, org_a.tenant), audit_count(org_a.tenant)
    response = api_for(org_a[role]).post("/api/v1/customers/", body)
    if allowed:
        assert response.status_code == 201, response.content
        assert row_count(Customer, org_a.tenant) == count + 1
    else:
        assert_problem(response, 403)
        assert (row_count(Customer, org_a.tenant), audit_count(org_a.tenant)) == (count, audits)


@pytest.mark.parametrize("role", [Role.ADVISOR, Role.SUPERVISOR, Role.BRANCH_MANAGER, Role.MARKETING])
def test_only_tenant_admin_deletes_customers(role, org_a, own_customer, api_for):
    assert_problem(api_for(org_a[role]).delete(f"/api/v1/customers/{own_customer.pk}/"), 403)
    assert row(Customer, own_customer.pk) is not None
    assert api_for(org_a[Role.TENANT_ADMIN]).delete(f"/api/v1/customers/{own_customer.pk}/").status_code == 204


def test_advisor_cannot_move_a_customer_by_editing_its_owner(org_a, own_customer, api_for):
    response = api_for(org_a["advisor"]).patch(
        f"/api/v1/customers/{own_customer.pk}/", {"owner": org_a.extra["teammate"].user_id}
    )
    assert_problem(response, 403)
    assert row(Customer, own_customer.pk)["owner_id"] == org_a["advisor"].user_id


def test_marketing_reads_but_does_not_write(org_a, own_customer, api_for):
    client = api_for(org_a["marketing"])
    assert client.get(f"/api/v1/customers/{own_customer.pk}/").status_code == 200
    assert_problem(client.patch(f"/api/v1/customers/{own_customer.pk}/", {"city": "Cali"}), 403)
    assert row(Customer, own_customer.pk)["city"] == "Bogotá"


def test_collections_agent_logs_interactions_but_cannot_delete_them(org_a, own_customer, api_for):
    client = api_for(org_a["collections_agent"])
    created = client.post(
        "/api/v1/interactions/",
        {
            "customer": own_customer.pk,
            "channel": "phone",
            "direction": "outbound",
            "interaction_type": "collection",
            "outcome": "promise_to_pay",
        },
    )
    assert created.status_code == 201, created.content
    assert_problem(client.delete(f"/api/v1/interactions/{created.json()['id']}/"), 403)
    assert row(Interaction, created.json()["id"]) is not None


@pytest.mark.parametrize("role", [Role.ANALYST, Role.ADVISOR, Role.BRANCH_MANAGER])
def test_catalogue_and_accounts_are_managed_by_tenant_admin_only(role, org_a, own_customer, api_for):
    client = api_for(org_a[role])
    assert_problem(client.post("/api/v1/branches/", {"code": "X-1", "name": "Nueva"}), 403)
    assert_problem(
        client.post("/api/v1/products/", {"code": "X-1", "name": "Nuevo", "family": "savings", "currency": "COP"}), 403
    )
    with tenant_context(org_a.tenant.pk):
        product = f.ProductFactory()
    assert_problem(
        client.post(
            "/api/v1/holdings/",
            {
                "customer": own_customer.pk,
                "product": product.pk,
                "account_number": "X1",
                "currency": "COP",
                "opened_on": "2025-01-01",
            },
        ),
        403,
    )
    assert row_count(Branch, org_a.tenant) == 2
    assert row_count(Holding, org_a.tenant) == 0


def test_user_without_membership_gets_nothing(org_a, api_for):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_login(f.UserFactory(username="stranger"))
    assert_problem(client.get("/api/v1/customers/"), 403)


# --- API keys -------------------------------------------------------------------------


def test_missing_key_is_401(org_a):
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/customers/")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Api-Key"


@pytest.mark.parametrize("header", ["Api-Key nodot", "Api-Key abc.def", "Api-Key .secret"])
def test_malformed_or_unknown_key_is_401(header, org_a):
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert_problem(client.get("/api/v1/customers/"), 401)


def test_wrong_secret_is_401(org_a, api_key_for):
    client = api_key_for(org_a.tenant)
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {client.credential.prefix}.not-the-secret")
    assert_problem(client.get("/api/v1/customers/"), 401)


def test_revoked_key_is_401(org_a, api_key_for):
    client = api_key_for(org_a.tenant)
    assert client.get("/api/v1/customers/").status_code == 200
    with platform_context():
        ApiCredential.unscoped.filter(pk=client.credential.pk).update(revoked_at=timezone.now())
    assert_problem(client.get("/api/v1/customers/"), 401)


def test_key_of_a_deactivated_institution_is_401(org_a, api_key_for):
    client = api_key_for(org_a.tenant)
    Tenant.objects.filter(pk=org_a.tenant.pk).update(is_active=False)
    assert_problem(client.get("/api/v1/customers/"), 401)


def test_read_only_key_cannot_write(org_a, api_key_for):
    client = api_key_for(org_a.tenant, scopes=["customers:read"])
    body = build(org_a, customer_body)
    count = row_count(Customer, org_a.tenant)
    assert client.get("/api/v1/customers/").status_code == 200
    assert_problem(client.post("/api/v1/customers/", body), 403)
    assert_problem(client.post("/api/v1/customers/reassign/", {"customer_ids": [1], "to_owner": 1}), 403)
    assert row_count(Customer, org_a.tenant) == count


def test_key_scopes_are_per_family(org_a, api_key_for):
    client = api_key_for(org_a.tenant, scopes=["customers:write"])
    assert client.get("/api/v1/customers/").status_code == 200
    assert_problem(client.get("/api/v1/holdings/"), 403)
    assert_problem(client.get("/api/v1/payments/"), 403)
    assert_problem(client.get("/api/v1/jobs/"), 403)


def test_key_use_is_recorded(org_a, api_key_for):
    client = api_key_for(org_a.tenant)
    client.get("/api/v1/branches/")
    with platform_context():
        assert ApiCredential.unscoped.get(pk=client.credential.pk).last_used_at is not None
