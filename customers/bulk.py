"""Bulk upsert of core-banking feeds: customers, holdings, monthly summaries and payments.

Records arrive field-validated (``validate_records``, specs in ``customers.bulk_records``)
as ``(index, data)`` pairs keyed by the bank's own ids. Each service checks the
cross-record and referential rules with one query per key, then writes set-based inside
one transaction: on PostgreSQL COPY into a stage table, then a plain ``INSERT`` of the new
keys and ``INSERT ... ON CONFLICT DO UPDATE ... WHERE IS DISTINCT FROM`` of the changed
rows (``customers.bulk_pg``), elsewhere ``bulk_create`` +
``bulk_update``. A rejected record is reported by index, field and code; with ``atomic``
one rejected record writes nothing. Bulk writes skip the per-row audit log: one ``Job``
row records the counts instead; customer events are written set-based
(``vector_crm.outbox.bulk_event_emit``). Only API credentials with the write scope and
members who see the whole institution may bulk-write (the feed ignores portfolios).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from customers import bulk_pg, identification
from customers.bulk_records import register_fields, validate_all
from customers.choices import CustomerKind
from customers.models import Customer, Holding, MonthlyAccountSummary, Payment, Product, search_key
from vector_crm.db import apply_session_settings
from vector_crm.errors import PermissionDeniedError
from vector_crm.models import Job, JobStatus, Membership
from vector_crm.outbox import bulk_event_emit, subscribed_event_types
from vector_crm.roles import VISIBILITY, Visibility
from vector_crm.tenancy import require_tenant_id

MAX_RECORDS = 10_000
BATCH_SIZE = 1_000
IDENTIFICATION_ATTEMPTS = 2


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
Row = tuple[int, dict[str, Any]]  # (record index, column values by attname)


def require_bulk_writer(membership: Membership | None, *capabilities: str) -> None:
    """Bulk writes ignore the advisor visibility rules, so a person needs the capabilities
    *and* a role that sees the whole institution. API credentials (membership None) were
    already checked against their write scopes."""
    if membership is None:
        return
    if not all(membership.has(c) for c in capabilities) or VISIBILITY.get(membership.role) != Visibility.ALL:
        raise PermissionDeniedError(_("Bulk upserts need a role that sees the whole institution."))


def dedupe(records: Iterable[Record], key: Callable[[dict], Any], field_name: str, rejected: list[BulkError]):
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


@dataclass(frozen=True)
class Target:
    """Where a resource's rows go: the model, its natural key (attnames, after ``tenant_id``)
    and the timestamp an update touches."""

    model: type[Model]
    key: tuple[str, ...]
    touch: str | None = None
    conflict_where: str = ""  # the predicate of a partial unique index on the key

    def key_of(self, values: dict[str, Any]) -> tuple:
        return tuple(values[name] for name in self.key)


def use_copy() -> bool:
    """COPY + INSERT ... ON CONFLICT on PostgreSQL; the ORM elsewhere (SQLite)."""
    return connection.vendor == "postgresql"


def write(target: Target, rows: list[Row], result: BulkResult, *, returning: Sequence[str] = ()) -> list[tuple]:
    """Upsert ``rows`` and count them into ``result``; returns ``(created, *returning)`` of
    each written (created or changed) row. Writes nothing when the result is not applied."""
    if not result.applied or not rows:
        return []
    written = _write_copy(target, rows, returning) if use_copy() else _write_orm(target, rows, returning)
    created = sum(1 for row in written if row[0])
    result.created += created
    result.updated += len(written) - created
    result.unchanged += len(rows) - len(written)
    return written


def _write_copy(target: Target, rows: list[Row], returning: Sequence[str]) -> list[tuple]:
    """One COPY + upsert per set of named columns (a feed usually names the same ones)."""
    tenant_id = require_tenant_id()
    defaults = bulk_pg.default_row(target.model, tenant_id=tenant_id, now=timezone.now())
    attnames = [f.attname for f in bulk_pg.columns_of(target.model)]
    stage = bulk_pg.Stage(target.model)
    groups: dict[frozenset, list[Row]] = {}
    for row in rows:
        groups.setdefault(frozenset(row[1]), []).append(row)
    written: list[tuple] = []
    connection.ensure_connection()
    # The raw cursor (COPY) bypasses Django's wrappers: map driver errors to django.db's.
    with connection.wrap_database_errors, connection.connection.cursor() as cursor:
        apply_session_settings(cursor, connection)
        for named, group in groups.items():
            columns = [
                [values[a] for _i, values in group] if a in named else bulk_pg.Constant(defaults[a]) for a in attnames
            ]
            stage.load(cursor, stage.batch([[index for index, _v in group], *columns], len(group)))
            compare = [target.model._meta.get_field(a).column for a in attnames if a in named and a not in target.key]
            written += stage.upsert(
                cursor,
                conflict=["tenant_id", *(target.model._meta.get_field(a).column for a in target.key)],
                conflict_where=target.conflict_where,
                compare=compare,
                touch=target.touch,
                returning=returning,
            )
    return written


def _write_orm(target: Target, rows: list[Row], returning: Sequence[str]) -> list[tuple]:
    """Load the batch's existing rows (one query), then ``bulk_create`` + ``bulk_update``."""
    model = target.model
    tenant_id = require_tenant_id()
    lookup = {f"{name}__in": {values[name] for _i, values in rows} for name in target.key}
    existing = {tuple(getattr(obj, name) for name in target.key): obj for obj in model.objects.filter(**lookup)}
    to_create: list[Model] = []
    to_update: list[Model] = []
    changed_fields: set[str] = set()
    now = timezone.now()
    for _index, values in rows:
        instance = existing.get(target.key_of(values))
        if instance is None:
            to_create.append(model(tenant_id=tenant_id, **values))
            continue
        changed = {name for name, value in values.items() if getattr(instance, name) != value}
        if not changed:
            continue
        for name in changed:
            setattr(instance, name, values[name])
        if target.touch:
            setattr(instance, target.touch, now)
            changed.add(target.touch)
        changed_fields |= changed
        to_update.append(instance)
    model.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    if to_update:
        model.objects.bulk_update(to_update, sorted(changed_fields), batch_size=BATCH_SIZE)
    return [
        (created, *(getattr(obj, name) for name in returning))
        for created, objs in ((True, to_create), (False, to_update))
        for obj in objs
    ]


def finish(*, kind: str, actor, total: int, result: BulkResult) -> BulkResult:
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


# --- customers -------------------------------------------------------------------------------

CUSTOMERS = Target(Customer, key=("external_id",), touch="updated_at", conflict_where="external_id <> ''")
# The event payload: what ``vector_crm.outbox.model_payload`` puts in single-customer events.
EVENT_FIELDS = [f for f in Customer._meta.concrete_fields if f.editable and f.name != "tenant" and not f.primary_key]


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


def _identification_holders(candidates: list[Record]) -> dict[tuple[str, str], str]:
    """``(type, number) -> external_id`` of the existing customers holding the batch's
    identifications (one query, joined on the unique index's columns)."""
    if not candidates:
        return {}
    if use_copy():
        types = [v["identification_type"] for _i, v in candidates]
        numbers = [v["identification_number"] for _i, v in candidates]
        with connection.cursor() as cursor:
            # One probe of the unique index per record (LATERAL + LIMIT 1: see bulk_pg.Stage.probe).
            # The tenant comes as a column, not a constant: with a constant the planner reads
            # that one tenant's statistics (none yet for a new tenant, or a stale handful) and
            # may probe a smaller tenant-leading index, filtering all its rows per record.
            cursor.execute(
                "SELECT b.kind, b.number, c.external_id "
                "FROM unnest(%s::bigint[], %s::text[], %s::text[]) AS b(tenant, kind, number) "
                "CROSS JOIN LATERAL (SELECT external_id FROM customers_customer WHERE tenant_id = b.tenant "
                "AND identification_type = b.kind AND identification_number = b.number LIMIT 1) c",
                [[require_tenant_id()] * len(types), types, numbers],
            )
            return {(kind, number): external_id for kind, number, external_id in cursor.fetchall()}
    numbers = {v["identification_number"] for _i, v in candidates}
    return {
        (kind, number): external_id
        for kind, number, external_id in Customer.objects.filter(identification_number__in=numbers).values_list(
            "identification_type", "identification_number", "external_id"
        )
    }


def customer_events(written: list[tuple], sent: list[str], subscribed: set[str] | None = None) -> None:
    """``customer.created`` / ``customer.updated`` for every written row of an upsert that
    returned ``(created, id, *EVENT_FIELDS)``, set-based; ``changed`` lists the ``sent``
    fields on updates. Shared by the bulk API and the file import."""
    names = [f.name for f in EVENT_FIELDS]
    events = []
    for created, pk, *values in written:
        payload = {"id": pk, **dict(zip(names, values, strict=True))}
        if not created:
            payload["changed"] = sent
        events.append(("customer.created" if created else "customer.updated", payload))
    bulk_event_emit(events=events, aggregate_type=Customer._meta.label_lower, subscribed=subscribed)


def _without_identification_clashes(candidates: list[Record], result: BulkResult) -> list[Row]:
    """The candidates whose identification no other customer holds; the rest are rejected."""
    holders = _identification_holders(candidates)
    rows: list[Row] = []
    for index, values in candidates:
        holder = holders.get((values["identification_type"], values["identification_number"]))
        if holder is not None and holder != values["external_id"]:
            result.rejected.append(
                BulkError(
                    index, "identification_number", "unique", _("Another customer already has this identification.")
                )
            )
            continue
        rows.append((index, values))
    return rows


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
    """Create or update customers keyed by ``external_id``; identification stays unique.

    Emits ``customer.created`` / ``customer.updated`` for the rows written (none for
    unchanged ones), when an active webhook endpoint subscribes to them."""
    require_bulk_writer(membership, "customers.create", "customers.change")
    result = BulkResult(rejected=list(rejected))
    records = dedupe(records, lambda d: d["external_id"], "external_id", result.rejected)
    candidates: list[Record] = []
    for index, data in records:
        values = _customer_values(data)
        problem = _customer_problem(values)
        if problem:
            result.rejected.append(BulkError(index, *problem))
        else:
            candidates.append((index, values))
    candidates = dedupe(
        candidates,
        lambda v: (v["identification_type"], v["identification_number"]),
        "identification_number",
        result.rejected,
    )
    wanted = subscribed_event_types() & {"customer.created", "customer.updated"}
    returning = ["id", *(f.attname for f in EVENT_FIELDS)] if wanted else []
    checked = list(result.rejected)
    for attempt in range(IDENTIFICATION_ATTEMPTS):
        result.rejected = list(checked)
        rows = _without_identification_clashes(candidates, result)
        result.applied = not (atomic and result.rejected)
        try:
            with transaction.atomic():  # a savepoint: a clash with a concurrent batch rolls back only this
                written = write(CUSTOMERS, rows, result, returning=returning)
            break
        except IntegrityError as exc:
            # Another transaction committed a customer with one of these identifications
            # after our check: look again (it is visible now) and report it per record.
            if attempt + 1 == IDENTIFICATION_ATTEMPTS or "identification" not in str(exc):
                raise
    if written and returning:
        sent = sorted({name for _i, values in rows for name in values} - {"search_name"})
        customer_events(written, sent, wanted)
    return finish(kind="bulk.customers", actor=actor, total=total, result=result)


# --- accounts --------------------------------------------------------------------------------

HOLDINGS = Target(Holding, key=("account_number",), touch="updated_at")


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
    require_bulk_writer(membership, "holdings.change")
    result = BulkResult(rejected=list(rejected))
    records = dedupe(records, lambda d: d["account_number"], "account_number", result.rejected)
    customers = dict(
        Customer.objects.filter(external_id__in={d["customer_external_id"] for _i, d in records}).values_list(
            "external_id", "pk"
        )
    )
    products = dict(Product.objects.filter(code__in={d["product_code"] for _i, d in records}).values_list("code", "pk"))
    owners = dict(
        Holding.objects.filter(account_number__in=[d["account_number"] for _i, d in records]).values_list(
            "account_number", "customer_id"
        )
    )
    rows: list[Row] = []
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
        owner = owners.get(values["account_number"])
        if owner is not None and owner != customer_id:
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
        rows.append((index, values))
    result.applied = not (atomic and result.rejected)
    write(HOLDINGS, rows, result)
    return finish(kind="bulk.holdings", actor=actor, total=total, result=result)


def _holding_rows(records: list[Record], result: BulkResult) -> list[Row]:
    """Resolve each record's ``account_number`` to its holding and customer (one query);
    unknown accounts are rejected."""
    holdings = {
        number: (pk, customer_id)
        for number, pk, customer_id in Holding.objects.filter(
            account_number__in={d["account_number"] for _i, d in records}
        ).values_list("account_number", "pk", "customer_id")
    }
    resolved: list[Row] = []
    for index, data in records:
        values = dict(data)
        found = holdings.get(values.pop("account_number"))
        if found is None:
            result.rejected.append(
                BulkError(index, "account_number", "does_not_exist", _("No account has this number."))
            )
            continue
        values["holding_id"], values["customer_id"] = found
        resolved.append((index, values))
    return resolved


def _account_dated_upsert(
    *,
    target: Target,
    date_field: str,
    kind: str,
    capability: str,
    check: Callable[[dict[str, Any]], tuple[str, str, str] | None] | None = None,
    actor,
    membership: Membership | None,
    records: list[Record],
    rejected: list[BulkError],
    atomic: bool,
    total: int,
) -> BulkResult:
    """The shared shape of monthly summaries and payments: rows keyed by an account and a date."""
    require_bulk_writer(membership, capability)
    result = BulkResult(rejected=list(rejected))
    records = dedupe(records, lambda d: (d["account_number"], d[date_field]), date_field, result.rejected)
    valid: list[Record] = []
    for index, data in records:
        problem = check(data) if check else None
        if problem:
            result.rejected.append(BulkError(index, *problem))
        else:
            valid.append((index, data))
    rows = _holding_rows(valid, result)
    result.applied = not (atomic and result.rejected)
    write(target, rows, result)
    return finish(kind=kind, actor=actor, total=total, result=result)


SUMMARIES = Target(MonthlyAccountSummary, key=("holding_id", "month"))
PAYMENTS = Target(Payment, key=("holding_id", "due_date"))


def _first_of_month(data: dict[str, Any]) -> tuple[str, str, str] | None:
    if data["month"].day != 1:
        return "month", "invalid", _("Use the first day of the month.")
    return None


def _account_dated_service(name: str, doc: str, **config: Any) -> Callable[..., BulkResult]:
    """A service with the shared body above (``records``, ``rejected``, ``atomic``, ``total``
    as for customers)."""

    @transaction.atomic
    def service(*, actor=None, membership: Membership | None = None, **batch: Any) -> BulkResult:
        return _account_dated_upsert(**config, actor=actor, membership=membership, **batch)

    service.__name__ = service.__qualname__ = name
    service.__doc__ = doc
    return service


monthly_summaries_bulk_upsert = _account_dated_service(
    "monthly_summaries_bulk_upsert",
    "Create or replace account-months keyed by ``account_number`` and ``month``.",
    target=SUMMARIES,
    date_field="month",
    kind="bulk.monthly_summaries",
    capability="holdings.change",
    check=_first_of_month,
)
payments_bulk_upsert = _account_dated_service(
    "payments_bulk_upsert",
    "Create or update instalments keyed by ``account_number`` and ``due_date``.",
    target=PAYMENTS,
    date_field="due_date",
    kind="bulk.payments",
    capability="payments.change",
)


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


def register_resource(
    resource: str, *, service: Callable[..., BulkResult], fields: dict[str, Any], serializer_name: str, doc: str
) -> None:
    """Make another app's resource a bulk resource (API and file import alike): ``fields``
    are its ``customers.bulk_records`` specs, ``service`` writes validated records with the
    helpers here (``require_bulk_writer``, ``dedupe``, ``write`` on a ``Target``, ``finish``)."""
    SERVICES[resource] = service
    register_fields(resource, fields, serializer_name=serializer_name, doc=doc)


def upsert_records(resource: str, **kwargs: Any) -> BulkResult:
    """Apply validated records of ``resource``: ``SERVICES[resource](**kwargs)``."""
    return SERVICES[resource](**kwargs)
