"""Platform read queries."""

from __future__ import annotations

from django.db.models import QuerySet

from vector_crm.errors import NotFound
from vector_crm.models import ApiCredential, DeliveryStatus, Job, WebhookDelivery, WebhookEndpoint


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


def webhook_endpoint_list() -> QuerySet[WebhookEndpoint]:
    """The current tenant's webhook endpoints, newest first, with their delivery counts
    per status (one aggregate query)."""
    from django.db.models import Count, Q

    counts = {
        f"{status}_count": Count("deliveries", filter=Q(deliveries__status=status)) for status in DeliveryStatus.values
    }
    return WebhookEndpoint.objects.select_related("created_by").annotate(**counts).order_by("-created_at", "-id")


def access_webhook_endpoint(endpoint_id: int) -> WebhookEndpoint:
    """The current tenant's endpoint, or NotFound (also for another tenant's id)."""
    endpoint = WebhookEndpoint.objects.filter(pk=endpoint_id).first()
    if endpoint is None:
        raise NotFound()
    return endpoint


def webhook_delivery_list(endpoint: WebhookEndpoint | None = None) -> QuerySet[WebhookDelivery]:
    """The delivery log, newest first, with its event (one query per page)."""
    deliveries = WebhookDelivery.objects.select_related("event", "endpoint")
    if endpoint is not None:
        deliveries = deliveries.filter(endpoint=endpoint)
    return deliveries.order_by("-created_at", "-id")


def access_webhook_delivery(delivery_id: int, *, endpoint: WebhookEndpoint | None = None) -> WebhookDelivery:
    """One delivery of the current tenant (of ``endpoint`` if given), or NotFound."""
    delivery = webhook_delivery_list(endpoint).filter(pk=delivery_id).first()
    if delivery is None:
        raise NotFound()
    return delivery
