"""Celery jobs of CASOS. Thin: they call ``cases.sweep`` / ``cases.services``."""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from cases.sweep import sla_sweep
from vector_crm.background import JobReporter, job_enqueue, tenant_job
from vector_crm.models import Job, JobStatus, Tenant
from vector_crm.tenancy import platform_context, tenant_context

TRAIN_TRIAGE = "cases.train_triage"
# A training still queued or running younger than this blocks the nightly fan-out for the
# tenant; an older one is presumed lost.
TRAIN_FAN_OUT_GUARD = dt.timedelta(hours=6)


@shared_task(name="cases.sweep_sla_deadlines", acks_late=True, ignore_result=True)
def sweep_sla_deadlines() -> dict[str, int]:
    """Beat, every minute: warn and escalate every tenant's due cases, in batches.

    The timers are the cases' ``next_deadline_at``; a lost or repeated tick is harmless
    (the next one finds the same due cases; a case already handled is no longer due)."""
    return sla_sweep()


@tenant_job(TRAIN_TRIAGE)
def train_triage(*, reporter: JobReporter) -> dict:
    """Train and store the current tenant's complaint classifier (``TriageModel``) on its
    own closed complaints. Run twice, it stores two equivalent models; the newest is used."""
    from cases.services import triage_model_train

    job_id = reporter.job.pk if reporter.job is not None else None
    model = triage_model_train(job_id=job_id, reporter=reporter)
    return {
        "model": model.pk,
        "samples": model.n_samples,
        "accuracy": round(model.accuracy, 4) if model.accuracy is not None else None,
        "classes": len(model.classes),
    }


@shared_task(name="cases.train_triage_all_tenants", acks_late=True, ignore_result=True)
def train_triage_all_tenants() -> list[int]:
    """Beat's nightly fan-out: one ``cases.train_triage`` Job per active tenant that has
    enough closed complaints to learn from; a tenant whose training is still queued or
    running is skipped. Returns the ids of the queued Jobs."""
    from cases import triage
    from cases.selectors import triage_training_size

    with platform_context():
        # Tenant is the platform table itself; listing it is a platform operation.
        tenant_ids = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    since = timezone.now() - TRAIN_FAN_OUT_GUARD
    job_ids = []
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            busy = Job.objects.filter(
                kind=TRAIN_TRIAGE, status__in=[JobStatus.QUEUED, JobStatus.RUNNING], created_at__gte=since
            ).exists()
            samples, categories = triage_training_size() if not busy else (0, 0)
        if busy or samples < triage.MIN_TRAINING_CASES or categories < 2:
            continue
        job_ids.append(job_enqueue(train_triage, tenant_id=tenant_id, kind=TRAIN_TRIAGE).pk)
    return job_ids
