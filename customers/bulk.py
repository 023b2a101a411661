"""Bulk upsert of core-banking feeds: customers, holdings, monthly summaries and payments.

Records arrive already field-validated (``customers.api.bulk``) as ``(index, data)`` pairs,
keyed by the bank's own ids. Each service here checks the cross-record and referential
rules, loads the existing rows of the batch in one query per key, and writes set-based
(``bulk_create`` + ``bulk_update`` in batches) inside one transaction. A rejected record
is reported by index, field and code; with ``atomic`` one rejected record writes nothing.
Bulk writes skip the per-row audit log: one ``Job`` row records the counts instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import identification
from customers.bulk_records import validate_all
from customers.choices import CustomerKind
from customers.models import Customer, Holding, MonthlyAccountSummary, Payment, Product, search_key
from vector_crm.errors import PermissionDeniedError
from vector_crm.models import Job, JobStatus, Membership
from vector_crm.tenancy import require_tenant_id

MAX_RECORDS = 10_000
BATCH_SIZE = 1_000


@dataclass(frozen=True)
class BulkError:
    """Why one record of the batch was not applied."""

    index: int
    field: str | None
    code: str
    message: str


@dataclass
class BulkResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[BulkError] = field(default_factory=list)
    applied: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": [
                {"index": e.index, "field": e.field, "code": e.code, "message": e.message}
                for e in sorted(self.rejected, key=lambda e: e.index)
            ],
        }


Record = tuple[int, dict[str, Any]]


def _require_all(membership: Membership | None, *capabilities: str) -> None:
    """API credentials (membership None) were already checked against their scopes."""
    if membership is not None and not all(membership.has(c) for c in capabilities):
        raise PermissionDeniedError()


def _dedupe(records: Iterable[Record], key: Callable[[dict], Any], field_name: str, rejected: list[BulkError]):
    """Keep the first record of each key; later ones are rejected as duplicates."""
    seen: set = set()
    kept: list[Record] = []
    for index, data in records:
        k = key(data)
        if k in seen:
            rejected.append(BulkError(index, field_name, "duplicate", _("The batch repeats this key.")))
            continue
        seen.add(k)
        kept.append((index, data))
    return kept


def _apply(
    *,
    model: type[Model],
    rows: list[tuple[int, Any, dict[str, Any]]],
    existing: dict[Any, Model],
    result: BulkResult,
    touch: str | None = None,
) -> None:
    """Create the rows whose key is new, update those whose values changed, count the rest."""
    tenant_id = require_tenant_id()
    to_create: list[Model] = []
    to_update: list[Model] = []
    changed_fields: set[str] = set()
    now = timezone.now()
    for _index, key, values in rows:
        instance = existing.get(key)
        if instance is None:
            to_create.append(model(tenant_id=tenant_id, **values))
            continue
        changed = {name for name, value in values.items() if getattr(instance, name) != value}
        if not changed:
            result.unchanged += 1
            continue
        for name in changed:
            setattr(instance, name, values[name])
        if touch:
            setattr(instance, touch, now)
            changed.add(touch)
        changed_fields |= changed
        to_update.append(instance)
    if not result.applied:
        return
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=BATCH_SIZE)
    result.created += len(to_create)
    result.updated += len(to_update)


def _finish(*, kind: str, actor, total: int, result: BulkResult) -> BulkResult:
    """Record the batch as one finished Job (bulk writes bypass the per-row audit log)."""
    counts = {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "rejected": len(result.rejected),
    }
    now = timezone.now()
    Job.objects.create(
        kind=kind,
        status=JobStatus.SUCCEEDED if result.applied else JobStatus.FAILED,
        total=total,
        done=total,
        counts=counts,
        created_by=actor,
        started_at=now,
        finished_at=now,
    )
    return result


def _customer_values(data: dict[str, Any]) -> dict[str, Any]:
    values = dict(data)
    values["identification_number"] = identification.normalize(
        values["identification_type"], values["identification_number"]
    )
    if "mobile" in values and not values["mobile"]:
        values["mobile"] = ""
    kind = values.get("kind", CustomerKind.PERSON)
    if kind == CustomerKind.COMPANY:
        name = values.get("legal_name", "")
    else:
        name = f"{values.get('first_name', '')} {values.get('last_name', '')}".strip()
    values["search_name"] = search_key(name)[:200]
    return values


def _customer_problem(values: dict[str, Any]) -> tuple[str, str, str] | None:
    reason = identification.problem(values["identification_type"], values["identification_number"])
    if reason:
        return "identification_number", "invalid-identification", _(reason)
    if values.get("kind", CustomerKind.PERSON) == CustomerKind.COMPANY:
        if not values.get("legal_name"):
            return "legal_name", "required", _("A company needs its legal name.")
    elif not (values.get("first_name") and values.get("last_name")):
        name = "first_name" if not values.get("first_name") else "last_name"
        return name, "required", _("A person needs first and last names.")
    return None


@transaction.atomic
def customers_bulk_upsert(
    *,
    actor=None,
    membership: Membership | None = None,
    records: list[Record],
    rejected: list[BulkError],
    atomic: bool,
    total: int,
) -> BulkResult:
    """Create or update customers keyed by ``external_id``; identification stays unique."""
    _require_all(membership, "customers.create", "customers.change")
    result = BulkResult(rejected=list(rejected))
    records = _dedupe(records, lambda d: d["external_id"], "external_id", result.rejected)
    candidates: list[tuple[int, dict[str, Any]]] = []
    for index, data in records:
        values = _customer_values(data)
        problem = _customer_problem(values)
        if problem:
            result.rejected.append(BulkError(index, *problem))
        else:
            candidates.append((index, values))
    candidates = _dedupe(
        candidates,
        lambda v: (v["identification_type"], v["identification_number"]),
        "identification_number",
        result.rejected,
    )
    external_ids = [v["external_id"] for _i, v in candidates]
    numbers = {v["identification_number"] for _i, v in candidates}
    by_external: dict[str, Customer] = {}
    by_identification: dict[tuple[str, str], str] = {}
    for customer in Customer.objects.filter(external_id__in=external_ids) | Customer.objects.filter(
        identification_number__in=numbers
    ):
        if customer.external_id:
            by_external[customer.external_id] = customer
        by_identification[(customer.identification_type, customer.identification_number)] = customer.external_id
    rows = []
    for index, values in candidates:
        holder = by_identification.get((values["identification_type"], values["identification_number"]))
        if holder is not None and holder != values["external_id"]:
            result.rejected.append(
                BulkError(
                    index,
                    "identification_number",
                    "unique",
                    _("Another customer already has this identification."),
                )
            )
            continue
        rows.append((index, values["external_id"], values))
    result.applied = not (atomic and result.rejected)
    _apply(model=Customer, rows=rows, existing=by_external, result=result, touch="updated_at")
    return _finish(kind="bulk.customers", actor=actor, total=total, result=result)


@transaction.atomic
def holdings_bulk_upsert(
    *,
    actor=None,
    membership: Membership | None = None,
    records: list[Record],
    rejected: list[BulkError],
    atomic: bool,
    total: int,
) -> BulkResult:
    """Create or update accounts keyed by ``account_number``; the customer is named by its
    ``external_id`` and the product by its code, both of this tenant."""
    _require_all(membership, "holdings.change")
    result = BulkResult(rejected=list(rejected))
    records = _dedupe(records, lambda d: d["account_number"], "account_number", result.rejected)
    customers = dict(
        Customer.objects.filter(external_id__in={d["customer_external_id"] for _i, d in records}).values_list(
            "external_id", "pk"
        )
    )
    products = dict(Product.objects.filter(code__in={d["product_code"] for _i, d in records}).values_list("code", "pk"))
    existing = {
        h.account_number: h
        for h in Holding.objects.filter(account_number__in=[d["account_number"] for _i, d in records])
    }
    rows = []
    for index, data in records:
        values = dict(data)
        customer_id = customers.get(values.pop("customer_external_id"))
        product_id = products.get(values.pop("product_code"))
        if customer_id is None:
            result.rejected.append(
                BulkError(index, "customer_external_id", "does_not_exist", _("No customer has this external id."))
            )
            continue
        if product_id is None:
            result.rejected.append(BulkError(index, "product_code", "does_not_exist", _("No product has this code.")))
            continue
        current = existing.get(values["account_number"])
        if current is not None and current.customer_id != customer_id:
            result.rejected.append(
                BulkError(index, "customer_external_id", "immutable", _("The account belongs to another customer."))
            )
            continue
        if values.get("maturity_date") and values["maturity_date"] < values["opened_on"]:
            result.rejected.append(
                BulkError(index, "maturity_date", "invalid", _("Maturity cannot precede the opening date."))
            )
            continue
        values["customer_id"] = customer_id
        values["product_id"] = product_id
        rows.append((index, values["account_number"], values))
    result.applied = not (atomic and result.rejected)
    _apply(model=Holding, rows=rows, existing=existing, result=result, touch="updated_at")
    return _finish(kind="bulk.holdings", actor=actor, total=total, result=result)


def _holding_rows(records: list[Record], result: BulkResult) -> list[tuple[int, dict[str, Any], Any]]:
    """Resolve each record's ``account_number`` to its holding (one query); unknown ones are rejected."""
    holdings = {
        number: (pk, customer_id)
        for number, pk, customer_id in Holding.objects.filter(
            account_number__in={d["account_number"] for _i, d in records}
        ).values_list("account_number", "pk", "customer_id")
    }
    resolved = []
    for index, data in records:
        values = dict(data)
        found = holdings.get(values.pop("account_number"))
        if found is None:
            result.rejected.append(
                BulkError(index, "account_number", "does_not_exist", _("No account has this number."))
            )
            continue
        values["holding_id"], values["customer_id"] = found
        resolved.append((index, values, found[0]))
    return resolved


@transaction.atomic
def monthly_summaries_bulk_upsert(
    *,
    actor=None,
    membership: Membership | None = None,
    records: list[Record],
    rejected: list[BulkError],
    atomic: bool,
    total: int,
) -> BulkResult:
    """Create or replace account-months keyed by ``account_number`` and ``month``."""
    _require_all(membership, "holdings.change")
    result = BulkResult(rejected=list(rejected))
    records = _dedupe(records, lambda d: (d["account_number"], d["month"]), "month", result.rejected)
    valid = []
    for index, data in records:
        if data["month"].day != 1:
            result.rejected.append(BulkError(index, "month", "invalid", _("Use the first day of the month.")))
        else:
            valid.append((index, data))
    resolved = _holding_rows(valid, result)
    existing = {
        (s.holding_id, s.month): s
        for s in MonthlyAccountSummary.objects.filter(
            holding_id__in={h for _i, _v, h in resolved}, month__in={v["month"] for _i, v, _h in resolved}
        )
    }
    rows = [(index, (holding_id, values["month"]), values) for index, values, holding_id in resolved]
    result.applied = not (atomic and result.rejected)
    _apply(model=MonthlyAccountSummary, rows=rows, existing=existing, result=result)
    return _finish(kind="bulk.monthly_summaries", actor=actor, total=total, result=result)


@transaction.atomic
def payments_bulk_upsert(
    *,
    actor=None,
    membership: Membership | None = None,
    records: list[Record],
    rejected: list[BulkError],
    atomic: bool,
    total: int,
) -> BulkResult:
    """Create or update instalments keyed by ``account_number`` and ``due_date``."""
    _require_all(membership, "payments.change")
    result = BulkResult(rejected=list(rejected))
    records = _dedupe(records, lambda d: (d["account_number"], d["due_date"]), "due_date", result.rejected)
    resolved = _holding_rows(records, result)
    existing: dict[tuple[int, dt.date], Payment] = {}
    for payment in Payment.objects.filter(
        holding_id__in={h for _i, _v, h in resolved}, due_date__in={v["due_date"] for _i, v, _h in resolved}
    ).order_by("pk"):
        existing.setdefault((payment.holding_id, payment.due_date), payment)
    rows = [(index, (holding_id, values["due_date"]), values) for index, values, holding_id in resolved]
    result.applied = not (atomic and result.rejected)
    _apply(model=Payment, rows=rows, existing=existing, result=result)
    return _finish(kind="bulk.payments", actor=actor, total=total, result=result)


# --- the resource registry: one entry point for the API and the file import ----------------

SERVICES: dict[str, Callable[..., BulkResult]] = {
    "customers": customers_bulk_upsert,
    "holdings": holdings_bulk_upsert,
    "monthly_summaries": monthly_summaries_bulk_upsert,
    "payments": payments_bulk_upsert,
}


def validate_records(
    resource: str, raw: Iterable[dict[str, Any]], *, region: str | None = None
) -> tuple[list[Record], list[BulkError]]:
    """Field-validate ``raw`` records of ``resource`` (one of ``SERVICES``), numbered from 0.

    Values may be JSON types or their canonical strings (ISO dates, ``.`` decimals), as a
    parsed file gives them. Returns the valid ``(index, python-typed data)`` pairs and one
    ``BulkError`` per rejected record (its first bad field). National phone numbers are
    read in ``region`` (the tenant's country); phone numbers come back as E.164 strings.
    The field specs and their DRF twins are in ``customers.bulk_records``."""
    records, invalid = validate_all(resource, raw, region=region)
    return records, [BulkError(*error) for error in invalid]


def upsert_records(resource: str, **kwargs: Any) -> BulkResult:
    """Apply validated records of ``resource``: ``SERVICES[resource](**kwargs)``."""
    return SERVICES[resource](**kwargs)
