"""VALOR scoring benchmark: score every customer of one tenant on PostgreSQL.

    python bench/scoring.py                         # 1,000,000 customers, 12 months (the reference)
    python bench/scoring.py --customers 100000      # a quick one
    python bench/scoring.py --skip-seed             # re-measure the seeded database

Steps: (unless ``--skip-seed``) recreate the database, migrate as the owner and seed one
tenant through the fast path (``seed_demo --customers N --tenants 1 --months M``: about 2
accounts per customer, M monthly summaries per account); then migrate (VALOR's tables on
an older seed) and, in fresh processes as the app role (row-level security on):

1. ``bench.scoring_measure pipeline`` — one scoring run end to end, exactly as the job
   runs it (read, features, clustering, value, tier, write-back, snapshot), ``--repeat``
   times; wall time, its read / compute / write split and the process's peak RSS;
2. ``bench.scoring_measure baseline`` — the floor: the same aggregate frame loaded first
   (untimed), then a plain pandas + scikit-learn script over it (value, peer percentile,
   ranks, StandardScaler + KMeans); its time, and the pipeline's ratio to it.

Results: ``bench/results/<UTC timestamp>-scoring-<N>c.json``. Targets: ≤ 60 s end to
end and ≤ 2 GB peak memory at 1,000,000 customers (bench/README.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import (  # noqa: E402
    RESULTS,
    ROOT,
    _psql_connect,
    bench_env,
    machine,
    recreate_database,
    run,
    timed,
)

TARGET_SECONDS = 60.0
TARGET_RSS_MB = 2048.0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=1_000_000, help="Customers of the one tenant (scale knob).")
    parser.add_argument("--months", type=int, default=12, help="Monthly summaries per account.")
    parser.add_argument("--holdings-per-customer", type=float, default=2.0)
    parser.add_argument("--repeat", type=int, default=1, help="Scoring runs measured (median reported).")
    parser.add_argument("--database", default="vector_crm_bench_scoring", help="Recreated unless --skip-seed.")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--owner", default="postgres")
    parser.add_argument("--app-user", default="vector_app")
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--skip-seed", action="store_true")
    parser.add_argument("--seed-only", action="store_true", help="Seed the database, measure nothing.")
    parser.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "vector-bench-scoring"))
    parser.add_argument("--note", default="", help="Free text stored with the result (e.g. machine load).")
    return parser.parse_args(argv)


DATA_TABLES = ("customers_customer", "customers_holding", "customers_monthlyaccountsummary", "customers_payment")


def data_size(args) -> dict:
    """Rows and on-disk size (table + indexes) of the book the run reads, and of the snapshot."""
    connection = _psql_connect(args, args.database)
    try:
        with connection.cursor() as cursor:
            sizes = {}
            for table in (*DATA_TABLES, "segmentation_customerscore"):
                cursor.execute(f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}")  # noqa: S608
                rows, size = cursor.fetchone()
                sizes[table] = {"rows": rows, "mb": round(size / 2**20, 1)}
    finally:
        connection.close()
    return sizes


def measure(env: dict, mode: str, out: Path) -> dict:
    subprocess.run(
        [sys.executable, "-m", "bench.scoring_measure", mode, "--out", str(out)], cwd=ROOT, env=env, check=True
    )
    return json.loads(out.read_text())


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    env = bench_env(args)
    phases: dict[str, float] = {}
    result: dict = {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "args": vars(args)}
    if not args.skip_seed:
        with timed(phases, "create_database"):
            recreate_database(args)
        with timed(phases, "migrate"):
            run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        seed_report = work / "seed.json"
        with timed(phases, "seed"):
            # --bulk-load: as the owner, secondary indexes and constraints rebuilt after the load.
            run(
                [sys.executable, "manage.py", "seed_demo", "--customers", str(args.customers), "--tenants", "1",
                 "--months", str(args.months), "--holdings-per-customer", str(args.holdings_per_customer),
                 "--bulk-load", "--report", str(seed_report), "-v1"],
                env,
            )  # fmt: skip
        result["seed"] = json.loads(seed_report.read_text())
        if args.seed_only:
            print(json.dumps(result["seed"], indent=2))
            return 0
    else:
        run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
    load_before = os.getloadavg()
    runs = []
    for n in range(args.repeat):
        with timed(phases, f"pipeline_{n + 1}"):
            runs.append(measure(env, "pipeline", work / f"pipeline-{n + 1}.json"))
    with timed(phases, "baseline"):
        baseline = measure(env, "baseline", work / "baseline.json")
    median_total = statistics.median(r["total_seconds"] for r in runs)
    median_run = sorted(runs, key=lambda r: r["total_seconds"])[(len(runs) - 1) // 2]
    data = data_size(args)
    result.update(
        phases=phases,
        runs=runs,
        baseline=baseline,
        data=data,
        summary={
            "customers": runs[-1]["customers"],
            "summary_rows": data["customers_monthlyaccountsummary"]["rows"],
            "holdings": data["customers_holding"]["rows"],
            "median_seconds": round(median_total, 2),
            "split_seconds": {k: median_run["split_seconds"].get(k) for k in ("read", "compute", "write")},
            "process_cpu_seconds": median_run.get("process_cpu_seconds"),
            "postgres_backend_cpu_seconds": median_run.get("backend_cpu_seconds"),
            "postgres_parallel_workers_cpu_seconds": median_run.get("parallel_workers_cpu_seconds"),
            "load_average_during_run": median_run.get("load_average"),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "baseline_seconds": baseline["compute_seconds"],
            "ratio_to_baseline": round(median_total / baseline["compute_seconds"], 2),
            "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
            "met": median_total <= TARGET_SECONDS and max(r["peak_rss_mb"] for r in runs) <= TARGET_RSS_MB,
        },
        load_average={"before": load_before, "after": os.getloadavg()},
        machine=machine(args),
        note=args.note,
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    out = RESULTS / f"{stamp}-scoring-{args.customers}c.json"
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result["summary"], indent=2))
    summary = result["summary"]
    split = summary["split_seconds"]
    print(
        f"[bench] {summary['customers']:,} customers ({summary['summary_rows']:,} monthly summaries): "
        f"{summary['median_seconds']} s = read {split['read']} + compute {split['compute']} + write {split['write']}; "
        f"peak RSS {summary['peak_rss_mb']} MB; CPU: process {summary['process_cpu_seconds']} s, PostgreSQL backend "
        f"{summary['postgres_backend_cpu_seconds']} s + workers {summary['postgres_parallel_workers_cpu_seconds']} s; "
        f"baseline {summary['baseline_seconds']} s (ratio {summary['ratio_to_baseline']}); "
        f"load average {summary['load_average_during_run']}; targets met: {summary['met']}"
    )
    print(f"[bench] written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
