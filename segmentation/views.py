"""Browser UI of VALOR: overview, segment builder with a live count, segment detail with
charts and the performance quadrant, the portfolio ranked by priority, scoring runs and the
value migration between two runs.

Reads go through ``selectors`` (tenant, visibility), writes through ``services``.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers.choices import ProductFamily
from segmentation import charts, rules, selectors, services
from segmentation.descriptions import describe_traits
from vector_crm.errors import DomainError
from vector_crm.views import member_required

BUILDER_ROWS = 4
MEMBERS_SHOWN = 50
PORTFOLIO_SHOWN = 100
MIGRATION_RUNS_LISTED = 50


def _segment_rows(segments) -> list[dict]:
    rows = []
    for segment in segments:
        if segment.kind == "learned":
            summary = describe_traits(segment.traits)
        else:
            summary = "; ".join(rules.describe_rule(rule) for rule in segment.rules)
        rows.append({"segment": segment, "summary": summary})
    return rows


@member_required("segments.view")
@require_GET
def index(request):
    """Overview: the latest run, the active one, and every segment."""
    run = selectors.latest_run()
    context = {
        "run": run,
        "active": selectors.active_run(),
        "segments": _segment_rows(selectors.segment_list(run)),
        "tier_bars": charts.bars([(t, run.result.get("tiers", {}).get(t, 0)) for t in "ABC"]) if run else [],
        "can_run": request.membership.has("scoring.run"),
        "can_manage": request.membership.has("segments.manage"),
    }
    return render(request, "segmentation/index.html", context)


def _posted_rules(post) -> list[dict]:
    """The builder's rows (field, op, value) that have a field; ``in`` values are comma lists."""
    result = []
    for name, op, value in zip(
        post.getlist("rule_field"), post.getlist("rule_op"), post.getlist("rule_value"), strict=False
    ):
        if not name:
            continue
        value = value.strip()
        result.append(
            {"field": name, "op": op, "value": [v.strip() for v in value.split(",")] if op == "in" else value}
        )
    return result


def _builder_context(request, *, posted_rules=None, error=None) -> dict:
    posted_rules = posted_rules or []
    rows = posted_rules + [{"field": "", "op": "eq", "value": ""}] * max(0, BUILDER_ROWS - len(posted_rules))
    for row in rows:
        if isinstance(row["value"], list):
            row["value"] = ", ".join(str(v) for v in row["value"])
    return {
        "fields": [(name, spec.label, spec.ops, spec.choices) for name, spec in rules.FIELDS.items()],
        "ops": rules.OP_LABELS,
        "rows": rows,
        "error": error,
        "name": request.POST.get("name", ""),
        "description": request.POST.get("description", ""),
        "families": ProductFamily.choices,
    }


@member_required("segments.manage")
@require_http_methods(["GET", "POST"])
def segment_new(request):
    """The rule builder; saving creates the segment through ``services.segment_create``."""
    if request.method == "POST":
        posted = _posted_rules(request.POST)
        try:
            segment = services.segment_create(
                actor=request.user,
                membership=request.membership,
                data={
                    "name": request.POST.get("name", ""),
                    "description": request.POST.get("description", ""),
                    "rules": posted,
                },
            )
        except DomainError as error:
            context = _builder_context(request, posted_rules=posted, error=error)
            return render(request, "segmentation/segment_builder.html", context, status=422)
        messages.success(request, _("Segmento guardado."))
        return redirect("segmentation:segment_detail", segment.pk)
    return render(request, "segmentation/segment_builder.html", _builder_context(request))


@member_required("segments.view")
@require_POST
def segment_preview(request):
    """htmx: how many customers the builder's rules select right now."""
    try:
        count = selectors.rule_count(rules.clean_rules(_posted_rules(request.POST)))
        error = None
    except DomainError as exc:
        count, error = None, exc
    return render(request, "segmentation/partials/preview_count.html", {"count": count, "error": error})


@member_required("segments.view")
@require_GET
def segment_detail(request, pk: int):
    """Profile summary, charts, performance quadrant and the top members of one segment."""
    segment = selectors.access_segment(pk)
    summary = selectors.segment_summary(segment, request.membership)
    family_labels = dict(ProductFamily.choices)
    matrix = selectors.performance_matrix(segment, request.membership)
    context = {
        "segment": segment,
        "description": _segment_rows([segment])[0]["summary"],
        "summary": summary,
        "value_bars": charts.bars([(f"{b['low']:,.0f}", b["count"]) for b in summary["histogram"]]),
        "tier_bars": charts.bars([(t["tier"], t["count"]) for t in summary["tiers"]]),
        "product_bars": charts.bars(
            [(str(family_labels.get(p["product__family"], p["product__family"])), p["n"]) for p in summary["products"]]
        ),
        "matrix": matrix,
        "quadrant": charts.quadrant(matrix),
        "members": list(selectors.segment_scores(segment, request.membership)[:MEMBERS_SHOWN]),
        "chart": {"width": charts.WIDTH, "height": charts.HEIGHT, "pad": charts.PAD},
    }
    return render(request, "segmentation/segment_detail.html", context)


@member_required("segments.view")
@require_GET
def portfolio(request):
    """The member's customers ranked by priority (an advisor: their own portfolio)."""
    owner_id = request.user.pk if request.membership.role == "advisor" else None
    scores = list(selectors.portfolio(request.membership, owner_id=owner_id)[:PORTFOLIO_SHOWN])
    return render(request, "segmentation/portfolio.html", {"scores": scores, "run": selectors.latest_run()})


@member_required("segments.view")
@require_GET
def run_list(request):
    runs = list(selectors.run_list()[:50])
    return render(
        request, "segmentation/run_list.html", {"runs": runs, "can_run": request.membership.has("scoring.run")}
    )


@member_required("segments.view")
@require_POST
def run_start(request):
    """Start a scoring run now (refused while one is queued or running)."""
    if not request.membership.has("scoring.run"):
        raise PermissionDenied
    try:
        services.scoring_run_start(actor=request.user, membership=request.membership)
        messages.success(request, _("Cálculo de valor en cola."))
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("segmentation:run_list")


# Keys of the migration matrix's rows and columns ("" in the selector: not in that run).
_MIGRATION_ROW_KEYS = {"A": "A", "B": "B", "C": "C", "": "new"}
_MIGRATION_COL_KEYS = {"A": "A", "B": "B", "C": "C", "": "gone"}


def _migration_grid(cells: list[dict]) -> dict:
    """The matrix as rows (from tier) x columns (to tier), with row and column totals."""
    by_pair = {(c["from_tier"], c["to_tier"]): c for c in cells}

    def total(group: list[dict]) -> dict:
        return {
            "customers": sum(c["customers"] for c in group),
            "value_before": sum((c["value_before"] for c in group), Decimal("0.00")),
            "value_after": sum((c["value_after"] for c in group), Decimal("0.00")),
            "change": sum((c["change"] for c in group), Decimal("0.00")),
        }

    rows = []
    for from_tier, row_key in _MIGRATION_ROW_KEYS.items():
        group = [by_pair[(from_tier, t)] for t in _MIGRATION_COL_KEYS if (from_tier, t) in by_pair]
        row_cells = [
            {"key": f"{row_key}-{col_key}", "cell": by_pair.get((from_tier, to_tier))}
            for to_tier, col_key in _MIGRATION_COL_KEYS.items()
        ]
        rows.append({"tier": from_tier, "key": row_key, "cells": row_cells, "total": total(group)})
    columns = [
        {"tier": to_tier, "key": col_key, "total": total([c for c in cells if c["to_tier"] == to_tier])}
        for to_tier, col_key in _MIGRATION_COL_KEYS.items()
    ]
    return {"rows": rows, "columns": columns}


@member_required("segments.view")
@require_GET
def migration(request):
    """Value migration between two succeeded runs (default: the latest two) for the
    customers the member sees: tier matrix, key accounts in and out, biggest movers."""
    runs = list(selectors.finished_runs()[:MIGRATION_RUNS_LISTED])
    context: dict = {"runs": runs, "report": None, "error": None, "top": selectors.MIGRATION_TOP}
    status = 200
    try:
        pair = selectors.migration_runs(request.GET.get("to"), request.GET.get("from"))
    except DomainError as error:
        context["error"], pair, status = error, None, 400
    if pair is not None:
        report = selectors.value_migration(*pair, request.membership)
        context["report"] = report
        context["grid"] = _migration_grid(report["cells"])
    return render(request, "segmentation/migration.html", context, status=status)
