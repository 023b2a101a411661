"""CRUD of every registered endpoint inside its own tenant, for a person and an API key:
each write lands in the right tenant, is audited with who did it, and reads back."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.conftest import PRINCIPALS
from tests.api.endpoints import (
    DELETABLE_ENDPOINTS,
    ENDPOINTS,
    UPDATABLE_ENDPOINTS,
    WRITABLE_ENDPOINTS,
    build,
)
from tests.api.helpers import assert_problem, row, row_count
from vector_crm.api.urls import router
from vector_crm.audit import audit_entries_for
from vector_crm.models import AuditLogEntry
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db


def writable_fields(endpoint) -> set[str]:
    viewset = next(viewset for _prefix, viewset, basename in router.registry if basename == endpoint.basename)
    return {name for name, field in viewset.serializer_class().fields.items() if not field.read_only}


def _last_audit(org, obj):
    with tenant_context(org.tenant.pk):
        return audit_entries_for(obj).order_by("-timestamp", "-pk").first()


def _assert_audited_by(entry, action, client, org):
    assert entry.action == action
    assert entry.tenant_id == org.tenant.pk
    if hasattr(client, "credential"):
        assert (entry.actor_id, entry.api_credential_id) == (None, client.credential.pk)
    else:
        assert (entry.actor_id, entry.api_credential_id) == (org["tenant_admin"].user_id, None)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", WRITABLE_ENDPOINTS, ids=str)
def test_create(endpoint, principal, org_a, client_as):
    client = client_as(org_a, principal)
    body = build(org_a, endpoint.create_body)
    count = row_count(endpoint.model, org_a.tenant)
    # when the body is posted
    response = client.post(endpoint.list_url(), body)
    # then the row exists in the tenant with the posted values, and the creation is audited
    assert response.status_code == 201, response.content
    created = response.json()
    assert row_count(endpoint.model, org_a.tenant) == count + 1
    stored = row(endpoint.model, created["id"])
    assert stored["tenant_id"] == org_a.tenant.pk
    for name, value in body.items():
        assert created[name] == value, name
    with tenant_context(org_a.tenant.pk):
        obj = endpoint.model.objects.get(pk=created["id"])
    _assert_audited_by(_last_audit(org_a, obj), AuditLogEntry.Action.CREATE, client, org_a)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=str)
def test_retrieve(endpoint, principal, org_a, client_as):
    obj = build(org_a, endpoint.make)
    response = client_as(org_a, principal).get(endpoint.detail_url(obj.pk))
    assert response.status_code == 200
    assert response.json()["id"] == obj.pk


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", UPDATABLE_ENDPOINTS, ids=str)
def test_partial_update(endpoint, principal, org_a, client_as):
    client = client_as(org_a, principal)
    obj = build(org_a, endpoint.make)
    # when some fields are patched
    response = client.patch(endpoint.detail_url(obj.pk), endpoint.patch_body)
    # then they are stored and the audit entry has each before/after
    assert response.status_code == 200, response.content
    stored = row(endpoint.model, obj.pk)
    for name, value in endpoint.patch_body.items():
        assert response.json()[name] == value
        assert str(stored[name]) == value
    entry = _last_audit(org_a, obj)
    _assert_audited_by(entry, AuditLogEntry.Action.UPDATE, client, org_a)
    assert set(entry.changes) == set(endpoint.patch_body)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", UPDATABLE_ENDPOINTS, ids=str)
def test_full_update_with_the_read_representation(endpoint, principal, org_a, client_as):
    client = client_as(org_a, principal)
    obj = build(org_a, endpoint.make)
    # given the object as read, with the patch applied, as a PUT body of its writable fields
    current = client.get(endpoint.detail_url(obj.pk)).json()
    body = {name: value for name, value in current.items() if name in writable_fields(endpoint)} | endpoint.patch_body
    # when it is put back
    response = client.put(endpoint.detail_url(obj.pk), body)
    # then only the patched fields changed
    assert response.status_code == 200, response.content
    entry = _last_audit(org_a, obj)
    assert set(entry.changes) == set(endpoint.patch_body)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", DELETABLE_ENDPOINTS, ids=str)
def test_destroy(endpoint, principal, org_a, client_as):
    client = client_as(org_a, principal)
    obj = build(org_a, endpoint.make)
    # when it is deleted, then it is gone and the deletion is audited
    response = client.delete(endpoint.detail_url(obj.pk))
    assert response.status_code == 204
    assert row(endpoint.model, obj.pk) is None
    with platform_context():
        entry = AuditLogEntry.unscoped.filter(object_pk=str(obj.pk), action=AuditLogEntry.Action.DELETE).get(
            content_type__model=endpoint.model._meta.model_name
        )
    _assert_audited_by(entry, AuditLogEntry.Action.DELETE, client, org_a)
    assert client.get(endpoint.detail_url(obj.pk)).status_code == 404


def test_product_category_follows_its_family(org_a, client_as):
    client = client_as(org_a, "user")
    created = client.post(
        "/api/v1/products/",
        {"code": "TC1", "name": "Visa Oro", "family": "credit_card", "currency": "COP", "category": "liability"},
    ).json()
    assert created["category"] == "asset"
    changed = client.patch(f"/api/v1/products/{created['id']}/", {"family": "term_deposit"}).json()
    assert (changed["family"], changed["category"]) == ("term_deposit", "liability")


def test_advisor_creates_customer_into_own_portfolio(org_a, api_for):
    advisor = org_a["advisor"]
    response = api_for(advisor).post(
        "/api/v1/customers/",
        {
            "identification_type": "cc",
            "identification_number": "52.123.456",
            "first_name": "Luz",
            "last_name": "Gómez",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["owner"], body["branch"], body["identification_number"]) == (
        advisor.user_id,
        advisor.branch_id,
        "52123456",
    )
    assert body["display_name"] == "Luz Gómez"


def test_customer_created_with_consents(org_a, client_as):
    response = client_as(org_a, "api_key").post(
        "/api/v1/customers/",
        {
            "identification_type": "nit",
            "identification_number": "900123456-8",
            "kind": "company",
            "legal_name": "Andes Logística S.A.S.",
            "consents": [
                {"channel": "email", "opted_in": True, "source": "core_banking"},
                {"channel": "sms", "opted_in": False, "source": "core_banking"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    assert "consents" not in response.json()
    with tenant_context(org_a.tenant.pk):
        consents = dict(
            f.ChannelConsentFactory._meta.model.objects.filter(customer_id=response.json()["id"]).values_list(
                "channel", "opted_in"
            )
        )
    assert consents == {"email": True, "sms": False}


def test_monthly_summary_post_twice_replaces_the_month(org_a, client_as):
    client = client_as(org_a, "api_key")
    holding = build(org_a, lambda org: f.HoldingFactory(tenant=org.tenant))
    body = {
        "holding": holding.pk,
        "month": "2026-03-01",
        "average_balance": "100.00",
        "transactions": 4,
        "fees": "1.00",
        "revenue": "3.00",
    }
    first = client.post("/api/v1/monthly-summaries/", body)
    second = client.post("/api/v1/monthly-summaries/", body | {"transactions": 5})
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["id"] == second.json()["id"]
    assert second.json()["transactions"] == 5
    assert second.json()["customer"] == holding.customer_id
    with tenant_context(org_a.tenant.pk):
        assert f.MonthlyAccountSummaryFactory._meta.model.objects.filter(holding=holding).count() == 1


def test_interaction_logged_by_the_user_with_default_time(org_a, api_for):
    advisor = org_a["advisor"]
    customer = build(org_a, lambda org: f.CustomerFactory(tenant=org.tenant, owner=advisor.user))
    response = api_for(advisor).post(
        "/api/v1/interactions/",
        {
            "customer": customer.pk,
            "channel": "whatsapp",
            "direction": "inbound",
            "interaction_type": "message",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["user"], body["user_name"]) == (advisor.user_id, advisor.user.username)
    assert body["occurred_at"] is not None


def test_interaction_related_pair_is_required_together(org_a, client_as):
    customer = build(org_a, lambda org: f.CustomerFactory(tenant=org.tenant))
    response = client_as(org_a, "user").post(
        "/api/v1/interactions/",
        {
            "customer": customer.pk,
            "channel": "phone",
            "direction": "outbound",
            "interaction_type": "call",
            "related_kind": "case",
        },
    )
    assert_problem(response, 400, "related_id")


def test_customer_timeline_lists_its_interactions_newest_first(org_a, client_as):
    import datetime as dt

    from django.utils import timezone

    customer = build(org_a, lambda org: f.CustomerFactory(tenant=org.tenant))
    now = timezone.now()
    with tenant_context(org_a.tenant.pk):
        old = f.InteractionFactory(customer=customer, occurred_at=now - dt.timedelta(days=3))
        new = f.InteractionFactory(customer=customer, occurred_at=now - dt.timedelta(days=1))
        f.InteractionFactory()  # another customer's
    response = client_as(org_a, "user").get(f"/api/v1/customers/{customer.pk}/interactions/")
    assert response.status_code == 200
    assert [item["id"] for item in response.json()["results"]] == [new.pk, old.pk]


def test_customer_with_accounts_cannot_be_deleted(org_a, client_as):
    holding = build(org_a, lambda org: f.HoldingFactory(tenant=org.tenant))
    response = client_as(org_a, "user").delete(f"/api/v1/customers/{holding.customer_id}/")
    assert_problem(response, 400, "holdings")
    assert row(type(holding.customer), holding.customer_id) is not None


def test_put_resending_the_same_owner_is_not_a_reassignment(org_a, api_for):
    # given an advisor's own customer, read back in full
    advisor = org_a["advisor"]
    customer = build(
        org_a, lambda org: f.CustomerFactory(tenant=org.tenant, owner=advisor.user, branch=org.branches[0])
    )
    client = api_for(advisor)
    current = client.get(f"/api/v1/customers/{customer.pk}/").json()
    body = {k: v for k, v in current.items() if k in writable_fields(ENDPOINTS[0])} | {"city": "Cali"}
    # when the advisor (who may not reassign) puts it back with the same owner and branch
    response = client.put(f"/api/v1/customers/{customer.pk}/", body)
    # then the change goes through
    assert response.status_code == 200, response.content
    assert response.json()["city"] == "Cali"
