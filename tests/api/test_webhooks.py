"""``/api/v1/webhooks/``: endpoints (secret in the creation and rotation answers only), the
delivery log with filters, redelivery with the same event id, the test event, scopes.
CRUD, ETag and cross-tenant 404s of both viewsets come from the shared classes
(tests/api/endpoints.py)."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.helpers import assert_problem, ids
from vector_crm import jobs
from vector_crm.audit import audit_entries_for
from vector_crm.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db

BODY = {"url": "https://erp.example.com/hooks", "description": "ERP", "event_types": ["customer.created"]}


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(jobs.deliver_webhooks, "delay", calls.append)
    return calls


def delivery_row(pk) -> WebhookDelivery:
    with platform_context():
        return WebhookDelivery.unscoped.select_related("event").get(pk=pk)


def make_delivery(org, endpoint=None, **kwargs) -> WebhookDelivery:
    with tenant_context(org.tenant.pk):
        endpoint = endpoint or f.WebhookEndpointFactory(tenant=org.tenant)
        return f.WebhookDeliveryFactory(
            tenant=org.tenant, endpoint=endpoint, event=f.OutboxEventFactory(tenant=org.tenant), **kwargs
        )


@pytest.mark.parametrize("principal", ["user", "api_key"])
def test_create_returns_the_secret_once(principal, org_a, client_as):
    client = client_as(org_a, principal)
    response = client.post("/api/v1/webhooks/", BODY)
    assert response.status_code == 201, response.content
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    with tenant_context(org_a.tenant.pk):
        endpoint = WebhookEndpoint.objects.get()
    assert body["secret"] == endpoint.secret and len(body["secret"]) == 64
    assert (body["url"], body["event_types"], body["is_active"]) == (BODY["url"], ["customer.created"], True)
    assert "secret" not in client.get(f"/api/v1/webhooks/{endpoint.pk}/").json()
    assert all("secret" not in item for item in client.get("/api/v1/webhooks/").json()["results"])


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**BODY, "url": "http://erp.example.com/hooks"}, "url"),
        ({**BODY, "url": "http://localhost:8000/hooks"}, "url"),  # local http is off by default
        ({**BODY, "event_types": ["case.exploded"]}, "event_types"),
        ({**BODY, "event_types": []}, "event_types"),
        ({**BODY, "url": "not a url"}, "url"),
    ],
)
def test_invalid_endpoint_is_a_problem_naming_the_field(body, field, org_a, client_as):
    response = client_as(org_a, "api_key").post("/api/v1/webhooks/", body)
    assert_problem(response, 400, field=field)
    with platform_context():
        assert WebhookEndpoint.unscoped.count() == 0


def test_rotate_secret_answers_the_new_secret_and_audits(org_a, client_as):
    client = client_as(org_a, "api_key")
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    response = client.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/")
    assert response.status_code == 200, response.content
    with tenant_context(org_a.tenant.pk):
        endpoint_after = WebhookEndpoint.objects.get(pk=endpoint.pk)
        entry = audit_entries_for(endpoint).first()
    assert response.json()["secret"] == endpoint_after.secret != endpoint.secret
    assert entry.additional_data == {"action": "webhook.secret_rotated"}
    assert entry.api_credential_id == client.credential.pk


def test_deliveries_are_listed_newest_first_and_filtered(org_a, client_as):
    client = client_as(org_a, "api_key")
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    old = make_delivery(org_a, endpoint, status=DeliveryStatus.DEAD, attempts=8, last_status_code=500)
    new = make_delivery(org_a, endpoint, status=DeliveryStatus.SUCCEEDED)
    other = make_delivery(org_a, status=DeliveryStatus.DEAD)
    assert ids(client.get("/api/v1/webhooks/deliveries/")) == [other.pk, new.pk, old.pk]
    assert ids(client.get("/api/v1/webhooks/deliveries/", {"endpoint": endpoint.pk})) == [new.pk, old.pk]
    dead = client.get("/api/v1/webhooks/deliveries/", {"endpoint": endpoint.pk, "status": "dead"}).json()["results"]
    assert [(d["id"], d["event_id"], d["event_type"], d["attempts"], d["last_status_code"]) for d in dead] == [
        (old.pk, str(old.event.event_id), "customer.created", 8, 500)
    ]
    assert_problem(client.get("/api/v1/webhooks/deliveries/", {"status": "lost"}), 400, field="status")


def test_redeliver_keeps_the_event_id(org_a, client_as, settings, queued, django_capture_on_commit_callbacks):
    from tests.platform.test_webhooks import Receiver

    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = True
    client = client_as(org_a, "api_key")
    with Receiver() as receiver:
        with tenant_context(org_a.tenant.pk):
            endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant, url=receiver.url)
        delivery = make_delivery(org_a, endpoint, status=DeliveryStatus.DEAD, attempts=8, next_attempt_at=None)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/")
        assert response.status_code == 202, response.content
        assert (response.json()["status"], response.json()["event_id"]) == ("pending", str(delivery.event.event_id))
        assert queued == [org_a.tenant.pk]
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["delivered"] == 1
    assert [r["headers"]["X-Vector-Event-Id"] for r in receiver.requests] == [str(delivery.event.event_id)]
    assert delivery_row(delivery.pk).status == DeliveryStatus.SUCCEEDED


def test_redeliver_failed_and_test_event(org_a, client_as):
    client = client_as(org_a, "api_key")
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["customer.created"])
    failed = make_delivery(org_a, endpoint, status=DeliveryStatus.FAILED)
    dead = make_delivery(org_a, endpoint, status=DeliveryStatus.DEAD)
    response = client.post(f"/api/v1/webhooks/{endpoint.pk}/redeliver-failed/")
    assert (response.status_code, response.json()) == (202, {"queued": 2})
    assert {delivery_row(d.pk).status for d in (failed, dead)} == {DeliveryStatus.PENDING}

    response = client.post(f"/api/v1/webhooks/{endpoint.pk}/test/")
    assert response.status_code == 202, response.content
    assert (response.json()["event_type"], response.json()["endpoint"]) == ("webhook.test", endpoint.pk)
    with tenant_context(org_a.tenant.pk):
        assert OutboxEvent.objects.filter(type="webhook.test").count() == 1


def test_test_event_to_an_inactive_endpoint_is_refused(org_a, client_as):
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant, is_active=False)
    assert_problem(client_as(org_a, "api_key").post(f"/api/v1/webhooks/{endpoint.pk}/test/"), 400, "is_active")
    with platform_context():
        assert OutboxEvent.unscoped.count() == 0


def test_scopes(org_a, api_key_for):
    delivery = make_delivery(org_a, status=DeliveryStatus.DEAD)
    endpoint = delivery.endpoint
    reader = api_key_for(org_a.tenant, scopes=["webhooks:read"])
    assert reader.get("/api/v1/webhooks/").status_code == 200
    assert reader.get("/api/v1/webhooks/deliveries/").status_code == 200
    assert reader.post("/api/v1/webhooks/", BODY).status_code == 403
    assert reader.patch(f"/api/v1/webhooks/{endpoint.pk}/", {"description": "x"}).status_code == 403
    assert reader.post(f"/api/v1/webhooks/{endpoint.pk}/rotate-secret/").status_code == 403
    assert reader.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 403
    other_family = api_key_for(org_a.tenant, scopes=["customers:write"])
    assert other_family.get("/api/v1/webhooks/").status_code == 403
    assert delivery_row(delivery.pk).status == DeliveryStatus.DEAD


@pytest.mark.parametrize("role", ["advisor", "supervisor", "branch_manager", "analyst", "marketing"])
def test_only_tenant_admins_use_the_webhook_api(role, org_a, api_for):
    delivery = make_delivery(org_a, status=DeliveryStatus.DEAD)
    client = api_for(org_a[role])
    assert client.get("/api/v1/webhooks/").status_code == 403
    assert client.get("/api/v1/webhooks/deliveries/").status_code == 403
    assert client.post(f"/api/v1/webhooks/deliveries/{delivery.pk}/redeliver/").status_code == 403
    assert delivery_row(delivery.pk).status == DeliveryStatus.DEAD


def test_another_tenants_delivery_and_endpoint_actions_are_404(org_a, org_b, client_as):
    foreign = make_delivery(org_a, status=DeliveryStatus.DEAD)
    client = client_as(org_b, "api_key")
    for url in (
        f"/api/v1/webhooks/deliveries/{foreign.pk}/redeliver/",
        f"/api/v1/webhooks/{foreign.endpoint_id}/rotate-secret/",
        f"/api/v1/webhooks/{foreign.endpoint_id}/test/",
        f"/api/v1/webhooks/{foreign.endpoint_id}/redeliver-failed/",
    ):
        assert_problem(client.post(url), 404)
    assert delivery_row(foreign.pk).status == DeliveryStatus.DEAD
    with platform_context():
        assert WebhookEndpoint.unscoped.get(pk=foreign.endpoint_id).secret == foreign.endpoint.secret
        assert OutboxEvent.unscoped.filter(tenant=org_b.tenant).count() == 0


def test_internal_destination_is_refused_naming_the_url(org_a, client_as, settings):
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = False
    client = client_as(org_a, "api_key")
    for url in ("https://169.254.169.254/latest/meta-data/", "https://10.0.0.5/hook", "https://[::1]/hook"):
        body = assert_problem(client.post("/api/v1/webhooks/", {**BODY, "url": url}, format="json"), 400, field="url")
        assert "dirección interna" in body["errors"][0]["message"]
    assert client.get("/api/v1/webhooks/").json()["results"] == []
