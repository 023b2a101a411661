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
