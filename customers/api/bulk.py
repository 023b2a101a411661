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
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from customers import bulk
from customers.api.serializers import TenantPhoneNumberField
from customers.choices import CustomerKind, HoldingStatus, IdentificationType, LifecycleStatus
from customers.models import Customer, Holding, MonthlyAccountSummary, Payment, validate_currency
from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.exceptions import problem_response


def _money(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=18, decimal_places=2, **kwargs)


class CustomerBulkRecordSerializer(serializers.Serializer):
    """One customer of a feed, keyed by its core-banking ``external_id``."""

    external_id = serializers.CharField(max_length=64)
    kind = serializers.ChoiceField(choices=CustomerKind.choices, default=CustomerKind.PERSON)
    identification_type = serializers.ChoiceField(choices=IdentificationType.choices)
    identification_number = serializers.CharField(max_length=20)
    first_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=100, required=False, allow_blank=True)
    legal_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    mobile = TenantPhoneNumberField(required=False, allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    city = serializers.CharField(max_length=80, required=False, allow_blank=True)
    birth_date = serializers.DateField(required=False, allow_null=True)
    lifecycle_status = serializers.ChoiceField(choices=LifecycleStatus.choices, required=False)


class HoldingBulkRecordSerializer(serializers.Serializer):
    """One account of a feed, keyed by ``account_number``; its customer by ``external_id``."""

    account_number = serializers.CharField(max_length=40)
    customer_external_id = serializers.CharField(max_length=64)
    product_code = serializers.CharField(max_length=30)
    currency = serializers.CharField(max_length=3, validators=[validate_currency])
    opened_on = serializers.DateField()
    maturity_date = serializers.DateField(required=False, allow_null=True)
    balance = _money(required=False)
    credit_limit = _money(required=False, allow_null=True, min_value=0)
    interest_rate = serializers.DecimalField(
        max_digits=7, decimal_places=4, required=False, allow_null=True, min_value=0, max_value=200
    )
    status = serializers.ChoiceField(choices=HoldingStatus.choices, required=False)
    days_past_due = serializers.IntegerField(min_value=0, required=False)
    next_due_date = serializers.DateField(required=False, allow_null=True)
    next_due_amount = _money(required=False, allow_null=True, min_value=0)


class MonthlySummaryBulkRecordSerializer(serializers.Serializer):
    """One account-month, keyed by ``account_number`` and ``month`` (first day)."""

    account_number = serializers.CharField(max_length=40)
    month = serializers.DateField()
    average_balance = _money(required=False)
    transactions = serializers.IntegerField(min_value=0, required=False)
    fees = _money(required=False)
    revenue = _money(required=False)


class PaymentBulkRecordSerializer(serializers.Serializer):
    """One instalment, keyed by ``account_number`` and ``due_date``."""

    account_number = serializers.CharField(max_length=40)
    due_date = serializers.DateField()
    amount_due = _money(min_value=0)
    paid_on = serializers.DateField(required=False, allow_null=True)
    amount_paid = _money(required=False, min_value=0)


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


def _first_error(detail: Any) -> tuple[str | None, str, str]:
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        _field, code, message = _first_error(value)
        return (None if name == "non_field_errors" else name), code, message
    if isinstance(detail, list):
        return _first_error(detail[0])
    return None, getattr(detail, "code", "invalid"), str(detail)


def record_error(index: int, exc: Exception) -> bulk.BulkError | None:
    """The ``BulkError`` of a record's ``ValidationError`` (None for any other exception)."""
    if not isinstance(exc, ValidationError):
        return None
    return bulk.BulkError(index, *_first_error(exc.detail))


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
    pagination_class = None

    def scoped_queryset(self):
        return self.model.objects.none()

    def get_serializer_class(self):
        return BulkEnvelopeSerializer

    def create(self, request, *args, **kwargs):
        envelope = BulkEnvelopeSerializer(data=request.data)
        envelope.is_valid(raise_exception=True)
        raw = envelope.validated_data["records"]
        tenant = getattr(request, "tenant", None)
        records, rejected = bulk.validate_records(self.resource, raw, region=getattr(tenant, "country", None))
        atomic = request.query_params.get("atomic", "").lower() in ("1", "true", "yes")
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


def _bulk_viewset(name, *, resource, model, family, capability, record_serializer, service, tag):
    request = _request_serializer(record_serializer)
    create = extend_schema(
        request=request,
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
            "service": staticmethod(service),
            "create": create,
        },
    )


CustomerBulkViewSet = _bulk_viewset(
    "CustomerBulkViewSet",
    resource="customers",
    model=Customer,
    family="customers",
    capability="customers.change",
    record_serializer=CustomerBulkRecordSerializer,
    service=bulk.customers_bulk_upsert,
    tag="customers",
)
HoldingBulkViewSet = _bulk_viewset(
    "HoldingBulkViewSet",
    resource="holdings",
    model=Holding,
    family="holdings",
    capability="holdings.change",
    record_serializer=HoldingBulkRecordSerializer,
    service=bulk.holdings_bulk_upsert,
    tag="holdings",
)
MonthlySummaryBulkViewSet = _bulk_viewset(
    "MonthlySummaryBulkViewSet",
    resource="monthly_summaries",
    model=MonthlyAccountSummary,
    family="holdings",
    capability="holdings.change",
    record_serializer=MonthlySummaryBulkRecordSerializer,
    service=bulk.monthly_summaries_bulk_upsert,
    tag="monthly summaries",
)
PaymentBulkViewSet = _bulk_viewset(
    "PaymentBulkViewSet",
    resource="payments",
    model=Payment,
    family="payments",
    capability="payments.change",
    record_serializer=PaymentBulkRecordSerializer,
    service=bulk.payments_bulk_upsert,
    tag="payments",
)

RECORD_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "customers": CustomerBulkRecordSerializer,
    "holdings": HoldingBulkRecordSerializer,
    "monthly_summaries": MonthlySummaryBulkRecordSerializer,
    "payments": PaymentBulkRecordSerializer,
}
