"""FilterSets of the platform endpoints.

Filters are declared rather than generated from ``filterset_fields``: generating them
builds a queryset on the model's default manager, which our tenant-scoped managers refuse
outside a tenant (for example while the OpenAPI schema is generated).
"""

import django_filters as filters
from django.utils.translation import gettext_lazy as _

from vector_crm.models import DeliveryStatus, Job, JobStatus, WebhookDelivery


class JobFilterSet(filters.FilterSet):
    """Background jobs by kind and status."""

    kind = filters.CharFilter(label=_("Kind"))
    status = filters.ChoiceFilter(choices=JobStatus.choices, label=_("Status"))

    class Meta:
        model = Job
        fields = ["kind", "status"]


class WebhookDeliveryFilterSet(filters.FilterSet):
    """The delivery log by endpoint, status and event type (UI and API)."""

    endpoint = filters.NumberFilter(field_name="endpoint_id", label=_("Endpoint"))
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    event_type = filters.CharFilter(field_name="event__type", label=_("Event type"))

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]
