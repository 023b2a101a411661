"""Celery jobs of VALOR. Thin: they enter the tenant and call services."""

from __future__ import annotations

from celery import shared_task

from segmentation import services
from vector_crm.background import JobReporter, tenant_job
from vector_crm.errors import DomainError
from vector_crm.models import Tenant
from vector_crm.tenancy import platform_context, tenant_context


@tenant_job(services.SCORE_JOB_KIND)
def score_customers(*, reporter: JobReporter, run_id: int) -> dict:
    """Score the whole portfolio of the current tenant into scoring run ``run_id``.

    A redelivered message (worker died mid-run) runs the same run again: it starts by
    deleting what the earlier attempt wrote, so one consistent snapshot results."""
    return services.scoring_run_execute(run_id=run_id, reporter=reporter)


@shared_task(name="segmentation.score_all_tenants", acks_late=True, ignore_result=True)
def score_all_tenants() -> list[int]:
    """Beat's nightly fan-out: one scoring run per active tenant (skipped while one of the
    tenant's runs is still queued or running). Returns the ids of the queued runs."""
    with platform_context():
        # Tenant is the platform table itself; listing it is a platform operation.
        tenant_ids = list(Tenant.objects.filter(is_active=True).order_by("pk").values_list("pk", flat=True))
    run_ids = []
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            try:
                run_ids.append(services.scoring_run_start().pk)
            except DomainError:
                continue
    return run_ids
