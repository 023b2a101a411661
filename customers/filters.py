"""One FilterSet per model of the shared customer model, used by the API and the HTML lists.

Querysets of choice filters are callables evaluated per request, so they always run in
the current tenant (the scoped managers raise without one). Filtering only narrows a
queryset that is already scoped to the tenant and the member's visibility, so an id of
another tenant finds nothing; choice filters answer it as an invalid choice.
"""

from __future__ import annotations

import django_filters as filters
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from customers.choices import (
    Channel,
    CustomerKind,
    Direction,
    HoldingStatus,
    IncomeBand,
    InteractionOutcome,
    InteractionType,
    LifecycleStatus,
    ProductCategory,
    ProductFamily,
    RelatedKind,
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
from customers.selectors import branch_list, product_list, search_filter, tenant_members
from vector_crm.api.filters import IdFilter


def _branches(request) -> QuerySet[Branch]:
    return branch_list()


def _products(request) -> QuerySet[Product]:
    return product_list()


def _members(request):
    return tenant_members()


class CustomerFilterSet(filters.FilterSet):
    """Customers by branch, status, kind, owner, city, income band, creation date and ``q``
    (name prefix, identification number or mobile)."""

    q = filters.CharFilter(method="filter_q", label=_("Search"), help_text=_("Name prefix, ID number or mobile"))
    branch = filters.ModelChoiceFilter(queryset=_branches, label=_("Branch"))
    owner = filters.ModelChoiceFilter(queryset=_members, label=_("Owner advisor"))
    unassigned = filters.BooleanFilter(field_name="owner", lookup_expr="isnull", label=_("Without owner"))
    lifecycle_status = filters.ChoiceFilter(choices=LifecycleStatus.choices, label=_("Lifecycle status"))
    kind = filters.ChoiceFilter(choices=CustomerKind.choices, label=_("Kind"))
    income_band = filters.ChoiceFilter(choices=IncomeBand.choices, label=_("Income band"))
    city = filters.CharFilter(lookup_expr="iexact", label=_("City"))
    external_id = filters.CharFilter(label=_("Core-banking id"))
    created = filters.DateFromToRangeFilter(field_name="created_at", label=_("Created"))

    class Meta:
        model = Customer
        fields = [
            "q",
            "branch",
            "owner",
            "unassigned",
            "lifecycle_status",
            "kind",
            "income_band",
            "city",
            "external_id",
            "created",
        ]

    def filter_q(self, queryset: QuerySet[Customer], name: str, value: str) -> QuerySet[Customer]:
        if not value.strip():
            return queryset
        return queryset.filter(search_filter(value))


class BranchFilterSet(filters.FilterSet):
    """Branches by code, city, region and whether they are active."""

    code = filters.CharFilter(label=_("Code"))
    city = filters.CharFilter(lookup_expr="iexact", label=_("City"))
    region = filters.CharFilter(lookup_expr="iexact", label=_("Region"))
    is_active = filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Branch
        fields = ["code", "city", "region", "is_active"]


class ProductFilterSet(filters.FilterSet):
    """Catalogue entries by family, category, currency and whether they are active."""

    code = filters.CharFilter(label=_("Code"))
    family = filters.ChoiceFilter(choices=ProductFamily.choices, label=_("Family"))
    category = filters.ChoiceFilter(choices=ProductCategory.choices, label=_("Category"))
    currency = filters.CharFilter(label=_("Currency"))
    is_active = filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = Product
        fields = ["code", "family", "category", "currency", "is_active"]


class HoldingFilterSet(filters.FilterSet):
    """Accounts by customer, product, category, status, days past due and maturity."""

    customer = IdFilter(label=_("Customer"))
    product = filters.ModelChoiceFilter(queryset=_products, label=_("Product"))
    category = filters.ChoiceFilter(
        field_name="product__category", choices=ProductCategory.choices, label=_("Category")
    )
    status = filters.ChoiceFilter(choices=HoldingStatus.choices, label=_("Status"))
    account_number = filters.CharFilter(label=_("Account number"))
    days_past_due = filters.RangeFilter(label=_("Days past due"))
    maturity = filters.DateFromToRangeFilter(field_name="maturity_date", label=_("Maturity"))

    class Meta:
        model = Holding
        fields = ["customer", "product", "category", "status", "account_number", "days_past_due", "maturity"]


class MonthlyAccountSummaryFilterSet(filters.FilterSet):
    """Account-months by holding, customer and month range."""

    holding = IdFilter(label=_("Account"))
    customer = IdFilter(label=_("Customer"))
    month = filters.DateFromToRangeFilter(label=_("Month"))

    class Meta:
        model = MonthlyAccountSummary
        fields = ["holding", "customer", "month"]


class PaymentFilterSet(filters.FilterSet):
    """Instalments by holding, customer, due date range and whether they were paid."""

    holding = IdFilter(label=_("Account"))
    customer = IdFilter(label=_("Customer"))
    due_date = filters.DateFromToRangeFilter(label=_("Due date"))
    paid = filters.BooleanFilter(field_name="paid_on", lookup_expr="isnull", exclude=True, label=_("Paid"))

    class Meta:
        model = Payment
        fields = ["holding", "customer", "due_date", "paid"]


class InteractionFilterSet(filters.FilterSet):
    """Timeline entries by customer, channel, direction, type, outcome, date and what they
    belong to (a case, opportunity, campaign or task)."""

    customer = IdFilter(label=_("Customer"))
    channel = filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"))
    direction = filters.ChoiceFilter(choices=Direction.choices, label=_("Direction"))
    interaction_type = filters.ChoiceFilter(choices=InteractionType.choices, label=_("Type"))
    outcome = filters.ChoiceFilter(choices=InteractionOutcome.choices, label=_("Outcome"))
    user = filters.ModelChoiceFilter(queryset=_members, label=_("User"))
    occurred = filters.DateFromToRangeFilter(field_name="occurred_at", label=_("When"))
    related_kind = filters.ChoiceFilter(choices=RelatedKind.choices, label=_("Belongs to"))
    related_id = IdFilter(label=_("Related id"))

    class Meta:
        model = Interaction
        fields = [
            "customer",
            "channel",
            "direction",
            "interaction_type",
            "outcome",
            "user",
            "occurred",
            "related_kind",
            "related_id",
        ]
