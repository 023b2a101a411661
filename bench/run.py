"""VECTOR CRM benchmark runner: seed a dedicated PostgreSQL database, serve it with one
gunicorn worker, and measure the customer list API and the customer 360 page.

    python bench/run.py --customers 1000000 --tenants 10

Steps (each one's time is recorded): create the database (dropping an old one), migrate
as the owner (DATABASE_OWNER_URL), seed through the fast path as the app role, prepare
fixtures (API keys, sessions, sampled requests), diagnose query counts and plans, start
``gunicorn vector_crm.wsgi -w 1``, replay the sampled requests sequentially, and write
``bench/results/<timestamp>-<customers>c-<tenants>t.json``. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
ENDPOINTS = ("list", "search", "detail")
TARGETS_MS = {"list": 50.0, "search": 50.0, "detail": 80.0}  # p95 targets
LABELS = {
    "list": "customer list API (branch + status + name prefix, 50/page)",
    "search": "customer list API (name prefix, whole institution)",
    "detail": "customer 360 page",
}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work_dir)
    (work / "staticfiles").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT under VECTOR_VAR_DIR
    env = bench_env(args)
    phases: dict[str, float] = {}
    result: dict = {"started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "args": vars(args)}

    if not args.skip_seed:
        with timed(phases, "create_database"):
            recreate_database(args)
        with timed(phases, "migrate"):
            run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], env)
        seed_report = work / "seed-report.json"
        seed_cmd = [
            sys.executable, "manage.py", "seed_demo",
            "--customers", str(args.customers), "--tenants", str(args.tenants),
            "--holdings-per-customer", str(args.holdings_per_customer), "--months", str(args.months),
            "--jobs", str(args.jobs), "--report", str(seed_report), "-v0",
        ]  # fmt: skip
        load_before = os.getloadavg()[0]
        with timed(phases, "seed"):
            run(seed_cmd, env)
        result["seed"] = json.loads(seed_report.read_text())
        # Other work on the machine slows PostgreSQL's share of the load: keep the context.
        result["seed"]["load_average"] = {"before": load_before, "after": os.getloadavg()[0]}
    fixtures_path = work / "fixtures.json"
    with timed(phases, "prepare"):
        run([sys.executable, "-m", "bench.prepare", "--out", str(fixtures_path), "--samples", str(args.samples)], env)
    fixtures = json.loads(fixtures_path.read_text())
    diagnosis_path = work / "diagnosis.json"
    with timed(phases, "diagnose"):
        run(
            [sys.executable, "-m", "bench.diagnose", "--fixtures", str(fixtures_path), "--out", str(diagnosis_path)],
            env,
        )
    result["diagnosis"] = summarise_diagnosis(json.loads(diagnosis_path.read_text()))

    server = start_gunicorn(args, env, work)
    try:
        wait_for_port("127.0.0.1", args.port, timeout=60)
        measurements = {}
        for endpoint in ENDPOINTS:
            with timed(phases, f"measure_{endpoint}"):
                measurements[endpoint] = measure(args, fixtures, endpoint)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    result["measurements"] = measurements
    result["phases_s"] = {key: round(value, 2) for key, value in phases.items()}
    result["data"] = data_size(args, fixtures)
    result["machine"] = machine(args)
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"{stamp}-{args.customers}c-{args.tenants}t.json"
    out.write_text(json.dumps(result, indent=2, default=str))
    print_summary(result, out)
    failed = [e for e, m in measurements.items() if m["errors"] or m["p95_ms"] > TARGETS_MS[e]]
    return 1 if failed and args.strict else 0


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    scale = parser.add_argument_group("scale")
    scale.add_argument("--customers", type=int, default=1_000_000, help="Total customers (the scale knob).")
    scale.add_argument("--tenants", type=int, default=10)
    scale.add_argument("--holdings-per-customer", type=float, default=2.0)
    scale.add_argument("--months", type=int, default=0, help="Months of summaries and payments per holding.")
    scale.add_argument("--jobs", type=int, default=2, help="Tenants loaded at once by the seeder.")
    db = parser.add_argument_group("database")
    db.add_argument("--database", default="vector_crm_bench", help="Dropped and recreated unless --skip-seed.")
    db.add_argument("--pg-host", default="127.0.0.1")
    db.add_argument("--pg-port", type=int, default=5432)
    db.add_argument("--owner", default="postgres", help="Role that owns the schema (migrations).")
    db.add_argument("--app-user", default="vector_app", help="Runtime role, subject to row-level security.")
    db.add_argument("--redis-url", default="", help="Optional REDIS_URL for the app's cache.")
    db.add_argument("--skip-seed", action="store_true", help="Reuse the seeded database; only measure.")
    run_group = parser.add_argument_group("measurement")
    run_group.add_argument("--port", type=int, default=8765)
    run_group.add_argument("--samples", type=int, default=200, help="Distinct requests drawn per endpoint.")
    run_group.add_argument("--warmup", type=int, default=50, help="Requests per endpoint before timing.")
    run_group.add_argument("--requests", type=int, default=600, help="Timed requests per endpoint.")
    run_group.add_argument(
        "--work-dir",
        default=str(Path(tempfile.gettempdir()) / "vector-bench"),
        help="VECTOR_VAR_DIR and scratch files.",
    )
    run_group.add_argument("--strict", action="store_true", help="Exit 1 when a target or a request fails.")
    return parser.parse_args(argv)


def bench_env(args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_"))}
    base = f"{args.pg_host}:{args.pg_port}/{args.database}"
    env.update(
        DATABASE_URL=f"postgres://{args.app_user}@{base}",
        DATABASE_OWNER_URL=f"postgres://{args.owner}@{base}",
        VECTOR_VAR_DIR=args.work_dir,
        DJANGO_SETTINGS_MODULE="vector_crm.settings",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_URL", None)
    if args.redis_url:
        env["REDIS_URL"] = args.redis_url
    return env


class timed:
    def __init__(self, phases: dict, name: str) -> None:
        self.phases, self.name = phases, name

    def __enter__(self):
        self.started = time.perf_counter()
        print(f"[bench] {self.name} ...", flush=True)

    def __exit__(self, *exc):
        self.phases[self.name] = time.perf_counter() - self.started
        print(f"[bench] {self.name}: {self.phases[self.name]:.1f} s", flush=True)


def run(command: list[str], env: dict[str, str]) -> None:
    subprocess.run(command, cwd=ROOT, env=env, check=True)


def _psql_connect(args, database: str = "postgres"):
    import psycopg2

    connection = psycopg2.connect(host=args.pg_host, port=args.pg_port, user=args.owner, dbname=database)
    connection.autocommit = True
    return connection


def ensure_database(args) -> None:
    """Create the runtime role (login, no ownership, subject to row-level security) and the
    database when missing, so a benchmark runs on a fresh machine."""
    connection = _psql_connect(args)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [args.app_user])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE ROLE "{args.app_user}" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS')
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database])
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{args.database}"')
    finally:
        connection.close()


def recreate_database(args) -> None:
    connection = _psql_connect(args)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                [args.database],
            )
            cursor.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
            cursor.execute(f'CREATE DATABASE "{args.database}"')
    finally:
        connection.close()
    ensure_database(args)  # the runtime role, on a fresh machine


def start_gunicorn(args, env, work: Path) -> subprocess.Popen:
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "vector_crm.wsgi", "-w", "1", "-b", f"127.0.0.1:{args.port}", "--log-level", "warning"]
    log = (work / "gunicorn.log").open("w")
    print(f"[bench] starting: {' '.join(command)}", flush=True)
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_port(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not listen on {host}:{port} within {timeout} s")


def get(port: int, path: str, headers: dict[str, str]) -> tuple[int, float, bytes]:
    """One GET on a fresh connection (gunicorn's sync worker closes after each response)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    started = time.perf_counter()
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - started
    connection.close()
    return response.status, elapsed, body


def headers_for(fixtures: dict, sample: dict, endpoint: str) -> dict[str, str]:
    tenant = fixtures["tenants"][sample["tenant"]]
    if endpoint in ("list", "search"):
        return {"Authorization": f"Api-Key {tenant['api_key']}", "Accept": "application/json"}
    return {"Cookie": tenant["session_cookie"], "Accept": "text/html"}


def measure(args, fixtures: dict, endpoint: str) -> dict:
    samples = fixtures[endpoint]
    for i in range(args.warmup):
        sample = samples[i % len(samples)]
        get(args.port, sample["path"], headers_for(fixtures, sample, endpoint))
    latencies, errors, sizes, empty = [], [], [], 0
    load_before = os.getloadavg()[0]
    for i in range(args.requests):
        sample = samples[i % len(samples)]
        status, elapsed, body = get(args.port, sample["path"], headers_for(fixtures, sample, endpoint))
        latencies.append(elapsed * 1000)
        sizes.append(len(body))
        if status != 200:
            errors.append({"path": sample["path"], "status": status, "body": body[:300].decode("utf-8", "replace")})
        elif endpoint != "detail" and not json.loads(body).get("results"):
            empty += 1
    stats = percentiles(latencies)
    stats.update(
        requests=len(latencies),
        distinct_requests=len(samples),
        errors=len(errors),
        error_samples=errors[:5],
        mean_response_bytes=round(sum(sizes) / len(sizes)),
        target_p95_ms=TARGETS_MS[endpoint],
        load_average_before=load_before,
    )
    if endpoint != "detail":
        stats["empty_pages"] = empty
    stats["load_average_after"] = os.getloadavg()[0]
    return stats


def percentiles(values: list[float]) -> dict:
    import numpy as np

    data = np.asarray(values)
    return {
        "p50_ms": round(float(np.percentile(data, 50)), 2),
        "p95_ms": round(float(np.percentile(data, 95)), 2),
        "p99_ms": round(float(np.percentile(data, 99)), 2),
        "mean_ms": round(float(data.mean()), 2),
        "min_ms": round(float(data.min()), 2),
        "max_ms": round(float(data.max()), 2),
    }


def summarise_diagnosis(diagnosis: dict) -> dict:
    return {
        endpoint: [
            {
                key: run[key]
                for key in (
                    "path",
                    "status",
                    "in_process_ms",
                    "queries",
                    "db_ms",
                    "slowest_ms",
                    "slowest_sql",
                    "slowest_plan",
                )
            }  # fmt: skip
            for run in runs
        ]
        for endpoint, runs in diagnosis.items()
    }


def data_size(args, fixtures: dict) -> dict:
    connection = _psql_connect(args, args.database)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT relname, n_live_tup, pg_total_relation_size(relid) FROM pg_stat_user_tables "
                "WHERE relname LIKE 'customers_%%' ORDER BY relname"
            )
            tables = {name: {"rows": rows, "bytes": size} for name, rows, size in cursor.fetchall()}
            cursor.execute("SELECT pg_database_size(current_database())")
            database_bytes = cursor.fetchone()[0]
    finally:
        connection.close()
    return {
        "customers": fixtures["customers"],
        "tenants": len(fixtures["tenants"]),
        "tables": tables,
        "database_bytes": database_bytes,
    }


def machine(args) -> dict:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor(),
    )  # fmt: skip
    memory = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/meminfo").read_text().splitlines()
         if line.startswith("MemTotal")),
        "",
    )  # fmt: skip
    connection = _psql_connect(args)
    try:
        with connection.cursor() as cursor:
            settings = {}
            for name in ("server_version", "shared_buffers", "work_mem", "effective_cache_size", "max_wal_size"):
                cursor.execute(f"SHOW {name}")
                settings[name] = cursor.fetchone()[0]
    finally:
        connection.close()
    import django
    import gunicorn

    return {
        "nproc": os.cpu_count(),
        "cpu_model": cpu,
        "memory": memory,
        "python": platform.python_version(),
        "django": django.get_version(),
        "gunicorn": gunicorn.__version__,
        "gunicorn_workers": 1,
        "postgresql": settings,
    }


def print_summary(result: dict, out: Path) -> None:
    data, box = result["data"], result["machine"]
    tables = data["tables"]
    print()
    print(f"Data: {data['customers']:,} customers in {data['tenants']} tenants, "
          f"{tables.get('customers_holding', {}).get('rows', 0):,} holdings, "
          f"database {data['database_bytes'] / 2**30:.2f} GiB")  # fmt: skip
    print(f"Machine: {box['nproc']} x {box['cpu_model']}, {box['memory']}, PostgreSQL {box['postgresql']['server_version']}"
          f" (shared_buffers {box['postgresql']['shared_buffers']}), gunicorn 1 sync worker")  # fmt: skip
    seed = result.get("seed")
    if seed:
        seconds = seed["seconds"]
        load = seed.get("load_average", {})
        print(f"Seeding: {seconds.get('total', 0):.1f} s (load {seconds.get('load', 0):.1f} s, "
              f"VACUUM ANALYZE {seconds.get('analyze', 0):.1f} s; load average {load.get('before', 0):.1f} before, "
              f"{load.get('after', 0):.1f} after); migrate {result['phases_s'].get('migrate', 0):.1f} s")  # fmt: skip
    print()
    loads = [m["load_average_before"] for m in result["measurements"].values()]
    print(f"Load average during measurement: {min(loads):.1f}-{max(loads):.1f} (other processes share the machine)")
    header = f"{'endpoint':<58} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'target':>8} {'errors':>6}  verdict"
    print(header)
    print("-" * len(header))
    for endpoint, stats in result["measurements"].items():
        verdict = "OK" if not stats["errors"] and stats["p95_ms"] <= stats["target_p95_ms"] else "MISS"
        print(f"{LABELS[endpoint]:<58} {stats['p50_ms']:>8.1f} {stats['p95_ms']:>8.1f} {stats['p99_ms']:>8.1f} "
              f"{'<' + str(int(stats['target_p95_ms'])):>8} {stats['errors']:>6}  {verdict}")  # fmt: skip
    for endpoint, runs in result["diagnosis"].items():
        if runs:
            counts = sorted({r["queries"] for r in runs})
            print(f"  {endpoint}: {counts} SQL queries per request, slowest query "
                  f"{max(r['slowest_ms'] for r in runs):.1f} ms")  # fmt: skip
    print(f"\nResults: {out.relative_to(ROOT)}")


if __name__ == "__main__":
    sys.exit(main())
