"""Celery jobs of the shared customer model. Thin: they enter the tenant and call services."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter

from celery import shared_task
from django.utils import timezone

from customers.models import Customer
from customers.services import holdings_refresh_delinquency
from vector_crm.background import JobReporter, job_enqueue, tenant_job
from vector_crm.models import Job, JobStatus, Tenant
from vector_crm.tenancy import platform_context, require_tenant_id, tenant_context

REFRESH_DELINQUENCY = "customers.refresh_delinquency"
DEFAULT_CHUNK_SIZE = 2000
# A refresh still queued or running younger than this is not queued again by the sweep;
# an older one is presumed lost (its message dropped) and no longer blocks the tenant.
FAN_OUT_GUARD = dt.timedelta(hours=6)


def _tenant_today() -> dt.date:
    tenant = Tenant.objects.get(pk=require_tenant_id())
    return timezone.localdate(timezone=zoneinfo.ZoneInfo(tenant.timezone))


@tenant_job(REFRESH_DELINQUENCY)
def refresh_delinquency(
    *, reporter: JobReporter, as_of: str | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> dict:
    """Recompute days past due and active/delinquent status for the whole portfolio of the
    current tenant as of ``as_of`` (ISO date; default: today in the tenant's time zone),
    in chunks of customer ids, one transaction per chunk. Idempotent."""
    as_of_date = dt.date.fromisoformat(as_of) if as_of else _tenant_today()
    total = Customer.objects.count()
    reporter.set_total(total)
    counts: Counter[str] = Counter()
    done = chunks = last_pk = 0
    while True:
        # Keyset pagination keeps memory bounded whatever the portfolio size.
        ids = list(Customer.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:chunk_size])
        if not ids:
            break
        counts.update(holdings_refresh_delinquency(as_of=as_of_date, customer_ids=ids))
        done += len(ids)
        chunks += 1
        last_pk = ids[-1]
        reporter.progress(done, chunks=chunks, **counts)
    if done > total:  # customers created while the job ran
        reporter.set_total(done)
    return {"as_of": as_of_date.isoformat(), "customers": done, "chunks": chunks, **counts}


@shared_task(name="customers.refresh_delinquency_all_tenants", acks_late=True, ignore_result=True)
def refresh_delinquency_all_tenants(as_of: str | None = None) -> list[int]:
    """Beat's nightly sweep: queue one ``customers.refresh_delinquency`` Job per active
    tenant and return their ids. A tenant whose refresh is still queued or running is
    skipped, so a repeated tick never piles up duplicate work."""
    with platform_context():
        # Tenant is the platform table itself; listing it is a platform operation.
        tenant_ids = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    params = {"as_of": as_of} if as_of else {}
    since = timezone.now() - FAN_OUT_GUARD
    job_ids = []
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            busy = Job.objects.filter(
                kind=REFRESH_DELINQUENCY, status__in=[JobStatus.QUEUED, JobStatus.RUNNING], created_at__gte=since
            ).exists()
        if busy:
            continue
        job = job_enqueue(refresh_delinquency, tenant_id=tenant_id, kind=REFRESH_DELINQUENCY, params=params)
        job_ids.append(job.pk)
    return job_ids
