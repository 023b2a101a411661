"""Platform read queries."""

from __future__ import annotations

from django.db.models import QuerySet

from vector_crm.errors import NotFound
from vector_crm.models import Job


def job_list() -> QuerySet[Job]:
    return Job.objects.all()


def access_job(job_id: int) -> Job:
    """The current tenant's job, or NotFound (also for another tenant's id)."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return job
