"""FilterSets of the platform endpoints.

Filters are declared rather than generated from ``filterset_fields``: generating them
builds a queryset on the model's default manager, which our tenant-scoped managers refuse
outside a tenant (for example while the OpenAPI schema is generated).
"""

import django_filters as filters
from django import forms
from django.utils.translation import gettext_lazy as _

from vector_crm.models import DeliveryStatus, Job, JobStatus, WebhookDelivery

MAX_ID = 2**63 - 1


class IdFilter(filters.NumberFilter):
    """A row id: a positive 64-bit integer. Anything else (1.5, 10**30) is a 400 naming the
    parameter, never a database overflow."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class JobFilterSet(filters.FilterSet):
    """Background jobs by kind and status."""

    kind = filters.CharFilter(label=_("Kind"))
    status = filters.ChoiceFilter(choices=JobStatus.choices, label=_("Status"))

    class Meta:
        model = Job
        fields = ["kind", "status"]


class WebhookDeliveryFilterSet(filters.FilterSet):
    """The delivery log by endpoint, status and event type (UI and API)."""

    endpoint = IdFilter(field_name="endpoint_id", label=_("Endpoint"))
    status = filters.ChoiceFilter(choices=DeliveryStatus.choices, label=_("Status"))
    event_type = filters.CharFilter(field_name="event__type", label=_("Event type"))

    class Meta:
        model = WebhookDelivery
        fields = ["endpoint", "status", "event_type"]
