"""Every write to the shared customer model: one function per business action.

Services are keyword-only, run in one transaction, check permission and invariants
(``full_clean``), and leave an audit entry through django-auditlog (the actor comes from
the request, or is None for system jobs). Views, API, admin, imports and jobs call these.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connections, transaction
from django.db.models import Exists, OuterRef
from django.db.models.constraints import UniqueConstraint
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.choices import FAMILY_CATEGORY, LifecycleStatus
from customers.models import (
    Branch,
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
)
from customers.selectors import visibility_filter
from vector_crm.audit import audited
from vector_crm.errors import DomainError, ErrorCode, NotFound, PermissionDeniedError
from vector_crm.models import Membership
from vector_crm.outbox import event_emit, model_payload
from vector_crm.tenancy import require_tenant_id

CUSTOMER_EDITABLE_FIELDS = frozenset(
    {
        "kind",
        "identification_type",
        "identification_number",
        "external_id",
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
        "branch",
        "preferred_channel",
    }
)


def _require(membership: Membership | None, capability: str) -> None:
    """API credentials (membership None) were already checked against their scopes."""
    if membership is not None and not membership.has(capability):
        raise PermissionDeniedError()


def _check_same_tenant(obj, field: str) -> None:
    """A referenced row must belong to the current tenant (the scoped lookup proves it)."""
    if obj is None:
        return
    if not type(obj).objects.filter(pk=obj.pk).exists():
        raise DomainError("Unknown reference.", code=ErrorCode.CROSS_TENANT_REFERENCE, field=field)


def _check_owner(owner, field: str = "owner") -> None:
    if owner is None:
        return
    if not Membership.objects.filter(user=owner, is_active=True).exists():
        raise DomainError(
            "The owner is not a member of this institution.", code=ErrorCode.INVALID_ASSIGNMENT, field=field
        )


def _check_unique_constraints(instance) -> None:
    """Name the field of a per-tenant unique constraint the instance would break.

    Django reports a multi-field unique constraint as a non-field error; the tenant is never
    the user's input, so the error goes to the constraint's last field instead.
    """
    for constraint in instance._meta.constraints:
        if not isinstance(constraint, UniqueConstraint) or not constraint.fields:
            continue
        try:
            constraint.validate(type(instance), instance)
        except ValidationError:
            field = constraint.fields[-1]
            if constraint.name == "customer_unique_identification":
                message, code = _("A customer with this identification already exists."), "duplicate-identification"
            else:
                label = instance._meta.get_field(field).verbose_name
                message, code = _("This %(field)s is already in use.") % {"field": label}, "unique"
            raise ValidationError({field: ValidationError(message, code=code)}) from None


def _validate_and_save(instance, **save_kwargs) -> None:
    instance.full_clean(validate_unique=True, validate_constraints=False)
    _check_unique_constraints(instance)
    instance.validate_constraints()
    instance.save(**save_kwargs)


@audited
def customer_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> Customer:
    """Create a customer; identification is validated and unique per tenant."""
    _require(membership, "customers.create")
    unknown = set(data) - CUSTOMER_EDITABLE_FIELDS - {"consents"}
    if unknown:
        raise DomainError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    consents = data.pop("consents", None) or []
    customer = Customer(**data)
    _check_same_tenant(customer.branch, "branch")
    _check_owner(customer.owner)
    if membership is not None and customer.owner is None and membership.role == "advisor":
        customer.owner = actor
        customer.branch = customer.branch or membership.branch
    _validate_and_save(customer)
    for consent in consents:
        channel_consent_set(actor=actor, customer=customer, **consent)
    event_emit(type="customer.created", payload=model_payload(customer), aggregate=customer)
    return customer


@audited
def customer_update(
    *, actor=None, membership: Membership | None = None, customer: Customer, data: dict[str, Any]
) -> Customer:
    """Change a customer's fields; the audit entry records each before/after."""
    _require(membership, "customers.change")
    unknown = set(data) - CUSTOMER_EDITABLE_FIELDS
    if unknown:
        raise DomainError(f"Unknown field {sorted(unknown)[0]}.", field=sorted(unknown)[0])
    if "owner" in data or "branch" in data:
        _require(membership, "customers.reassign")
    for field, value in data.items():
        setattr(customer, field, value)
    _check_same_tenant(customer.branch, "branch")
    if "owner" in data:
        _check_owner(customer.owner)
    if customer.lifecycle_status == LifecycleStatus.CHURNED and not customer.churned_at:
        customer.churned_at = timezone.localdate()
    if customer.lifecycle_status != LifecycleStatus.CHURNED:
        customer.churn_reason = ""
        customer.churned_at = None
    _validate_and_save(customer)
    event_emit(type="customer.updated", payload=model_payload(customer, changed=sorted(data)), aggregate=customer)
    return customer


@audited
def customer_delete(*, actor=None, membership: Membership | None = None, customer: Customer) -> None:
    _require(membership, "customers.delete")
    if Holding.objects.filter(customer=customer).exists():
        raise DomainError("A customer with accounts cannot be deleted; mark them churned instead.", field="holdings")
    customer.delete()


@audited
def portfolio_reassign(
    *,
    actor=None,
    membership: Membership | None = None,
    customer_ids: list[int] | None = None,
    from_owner=None,
    to_owner,
    branch: Branch | None = None,
) -> int:
    """Move customers (given ids, or all of ``from_owner``'s visible portfolio) to
    ``to_owner``. Each moved customer gets an audit entry with the old and new owner.
    Returns how many moved. Only customers the acting member can see are touched."""
    _require(membership, "customers.reassign")
    _check_owner(to_owner, "to_owner")
    if customer_ids is None and from_owner is None:
        raise DomainError("Say which customers to move.", field="customer_ids")
    queryset = Customer.objects.filter(visibility_filter(membership)).select_for_update()
    if customer_ids is not None:
        queryset = queryset.filter(pk__in=customer_ids)
    if from_owner is not None:
        queryset = queryset.filter(owner=from_owner)
    customers = list(queryset.order_by("pk"))
    if customer_ids is not None and len(customers) != len(set(customer_ids)):
        raise NotFound("Some customers were not found.", field="customer_ids")
    if branch is not None:
        _check_same_tenant(branch, "branch")
    moved = 0
    # One audited save per customer: portfolio moves are tens to hundreds of rows, and each
    # needs its own before/after entry for the trail.
    for customer in customers:
        if customer.owner_id == to_owner.pk and (branch is None or customer.branch_id == branch.pk):
            continue
        customer.owner = to_owner
        if branch is not None:
            customer.branch = branch
        customer.save(update_fields=["owner", "branch"])
        moved += 1
    return moved


@audited
def channel_consent_set(
    *, actor=None, customer: Customer, channel: str, opted_in: bool, source: str, recorded_at: dt.datetime | None = None
) -> ChannelConsent:
    """Record the customer's current permission for one channel (latest wins)."""
    consent = ChannelConsent.objects.filter(customer=customer, channel=channel).first()
    consent = consent or ChannelConsent(customer=customer, channel=channel)
    consent.opted_in = opted_in
    consent.source = source
    consent.recorded_at = recorded_at or timezone.now()
    _validate_and_save(consent)
    return consent


@audited
def branch_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> Branch:
    _require(membership, "catalogue.manage")
    branch = Branch(**data)
    _validate_and_save(branch)
    return branch


@audited
def branch_update(*, actor=None, membership: Membership | None = None, branch: Branch, data: dict[str, Any]) -> Branch:
    _require(membership, "catalogue.manage")
    for field, value in data.items():
        setattr(branch, field, value)
    _validate_and_save(branch)
    return branch


@audited
def branch_delete(*, actor=None, membership: Membership | None = None, branch: Branch) -> None:
    """Delete a branch that no customer belongs to (deactivate it otherwise)."""
    _require(membership, "catalogue.manage")
    if Customer.objects.filter(branch=branch).exists():
        raise DomainError(_("A branch with customers cannot be deleted; deactivate it instead."), field="customers")
    branch.delete()


@audited
def product_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> Product:
    _require(membership, "catalogue.manage")
    product = Product(**data)
    product.category = FAMILY_CATEGORY.get(product.family, product.category)
    _validate_and_save(product)
    return product


@audited
def product_update(
    *, actor=None, membership: Membership | None = None, product: Product, data: dict[str, Any]
) -> Product:
    _require(membership, "catalogue.manage")
    for field, value in data.items():
        setattr(product, field, value)
    product.category = FAMILY_CATEGORY.get(product.family, product.category)
    _validate_and_save(product)
    return product


@audited
def product_delete(*, actor=None, membership: Membership | None = None, product: Product) -> None:
    """Delete a catalogue entry no account uses (deactivate it otherwise)."""
    _require(membership, "catalogue.manage")
    if Holding.objects.filter(product=product).exists():
        raise DomainError(_("A product with accounts cannot be deleted; deactivate it instead."), field="holdings")
    product.delete()


@audited
def holding_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> Holding:
    _require(membership, "holdings.change")
    holding = Holding(**data)
    _check_same_tenant(holding.customer, "customer")
    _check_same_tenant(holding.product, "product")
    _validate_and_save(holding)
    return holding


@audited
def holding_update(
    *, actor=None, membership: Membership | None = None, holding: Holding, data: dict[str, Any]
) -> Holding:
    _require(membership, "holdings.change")
    for field, value in data.items():
        setattr(holding, field, value)
    if "product" in data:
        _check_same_tenant(holding.product, "product")
    _validate_and_save(holding)
    return holding


@audited
def holding_delete(*, actor=None, membership: Membership | None = None, holding: Holding) -> None:
    """Delete an account recorded by mistake; one with payment history is closed instead."""
    _require(membership, "holdings.change")
    if Payment.objects.filter(holding=holding).exists():
        raise DomainError(_("An account with payments cannot be deleted; close it instead."), field="payments")
    holding.delete()


@audited
def monthly_summary_record(
    *, actor=None, membership: Membership | None = None, data: dict[str, Any]
) -> MonthlyAccountSummary:
    """Create or replace one account-month (keyed by holding and month)."""
    _require(membership, "holdings.change")
    holding = data["holding"]
    _check_same_tenant(holding, "holding")
    summary = MonthlyAccountSummary.objects.filter(holding=holding, month=data["month"]).first()
    summary = summary or MonthlyAccountSummary(holding=holding, customer_id=holding.customer_id, month=data["month"])
    for field, value in data.items():
        setattr(summary, field, value)
    summary.customer_id = holding.customer_id
    _validate_and_save(summary)
    return summary


@audited
def payment_record(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> Payment:
    _require(membership, "payments.change")
    holding = data["holding"]
    _check_same_tenant(holding, "holding")
    payment = Payment(customer_id=holding.customer_id, **data)
    _validate_and_save(payment)
    return payment


@audited
def payment_update(
    *, actor=None, membership: Membership | None = None, payment: Payment, data: dict[str, Any]
) -> Payment:
    _require(membership, "payments.change")
    for field, value in data.items():
        setattr(payment, field, value)
    _validate_and_save(payment)
    return payment


@audited
def payment_delete(*, actor=None, membership: Membership | None = None, payment: Payment) -> None:
    """Remove an instalment recorded by mistake."""
    _require(membership, "payments.change")
    payment.delete()


@audited
def interaction_log(
    *, actor=None, membership: Membership | None = None, customer: Customer, data: dict[str, Any]
) -> Interaction:
    """Append a touchpoint to the customer's timeline."""
    _require(membership, "interactions.create")
    interaction = Interaction(customer=customer, user=data.pop("user", actor), **data)
    if interaction.occurred_at is None:
        interaction.occurred_at = timezone.now()
    _validate_and_save(interaction)
    return interaction


@audited
def interaction_update(
    *, actor=None, membership: Membership | None = None, interaction: Interaction, data: dict[str, Any]
) -> Interaction:
    _require(membership, "interactions.change")
    for field, value in data.items():
        setattr(interaction, field, value)
    _validate_and_save(interaction)
    return interaction


@audited
def interaction_delete(*, actor=None, membership: Membership | None = None, interaction: Interaction) -> None:
    _require(membership, "interactions.delete")
    interaction.delete()


# Days past due with payments applied to the oldest instalments first, as banks do: the
# money received by ``as_of`` covers instalments in due-date order, and the oldest
# instalment due before ``as_of`` that it does not fully cover gives the days past due.
# Set-based: window sums per holding in one statement per chunk, on PostgreSQL and SQLite.
_REFRESH_DAYS_PAST_DUE_SQL = """
UPDATE customers_holding
SET days_past_due = target.days_past_due, updated_at = %(now)s
FROM (
    WITH paid AS {materialized}(
        SELECT holding_id, SUM(amount_paid) AS paid
        FROM customers_payment
        WHERE tenant_id = %(tenant_id)s AND customer_id IN ({customers})
          AND paid_on IS NOT NULL AND paid_on <= %(as_of)s
        GROUP BY holding_id
    ),
    dues AS {materialized}(
        SELECT holding_id, due_date,
               SUM(amount_due) OVER (PARTITION BY holding_id ORDER BY due_date, id) AS cumulative_due
        FROM customers_payment
        WHERE tenant_id = %(tenant_id)s AND customer_id IN ({customers}) AND due_date < %(as_of)s
    ),
    oldest_unpaid AS {materialized}(
        SELECT dues.holding_id, MIN(dues.due_date) AS due_date
        FROM dues LEFT JOIN paid ON paid.holding_id = dues.holding_id
        WHERE dues.cumulative_due - COALESCE(paid.paid, 0) > 0.005
        GROUP BY dues.holding_id
    )
    SELECT h.id, COALESCE({days_since_oldest}, 0) AS days_past_due
    FROM customers_holding h LEFT JOIN oldest_unpaid ON oldest_unpaid.holding_id = h.id
    WHERE h.tenant_id = %(tenant_id)s AND h.customer_id IN ({customers})
) AS target
WHERE customers_holding.id = target.id AND customers_holding.days_past_due <> target.days_past_due
"""
# PostgreSQL may inline the CTEs into a per-row nested loop when table statistics are
# stale (after a bulk load: 300 customers took 193 s); materialising them keeps the
# aggregation to one pass per chunk whatever the statistics say.
_MATERIALIZED = {"postgresql": "MATERIALIZED ", "sqlite": ""}
_DAYS_SINCE_OLDEST = {
    "postgresql": "(CAST(%(as_of)s AS date) - oldest_unpaid.due_date)",
    "sqlite": "CAST(julianday(%(as_of)s) - julianday(oldest_unpaid.due_date) AS INTEGER)",
}


def holdings_refresh_delinquency(*, as_of: dt.date, customer_ids: Sequence[int]) -> dict[str, int]:
    """Recompute, in bulk UPDATE statements, the days past due of the given customers'
    holdings and move those customers between active and delinquent, as of ``as_of``.

    Payments received by ``as_of`` are applied to the holding's instalments oldest first;
    the days past due count from the oldest instalment due before ``as_of`` that they do not
    fully cover (0 when everything due is paid; a payment dated after ``as_of`` does not
    count yet). An active customer with any holding past due becomes delinquent; a
    delinquent one with none becomes active again. Prospects, dormant, churned and
    written-off customers keep their status. Current tenant only; running it twice changes
    nothing the second time. Bulk work is audited at the job level (the Job row).

    Returns ``holdings_updated``, ``customers_delinquent`` (newly) and ``customers_cured``.
    """
    customer_ids = [int(pk) for pk in customer_ids]
    if not customer_ids:
        return {"holdings_updated": 0, "customers_delinquent": 0, "customers_cured": 0}
    connection = connections[Holding.objects.db]
    if connection.vendor not in _DAYS_SINCE_OLDEST:
        raise NotImplementedError(f"holdings_refresh_delinquency: no SQL for {connection.vendor}")
    now = timezone.now()
    params: dict[str, Any] = {
        "tenant_id": require_tenant_id(),
        "as_of": as_of.isoformat(),
        "now": connection.ops.adapt_datetimefield_value(now),
        **{f"c{i}": pk for i, pk in enumerate(customer_ids)},
    }
    sql = _REFRESH_DAYS_PAST_DUE_SQL.format(
        customers=", ".join(f"%(c{i})s" for i in range(len(customer_ids))),
        days_since_oldest=_DAYS_SINCE_OLDEST[connection.vendor],
        materialized=_MATERIALIZED[connection.vendor],
    )
    past_due_holding = Holding.objects.filter(customer_id=OuterRef("pk"), days_past_due__gt=0)
    customers = Customer.objects.filter(pk__in=customer_ids)
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            holdings_updated = cursor.rowcount
        became_delinquent = customers.filter(Exists(past_due_holding), lifecycle_status=LifecycleStatus.ACTIVE).update(
            lifecycle_status=LifecycleStatus.DELINQUENT, updated_at=now
        )
        cured = customers.filter(~Exists(past_due_holding), lifecycle_status=LifecycleStatus.DELINQUENT).update(
            lifecycle_status=LifecycleStatus.ACTIVE, updated_at=now
        )
    return {"holdings_updated": holdings_updated, "customers_delinquent": became_delinquent, "customers_cured": cured}
