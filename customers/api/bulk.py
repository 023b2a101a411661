"""Bulk upsert endpoints for core-banking feeds (``/api/v1/bulk/<resource>/``).

The body is ``{"records": [...]}`` with up to ``MAX_RECORDS`` records keyed by the bank's
ids. Each record is validated on its own (a rejected record names its index, field and
code); the valid ones are written set-based by ``customers.bulk``. ``?atomic=true`` writes
nothing when any record is rejected and answers 400 with the rejected records.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from customers import bulk
from customers.bulk_records import RECORD_SERIALIZERS
from customers.models import Customer, Holding, MonthlyAccountSummary, Payment
from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.exceptions import problem_response
from vector_crm.api.parsers import FastJSONParser
from vector_crm.db import paused_gc


class BulkEnvelopeSerializer(serializers.Serializer):
    records = serializers.ListField(child=serializers.DictField(), max_length=bulk.MAX_RECORDS)


class BulkRejectedSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()


class BulkResultSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    rejected = BulkRejectedSerializer(many=True)


def _request_serializer(record_serializer: type[serializers.Serializer]) -> type[serializers.Serializer]:
    name = record_serializer.__name__.replace("RecordSerializer", "RequestSerializer")
    records = serializers.ListField(child=record_serializer(), max_length=bulk.MAX_RECORDS)
    return type(name, (serializers.Serializer,), {"records": records, "__module__": __name__})


ATOMIC_PARAMETER = OpenApiParameter(
    "atomic", OpenApiTypes.BOOL, description="Write nothing if any record is rejected (400 lists them)."
)


class BulkViewSet(TenantScopedViewSet):
    """``POST`` a batch; the answer counts created, updated and unchanged rows and lists
    the rejected records."""

    record_serializer: ClassVar[type[serializers.Serializer]]
    resource: ClassVar[str]
    service: Any
    filter_backends: ClassVar[list] = []
    parser_classes: ClassVar[list] = [FastJSONParser, FormParser, MultiPartParser]
    pagination_class = None

    def scoped_queryset(self):
        return self.model.objects.none()

    def get_serializer_class(self):
        return BulkEnvelopeSerializer

    def records(self, data: Any) -> list:
        """The body's ``records`` list; DRF's envelope serializer words any problem."""
        records = data.get("records") if isinstance(data, dict) else None
        if type(records) is list and len(records) <= bulk.MAX_RECORDS and all(type(r) is dict for r in records):
            return records
        envelope = BulkEnvelopeSerializer(data=data)
        envelope.is_valid(raise_exception=True)
        return envelope.validated_data["records"]

    def create(self, request, *args, **kwargs):
        bulk.require_bulk_writer(self.membership)
        atomic = request.query_params.get("atomic", "").lower() in ("1", "true", "yes")
        tenant = getattr(request, "tenant", None)
        with paused_gc():
            raw = self.records(request.data)
            records, rejected = bulk.validate_records(self.resource, raw, region=getattr(tenant, "country", None))
            result = self.service(
                actor=self.actor,
                membership=self.membership,
                records=records,
                rejected=rejected,
                atomic=atomic,
                total=len(raw),
            )
        body = result.as_dict()
        if not result.applied:
            return problem_response(
                status_code=status.HTTP_400_BAD_REQUEST,
                title=_("Your request parameters didn't validate."),
                detail=_("%(count)d records were rejected; nothing was written.") % {"count": len(result.rejected)},
                type_="validation-error",
                errors=[
                    {**error, "field": f"records[{error['index']}].{error['field'] or ''}".rstrip(".")}
                    for error in body["rejected"]
                ],
            )
        return Response(body, status=status.HTTP_200_OK)


# resource: (class name, model, scope family and the capability it needs, OpenAPI tag)
RESOURCES: dict[str, tuple[str, type, str, str, str]] = {
    "customers": ("CustomerBulkViewSet", Customer, "customers", "customers.change", "customers"),
    "holdings": ("HoldingBulkViewSet", Holding, "holdings", "holdings.change", "holdings"),
    "monthly_summaries": (
        "MonthlySummaryBulkViewSet",
        MonthlyAccountSummary,
        "holdings",
        "holdings.change",
        "monthly summaries",
    ),
    "payments": ("PaymentBulkViewSet", Payment, "payments", "payments.change", "payments"),
}


def bulk_viewset(resource: str, *, name: str, model: type, family: str, capability: str, tag: str) -> type[BulkViewSet]:
    """The ``POST``-only viewset of a registered bulk resource (``customers.bulk.SERVICES``)."""
    record_serializer = RECORD_SERIALIZERS[resource]
    create = extend_schema(
        request=_request_serializer(record_serializer),
        responses={200: BulkResultSerializer},
        parameters=[ATOMIC_PARAMETER],
        tags=[tag],
    )(BulkViewSet.create)
    return type(
        name,
        (BulkViewSet,),
        {
            "__module__": __name__,
            "__doc__": BulkViewSet.__doc__,
            "model": model,
            "permission_family": family,
            "action_capabilities": {"create": capability},
            "record_serializer": record_serializer,
            "resource": resource,
            "service": staticmethod(bulk.SERVICES[resource]),
            "create": create,
        },
    )


def _core_viewset(resource: str) -> type[BulkViewSet]:
    name, model, family, capability, tag = RESOURCES[resource]
    return bulk_viewset(resource, name=name, model=model, family=family, capability=capability, tag=tag)


CustomerBulkViewSet = _core_viewset("customers")
HoldingBulkViewSet = _core_viewset("holdings")
MonthlySummaryBulkViewSet = _core_viewset("monthly_summaries")
PaymentBulkViewSet = _core_viewset("payments")
