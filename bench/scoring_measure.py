"""Child process of ``bench/scoring.py`` (needs the Django environment it sets).

``pipeline``: one scoring run of the (only) bench tenant, exactly as the Celery job runs
it; ``baseline``: the plain pandas + scikit-learn floor over an already-loaded frame.
Each writes a JSON report with its wall time and the process's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import django


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _bench_tenant_id() -> int:
    from django.db.models import Count

    from customers.models import Customer
    from vector_crm.tenancy import platform_context

    with platform_context():
        # The bench database has one tenant with customers; finding it is a platform lookup.
        row = (
            Customer.unscoped.values("tenant_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .values_list("tenant_id", flat=True)
        )
        return row[0]


def pipeline() -> dict:
    from segmentation import services
    from segmentation.jobs import score_customers
    from segmentation.models import ScoringRun
    from vector_crm.tenancy import tenant_context

    tenant_id = _bench_tenant_id()
    with tenant_context(tenant_id):
        run = services.scoring_run_start(enqueue=False)
        started = time.perf_counter()
        score_customers(tenant_id, run.job_id, run_id=run.pk)
        total = time.perf_counter() - started
        run = ScoringRun.objects.get(pk=run.pk)
    return {
        "run": run.pk,
        "status": run.status,
        "customers": run.customers,
        "total_seconds": round(total, 2),
        "split_seconds": run.result["seconds"],
        "tiers": run.result["tiers"],
        "clusters": run.result["clusters"],
        "peak_rss_mb": _peak_rss_mb(),
    }


def plain_script(frame, *, k: int = 5, seed: int = 42, percentile: float = 0.75):
    """The floor: what a data scientist would write over a loaded frame, no database."""
    import numpy as np
    from sklearn.cluster import KMeans
    from sklearn.preprocessing import StandardScaler

    value = frame["revenue"].to_numpy(float)
    bands = (frame["age"] // 10).fillna(-1).astype(int).astype(str) + "|" + frame["income_band"].astype(str)
    potential = np.maximum(value, frame.assign(v=value).groupby(bands)["v"].transform("quantile", percentile))
    priority = value + 0.5 * (potential - value)
    rank = (-priority).argsort().argsort()
    tier = np.where(rank < 0.2 * len(frame), "A", np.where(rank < 0.5 * len(frame), "B", "C"))
    balances = frame.filter(regex=r"^bal_\d+$").to_numpy(float)
    transactions = frame.filter(regex=r"^tx_\d+$").to_numpy(float)
    features = np.column_stack(
        [
            frame["age"].fillna(frame["age"].median()).to_numpy(float),
            np.log1p(np.abs(value)),
            np.log1p(np.maximum(balances.mean(axis=1), 0)),
            transactions.mean(axis=1),
            frame["products"].to_numpy(float),
        ]
    )
    scaled = StandardScaler().fit_transform(features)
    sample = np.random.default_rng(seed).choice(len(frame), size=min(50_000, len(frame)), replace=False)
    labels = KMeans(n_clusters=k, random_state=seed, n_init=4).fit(scaled[sample]).predict(scaled)
    return tier, labels


def baseline() -> dict:
    from django.utils import timezone

    from segmentation.features import read_features
    from vector_crm.tenancy import tenant_context

    tenant_id = _bench_tenant_id()
    with tenant_context(tenant_id):
        loaded = time.perf_counter()
        frame = read_features(as_of=timezone.localdate(), months=12)
        load_seconds = time.perf_counter() - loaded
    started = time.perf_counter()
    plain_script(frame)
    return {
        "customers": len(frame),
        "load_seconds": round(load_seconds, 2),
        "compute_seconds": round(time.perf_counter() - started, 2),
        "peak_rss_mb": _peak_rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["pipeline", "baseline"])
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    django.setup()
    report = pipeline() if args.mode == "pipeline" else baseline()
    Path(args.out).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
