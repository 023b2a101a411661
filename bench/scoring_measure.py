"""Child process of ``bench/scoring.py`` (needs the Django environment it sets).

``pipeline``: one scoring run of the (only) bench tenant, exactly as the Celery job runs
it; ``baseline``: the plain pandas + scikit-learn floor over an already-loaded frame.
Each writes a JSON report with its wall time, the process's CPU time and peak RSS and
the load average; the pipeline also reports the PostgreSQL CPU it caused (``ServerCpu``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from pathlib import Path

import django


def _peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _proc_cpu(pid: int, *, children: bool = False) -> float | None:
    """CPU seconds of process ``pid`` (``children``: of its exited children) from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    first = 13 if children else 11  # utime, stime (cutime, cstime) after the command name
    return (int(fields[first]) + int(fields[first + 1])) / os.sysconf("SC_CLK_TCK")


class ServerCpu:
    """CPU used by PostgreSQL for this process's connection, when the server is local:
    the backend itself, and the exited children of the postmaster (the parallel workers
    the backend launched; also any other session that ended meanwhile, so on a busy
    server it is an upper bound). ``None`` when /proc does not show the server."""

    def __init__(self) -> None:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        try:
            self.postmaster = int(Path(f"/proc/{self.backend}/stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            self.postmaster = None
        self.start = self._sample()

    def _sample(self) -> tuple[float | None, float | None]:
        workers = _proc_cpu(self.postmaster, children=True) if self.postmaster else None
        return _proc_cpu(self.backend), workers

    def used(self) -> dict:
        end = self._sample()
        backend = None if None in (end[0], self.start[0]) else round(end[0] - self.start[0], 2)
        workers = None if None in (end[1], self.start[1]) else round(end[1] - self.start[1], 2)
        return {"backend_cpu_seconds": backend, "parallel_workers_cpu_seconds": workers}


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
        server = ServerCpu()
        load_before = os.getloadavg()
        cpu = _own_cpu()
        started = time.perf_counter()
        score_customers(tenant_id, run.job_id, run_id=run.pk)
        total = time.perf_counter() - started
        cpu = _own_cpu() - cpu
        run = ScoringRun.objects.get(pk=run.pk)
    return {
        "run": run.pk,
        "status": run.status,
        "customers": run.customers,
        "total_seconds": round(total, 2),
        "split_seconds": run.result["seconds"],
        "process_cpu_seconds": round(cpu, 2),
        **server.used(),
        "load_average": {"before": load_before, "after": os.getloadavg()},
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
    cpu = _own_cpu()
    started = time.perf_counter()
    plain_script(frame)
    return {
        "customers": len(frame),
        "load_seconds": round(load_seconds, 2),
        "compute_seconds": round(time.perf_counter() - started, 2),
        "process_cpu_seconds": round(_own_cpu() - cpu, 2),
        "load_average": os.getloadavg(),
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
