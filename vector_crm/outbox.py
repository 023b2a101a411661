"""Domain events: the outbox and webhook delivery.

``event_emit`` is called inside a service's transaction, so the event (and one delivery
row per subscribed endpoint) commits or rolls back with the change. Delivery state lives
in ``WebhookDelivery`` (status, attempts, ``next_attempt_at``): the job and the beat sweep
only read it, so a worker that dies mid-delivery loses nothing and the retry carries the
same event id. ``sign``/``verify`` are the pure signature scheme receivers implement.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import uuid
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from vector_crm.models import DeliveryStatus, OutboxEvent, WebhookDelivery, WebhookEndpoint
from vector_crm.tenancy import require_tenant_id

# Every event type an endpoint may subscribe to, in registration order. Apps add theirs
# with ``register_event_type`` from their ``AppConfig.ready`` (cases: case.escalated, ...).
EVENT_TYPES: list[str] = []
EVENT_DESCRIPTIONS: dict[str, str] = {}
MAX_ATTEMPTS = 8
BACKOFF_BASE_SECONDS = 30
BACKOFF_CAP_SECONDS = 6 * 3600
SIGNATURE_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Vector-Signature`` value: ``t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">``."""
    mac = hmac.new(secret.encode(), f"{int(timestamp)}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={int(timestamp)},v1={mac}"


def verify(
    secret: str, header: str, body: bytes, *, now: int | None = None, tolerance: int = SIGNATURE_TOLERANCE_SECONDS
) -> bool:
    """True when ``header`` signs ``body`` with ``secret`` and its timestamp is recent."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if now is not None and abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), f"t={timestamp},v1={given}")


def register_event_type(name: str, description: str = "") -> None:
    """Make ``name`` (``<aggregate>.<past-tense verb>``) subscribable; registering twice is a no-op."""
    if name not in EVENT_DESCRIPTIONS:
        EVENT_TYPES.append(name)
    EVENT_DESCRIPTIONS[name] = description or EVENT_DESCRIPTIONS.get(name, "")


register_event_type("customer.created", "A customer was created.")
register_event_type("customer.updated", "A customer's data changed.")
register_event_type("webhook.test", "A test event an administrator sent to one endpoint.")
TEST_EVENT_TYPE = "webhook.test"


def backoff_seconds(attempts: int) -> int:
    """Delay before the next try after ``attempts`` failed ones: 30 s doubling, capped."""
    return min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** max(0, attempts - 1))


class _PayloadEncoder(DjangoJSONEncoder):
    """Django's encoder, plus the string form of value objects (phone numbers...)."""

    def default(self, o: Any) -> Any:
        try:
            return super().default(o)
        except TypeError:
            return str(o)


def _json_safe(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, cls=_PayloadEncoder))


def event_emit(
    *,
    type: str,  # noqa: A002
    payload: dict[str, Any],
    aggregate: Any,
    endpoints: list[WebhookEndpoint] | None = None,
) -> OutboxEvent:
    """Write the event and its deliveries in the caller's transaction; queue delivery
    after commit. ``aggregate`` is the changed model instance. ``endpoints`` (the test
    event) delivers to exactly those instead of the active endpoints subscribed to ``type``."""
    if type not in EVENT_DESCRIPTIONS:
        raise ValueError(f"Unregistered event type {type!r}: call register_event_type first.")
    tenant_id = require_tenant_id()
    now = timezone.now()
    event = OutboxEvent.objects.create(
        tenant_id=tenant_id,
        event_id=uuid.uuid4(),
        type=type,
        payload=_json_safe(payload),
        occurred_at=now,
        aggregate_type=aggregate._meta.label_lower,
        aggregate_id=str(aggregate.pk),
    )
    if endpoints is None:
        endpoints = [ep for ep in WebhookEndpoint.objects.filter(is_active=True).order_by("pk") if ep.wants(type)]
    if endpoints:
        WebhookDelivery.objects.bulk_create(
            [WebhookDelivery(tenant_id=tenant_id, endpoint=ep, event=event, next_attempt_at=now) for ep in endpoints]
        )

        def queue() -> None:
            from vector_crm.jobs import deliver_webhooks

            deliver_webhooks.delay(tenant_id)

        transaction.on_commit(queue)
    return event


def subscribed_event_types() -> set[str]:
    """The event types at least one active endpoint of the current tenant wants."""
    wanted: set[str] = set()
    for event_types in WebhookEndpoint.objects.filter(is_active=True).values_list("event_types", flat=True):
        wanted.update(event_types or [])
    return wanted


def bulk_event_emit(
    *, events: list[tuple[str, dict[str, Any]]], aggregate_type: str, subscribed: set[str] | None = None
) -> int:
    """Set-based ``event_emit`` for bulk writes: ``events`` are ``(type, payload)`` pairs whose
    payload carries the aggregate's ``id``; written per type by ``events_emit_many``.

    Events of a type that no active endpoint subscribes to are not written: deliveries are
    only created at emit time, so such an event could never reach anyone (an endpoint
    created later receives events from then on). ``subscribed``: the caller's
    ``subscribed_event_types()`` when it already asked. Returns the number of events written."""
    for event_type in {t for t, _payload in events}:
        if event_type not in EVENT_DESCRIPTIONS:
            raise ValueError(f"Unregistered event type {event_type!r}: call register_event_type first.")
    wanted = subscribed_event_types() if subscribed is None else subscribed
    by_type: dict[str, list[tuple[dict[str, Any], tuple[str, Any]]]] = {}
    for event_type, payload in events:
        if event_type in wanted:
            by_type.setdefault(event_type, []).append((payload, (aggregate_type, payload["id"])))
    return sum(events_emit_many(type=event_type, items=items) for event_type, items in by_type.items())


def _aggregate_key(aggregate: Any) -> tuple[str, Any]:
    """(label, id) of a model instance, or the pair itself (set-based callers)."""
    if isinstance(aggregate, tuple):
        return aggregate
    return aggregate._meta.label_lower, aggregate.pk


def events_emit_many(*, type: str, items: list[tuple[dict[str, Any], Any]], json_ready: bool = False) -> int:  # noqa: A002
    """``event_emit`` for a batch (``[(payload, aggregate), ...]``; an aggregate is a model
    instance or its ``(label, id)``; ``json_ready``: payloads hold only JSON types) with
    two bulk inserts:
    the events, then one delivery per event and subscribed endpoint. For set-based jobs."""
    if type not in EVENT_DESCRIPTIONS:
        raise ValueError(f"Unregistered event type {type!r}: call register_event_type first.")
    if not items:
        return 0
    from vector_crm.db import insert_rows

    tenant_id = require_tenant_id()
    now = timezone.now()
    rows = [
        {
            "tenant_id": tenant_id,
            "event_id": uuid.uuid4(),
            "type": type,
            "payload": payload if json_ready else _json_safe(payload),
            "occurred_at": now,
            "aggregate_type": label,
            "aggregate_id": str(pk),
        }
        for payload, (label, pk) in ((payload, _aggregate_key(aggregate)) for payload, aggregate in items)
    ]
    event_ids = insert_rows(OutboxEvent, rows, returning_ids=True)
    endpoints = [ep for ep in WebhookEndpoint.objects.filter(is_active=True).order_by("pk") if ep.wants(type)]
    if endpoints:
        WebhookDelivery.objects.bulk_create(
            [
                WebhookDelivery(tenant_id=tenant_id, endpoint=ep, event_id=event_id, next_attempt_at=now)
                for event_id in event_ids
                for ep in endpoints
            ],
            batch_size=1000,
        )

        def queue() -> None:
            from vector_crm.jobs import deliver_webhooks

            deliver_webhooks.delay(tenant_id)

        transaction.on_commit(queue)
    return len(event_ids)


def event_body(event: OutboxEvent) -> bytes:
    return json.dumps(
        {
            "id": str(event.event_id),
            "type": event.type,
            "occurred_at": event.occurred_at.isoformat(),
            "tenant": event.tenant_id,
            "data": event.payload,
        },
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


def record_attempt(delivery: WebhookDelivery, *, status_code: int | None, error: str, excerpt: str) -> None:
    """Write one attempt's outcome: succeeded on 2xx, else back off, dead after the cap."""
    now = timezone.now()
    delivery.attempts += 1
    delivery.last_status_code = status_code
    delivery.last_error = error[:2000]
    delivery.response_excerpt = excerpt[:1000]
    if status_code is not None and 200 <= status_code < 300:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= MAX_ATTEMPTS:
        delivery.status = DeliveryStatus.DEAD
        delivery.next_attempt_at = None
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(delivery.attempts))
    delivery.save(
        update_fields=[
            "attempts",
            "last_status_code",
            "last_error",
            "response_excerpt",
            "status",
            "delivered_at",
            "next_attempt_at",
        ]
    )


def model_payload(instance: Any, **extra: Any) -> dict[str, Any]:
    """The ``data`` of an event about ``instance``: its id and editable fields."""
    from django.forms.models import model_to_dict

    data = model_to_dict(instance)
    data.pop("tenant", None)
    return {"id": instance.pk, **data, **extra}
