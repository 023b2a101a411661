"""Platform read queries."""

from __future__ import annotations

from django.db.models import QuerySet

from vector_crm.errors import NotFound
from vector_crm.models import ApiCredential, Job


def job_list() -> QuerySet[Job]:
    return Job.objects.all()


def access_job(job_id: int) -> Job:
    """The current tenant's job, or NotFound (also for another tenant's id)."""
    from vector_crm.background import overlay_live_progress

    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound()
    return overlay_live_progress(job)


def jobs_recent(limit: int = 50) -> list[Job]:
    """The current tenant's newest jobs with who started them, for the jobs page."""
    return list(job_list().select_related("created_by").order_by("-created_at", "-id")[:limit])


def member_counts_by_role() -> dict[str, int]:
    """Active members of the current tenant per role."""
    from django.db.models import Count

    from vector_crm.models import Membership

    rows = Membership.objects.filter(is_active=True).order_by().values_list("role").annotate(total=Count("id"))
    return dict(rows)


def api_credential_list() -> list[ApiCredential]:
    """The current tenant's API credentials, newest first, with who created each."""
    return list(ApiCredential.objects.select_related("created_by").order_by("-created_at", "-id"))


def access_api_credential(credential_id: int) -> ApiCredential:
    """The current tenant's credential, or NotFound (also for another tenant's id)."""
    credential = ApiCredential.objects.filter(pk=credential_id).first()
    if credential is None:
        raise NotFound()
    return credential
