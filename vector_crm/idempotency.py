"""Idempotency keys: reserve, complete, release and expire ``IdempotencyRecord`` rows.

A key belongs to one principal in one tenant. ``idempotency_reserve`` inserts the
``in_progress`` row in its own transaction, committed before the request's work starts, so
a concurrent request with the same key finds it and is turned away; the unique constraint
(tenant, principal, key) decides the race. The API layer (``vector_crm.api.idempotency``)
decides what the caller gets back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from vector_crm.models import IdempotencyRecord, IdempotencyStatus
from vector_crm.tenancy import platform_context

KEY_TTL = dt.timedelta(hours=24)
MAX_KEY_LENGTH = 255
PURGE_BATCH_SIZE = 5000


def request_fingerprint(body: bytes) -> str:
    """SHA-256 of the raw request body: equal bodies, equal fingerprints."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class Reservation:
    """Either ``record`` (the key is ours now) or ``existing`` (someone used it first)."""

    record: IdempotencyRecord | None = None
    existing: IdempotencyRecord | None = None


def idempotency_reserve(
    *, principal: str, key: str, method: str, path: str, fingerprint: str, now: dt.datetime | None = None
) -> Reservation:
    """Reserve ``key`` for ``principal`` in the current tenant, or return the row that holds it.

    An expired row does not count: it is deleted and the key reserved afresh.
    """
    now = now or timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    principal=principal,
                    key=key,
                    method=method,
                    path=path,
                    fingerprint=fingerprint,
                    status=IdempotencyStatus.IN_PROGRESS,
                    expires_at=now + KEY_TTL,
                )
            return Reservation(record=record)
        except IntegrityError:
            existing = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
            if existing is None:
                continue  # released between our insert and our read: try once more
            if existing.expires_at > now:
                return Reservation(existing=existing)
            IdempotencyRecord.objects.filter(pk=existing.pk, expires_at__lte=now).delete()
    # Lost two races in a row: report it as held, the client retries.
    return Reservation(existing=IdempotencyRecord.objects.filter(principal=principal, key=key).first())


def idempotency_complete(*, record: IdempotencyRecord, status_code: int, body: str, headers: dict[str, str]) -> None:
    """Store the response of the request that reserved ``record``."""
    record.status = IdempotencyStatus.COMPLETED
    record.response_status = status_code
    record.response_body = body
    record.response_headers = headers
    record.save(update_fields=["status", "response_status", "response_body", "response_headers"])


def idempotency_release(*, record: IdempotencyRecord) -> None:
    """Forget the key (the request failed on our side): a retry runs again."""
    IdempotencyRecord.objects.filter(pk=record.pk, status=IdempotencyStatus.IN_PROGRESS).delete()


def idempotency_purge_expired(*, now: dt.datetime | None = None, batch_size: int = PURGE_BATCH_SIZE) -> int:
    """Delete up to ``batch_size`` expired keys of every tenant; returns how many went."""
    now = now or timezone.now()
    with platform_context():  # a platform sweep across tenants
        pks = list(
            IdempotencyRecord.unscoped.filter(expires_at__lte=now)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not pks:
            return 0
        deleted, _ = IdempotencyRecord.unscoped.filter(pk__in=pks, expires_at__lte=now).delete()
    return deleted
