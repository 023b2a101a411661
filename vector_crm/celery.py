"""The Celery app. Tasks live in each app's ``jobs.py`` (never ``tasks.py``: that name is
the Tareas app)."""

from __future__ import annotations

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vector_crm.settings")

app = Celery("vector_crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(related_name="jobs")

app.conf.beat_schedule = {
    "customers-refresh-delinquency-nightly": {
        "task": "customers.refresh_delinquency_all_tenants",
        "schedule": crontab(hour=2, minute=15),
    },
    "segmentation-score-nightly": {
        "task": "segmentation.score_all_tenants",
        "schedule": crontab(hour=3, minute=5),
    },
    "platform-purge-expired-idempotency-keys": {
        "task": "vector_crm.purge_expired_idempotency_keys",
        "schedule": crontab(minute=7),
    },
    "platform-sweep-webhook-deliveries": {
        "task": "vector_crm.sweep_webhook_deliveries",
        "schedule": crontab(),
    },
    "cases-train-triage-nightly": {
        "task": "cases.train_triage_all_tenants",
        "schedule": crontab(hour=3, minute=35),
    },
    "cases-sweep-sla-deadlines": {
        "task": "cases.sweep_sla_deadlines",
        # Seconds (every minute); the real-beat test shortens it.
        "schedule": float(os.environ.get("VECTOR_SLA_SWEEP_SECONDS", "60")),
    },
    "platform-heartbeat": {
        "task": "vector_crm.heartbeat",
        # Seconds; the real-beat test shortens it.
        "schedule": float(os.environ.get("VECTOR_HEARTBEAT_SECONDS", "60")),
    },
}
