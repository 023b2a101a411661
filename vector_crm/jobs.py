"""Platform Celery tasks."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from vector_crm.imports import jobs as import_jobs  # noqa: F401 - registers the file-import tasks


@shared_task(name="vector_crm.heartbeat", ignore_result=True)
def heartbeat() -> str:
    """Beat's liveness signal: the time of the last beat-triggered run, for health checks."""
    now = timezone.now().isoformat()
    cache.set("vector_crm:heartbeat", now, timeout=600)
    return now


@shared_task(name="vector_crm.purge_expired_idempotency_keys", ignore_result=True)
def purge_expired_idempotency_keys() -> int:
    """Delete expired ``Idempotency-Key`` rows of every tenant, one bounded batch per run;
    a full batch re-queues the task for the rest."""
    from vector_crm.idempotency import PURGE_BATCH_SIZE, idempotency_purge_expired

    deleted = idempotency_purge_expired()
    if deleted >= PURGE_BATCH_SIZE:
        purge_expired_idempotency_keys.delay()
    return deleted


WEBHOOK_BATCH_SIZE = 50
WEBHOOK_TIMEOUT_SECONDS = 10


def webhook_lease_seconds() -> int:
    """A claimed delivery is due again after this lease (``VECTOR_WEBHOOK_LEASE_SECONDS``,
    default 120 s): a worker killed mid-POST leaves it claimed, and the sweep redelivers it
    (same event id) once the lease has passed."""
    from django.conf import settings

    return settings.VECTOR_WEBHOOK_LEASE_SECONDS


def _claim_due_deliveries(now) -> list[int]:
    import datetime as dt

    from django.db import connection, transaction

    from vector_crm.models import DeliveryStatus, WebhookDelivery

    with transaction.atomic():
        due = WebhookDelivery.objects.filter(
            status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now
        ).order_by("pk")
        if connection.vendor == "postgresql":
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("pk", flat=True)[:WEBHOOK_BATCH_SIZE])
        if ids:
            WebhookDelivery.objects.filter(pk__in=ids).update(
                next_attempt_at=now + dt.timedelta(seconds=webhook_lease_seconds())
            )
    return ids


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int | None, str, str]:
    """POST and return (status code or None, error, response excerpt). Only to allowed
    addresses (vector_crm.netguard: no private networks, no redirects followed)."""
    import http.client

    from vector_crm import netguard

    try:
        status, excerpt = netguard.post_pinned(
            url, body, headers, timeout=WEBHOOK_TIMEOUT_SECONDS, rules=netguard.settings_rules()
        )
    except netguard.UnsafeDestination as exc:
        return None, f"destination refused: {exc}", ""
    except (OSError, ValueError, http.client.HTTPException) as exc:
        return None, str(exc) or type(exc).__name__, ""
    text = excerpt.decode("utf-8", "replace")
    if 200 <= status < 300:
        return status, "", text
    if 300 <= status < 400:
        return status, f"HTTP {status} (redirects are not followed)", text
    return status, f"HTTP {status}", text


def deliver_webhooks_now(tenant_id: int) -> dict[str, int]:
    """Deliver one bounded batch of the tenant's due webhook deliveries; returns counts."""
    from vector_crm.models import WebhookDelivery
    from vector_crm.outbox import event_body, record_attempt, sign
    from vector_crm.tenancy import tenant_context

    counts = {"delivered": 0, "failed": 0, "claimed": 0}
    with tenant_context(tenant_id):
        ids = _claim_due_deliveries(timezone.now())
        counts["claimed"] = len(ids)
        for delivery in WebhookDelivery.objects.filter(pk__in=ids).select_related("endpoint", "event").order_by("pk"):
            body = event_body(delivery.event)
            timestamp = int(timezone.now().timestamp())
            headers = {
                "Content-Type": "application/json",
                "User-Agent": "VECTOR-CRM-Webhooks/1",
                "X-Vector-Event-Id": str(delivery.event.event_id),
                "X-Vector-Event-Type": delivery.event.type,
                "X-Vector-Timestamp": str(timestamp),
                "X-Vector-Signature": sign(delivery.endpoint.secret, timestamp, body),
            }
            status_code, error, excerpt = _post(delivery.endpoint.url, body, headers)
            record_attempt(delivery, status_code=status_code, error=error, excerpt=excerpt)
            counts["delivered" if delivery.status == "succeeded" else "failed"] += 1
    return counts


@shared_task(name="vector_crm.deliver_webhooks", acks_late=True, ignore_result=True)
def deliver_webhooks(tenant_id: int) -> dict[str, int]:
    """Deliver the tenant's due webhooks; a full batch re-queues the task for the rest.
    Safe to run twice at once: claims skip rows another worker holds."""
    counts = deliver_webhooks_now(tenant_id)
    if counts["claimed"] >= WEBHOOK_BATCH_SIZE:
        deliver_webhooks.delay(tenant_id)
    return counts


@shared_task(name="vector_crm.sweep_webhook_deliveries", ignore_result=True)
def sweep_webhook_deliveries() -> int:
    """Beat, every minute: queue ``deliver_webhooks`` for each tenant with due deliveries
    (retries after backoff, and deliveries whose worker died)."""
    from vector_crm.models import DeliveryStatus, Tenant, WebhookDelivery
    from vector_crm.tenancy import platform_context

    now = timezone.now()
    with platform_context():
        # Platform sweep: which tenants have due deliveries, across all tenants.
        tenant_ids = list(
            Tenant.objects.filter(is_active=True)
            .filter(
                pk__in=WebhookDelivery.unscoped.filter(
                    status__in=[DeliveryStatus.PENDING, DeliveryStatus.FAILED], next_attempt_at__lte=now
                ).values("tenant_id")
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    for tenant_id in tenant_ids:
        deliver_webhooks.delay(tenant_id)
    return len(tenant_ids)


@shared_task(name="vector_crm.send_notification_emails", acks_late=True, ignore_result=True)
def send_notification_emails(tenant_id: int, notification_ids: list[int]) -> int:
    """E-mail notifications once each (``emailed_at`` guards a redelivered message)."""
    from vector_crm.notifications import send_notification_emails_now
    from vector_crm.tenancy import tenant_context

    with tenant_context(tenant_id):
        return send_notification_emails_now(notification_ids)
