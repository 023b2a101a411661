"""REST endpoints of the shared customer model (``/api/v1/``).

Every viewset builds on ``TenantScopedViewSet``: its ``scoped_queryset`` comes from
``customers.selectors`` (tenant scope plus the member's visibility, joins decided once),
so another tenant's object, or one outside the member's portfolio, is a 404. Every write
is one call to ``customers.services`` with the request's actor and membership (None for
API credentials, whose scopes were already checked by ``RolePermission``).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from customers import services
from customers.api.serializers import (
    BranchSerializer,
    CustomerSerializer,
    HoldingSerializer,
    InteractionSerializer,
    MonthlyAccountSummarySerializer,
    PaymentSerializer,
    PortfolioReassignResultSerializer,
    PortfolioReassignSerializer,
    ProductSerializer,
)
from customers.filters import (
    BranchFilterSet,
    CustomerFilterSet,
    HoldingFilterSet,
    InteractionFilterSet,
    MonthlyAccountSummaryFilterSet,
    PaymentFilterSet,
    ProductFilterSet,
)
from customers.models import (
    Branch,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
)
from customers.selectors import (
    branch_list,
    customer_list,
    holding_list,
    interaction_list,
    monthly_summary_list,
    payment_list,
    product_list,
)
from vector_crm.api.base import TenantScopedViewSet
from vector_crm.api.pagination import CreatedCursorPagination


def changed_data(instance: Model, validated_data: dict[str, Any]) -> dict[str, Any]:
    """The validated fields whose value differs from ``instance`` (relations compared by id).

    A PUT repeats unchanged fields; passing only real changes keeps the audit entry honest
    and does not ask for rights the change does not need (resending the same owner is not a
    reassignment).
    """
    changed: dict[str, Any] = {}
    for name, value in validated_data.items():
        field = instance._meta.get_field(name)
        if field.many_to_one:
            current, new = getattr(instance, field.attname), (value.pk if value is not None else None)
        else:
            current, new = getattr(instance, name), value
        if current != new:
            changed[name] = value
    return changed


class TimelineCursorPagination(CreatedCursorPagination):
    """The customer 360 timeline: newest touchpoint first."""

    ordering = ("-occurred_at", "-id")


class ServiceViewSet(TenantScopedViewSet):
    """Shared plumbing: integer ids in URLs and the keyword arguments every service takes."""

    lookup_value_regex = r"\d+"

    def service_kwargs(self) -> dict[str, Any]:
        return {"actor": self.actor, "membership": self.membership}


class ServiceModelViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ServiceViewSet,
):
    """CRUD endpoints whose writes are three services of ``customers.services``:
    ``create_service(data=...)``, ``update_service(<instance_kwarg>=..., data=...)`` (only
    the fields that changed) and ``delete_service(<instance_kwarg>=...)``.
    ``write_capability``, when set, is what every write action requires."""

    create_service: Any
    update_service: Any
    delete_service: Any
    instance_kwarg: str
    write_capability: str | None = None

    @property
    def action_capabilities(self) -> dict[str, str]:
        if self.write_capability is None:
            return {}
        return {action: self.write_capability for action in ("create", "update", "partial_update", "destroy")}

    def perform_create(self, serializer):
        serializer.instance = self.create_service(**self.service_kwargs(), data=dict(serializer.validated_data))

    def perform_update(self, serializer):
        data = changed_data(serializer.instance, serializer.validated_data)
        if data:
            self.update_service(**self.service_kwargs(), **{self.instance_kwarg: serializer.instance}, data=data)

    def perform_destroy(self, instance):
        self.delete_service(**self.service_kwargs(), **{self.instance_kwarg: instance})


@extend_schema(tags=["customers"])
class CustomerViewSet(ServiceModelViewSet):
    """Customers the caller sees: an advisor their portfolio and the branch's unassigned
    customers, a supervisor the team's portfolios, a branch manager the branch, the rest
    of the roles and API credentials the whole institution."""

    model = Customer
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilterSet
    permission_family = "customers"
    action_capabilities = {"reassign": "customers.reassign", "interactions": "interactions.view"}
    create_service = staticmethod(services.customer_create)
    update_service = staticmethod(services.customer_update)
    delete_service = staticmethod(services.customer_delete)
    instance_kwarg = "customer"

    def scoped_queryset(self):
        return customer_list(self.membership)

    @extend_schema(request=PortfolioReassignSerializer, responses=PortfolioReassignResultSerializer)
    @action(detail=False, methods=["post"], serializer_class=PortfolioReassignSerializer, filter_backends=[])
    def reassign(self, request):
        """Move customers to another advisor; each move is audited with the old and new owner."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        moved = services.portfolio_reassign(
            **self.service_kwargs(),
            customer_ids=data.get("customer_ids"),
            from_owner=data.get("from_owner"),
            to_owner=data["to_owner"],
            branch=data.get("branch"),
        )
        return Response(PortfolioReassignResultSerializer({"moved": moved}).data)

    @extend_schema(responses=InteractionSerializer(many=True))
    @action(
        detail=True,
        methods=["get"],
        serializer_class=InteractionSerializer,
        pagination_class=TimelineCursorPagination,
        filter_backends=[],
    )
    def interactions(self, request, pk=None):
        """The customer's timeline, newest first."""
        customer = self.get_object()
        page = self.paginate_queryset(interaction_list(self.membership).filter(customer=customer))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)


@extend_schema(tags=["branches"])
class BranchViewSet(ServiceModelViewSet):
    """The institution's branches; changing them needs ``catalogue.manage``."""

    model = Branch
    serializer_class = BranchSerializer
    filterset_class = BranchFilterSet
    permission_family = "catalogue"

    write_capability = "catalogue.manage"
    create_service = staticmethod(services.branch_create)
    update_service = staticmethod(services.branch_update)
    delete_service = staticmethod(services.branch_delete)
    instance_kwarg = "branch"

    def scoped_queryset(self):
        return branch_list()


@extend_schema(tags=["products"])
class ProductViewSet(ServiceModelViewSet):
    """The product catalogue; the category (asset, liability...) follows from the family."""

    model = Product
    serializer_class = ProductSerializer
    filterset_class = ProductFilterSet
    permission_family = "catalogue"

    write_capability = "catalogue.manage"
    create_service = staticmethod(services.product_create)
    update_service = staticmethod(services.product_update)
    delete_service = staticmethod(services.product_delete)
    instance_kwarg = "product"

    def scoped_queryset(self):
        return product_list()


@extend_schema(tags=["holdings"])
class HoldingViewSet(ServiceModelViewSet):
    """Accounts and contracts of the customers the caller sees."""

    model = Holding
    serializer_class = HoldingSerializer
    filterset_class = HoldingFilterSet
    permission_family = "holdings"

    write_capability = "holdings.change"
    create_service = staticmethod(services.holding_create)
    update_service = staticmethod(services.holding_update)
    delete_service = staticmethod(services.holding_delete)
    instance_kwarg = "holding"

    def scoped_queryset(self):
        return holding_list(self.membership)


@extend_schema(tags=["monthly summaries"])
class MonthlyAccountSummaryViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ServiceViewSet
):
    """Monthly figures per account. Posting an account-month that exists replaces it (200);
    a new one answers 201, so a retried upload never duplicates a month."""

    model = MonthlyAccountSummary
    serializer_class = MonthlyAccountSummarySerializer
    filterset_class = MonthlyAccountSummaryFilterSet
    permission_family = "holdings"
    action_capabilities = {"create": "holdings.change"}

    def scoped_queryset(self):
        return monthly_summary_list(self.membership)

    @extend_schema(responses={200: MonthlyAccountSummarySerializer, 201: MonthlyAccountSummarySerializer})
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        existed = monthly_summary_list(self.membership).filter(holding=data["holding"], month=data["month"]).exists()
        summary = services.monthly_summary_record(**self.service_kwargs(), data=data)
        return Response(
            self.get_serializer(summary).data, status=status.HTTP_200_OK if existed else status.HTTP_201_CREATED
        )


@extend_schema(tags=["payments"])
class PaymentViewSet(ServiceModelViewSet):
    """Instalments due and paid on the accounts the caller sees."""

    model = Payment
    serializer_class = PaymentSerializer
    filterset_class = PaymentFilterSet
    permission_family = "payments"

    write_capability = "payments.change"
    create_service = staticmethod(services.payment_record)
    update_service = staticmethod(services.payment_update)
    delete_service = staticmethod(services.payment_delete)
    instance_kwarg = "payment"

    def scoped_queryset(self):
        return payment_list(self.membership)


@extend_schema(tags=["interactions"])
class InteractionViewSet(ServiceModelViewSet):
    """The interaction timeline of the customers the caller sees, newest first."""

    model = Interaction
    serializer_class = InteractionSerializer
    filterset_class = InteractionFilterSet
    pagination_class = TimelineCursorPagination
    permission_family = "interactions"
    update_service = staticmethod(services.interaction_update)
    delete_service = staticmethod(services.interaction_delete)
    instance_kwarg = "interaction"

    def scoped_queryset(self):
        return interaction_list(self.membership)

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        customer = data.pop("customer")
        serializer.instance = services.interaction_log(**self.service_kwargs(), customer=customer, data=data)
