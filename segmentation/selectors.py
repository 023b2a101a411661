"""VALOR reads, shared by UI, API and other apps.

Everything reads the latest *succeeded* scoring run of the current tenant
(``latest_run``); a run still writing is invisible. ``customer_tiers`` is the contract
the cases app (SLA policies by tier) and the campaigns app build on, ``key_account_ids``
its companion. Members and portfolios are limited to the customers the member sees
(``customers.selectors.visibility_filter``); ``access_<entity>`` answers the same
``NotFound`` for missing and other-tenant rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Avg,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    IntegerField,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.utils.translation import gettext as _

from customers.models import Customer, Holding
from customers.selectors import visibility_filter
from segmentation import rules
from segmentation.choices import RunStatus, SegmentKind, SurveyAttribute
from segmentation.models import CustomerScore, ScoringRun, Segment, SegmentMembership, SurveyResponse
from vector_crm.errors import DomainError, NotFound
from vector_crm.models import Membership

HISTORY_RUNS = 12
VALUE_BINS = 10


def latest_run() -> ScoringRun | None:
    """The newest succeeded run of the current tenant (None before the first)."""
    return ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-id").first()


def customer_tiers(customer_ids: Iterable[int]) -> dict[int, str]:
    """``{customer_id: tier}`` from the latest succeeded run, for the customers that have one."""
    ids = list(customer_ids)
    run = latest_run()
    if run is None or not ids:
        return {}
    return dict(CustomerScore.objects.filter(run=run, customer_id__in=ids).values_list("customer_id", "tier"))


def key_account_ids(customer_ids: Iterable[int] | None = None) -> set[int]:
    """The key accounts of the latest run (limited to ``customer_ids`` when given)."""
    run = latest_run()
    if run is None:
        return set()
    scores = CustomerScore.objects.filter(run=run, key_account=True)
    if customer_ids is not None:
        scores = scores.filter(customer_id__in=list(customer_ids))
    return set(scores.values_list("customer_id", flat=True))


# --- runs ------------------------------------------------------------------------------------


def run_list() -> QuerySet[ScoringRun]:
    return ScoringRun.objects.select_related("job", "created_by").order_by("-id")


def access_run(run_id: int) -> ScoringRun:
    run = run_list().filter(pk=run_id).first()
    if run is None:
        raise NotFound()
    return run


def active_run() -> ScoringRun | None:
    return ScoringRun.objects.filter(status__in=(RunStatus.QUEUED, RunStatus.RUNNING)).select_related("job").first()


# --- segments --------------------------------------------------------------------------------


def segment_list(run: ScoringRun | None = None) -> QuerySet[Segment]:
    """Rule segments and the learned clusters of ``run`` (default: the latest run)."""
    run = run if run is not None else latest_run()
    learned = Q(kind=SegmentKind.LEARNED, run=run) if run is not None else Q(pk__in=[])
    return Segment.objects.filter(Q(kind=SegmentKind.RULE) | learned).order_by("kind", "cluster_number", "name")


def access_segment(segment_id: int) -> Segment:
    segment = Segment.objects.filter(pk=segment_id).select_related("run").first()
    if segment is None:
        raise NotFound()
    return segment


def segment_scores(segment: Segment, membership: Membership | None = None) -> QuerySet[CustomerScore]:
    """The segment's members as score rows of their run, visible to ``membership``,
    highest priority first. A rule segment saved or changed after the latest run is
    evaluated live against that run's scores."""
    if segment.kind == SegmentKind.LEARNED:
        scores = CustomerScore.objects.filter(run_id=segment.run_id, cluster=segment)
    else:
        run = latest_run()
        if run is None:
            return CustomerScore.objects.none()
        materialised = SegmentMembership.objects.filter(run=run, segment=segment)
        # Materialised by the run unless the rules changed after it (then evaluated live).
        if segment.updated_at <= (run.finished_at or run.created_at):
            members = materialised.values("customer_id")
        else:
            members = rules.rule_queryset(segment.rules, run_id=run.pk, as_of=run.as_of).values("pk")
        scores = CustomerScore.objects.filter(run=run, customer_id__in=members)
    return (
        scores.filter(visibility_filter(membership, prefix="customer__"))
        .select_related("customer", "customer__owner")
        .order_by("-priority", "customer_id")
    )


def rule_count(rule_list: list[dict], *, as_of: dt.date | None = None) -> int:
    """Live count of the customers matching ``rule_list`` (builder preview)."""
    run = latest_run()
    day = as_of or (run.as_of if run else dt.date.today())  # noqa: DTZ011 - a date, no time zone involved
    return rules.rule_queryset(rule_list, run_id=run.pk if run else None, as_of=day).count()


def _histogram(values: list[float], bins: int) -> list[dict]:
    if not values:
        return []
    low, high = min(values), max(values)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for value in values:
        counts[min(bins - 1, int((value - low) / width))] += 1
    return [{"low": low + i * width, "high": low + (i + 1) * width, "count": c} for i, c in enumerate(counts)]


def segment_summary(segment: Segment, membership: Membership | None = None) -> dict:
    """Profile summary and chart data of a segment (aggregates; a sample for the histogram)."""
    scores = segment_scores(segment, membership).order_by()
    totals = scores.aggregate(
        members=Count("id"),
        value=Sum("current_value"),
        potential=Sum("potential_value"),
        gap=Sum("gap"),
        age=Avg("age"),
        balance=Avg("average_balance"),
        products=Avg("products"),
        key_accounts=Count("id", filter=Q(key_account=True)),
    )
    tiers = dict(scores.values_list("tier").annotate(n=Count("id")).values_list("tier", "n"))
    values = [float(v) for v in scores.order_by("customer_id").values_list("current_value", flat=True)[:20_000]]
    products = list(
        Holding.objects.filter(customer_id__in=scores.values("customer_id"), status__in=rules.OPEN_HOLDING_STATUSES)
        .values("product__family")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    return {
        "totals": totals,
        "tiers": [{"tier": t, "count": tiers.get(t, 0)} for t in ("A", "B", "C")],
        "histogram": _histogram(values, VALUE_BINS),
        "products": products,
    }


def performance_matrix(segment: Segment, membership: Membership | None = None) -> list[dict]:
    """Per attribute: mean importance and satisfaction of the segment's members' answers
    (last 12 months before the run's date)."""
    scores = segment_scores(segment, membership).order_by()
    run = segment.run if segment.kind == SegmentKind.LEARNED else latest_run()
    if run is None:
        return []
    since = run.as_of - dt.timedelta(days=365)
    rows = (
        SurveyResponse.objects.filter(customer_id__in=scores.values("customer_id"), responded_on__gte=since)
        .values("attribute")
        .annotate(importance=Avg("importance"), satisfaction=Avg("satisfaction"), answers=Count("id"))
    )
    labels = dict(SurveyAttribute.choices)
    order = {value: i for i, value in enumerate(SurveyAttribute.values)}
    result = [
        {
            "attribute": row["attribute"],
            "label": labels.get(row["attribute"], row["attribute"]),
            "importance": round(float(row["importance"]), 2),
            "satisfaction": round(float(row["satisfaction"]), 2),
            "answers": row["answers"],
        }
        for row in rows
    ]
    return sorted(result, key=lambda r: order.get(r["attribute"], 99))


# --- customers and portfolios ----------------------------------------------------------------


def score_list(membership: Membership | None, run: ScoringRun | None = None) -> QuerySet[CustomerScore]:
    """Scores of ``run`` (default: latest) for the customers ``membership`` sees."""
    run = run if run is not None else latest_run()
    if run is None:
        return CustomerScore.objects.none()
    return (
        CustomerScore.objects.filter(run=run)
        .filter(visibility_filter(membership, prefix="customer__"))
        .select_related("customer", "cluster")
    )


def visible_scores(membership: Membership | None) -> QuerySet[CustomerScore]:
    """Scores of every run for the customers ``membership`` sees."""
    return CustomerScore.objects.filter(visibility_filter(membership, prefix="customer__"))


def portfolio(membership: Membership | None, *, owner_id: int | None = None) -> QuerySet[CustomerScore]:
    """The member's visible customers ranked by priority (an advisor: their portfolio)."""
    scores = score_list(membership)
    if owner_id:
        scores = scores.filter(customer__owner_id=owner_id)
    return scores.order_by("-priority", "customer_id")


def customer_value(customer_id: int) -> dict | None:
    """What the 360 panel shows; None before the customer's first score."""
    run = latest_run()
    if run is None:
        return None
    score = CustomerScore.objects.filter(run=run, customer_id=customer_id).select_related("cluster").first()
    if score is None:
        return None
    segments = list(Segment.objects.filter(memberships__run=run, memberships__customer_id=customer_id).order_by("name"))
    recent_runs = list(
        ScoringRun.objects.filter(status=RunStatus.SUCCEEDED)
        .order_by("-id")
        .values_list("pk", flat=True)[:HISTORY_RUNS]
    )
    history = list(
        CustomerScore.objects.filter(run_id__in=recent_runs, customer_id=customer_id)
        .select_related("run")
        .order_by("-run_id")
    )
    return {"score": score, "run": run, "segments": segments, "history": history}


# --- value migration between runs ------------------------------------------------------------

MIGRATION_TOP = 10
# "" in a tier position: the customer is not in that run (new to the book, or gone from it).
MIGRATION_FROM = ("A", "B", "C", "")
MIGRATION_TO = ("A", "B", "C", "")
_CENT = Decimal("0.01")


def finished_runs() -> QuerySet[ScoringRun]:
    """The tenant's succeeded runs, newest first (the ones a migration can compare)."""
    return ScoringRun.objects.filter(status=RunStatus.SUCCEEDED).order_by("-id")


def _finished_run(run_id: Any, field: str) -> ScoringRun:
    run = None
    if run_id not in (None, "") and str(run_id).isdigit() and len(str(run_id)) <= 18:
        run = finished_runs().filter(pk=int(run_id)).first()
    if run is None:
        raise DomainError(_("«%(field)s» no es un cálculo terminado de esta entidad.") % {"field": field}, field=field)
    return run


def migration_runs(
    after_id: Any = None, before_id: Any = None, *, after_field: str = "to", before_field: str = "from"
) -> tuple[ScoringRun, ScoringRun] | None:
    """``(before, after)``: the runs a migration report compares.

    ``after_id`` defaults to the latest succeeded run, ``before_id`` to the succeeded run
    preceding ``after``. None when nothing was named and the tenant has fewer than two
    succeeded runs. A named id that is not a succeeded run of the tenant, the same run
    twice, or a named ``after`` with no earlier run is a ``DomainError`` naming the field
    (``after_field`` / ``before_field``).
    """
    if after_id in (None, ""):
        after = latest_run()
        if after is None:
            return None
    else:
        after = _finished_run(after_id, after_field)
    if before_id in (None, ""):
        before = finished_runs().filter(pk__lt=after.pk).first()
        if before is None:
            if after_id in (None, ""):
                return None
            raise DomainError(_("No hay un cálculo terminado anterior con el cual comparar."), field=before_field)
    else:
        before = _finished_run(before_id, before_field)
    if before.pk == after.pk:
        raise DomainError(_("Elija dos cálculos distintos."), field=before_field)
    return before, after


def _per_customer(before: ScoringRun, after: ScoringRun, membership: Membership | None) -> QuerySet:
    """One row per customer scored by either run (and visible to ``membership``): its tier,
    value and key-account flag in each run ("" / 0 where the run does not have it)."""
    money = DecimalField(max_digits=18, decimal_places=2)

    def in_run(run: ScoringRun, then, default):
        return Case(When(run_id=run.pk, then=then), default=default)

    return (
        CustomerScore.objects.filter(run_id__in=(before.pk, after.pk))
        .filter(visibility_filter(membership, prefix="customer__"))
        .order_by()
        .values("customer_id")
        .annotate(
            from_tier=Max(in_run(before, F("tier"), Value(""))),
            to_tier=Max(in_run(after, F("tier"), Value(""))),
            value_before=Sum(in_run(before, F("current_value"), Value(Decimal(0))), output_field=money),
            value_after=Sum(in_run(after, F("current_value"), Value(Decimal(0))), output_field=money),
            key_before=Max(
                Case(When(run_id=before.pk, key_account=True, then=Value(1)), default=Value(0)),
                output_field=IntegerField(),
            ),
            key_after=Max(
                Case(When(run_id=after.pk, key_account=True, then=Value(1)), default=Value(0)),
                output_field=IntegerField(),
            ),
        )
        .annotate(change=ExpressionWrapper(F("value_after") - F("value_before"), output_field=money))
    )


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0)).quantize(_CENT)


def _matrix(per_customer: QuerySet) -> list[dict]:
    """The migration cells, from one aggregate query over the per-customer rows."""
    inner, params = per_customer.values(
        "customer_id", "from_tier", "to_tier", "value_before", "value_after", "key_before", "key_after"
    ).query.sql_with_params()
    sql = f"""
        SELECT t.from_tier, t.to_tier, COUNT(*), SUM(t.value_before), SUM(t.value_after),
               SUM(CASE WHEN t.key_before = 0 AND t.key_after = 1 THEN 1 ELSE 0 END),
               SUM(CASE WHEN t.key_before = 1 AND t.key_after = 0 THEN 1 ELSE 0 END)
        FROM ({inner}) t
        GROUP BY t.from_tier, t.to_tier
    """  # noqa: S608 - the inner query is the ORM's own SQL, its values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    cells = []
    for from_tier, to_tier, customers, before, after, entered, left in rows:
        value_before, value_after = _money(before), _money(after)
        cells.append(
            {
                "from_tier": from_tier or "",
                "to_tier": to_tier or "",
                "customers": int(customers),
                "value_before": value_before,
                "value_after": value_after,
                "change": value_after - value_before,
                "key_entered": int(entered or 0),
                "key_left": int(left or 0),
            }
        )
    order = {tier: i for i, tier in enumerate(MIGRATION_FROM)}
    return sorted(cells, key=lambda c: (order[c["from_tier"]], order[c["to_tier"]]))


def _movers(rows: QuerySet, limit: int) -> list[dict]:
    """``rows`` (per-customer rows, already filtered and ordered) with their customers."""
    picked = list(rows.values("customer_id", "from_tier", "to_tier", "value_before", "value_after", "change")[:limit])
    names = Customer.objects.in_bulk([row["customer_id"] for row in picked])
    return [
        {
            **row,
            "customer": names.get(row["customer_id"]),
            "value_before": _money(row["value_before"]),
            "value_after": _money(row["value_after"]),
            "change": _money(row["change"]),
        }
        for row in picked
    ]


def value_migration(
    before: ScoringRun, after: ScoringRun, membership: Membership | None, *, top: int = MIGRATION_TOP
) -> dict:
    """How the customers ``membership`` sees moved from run ``before`` to run ``after``.

    * ``cells``: the tier migration matrix, one entry per (from tier, to tier) pair that
      has customers ("" = not scored by that run: new to the book / gone from it), with
      the customers, their summed current value in each run and the change; computed by
      one aggregate query.
    * ``totals``: the same sums over every cell.
    * ``key_accounts``: how many entered and left key-account status, and the first
      ``top`` of each (by value in the run where they are key accounts).
    * ``gains`` / ``losses``: the ``top`` customers whose value rose / fell the most.

    Customers outside ``membership``'s visibility are left out of every figure.
    """
    per_customer = _per_customer(before, after, membership)
    cells = _matrix(per_customer)
    totals = {
        "customers": sum(c["customers"] for c in cells),
        "value_before": sum((c["value_before"] for c in cells), Decimal("0.00")),
        "value_after": sum((c["value_after"] for c in cells), Decimal("0.00")),
        "key_entered": sum(c["key_entered"] for c in cells),
        "key_left": sum(c["key_left"] for c in cells),
    }
    totals["change"] = totals["value_after"] - totals["value_before"]
    return {
        "before": before,
        "after": after,
        "cells": cells,
        "totals": totals,
        "gains": _movers(per_customer.filter(change__gt=0).order_by("-change", "customer_id"), top),
        "losses": _movers(per_customer.filter(change__lt=0).order_by("change", "customer_id"), top),
        "key_accounts_entered": _movers(
            per_customer.filter(key_before=0, key_after=1).order_by("-value_after", "customer_id"),
            top,
        ),
        "key_accounts_left": _movers(
            per_customer.filter(key_before=1, key_after=0).order_by("-value_before", "customer_id"),
            top,
        ),
    }
