"""Webhooks in the browser: tenant admins register endpoints (secret shown once), edit,
deactivate, delete, rotate the secret, send a test event and read and redeliver the
delivery log; nobody else sees the pages, and another tenant's objects are 404."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests import factories as f
from tests.ui.helpers import page_text
from vector_crm import jobs
from vector_crm.audit import audit_entries_for
from vector_crm.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
from vector_crm.roles import Role
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db

LIST_URL = reverse("webhook_list")


@pytest.fixture(autouse=True)
def queued(monkeypatch):
    """Deliveries the services queue after commit (no broker in these tests)."""
    calls: list[int] = []
    monkeypatch.setattr(jobs.deliver_webhooks, "delay", calls.append)
    return calls


def stored(endpoint_pk) -> WebhookEndpoint | None:
    with platform_context():
        return WebhookEndpoint.unscoped.filter(pk=endpoint_pk).first()


def delivery_row(pk) -> WebhookDelivery:
    with platform_context():
        return WebhookDelivery.unscoped.select_related("event").get(pk=pk)


def make_delivery(org, endpoint=None, *, status=DeliveryStatus.SUCCEEDED, minutes_ago=0, **kwargs):
    with tenant_context(org.tenant.pk):
        endpoint = endpoint or f.WebhookEndpointFactory(tenant=org.tenant)
        event = f.OutboxEventFactory(tenant=org.tenant)
        delivery = f.WebhookDeliveryFactory(tenant=org.tenant, endpoint=endpoint, event=event, status=status, **kwargs)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            created_at=timezone.now() - dt.timedelta(minutes=minutes_ago)
        )
        return delivery


NEW_ENDPOINT = {
    "url": "https://erp.bancoandino.example/hooks",
    "description": "ERP central",
    "event_types": ["customer.created", "webhook.test"],
    "is_active": "on",
}


def test_admin_registers_an_endpoint_and_sees_the_secret_once(client_for, org_a):
    admin = org_a[Role.TENANT_ADMIN]
    browser = client_for(admin)
    # when the admin registers an endpoint
    response = browser.post(LIST_URL, NEW_ENDPOINT)
    # then the answer shows the signing secret, uncached, and the endpoint is stored as typed
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["secret"]
    assert len(secret) == 64 and secret in response.content.decode()
    with tenant_context(org_a.tenant.pk):
        endpoint = WebhookEndpoint.objects.get()
        assert [entry.action for entry in audit_entries_for(endpoint)] == [0]
    assert (endpoint.url, endpoint.description, endpoint.event_types, endpoint.is_active) == (
        "https://erp.bancoandino.example/hooks",
        "ERP central",
        ["customer.created", "webhook.test"],
        True,
    )
    assert endpoint.secret == secret and endpoint.created_by == admin.user
    # and neither the list nor the detail page ever shows it again
    for url in (LIST_URL, reverse("webhook_detail", args=[endpoint.pk])):
        page = browser.get(url)
        assert page.status_code == 200
        assert secret not in page.content.decode()
        assert "https://erp.bancoandino.example/hooks" in page_text(page)


def test_form_offers_the_registered_event_types_with_their_descriptions(client_for, org_a):
    from vector_crm.outbox import EVENT_DESCRIPTIONS, EVENT_TYPES

    response = client_for(org_a[Role.TENANT_ADMIN]).get(LIST_URL)
    html, text = response.content.decode(), page_text(response)
    assert len(EVENT_TYPES) >= 3
    for name in EVENT_TYPES:
        assert f'value="{name}"' in html
        assert f"{name} — {EVENT_DESCRIPTIONS[name]}" in text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({**NEW_ENDPOINT, "url": "http://erp.bancoandino.example/hooks"}, "url", "https://"),
        ({**NEW_ENDPOINT, "url": "erp sin esquema"}, "url", "URL completa"),
        ({**NEW_ENDPOINT, "event_types": []}, "event_types", "Elija al menos un tipo de evento."),
        ({**NEW_ENDPOINT, "event_types": ["case.unknown"]}, "event_types", "case.unknown"),
        ({**NEW_ENDPOINT, "url": ""}, "url", "Este campo es requerido."),
    ],
)
def test_invalid_input_is_a_form_error_naming_the_field(client_for, org_a, data, field, message):
    response = client_for(org_a[Role.TENANT_ADMIN]).post(LIST_URL, data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert f'data-field="{field}"' in response.content.decode()
    with platform_context():
        assert WebhookEndpoint.unscoped.count() == 0


@pytest.mark.parametrize(("allowed", "status"), [(True, 200), (False, 422)])
def test_plain_http_is_accepted_only_for_localhost_when_the_setting_allows(
    client_for, org_a, settings, allowed, status
):
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = allowed
    response = client_for(org_a[Role.TENANT_ADMIN]).post(LIST_URL, {**NEW_ENDPOINT, "url": "http://127.0.0.1:9000/h"})
    assert response.status_code == status
    with platform_context():
        assert WebhookEndpoint.unscoped.count() == (1 if allowed else 0)


def test_admin_edits_deactivates_and_deletes(client_for, org_a):
    browser = client_for(org_a[Role.TENANT_ADMIN])
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    detail = reverse("webhook_detail", args=[endpoint.pk])
    # when the admin changes the URL and the event types
    response = browser.post(
        detail, {"url": "https://nuevo.example/h", "description": "Nuevo", "event_types": ["customer.updated"]}
    )
    # then (the active box unticked) the endpoint is changed and inactive
    assert response.status_code == 302 and response["Location"] == detail
    changed = stored(endpoint.pk)
    assert (changed.url, changed.description, changed.event_types, changed.is_active) == (
        "https://nuevo.example/h",
        "Nuevo",
        ["customer.updated"],
        False,
    )
    assert "Inactivo" in page_text(browser.get(detail))
    # and the activate button turns it back on
    browser.post(reverse("webhook_set_active", args=[endpoint.pk]), {"active": "1"})
    assert stored(endpoint.pk).is_active is True
    browser.post(reverse("webhook_set_active", args=[endpoint.pk]), {"active": "0"})
    assert stored(endpoint.pk).is_active is False
    # and deleting removes it with its log, audited
    make_delivery(org_a, stored(endpoint.pk))
    response = browser.post(reverse("webhook_delete", args=[endpoint.pk]))
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert stored(endpoint.pk) is None
    with platform_context():
        assert WebhookDelivery.unscoped.count() == 0
    with tenant_context(org_a.tenant.pk):
        assert [entry.action for entry in audit_entries_for(endpoint)][0] == 2  # deleted


def test_rotating_the_secret_shows_the_new_one_once(client_for, org_a):
    browser = client_for(org_a[Role.TENANT_ADMIN])
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    old = endpoint.secret
    response = browser.post(reverse("webhook_rotate_secret", args=[endpoint.pk]))
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    new = response.context["secret"]
    assert new != old and stored(endpoint.pk).secret == new
    assert new in response.content.decode()
    assert new not in browser.get(reverse("webhook_detail", args=[endpoint.pk])).content.decode()
    with tenant_context(org_a.tenant.pk):
        entry = audit_entries_for(endpoint).first()
    assert entry.additional_data == {"action": "webhook.secret_rotated"}
    assert entry.actor == org_a[Role.TENANT_ADMIN].user
    assert "secret" not in (entry.changes or {})


def test_delivery_log_is_newest_first_paginated_and_filtered_by_status(client_for, org_a):
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    # given 30 deliveries (one a minute) and one dead, the oldest
    dead = make_delivery(
        org_a, endpoint, status=DeliveryStatus.DEAD, minutes_ago=100, attempts=8, last_status_code=503,
        last_error="HTTP 503", response_excerpt="upstream down",
    )  # fmt: skip
    deliveries = [make_delivery(org_a, endpoint, minutes_ago=30 - n) for n in range(30)]
    make_delivery(org_a)  # another endpoint's
    browser = client_for(org_a[Role.TENANT_ADMIN])
    detail = reverse("webhook_detail", args=[endpoint.pk])
    # when the admin opens the endpoint
    first = browser.get(detail)
    # then the 25 newest show, newest first, and page 2 has the rest
    assert [d.pk for d in first.context["page"].object_list] == [d.pk for d in reversed(deliveries)][:25]
    second = browser.get(detail, {"page": 2})
    assert [d.pk for d in second.context["page"].object_list] == [d.pk for d in reversed(deliveries[:5])] + [dead.pk]
    text = page_text(second)
    assert str(dead.event.event_id) in text and "HTTP 503" in text and "upstream down" in text
    assert "Abandonado" in text and "Página 2 de 2" in text
    # and the status filter keeps only the dead one
    filtered = browser.get(detail, {"status": "dead"})
    assert [d.pk for d in filtered.context["page"].object_list] == [dead.pk]
    assert [d.pk for d in browser.get(detail, {"status": "pending"}).context["page"].object_list] == []


def test_redelivery_of_one_delivery_sends_the_same_event_id(
    client_for, org_a, queued, django_capture_on_commit_callbacks, settings
):
    from tests.platform.test_webhooks import Receiver

    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = True  # the Receiver listens on http://127.0.0.1
    with Receiver() as receiver:
        with tenant_context(org_a.tenant.pk):
            endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant, url=receiver.url)
        delivery = make_delivery(org_a, endpoint, status=DeliveryStatus.DEAD, attempts=8, next_attempt_at=None)
        browser = client_for(org_a[Role.TENANT_ADMIN])
        # when the admin redelivers it
        with django_capture_on_commit_callbacks(execute=True):
            response = browser.post(reverse("webhook_delivery_redeliver", args=[endpoint.pk, delivery.pk]))
        assert response.status_code == 302
        assert delivery_row(delivery.pk).status == DeliveryStatus.PENDING
        assert queued == [org_a.tenant.pk]
        # then the next run posts the same event id
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["delivered"] == 1
    assert [r["headers"]["X-Vector-Event-Id"] for r in receiver.requests] == [str(delivery.event.event_id)]
    assert delivery_row(delivery.pk).status == DeliveryStatus.SUCCEEDED
    with tenant_context(org_a.tenant.pk):
        entry = audit_entries_for(endpoint).first()
    assert entry.additional_data == {
        "action": "webhook.redelivered",
        "deliveries": [delivery.pk],
        "events": [str(delivery.event.event_id)],
    }


def test_redeliver_failed_requeues_failed_and_dead_only(client_for, org_a, queued, django_capture_on_commit_callbacks):
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    failed = make_delivery(org_a, endpoint, status=DeliveryStatus.FAILED)
    dead = make_delivery(org_a, endpoint, status=DeliveryStatus.DEAD, next_attempt_at=None)
    done = make_delivery(org_a, endpoint, status=DeliveryStatus.SUCCEEDED, next_attempt_at=None)
    other = make_delivery(org_a, status=DeliveryStatus.DEAD, next_attempt_at=None)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org_a[Role.TENANT_ADMIN]).post(reverse("webhook_redeliver_failed", args=[endpoint.pk]))
    assert response.status_code == 302
    assert [delivery_row(d.pk).status for d in (failed, dead, done, other)] == [
        DeliveryStatus.PENDING,
        DeliveryStatus.PENDING,
        DeliveryStatus.SUCCEEDED,
        DeliveryStatus.DEAD,
    ]
    assert delivery_row(dead.pk).event_id == dead.event_id
    assert queued == [org_a.tenant.pk]


def test_send_test_event_goes_to_this_endpoint_only(client_for, org_a, queued, django_capture_on_commit_callbacks):
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["customer.created"])
        f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["webhook.test"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(org_a[Role.TENANT_ADMIN]).post(reverse("webhook_send_test", args=[endpoint.pk]))
    assert response.status_code == 302
    with tenant_context(org_a.tenant.pk):
        (event,) = OutboxEvent.objects.all()
        assert event.type == "webhook.test"
        assert [(d.endpoint_id, d.status) for d in WebhookDelivery.objects.all()] == [
            (endpoint.pk, DeliveryStatus.PENDING)
        ]
    assert queued == [org_a.tenant.pk]


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.TENANT_ADMIN])
def test_other_roles_are_refused_and_the_link_is_hidden(client_for, org_a, role):
    delivery = make_delivery(org_a, status=DeliveryStatus.DEAD)
    endpoint = delivery.endpoint
    browser = client_for(org_a[role])
    pk = endpoint.pk
    assert browser.get(LIST_URL).status_code == 403
    assert browser.post(LIST_URL, NEW_ENDPOINT).status_code == 403
    assert browser.get(reverse("webhook_detail", args=[pk])).status_code == 403
    for name in ("webhook_rotate_secret", "webhook_set_active", "webhook_delete", "webhook_send_test"):
        assert browser.post(reverse(name, args=[pk])).status_code == 403
    assert browser.post(reverse("webhook_delivery_redeliver", args=[pk, delivery.pk])).status_code == 403
    assert 'data-testid="nav-webhooks"' not in browser.get("/").content.decode()
    assert stored(pk).secret == endpoint.secret and stored(pk).is_active
    assert delivery_row(delivery.pk).status == DeliveryStatus.DEAD


def test_navigation_links_the_page_for_admins(client_for, org_a):
    html = client_for(org_a[Role.TENANT_ADMIN]).get("/").content.decode()
    assert 'data-testid="nav-webhooks"' in html and f'href="{LIST_URL}"' in html


def test_another_tenants_endpoint_and_delivery_are_404(client_for, org_a, org_b):
    foreign = make_delivery(org_b, status=DeliveryStatus.DEAD)
    with tenant_context(org_a.tenant.pk):
        mine = f.WebhookEndpointFactory(tenant=org_a.tenant)
    browser = client_for(org_a[Role.TENANT_ADMIN])
    pk = foreign.endpoint_id
    assert browser.get(reverse("webhook_detail", args=[pk])).status_code == 404
    assert browser.post(reverse("webhook_detail", args=[pk]), NEW_ENDPOINT).status_code == 404
    for name in ("webhook_rotate_secret", "webhook_set_active", "webhook_delete", "webhook_send_test"):
        assert browser.post(reverse(name, args=[pk])).status_code == 404
    assert browser.post(reverse("webhook_redeliver_failed", args=[pk])).status_code == 404
    assert browser.post(reverse("webhook_delivery_redeliver", args=[pk, foreign.pk])).status_code == 404
    # another tenant's delivery under one of my endpoints is not found either
    assert browser.post(reverse("webhook_delivery_redeliver", args=[mine.pk, foreign.pk])).status_code == 404
    assert foreign.endpoint.url not in page_text(browser.get(LIST_URL))
    assert stored(pk).secret == foreign.endpoint.secret
    assert delivery_row(foreign.pk).status == DeliveryStatus.DEAD


def test_actions_need_post(client_for, org_a):
    with tenant_context(org_a.tenant.pk):
        endpoint = f.WebhookEndpointFactory(tenant=org_a.tenant)
    browser = client_for(org_a[Role.TENANT_ADMIN])
    for name in ("webhook_rotate_secret", "webhook_delete", "webhook_send_test", "webhook_redeliver_failed"):
        assert browser.get(reverse(name, args=[endpoint.pk])).status_code == 405
    assert stored(endpoint.pk) is not None
