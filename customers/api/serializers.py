"""Serializers of the shared customer model: input validation and output shape.

Related ids in input are resolved through the current tenant's scoped querysets (and the
member's visibility for customers and accounts), so another tenant's id is an unknown id:
a 400 naming the field, identical to an id that never existed. Writes are not done here;
the viewsets hand ``validated_data`` to ``customers.services``.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from phonenumber_field.serializerfields import PhoneNumberField
from rest_framework import serializers

from customers.choices import Channel, ConsentSource
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
    holding_list,
    product_list,
    tenant_members,
    visible_customers,
)
from vector_crm.api.filters import MAX_ID


def _membership(request):
    return getattr(request, "membership", None)


def scope_branches(request) -> QuerySet:
    return branch_list()


def scope_products(request) -> QuerySet:
    return product_list()


def scope_members(request) -> QuerySet:
    return tenant_members()


def scope_customers(request) -> QuerySet:
    return visible_customers(_membership(request))


def scope_holdings(request) -> QuerySet:
    return holding_list(_membership(request))


@extend_schema_field(OpenApiTypes.INT)
class ScopedPrimaryKeyRelatedField(serializers.PrimaryKeyRelatedField):
    """A related id looked up in ``scope(request)``, evaluated per request in the current
    tenant. Unknown and foreign ids get the same "does not exist" error."""

    def __init__(self, scope: Callable[[object], QuerySet], **kwargs):
        self.scope = scope
        super().__init__(**kwargs)

    def get_queryset(self) -> QuerySet:
        return self.scope(self.context.get("request"))

    def to_internal_value(self, data):
        # An id beyond the 64-bit key range names nothing (and would overflow the driver).
        if isinstance(data, int) and not 0 < data <= MAX_ID:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class TenantPhoneNumberField(PhoneNumberField):
    """A phone number; national numbers are read in the tenant's country."""

    def to_internal_value(self, data):
        tenant = getattr(self.context.get("request"), "tenant", None)
        region = self.context.get("region") or (tenant.country if tenant is not None else None)
        if region:
            self.region = region
        return super().to_internal_value(data)


class CreateOnlyFieldsMixin:
    """``Meta.create_only_fields`` are writable on create and read-only on update (the
    customer of an account or a payment does not move)."""

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            for name in getattr(self.Meta, "create_only_fields", ()):
                fields[name].read_only = True
                fields[name].required = False
        return fields


class ChannelConsentInputSerializer(serializers.Serializer):
    """The customer's permission for one contact channel, given when the customer is created."""

    channel = serializers.ChoiceField(choices=Channel.choices)
    opted_in = serializers.BooleanField()
    source = serializers.ChoiceField(choices=ConsentSource.choices)
    recorded_at = serializers.DateTimeField(required=False)


class CustomerSerializer(serializers.ModelSerializer):
    """A person or company; owner and branch are ids in the current tenant."""

    display_name = serializers.CharField(read_only=True)
    mobile = TenantPhoneNumberField(required=False, allow_blank=True)
    branch = ScopedPrimaryKeyRelatedField(scope_branches, required=False, allow_null=True)
    owner = ScopedPrimaryKeyRelatedField(scope_members, required=False, allow_null=True)
    branch_name = serializers.CharField(source="branch.name", read_only=True, allow_null=True)
    owner_name = serializers.SerializerMethodField()
    consents = ChannelConsentInputSerializer(many=True, required=False, write_only=True)

    class Meta:
        model = Customer
        fields = [
            "id",
            "kind",
            "identification_type",
            "identification_number",
            "external_id",
            "display_name",
            "first_name",
            "last_name",
            "legal_name",
            "mobile",
            "email",
            "address",
            "city",
            "birth_date",
            "civil_status",
            "stratum",
            "children",
            "education",
            "occupation",
            "income_band",
            "economic_sector",
            "equity",
            "employees",
            "lifecycle_status",
            "churn_reason",
            "churned_at",
            "owner",
            "owner_name",
            "branch",
            "branch_name",
            "preferred_channel",
            "consents",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["created_at", "updated_at"]

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | QuerySet):
            # Consents are given at creation; later changes are recorded one by one.
            fields.pop("consents")
        return fields

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_owner_name(self, customer: Customer) -> str | None:
        owner = customer.owner
        if owner is None:
            return None
        return owner.get_full_name() or owner.username


class BranchSerializer(serializers.ModelSerializer):
    """A branch (agencia) of the institution."""

    class Meta:
        model = Branch
        fields = ["id", "code", "name", "city", "region", "address", "is_active"]


class ProductSerializer(serializers.ModelSerializer):
    """A catalogue entry; the category follows from the family."""

    class Meta:
        model = Product
        fields = ["id", "code", "name", "family", "category", "currency", "is_active"]
        read_only_fields = ["category"]


class HoldingSerializer(CreateOnlyFieldsMixin, serializers.ModelSerializer):
    """A customer's account or contract for one product, with balance and delinquency."""

    customer = ScopedPrimaryKeyRelatedField(scope_customers)
    product = ScopedPrimaryKeyRelatedField(scope_products)
    product_name = serializers.CharField(source="product.name", read_only=True)
    product_category = serializers.CharField(source="product.category", read_only=True)

    class Meta:
        model = Holding
        fields = [
            "id",
            "customer",
            "product",
            "product_name",
            "product_category",
            "account_number",
            "currency",
            "opened_on",
            "maturity_date",
            "balance",
            "credit_limit",
            "interest_rate",
            "status",
            "days_past_due",
            "next_due_date",
            "next_due_amount",
            "updated_at",
        ]
        read_only_fields = ["updated_at"]
        create_only_fields = ["customer"]


class MonthlyAccountSummarySerializer(serializers.ModelSerializer):
    """One month of one account; recording the same account-month again replaces it."""

    holding = ScopedPrimaryKeyRelatedField(scope_holdings)

    class Meta:
        model = MonthlyAccountSummary
        fields = ["id", "holding", "customer", "month", "average_balance", "transactions", "fees", "revenue"]
        read_only_fields = ["customer"]
        # The upsert semantics replace DRF's unique-together check (the service keys on it).
        validators: list = []


class PaymentSerializer(CreateOnlyFieldsMixin, serializers.ModelSerializer):
    """An instalment due on an account and what was paid against it."""

    holding = ScopedPrimaryKeyRelatedField(scope_holdings)
    account_number = serializers.CharField(source="holding.account_number", read_only=True)
    days_late = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Payment
        fields = [
            "id",
            "holding",
            "account_number",
            "customer",
            "due_date",
            "amount_due",
            "paid_on",
            "amount_paid",
            "days_late",
        ]
        read_only_fields = ["customer"]
        create_only_fields = ["holding"]


class InteractionSerializer(CreateOnlyFieldsMixin, serializers.ModelSerializer):
    """A touchpoint on the customer's timeline; ``user`` is whoever logged it."""

    customer = ScopedPrimaryKeyRelatedField(scope_customers)
    user_name = serializers.CharField(source="user.username", read_only=True, allow_null=True)

    class Meta:
        model = Interaction
        fields = [
            "id",
            "customer",
            "channel",
            "direction",
            "interaction_type",
            "outcome",
            "user",
            "user_name",
            "occurred_at",
            "notes",
            "related_kind",
            "related_id",
        ]
        read_only_fields = ["user"]
        extra_kwargs = {"occurred_at": {"required": False}}
        create_only_fields = ["customer"]

    def validate(self, attrs):
        kind = attrs.get("related_kind", getattr(self.instance, "related_kind", ""))
        related_id = attrs.get("related_id", getattr(self.instance, "related_id", None))
        if bool(kind) != (related_id is not None):
            field = "related_id" if kind else "related_kind"
            raise serializers.ValidationError(
                {field: _("Give both what the interaction belongs to and its id, or neither.")}, code="required"
            )
        return attrs


class PortfolioReassignSerializer(serializers.Serializer):
    """Move the given customers, or all of ``from_owner``'s visible portfolio, to ``to_owner``."""

    customer_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        max_length=5000,
    )
    from_owner = ScopedPrimaryKeyRelatedField(scope_members, required=False)
    to_owner = ScopedPrimaryKeyRelatedField(scope_members)
    branch = ScopedPrimaryKeyRelatedField(scope_branches, required=False)

    def validate_customer_ids(self, value: list[int]) -> list[int]:
        # One query for the whole list; ids the member cannot see are as unknown as missing ones.
        wanted = set(value)
        found = set(scope_customers(self.context.get("request")).filter(pk__in=wanted).values_list("pk", flat=True))
        missing = sorted(wanted - found)
        if missing:
            raise serializers.ValidationError(
                _("Unknown customers: %(ids)s.") % {"ids": ", ".join(map(str, missing[:20]))}, code="does_not_exist"
            )
        return sorted(wanted)

    def validate(self, attrs):
        if not attrs.get("customer_ids") and attrs.get("from_owner") is None:
            raise serializers.ValidationError(
                {"customer_ids": _("Say which customers to move: their ids or their current owner.")},
                code="required",
            )
        return attrs


class PortfolioReassignResultSerializer(serializers.Serializer):
    """How many customers changed owner (already-owned ones are left as they were)."""

    moved = serializers.IntegerField()
