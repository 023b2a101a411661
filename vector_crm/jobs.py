"""Platform Celery tasks."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone


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
