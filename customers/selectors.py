"""Read queries over the shared customer model, shared by UI and API.

Visibility inside a tenant is decided here, once: ``visible_customers(membership)`` is
the only way views and endpoints reach customers, and every dependent table (holdings,
payments, interactions...) is filtered through it. ``access_customer`` answers the same
``NotFound`` for "does not exist", "another tenant" and "outside your portfolio".
"""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet, Sum

from customers.lookups import IndexablePrefix
from customers.models import (
    Branch,
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
    search_key,
)
from vector_crm.errors import NotFound
from vector_crm.models import Membership, User
from vector_crm.roles import VISIBILITY, Visibility


def visibility_filter(membership: Membership | None, *, prefix: str = "") -> Q:
    """The Q that limits customers (reached through ``prefix``) to what ``membership`` sees.

    ``membership`` None means an API credential: it acts for the whole institution.
    """
    if membership is None:
        return Q()
    scope = VISIBILITY.get(membership.role, Visibility.OWN_PORTFOLIO)
    if scope == Visibility.ALL:
        return Q()
    if scope == Visibility.BRANCH:
        return Q(**{f"{prefix}branch_id": membership.branch_id}) if membership.branch_id else Q(pk__in=[])
    if scope == Visibility.TEAM and membership.team_id:
        team_users = Membership.objects.filter(team_id=membership.team_id, is_active=True).values("user_id")
        return Q(**{f"{prefix}owner_id__in": team_users})
    own = Q(**{f"{prefix}owner_id": membership.user_id})
    if membership.branch_id:
        own |= Q(**{f"{prefix}owner__isnull": True, f"{prefix}branch_id": membership.branch_id})
    return own


def visible_customers(membership: Membership | None) -> QuerySet[Customer]:
    return Customer.objects.filter(visibility_filter(membership))


def customer_list(
    membership: Membership | None,
    *,
    search: str = "",
    branch_id: int | None = None,
    lifecycle_status: str = "",
    owner_id: int | None = None,
    kind: str = "",
) -> QuerySet[Customer]:
    """Customers the member sees, newest first, with branch and owner joined once."""
    queryset = visible_customers(membership).select_related("branch", "owner")
    if branch_id:
        queryset = queryset.filter(branch_id=branch_id)
    if lifecycle_status:
        queryset = queryset.filter(lifecycle_status=lifecycle_status)
    if owner_id:
        queryset = queryset.filter(owner_id=owner_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if search:
        queryset = queryset.filter(search_filter(search))
    return queryset.order_by("-id")


def search_filter(text: str) -> Q:
    """Name prefix (accent-insensitive), identification number or mobile number."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    # Not __startswith: LIKE cannot use the search index under row-level security (lookups.py).
    condition = Q(IndexablePrefix(F("search_name"), search_key(text)))
    if digits and len(digits) >= 4:
        condition |= Q(identification_number__startswith=digits)
        condition |= Q(mobile__endswith=digits[-10:]) if len(digits) >= 7 else Q()
    return condition


def access_customer(membership: Membership | None, customer_id: int) -> Customer:
    """One visible customer, or NotFound (missing, other tenant and out of scope alike)."""
    customer = visible_customers(membership).select_related("branch", "owner").filter(pk=customer_id).first()
    if customer is None:
        raise NotFound()
    return customer


def customer_360(membership: Membership | None, customer_id: int, *, timeline_limit: int = 50) -> dict:
    """Everything the customer 360 page shows, in a fixed number of queries."""
    customer = access_customer(membership, customer_id)
    holdings = list(
        Holding.objects.filter(customer=customer).select_related("product").order_by("product__category", "opened_on")
    )
    timeline = list(
        Interaction.objects.filter(customer=customer)
        .select_related("user")
        .order_by("-occurred_at", "-id")[:timeline_limit]
    )
    consents = list(ChannelConsent.objects.filter(customer=customer).order_by("channel"))
    totals = Holding.objects.filter(customer=customer).aggregate(
        assets=Sum("balance", filter=Q(product__category="asset")),
        liabilities=Sum("balance", filter=Q(product__category="liability")),
        delinquent=Count("id", filter=Q(days_past_due__gt=0)),
    )
    return {
        "customer": customer,
        "holdings": holdings,
        "timeline": timeline,
        "consents": consents,
        "totals": totals,
        "max_days_past_due": max((h.days_past_due for h in holdings), default=0),
    }


def holding_list(membership: Membership | None) -> QuerySet[Holding]:
    return Holding.objects.filter(visibility_filter(membership, prefix="customer__")).select_related(
        "product", "customer"
    )


def access_holding(membership: Membership | None, holding_id: int) -> Holding:
    holding = holding_list(membership).filter(pk=holding_id).first()
    if holding is None:
        raise NotFound()
    return holding


def payment_list(membership: Membership | None) -> QuerySet[Payment]:
    return Payment.objects.filter(visibility_filter(membership, prefix="customer__")).select_related("holding")


def monthly_summary_list(membership: Membership | None) -> QuerySet[MonthlyAccountSummary]:
    return MonthlyAccountSummary.objects.filter(visibility_filter(membership, prefix="customer__"))


def interaction_list(membership: Membership | None) -> QuerySet[Interaction]:
    return Interaction.objects.filter(visibility_filter(membership, prefix="customer__")).select_related("user")


def branch_list() -> QuerySet[Branch]:
    return Branch.objects.all().order_by("name")


def product_list() -> QuerySet[Product]:
    return Product.objects.all().order_by("category", "name")


def access_branch(branch_id: int) -> Branch:
    branch = Branch.objects.filter(pk=branch_id).first()
    if branch is None:
        raise NotFound(field="branch")
    return branch


OPEN_HOLDING_STATUSES = ("active", "dormant", "blocked")


def portfolio_summary(membership: Membership | None, *, owner_id: int | None = None) -> dict:
    """Home-page figures over the customers the member sees (or one owner's portfolio):
    customers per lifecycle status, open balances per product category and currency, and
    delinquency. Three queries whatever the portfolio size."""
    customers = visible_customers(membership)
    holdings = holding_list(membership).filter(status__in=OPEN_HOLDING_STATUSES)
    if owner_id is not None:
        customers = customers.filter(owner_id=owner_id)
        holdings = holdings.filter(customer__owner_id=owner_id)
    by_status = dict(customers.order_by().values_list("lifecycle_status").annotate(total=Count("id")))
    balances = list(
        holdings.order_by()
        .values("product__category", "currency")
        .annotate(total=Sum("balance"), accounts=Count("id"))
        .order_by("product__category", "currency")
    )
    delinquency = holdings.filter(days_past_due__gt=0).aggregate(
        accounts=Count("id"), customers=Count("customer_id", distinct=True)
    )
    return {
        "customers_by_status": by_status,
        "customers_total": sum(by_status.values()),
        "balances": balances,
        "delinquent_accounts": delinquency["accounts"] or 0,
        "delinquent_customers": delinquency["customers"] or 0,
    }


def delinquent_holdings(
    membership: Membership | None, *, owner_id: int | None = None, limit: int = 10
) -> list[Holding]:
    """The visible open accounts with the most days past due, customer and product joined."""
    holdings = holding_list(membership).filter(status__in=OPEN_HOLDING_STATUSES, days_past_due__gt=0)
    if owner_id is not None:
        holdings = holdings.filter(customer__owner_id=owner_id)
    return list(holdings.order_by("-days_past_due", "-id")[:limit])


def latest_interactions(
    membership: Membership | None, *, user_id: int | None = None, limit: int = 10
) -> list[Interaction]:
    """The newest visible timeline entries (optionally one user's), with customer and user."""
    interactions = interaction_list(membership).select_related("customer")
    if user_id is not None:
        interactions = interactions.filter(user_id=user_id)
    return list(interactions.order_by("-occurred_at", "-id")[:limit])


def tenant_members() -> QuerySet[User]:
    """Users with an active membership in the current tenant: who may own a portfolio."""
    return User.objects.filter(pk__in=Membership.objects.filter(is_active=True).values("user_id")).order_by("username")
