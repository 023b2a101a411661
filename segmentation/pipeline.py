"""One scoring run end to end: read (``features``), compute (``scoring``), write back.

Write-back is set-based: the snapshot rows go out in chunks of ``WRITE_CHUNK`` (CSV COPY
into a staging table and one ``INSERT ... SELECT`` on PostgreSQL, which keeps the
row-level-security check; ``bulk_create`` elsewhere), and rule segments are materialised
with one ``INSERT ... SELECT`` each. Each chunk commits on its own so memory and lock
time stay bounded; the run is published only when its status turns ``succeeded``, and a
run that is executed again (a redelivered job after a crash) first deletes whatever an
earlier attempt wrote, so exactly one consistent snapshot exists per run.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import asdict
from decimal import Decimal

import numpy as np
import pandas as pd
from django.db import connection, transaction
from django.utils import timezone

from customers.models import Customer
from segmentation import features, rules, scoring
from segmentation.choices import RunStatus, SegmentKind
from segmentation.models import CustomerScore, ScoringRun, Segment, SegmentMembership
from vector_crm.db import apply_session_settings
from vector_crm.tenancy import require_tenant_id

WRITE_CHUNK = 250_000
_STRING = np.dtypes.StringDType()
Progress = Callable[[str, int], None]


def clear_snapshot(run: ScoringRun) -> None:
    """Delete everything ``run`` wrote (a failed or repeated attempt)."""
    SegmentMembership.objects.filter(run=run).delete()
    CustomerScore.objects.filter(run=run).delete()
    Segment.objects.filter(run=run, kind=SegmentKind.LEARNED).delete()


SCORE_COLUMNS = (
    "tenant_id",
    "run_id",
    "customer_id",
    "current_value",
    "potential_value",
    "gap",
    "priority",
    "tier",
    "key_account",
    "cluster_id",
    "peer_group",
    "age",
    "average_balance",
    "products",
)
MONEY_COLUMNS = ("current_value", "potential_value", "gap", "priority", "average_balance")


def _score_rows(scores: pd.DataFrame, run: ScoringRun, segment_ids: dict[int, int]) -> pd.DataFrame:
    """The snapshot rows of ``scores`` as database columns (money as exact cent strings)."""
    clusters = pd.Series(segment_ids, dtype="Int64")
    age = scores["age"].to_numpy(dtype=float)
    rows = pd.DataFrame(
        {
            "tenant_id": run.tenant_id,
            "run_id": run.pk,
            "customer_id": scores["customer_id"].to_numpy(dtype=np.int64),
            **{name: scores[name].to_numpy(dtype=float) for name in MONEY_COLUMNS},
            "tier": scores["tier"].to_numpy(dtype=object),
            "key_account": scores["key_account"].to_numpy(dtype=bool),
            "cluster_id": clusters.reindex(scores["cluster_number"].to_numpy()).to_numpy(),
            "peer_group": scores["peer_group"].to_numpy(dtype=object),
            "age": pd.array(np.where(np.isnan(age), np.nan, np.clip(np.nan_to_num(age), 0, 150)), dtype="Int64"),
            "products": np.clip(scores["products"].to_numpy(dtype=np.int64), 0, 32767),
        },
        columns=list(SCORE_COLUMNS),
    )
    for name in MONEY_COLUMNS:
        rows[name] = money_text(rows[name].to_numpy(dtype=float))
    return rows


def money_text(values: np.ndarray) -> np.ndarray:
    """Amounts as exact two-decimal strings, vectorised (``-12.5`` -> ``"-12.50"``)."""
    cents = np.round(values * 100).astype(np.int64)
    magnitude = np.abs(cents)
    text = np.strings.add(np.where(cents < 0, "-", "").astype(_STRING), (magnitude // 100).astype(_STRING))
    text = np.strings.add(np.strings.add(text, "."), np.strings.zfill((magnitude % 100).astype(_STRING), 2))
    return text.astype(object)


def _copy_rows(rows: pd.DataFrame) -> None:
    """PostgreSQL: COPY the rows (CSV) into a temporary table the app role owns, then
    ``INSERT ... SELECT`` them (COPY FROM refuses tables under row-level security; the
    INSERT is checked by the policy). Ids come from the table's own default."""
    quote = connection.ops.quote_name
    target = quote(CustomerScore._meta.db_table)
    columns = ", ".join(quote(c) for c in SCORE_COLUMNS)
    buffer = io.StringIO()
    rows.to_csv(buffer, index=False, header=False)
    buffer.seek(0)
    connection.ensure_connection()
    with connection.connection.cursor() as cursor:
        apply_session_settings(cursor, connection)
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS valor_score_stage AS SELECT {columns} FROM {target} WITH NO DATA"  # noqa: S608
        )
        cursor.copy_expert(f"COPY valor_score_stage ({columns}) FROM STDIN WITH (FORMAT csv)", buffer, size=1 << 20)
        # The snapshot's foreign keys carry no database constraint (see ``CustomerScore``):
        # the join keeps only customers the tenant still has, in one set-based step.
        staged = ", ".join(f"s.{quote(c)}" for c in SCORE_COLUMNS)
        cursor.execute(
            f"INSERT INTO {target} ({columns}) SELECT {staged} FROM valor_score_stage s "  # noqa: S608
            f"JOIN {quote(Customer._meta.db_table)} c ON c.id = s.customer_id AND c.tenant_id = s.tenant_id"
        )
        cursor.execute("TRUNCATE valor_score_stage")


def _create_rows(rows: pd.DataFrame) -> None:
    """Any database: ``bulk_create`` (SQLite in development and tests), for the customers
    the tenant still has, like the PostgreSQL path's join."""
    existing = set(Customer.objects.filter(pk__in=rows["customer_id"].tolist()).values_list("pk", flat=True))
    rows = rows[rows["customer_id"].isin(existing)]
    money = set(MONEY_COLUMNS)
    objects = [
        CustomerScore(**{k: (None if v is pd.NA else Decimal(v) if k in money else v) for k, v in record.items()})
        for record in rows.to_dict(orient="records")
    ]
    CustomerScore.objects.bulk_create(objects, batch_size=2000)


def write_scores(
    scores: pd.DataFrame, run: ScoringRun, segment_ids: dict[int, int], progress: Progress | None = None
) -> None:
    """The snapshot rows, ``WRITE_CHUNK`` at a time (each chunk its own transaction)."""
    write = _copy_rows if connection.vendor == "postgresql" else _create_rows
    for start in range(0, len(scores), WRITE_CHUNK):
        part = scores.iloc[start : start + WRITE_CHUNK]
        with transaction.atomic():
            write(_score_rows(part, run, segment_ids))
        if progress:
            progress("write", start + len(part))


def create_clusters(run: ScoringRun, clustering: scoring.Clustering) -> dict[int, int]:
    """The run's learned segments; returns cluster number -> segment id."""
    segments = [
        Segment(
            tenant_id=run.tenant_id,
            kind=SegmentKind.LEARNED,
            name=f"Clúster {number}",
            run=run,
            cluster_number=number,
            traits=clustering.traits.get(number, []),
            size=clustering.sizes.get(number, 0),
        )
        for number in sorted(clustering.sizes)
    ]
    Segment.objects.bulk_create(segments)
    if any(s.pk is None for s in segments):  # backends that do not return ids
        by_number = dict(Segment.objects.filter(run=run).values_list("cluster_number", "pk"))
        return {int(k): v for k, v in by_number.items()}
    return {s.cluster_number: s.pk for s in segments}


def materialise_rule_segments(run: ScoringRun) -> dict[int, int]:
    """Every active rule segment's members as of ``run``; returns segment id -> size."""
    sizes = {}
    table = connection.ops.quote_name(SegmentMembership._meta.db_table)
    for segment in Segment.objects.filter(kind=SegmentKind.RULE, is_active=True).order_by("pk"):
        members = (
            rules.rule_queryset(segment.rules, run_id=run.pk, as_of=run.as_of).order_by().values_list("pk", flat=True)
        )
        select_sql, params = members.query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (tenant_id, run_id, segment_id, customer_id) "  # noqa: S608
                f"SELECT %s, %s, %s, member.* FROM ({select_sql}) AS member",
                [run.tenant_id, run.pk, segment.pk, *params],
            )
            sizes[segment.pk] = cursor.rowcount
            Segment.objects.filter(pk=segment.pk).update(size=cursor.rowcount)
    return sizes


def _result(scores: pd.DataFrame, clustering: scoring.Clustering, seconds: dict[str, float], rule_sizes) -> dict:
    tiers = scores["tier"].value_counts()
    return {
        "customers": len(scores),
        "tiers": {tier: int(tiers.get(tier, 0)) for tier in ("A", "B", "C")},
        "key_accounts": int(scores["key_account"].sum()),
        "current_value": round(float(scores["current_value"].sum()), 2),
        "potential_value": round(float(scores["potential_value"].sum()), 2),
        "gap": round(float(scores["gap"].sum()), 2),
        "clusters": {str(k): v for k, v in clustering.sizes.items()},
        "rule_segments": {str(k): v for k, v in rule_sizes.items()},
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


def execute(run: ScoringRun, params: scoring.ScoringParams, progress: Progress | None = None) -> dict:
    """Score the current tenant's portfolio into ``run``'s snapshot; returns the result dict.

    Leaves ``run``'s status to the caller (``services.scoring_run_execute``)."""
    require_tenant_id()
    seconds: dict[str, float] = {}
    started = time.perf_counter()
    clear_snapshot(run)
    frame = features.read_features(
        as_of=run.as_of, months=params.window_months, progress=lambda done: progress and progress("read", done)
    )
    seconds["read"] = time.perf_counter() - started
    mark = time.perf_counter()
    scores, clustering = scoring.score_frame(frame, params)
    del frame
    seconds["compute"] = time.perf_counter() - mark
    mark = time.perf_counter()
    segment_ids = create_clusters(run, clustering)
    write_scores(scores, run, segment_ids, progress)
    seconds["write_scores"] = time.perf_counter() - mark
    rule_sizes = materialise_rule_segments(run)
    seconds["write"] = time.perf_counter() - mark
    seconds["write_rule_segments"] = seconds["write"] - seconds["write_scores"]
    return _result(scores, clustering, seconds, rule_sizes)


def params_snapshot(params: scoring.ScoringParams) -> dict:
    return asdict(params)


def touch(run: ScoringRun) -> None:
    """Heartbeat: a run whose heartbeat stops is considered abandoned after a while."""
    ScoringRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now(), status=RunStatus.RUNNING)
