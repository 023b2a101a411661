"""Webhooks: the outbox is written with the change, deliveries are signed, retried with
backoff and redelivered after a crash with the same event id, per tenant."""

from __future__ import annotations

import datetime as dt
import http.server
import json
import threading

import pytest
from django.db import transaction
from django.utils import timezone

from customers.services import customer_create, customer_update
from vector_crm import jobs
from vector_crm.errors import PermissionDeniedError
from vector_crm.models import DeliveryStatus, OutboxEvent, WebhookDelivery
from vector_crm.outbox import MAX_ATTEMPTS, backoff_seconds, sign, verify
from vector_crm.services import webhook_endpoint_create, webhook_endpoint_deactivate, webhook_redeliver
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


class Receiver:
    """A local HTTP server that records requests and answers with queued status codes."""

    def __init__(self):
        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"boom")

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(autouse=True)
def _local_receivers_allowed(settings):
    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = True  # the Receiver listens on http://127.0.0.1


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    queued: list[int] = []
    monkeypatch.setattr(jobs.deliver_webhooks, "delay", lambda tenant_id: queued.append(tenant_id))
    return queued


def _endpoint(org, url, **kwargs):
    with tenant_context(org.tenant.pk):
        return webhook_endpoint_create(
            actor=org["tenant_admin"].user,
            membership=org["tenant_admin"],
            url=url,
            event_types=kwargs.pop("event_types", ["customer.created", "customer.updated"]),
            **kwargs,
        )


def _create_customer(org, **data):
    with tenant_context(org.tenant.pk):
        return customer_create(
            actor=org["tenant_admin"].user,
            membership=org["tenant_admin"],
            data={
                "kind": "person",
                "identification_type": "cc",
                "identification_number": data.pop("identification_number", "1012345678"),
                "first_name": "Ana",
                "last_name": "Rojas",
                **data,
            },
        )


def test_sign_and_verify_are_inverse():
    body = b'{"id":"x"}'
    header = sign("s3cret", 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert verify("s3cret", header, body, now=1_700_000_100)
    assert not verify("other", header, body)
    assert not verify("s3cret", header, body + b" ")
    assert not verify("s3cret", header, body, now=1_700_010_000)
    assert not verify("s3cret", "garbage", body)


def test_backoff_doubles_up_to_a_cap():
    assert [backoff_seconds(n) for n in (1, 2, 3)] == [30, 60, 120]
    assert backoff_seconds(50) == 6 * 3600


def test_event_and_deliveries_commit_with_the_change(org_a, _no_broker, django_capture_on_commit_callbacks):
    # given an endpoint for customer events
    endpoint, _secret = _endpoint(org_a, "https://hooks.example.com/a")
    # when a customer is created and updated through the services
    with django_capture_on_commit_callbacks(execute=True):
        customer = _create_customer(org_a)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(org_a.tenant.pk):
        customer_update(
            actor=org_a["tenant_admin"].user, membership=org_a["tenant_admin"], customer=customer, data={"city": "Cali"}
        )
    # then both events are in the outbox with one pending delivery each, queued on commit
    with tenant_context(org_a.tenant.pk):
        events = list(OutboxEvent.objects.order_by("pk"))
        assert [e.type for e in events] == ["customer.created", "customer.updated"]
        assert events[0].aggregate_id == str(customer.pk)
        assert events[1].payload["city"] == "Cali"
        assert events[1].payload["changed"] == ["city"]
        deliveries = list(WebhookDelivery.objects.order_by("pk"))
        assert [(d.endpoint_id, d.event_id, d.status) for d in deliveries] == [
            (endpoint.pk, events[0].pk, DeliveryStatus.PENDING),
            (endpoint.pk, events[1].pk, DeliveryStatus.PENDING),
        ]
    assert _no_broker == [org_a.tenant.pk, org_a.tenant.pk]


def test_no_event_when_the_change_rolls_back(org_a, _no_broker, django_capture_on_commit_callbacks):
    _endpoint(org_a, "https://hooks.example.com/a")
    # when the caller's transaction fails after the service ran
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with transaction.atomic():
            _create_customer(org_a)
            raise RuntimeError("later step failed")
    # then neither the customer's event nor a delivery exists, and nothing was queued
    with tenant_context(org_a.tenant.pk):
        assert OutboxEvent.objects.count() == 0
        assert WebhookDelivery.objects.count() == 0
    assert _no_broker == []


def test_inactive_or_unsubscribed_endpoints_get_nothing(org_a):
    endpoint, _ = _endpoint(org_a, "https://hooks.example.com/a")
    _endpoint(org_a, "https://hooks.example.com/b", event_types=["customer.updated"])
    with tenant_context(org_a.tenant.pk):
        webhook_endpoint_deactivate(
            actor=org_a["tenant_admin"].user, membership=org_a["tenant_admin"], endpoint=endpoint
        )
    _create_customer(org_a)
    with tenant_context(org_a.tenant.pk):
        assert OutboxEvent.objects.count() == 1
        assert WebhookDelivery.objects.count() == 0


def test_delivery_is_signed_and_verifies_with_the_shared_secret(org_a):
    with Receiver() as receiver:
        endpoint, secret = _endpoint(org_a, receiver.url)
        customer = _create_customer(org_a)
        # when the job runs
        counts = jobs.deliver_webhooks_now(org_a.tenant.pk)
    assert counts == {"delivered": 1, "failed": 0, "claimed": 1}
    (request,) = receiver.requests
    headers, body = request["headers"], request["body"]
    payload = json.loads(body)
    with tenant_context(org_a.tenant.pk):
        event = OutboxEvent.objects.get()
        delivery = WebhookDelivery.objects.get()
    assert payload["id"] == str(event.event_id) == headers["X-Vector-Event-Id"]
    assert payload["type"] == "customer.created"
    assert payload["tenant"] == org_a.tenant.pk
    assert payload["data"]["id"] == customer.pk
    assert (
        headers["X-Vector-Signature"]
        == f"t={headers['X-Vector-Timestamp']},v1=" + headers["X-Vector-Signature"].split("v1=")[1]
    )
    assert verify(secret, headers["X-Vector-Signature"], body, now=int(timezone.now().timestamp()))
    assert not verify("wrong-secret", headers["X-Vector-Signature"], body)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert delivery.delivered_at is not None
    # and running the job again sends nothing twice
    assert jobs.deliver_webhooks_now(org_a.tenant.pk) == {"delivered": 0, "failed": 0, "claimed": 0}
    assert len(receiver.requests) == 1


def test_failing_endpoint_is_retried_with_backoff_then_succeeds(org_a):
    with Receiver() as receiver:
        receiver.statuses = [500]
        _endpoint(org_a, receiver.url)
        _create_customer(org_a)
        # when the first attempt gets a 500
        before = timezone.now()
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["failed"] == 1
        with tenant_context(org_a.tenant.pk):
            delivery = WebhookDelivery.objects.get()
        assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.FAILED, 1, 500)
        assert delivery.response_excerpt == "boom"
        assert delivery.next_attempt_at >= before + dt.timedelta(seconds=backoff_seconds(1))
        # then it is not due before the backoff passes
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["claimed"] == 0
        # and once due, the sweep's run delivers it
        with tenant_context(org_a.tenant.pk):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["delivered"] == 1
    with tenant_context(org_a.tenant.pk):
        delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 2, 200)
    ids = [r["headers"]["X-Vector-Event-Id"] for r in receiver.requests]
    assert len(ids) == 2 and ids[0] == ids[1]
    assert json.loads(receiver.requests[0]["body"]) == json.loads(receiver.requests[1]["body"])


def test_gives_up_after_max_attempts(org_a):
    with Receiver() as receiver:
        receiver.statuses = [500] * MAX_ATTEMPTS
        _endpoint(org_a, receiver.url)
        _create_customer(org_a)
        for _ in range(MAX_ATTEMPTS):
            with tenant_context(org_a.tenant.pk):
                WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
            jobs.deliver_webhooks_now(org_a.tenant.pk)
    with tenant_context(org_a.tenant.pk):
        delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.next_attempt_at) == (DeliveryStatus.DEAD, MAX_ATTEMPTS, None)
    # and an admin can send it again by hand
    with Receiver() as receiver, tenant_context(org_a.tenant.pk):
        delivery.endpoint.url = receiver.url
        delivery.endpoint.save(update_fields=["url"])
        webhook_redeliver(actor=org_a["tenant_admin"].user, membership=org_a["tenant_admin"], delivery=delivery)
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["delivered"] == 1
        delivery.refresh_from_db()
        assert delivery.status == DeliveryStatus.SUCCEEDED
        assert receiver.requests[0]["headers"]["X-Vector-Event-Id"] == str(delivery.event.event_id)


def test_killed_worker_mid_delivery_is_redelivered_with_the_same_event_id(org_a):
    with Receiver() as receiver:
        _endpoint(org_a, receiver.url)
        _create_customer(org_a)
        # given a worker claimed the delivery and died before recording the outcome
        with tenant_context(org_a.tenant.pk):
            claimed = jobs._claim_due_deliveries(timezone.now())
            assert len(claimed) == 1
            delivery = WebhookDelivery.objects.get()
            assert delivery.status == DeliveryStatus.PENDING and delivery.next_attempt_at > timezone.now()
            event_id = str(delivery.event.event_id)
        # then another run leaves it alone while the lease holds
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["claimed"] == 0
        # and once the lease has passed the beat sweep finds the tenant and the run redelivers it
        with tenant_context(org_a.tenant.pk):
            WebhookDelivery.objects.update(next_attempt_at=timezone.now() - dt.timedelta(seconds=1))
        queued: list[int] = []
        jobs.deliver_webhooks.delay = queued.append
        assert jobs.sweep_webhook_deliveries() == 1
        assert queued == [org_a.tenant.pk]
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["delivered"] == 1
    assert [r["headers"]["X-Vector-Event-Id"] for r in receiver.requests] == [event_id]
    with tenant_context(org_a.tenant.pk):
        assert WebhookDelivery.objects.get().status == DeliveryStatus.SUCCEEDED


def test_tenant_isolation(org_a, org_b):
    with Receiver() as receiver:
        _endpoint(org_a, receiver.url)
        _endpoint(org_b, receiver.url)
        _create_customer(org_a)
        # when tenant B's deliveries run
        assert jobs.deliver_webhooks_now(org_b.tenant.pk)["claimed"] == 0
        assert receiver.requests == []
        assert jobs.deliver_webhooks_now(org_a.tenant.pk)["delivered"] == 1
    assert json.loads(receiver.requests[0]["body"])["tenant"] == org_a.tenant.pk
    with tenant_context(org_b.tenant.pk):
        assert OutboxEvent.objects.count() == 0
        assert WebhookDelivery.objects.count() == 0


def test_only_tenant_admins_manage_endpoints(org_a):
    with tenant_context(org_a.tenant.pk), pytest.raises(PermissionDeniedError):
        webhook_endpoint_create(
            actor=org_a["advisor"].user,
            membership=org_a["advisor"],
            url="https://hooks.example.com/x",
            event_types=["customer.created"],
        )


def test_endpoint_create_returns_the_secret_once_and_audits(org_a):
    endpoint, secret = _endpoint(org_a, "https://hooks.example.com/a", description="ERP")
    assert len(secret) == 64 and endpoint.secret == secret
    from vector_crm.audit import audit_entries_for

    with tenant_context(org_a.tenant.pk):
        entry = audit_entries_for(endpoint).first()
        assert entry is not None and entry.actor == org_a["tenant_admin"].user
        assert "secret" not in (entry.changes or {})
