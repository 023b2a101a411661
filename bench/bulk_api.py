"""Bulk upsert API benchmark: a feed of N customers POSTed over real HTTP in batches.

    python bench/bulk_api.py --customers 100000 --batch 5000

Steps: migrate the bench database (``vector_crm_bench_bulk`` by default) as the owner,
create a fresh tenant with an API key (customers:write), generate the feed and pre-encode
every batch as JSON bytes, start gunicorn with the project's ``gunicorn.conf.py`` (production
settings: DEBUG off, PostgreSQL as the non-owner ``vector_app`` role under row-level
security), then POST the batches from ``--concurrency`` keep-alive connections: first the new
feed (all created), then the same feed again (all unchanged). Reports the per-batch median
and p95, records/s end to end for each pass, and the peak RSS (VmHWM) of the server's
worker processes; writes ``bench/results/bulk-api-<timestamp>-<customers>c.json``.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import run  # noqa: E402 - after the path set-up, for a plain `python bench/bulk_api.py`

RESULTS = ROOT / "bench" / "results"
TARGETS = {"new": 20_000, "resend": 30_000}  # records/s (issue 3)
URL = "/api/v1/bulk/customers/"


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=100_000, help="Records in the feed (the scale knob).")
    parser.add_argument("--batch", type=int, default=5_000, help="Records per request (at most 10,000).")
    parser.add_argument("--concurrency", type=int, default=2, help="Client connections posting at once.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes (GUNICORN_WORKERS).")
    parser.add_argument("--database", default="vector_crm_bench_bulk")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--owner", default="postgres", help="Role that owns the schema (migrations).")
    parser.add_argument("--app-user", default="vector_app", help="Runtime role, subject to row-level security.")
    parser.add_argument("--redis-url", default="", help="REDIS_URL for the app's cache and throttling.")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--runs", type=int, default=3, help="Runs, each a fresh tenant: new feed then re-sent.")
    parser.add_argument("--skip-migrate", action="store_true")
    parser.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "vector-bench-bulk"))
    return parser.parse_args(argv)


def bench_env(args) -> dict[str, str]:
    """bench/run.py's environment (database URLs, VECTOR_VAR_DIR...) plus production settings."""
    env = {k: v for k, v in run.bench_env(args).items() if not k.startswith("GUNICORN_")}
    env.update(
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        GUNICORN_BIND=f"127.0.0.1:{args.port}",
        GUNICORN_WORKERS=str(args.workers),
        GUNICORN_ACCESS_LOG=str(Path(args.work_dir) / "access.log"),
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_TIMEOUT="120",
        VECTOR_API_RATE_PER_MINUTE="100000",
        # One backend per worker for the whole run, so /proc shows all the PostgreSQL CPU time
        # (a backend replaced after the default 60 s would take its CPU time with it).
        DATABASE_CONN_MAX_AGE="3600",
    )
    return env


def feed_record(n: int, run_id: str) -> dict:
    """Customer ``n`` of the generated feed: a person with a valid cédula, an E.164 mobile,
    an email and a birth date."""
    cities = ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Bucaramanga")
    return {
        "external_id": f"{run_id}-{n:08d}",
        "identification_type": "cc",
        "identification_number": str(10_000_000 + n),
        "first_name": ("Ana", "Luis", "María", "Jorge")[n % 4],
        "last_name": f"Pérez Gómez {n}",
        "mobile": f"+57300{n % 10_000_000:07d}",
        "email": f"cliente{n}@example.com",
        "city": cities[n % len(cities)],
        "birth_date": f"{1950 + n % 50}-{1 + n % 12:02d}-{1 + n % 28:02d}",
        "lifecycle_status": "active",
    }


def encoded_batches(customers: int, size: int, run_id: str) -> list[bytes]:
    """The feed as request bodies, generated one batch at a time (only the bytes are kept)."""
    return [
        json.dumps({"records": [feed_record(n, run_id) for n in range(start, min(start + size, customers))]}).encode()
        for start in range(0, customers, size)
    ]


def create_tenant(env: dict[str, str], run_id: str) -> str:
    """A fresh tenant and a customers:write API key (printed by a Django subprocess)."""
    script = f"""
import django; django.setup()
from vector_crm.models import ApiCredential, Tenant
from vector_crm.tenancy import platform_context, tenant_context
with platform_context():
    tenant = Tenant.objects.create(name="Bench bulk {run_id}", slug="bench-bulk-{run_id}", country="CO",
        currency="COP", timezone="America/Bogota", locale="es-CO", holiday_country="CO")
with tenant_context(tenant.pk):
    credential = ApiCredential(tenant=tenant, name="bench bulk", scopes=["customers:write"])
    key = credential.set_new_secret()
    credential.save()
print(key)
"""
    out = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, check=True, capture_output=True, text=True)
    return out.stdout.strip().splitlines()[-1]


def process_cpu(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each live process in ``pids`` (from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return seconds


def backend_pids(args) -> list[int]:
    """PostgreSQL backends of the app role on the bench database (same host: /proc shows them)."""
    import psycopg2

    conn = psycopg2.connect(host=args.pg_host, port=args.pg_port, user=args.owner, dbname=args.database)
    try:
        with conn.cursor() as cursor:
            cursor.execute(
                "SELECT pid FROM pg_stat_activity WHERE datname = %s AND usename = %s", [args.database, args.app_user]
            )
            return [row[0] for row in cursor.fetchall()]
    finally:
        conn.close()


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


class RssWatcher(threading.Thread):
    """Peak resident memory (VmHWM) of each gunicorn worker, sampled until stopped."""

    def __init__(self, master_pid: int):
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.peaks: dict[int, int] = {}
        self.stopped = threading.Event()

    def children(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.master_pid}/task/{self.master_pid}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def cpu_seconds(self) -> dict[int, float]:
        """User + system CPU seconds each worker has used so far."""
        return process_cpu(self.children())

    def run(self) -> None:
        while not self.stopped.wait(0.2):
            for pid in self.children():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                for line in status.splitlines():
                    if line.startswith("VmHWM:"):
                        self.peaks[pid] = max(self.peaks.get(pid, 0), int(line.split()[1]))


def post_all(args, key: str, batches: list[bytes]) -> dict:
    """POST every batch (``--concurrency`` connections); per-batch times and the totals."""
    local = threading.local()
    counts = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    lock = threading.Lock()
    errors: list[str] = []

    def post(body: bytes) -> float:
        if not hasattr(local, "conn"):
            local.conn = http.client.HTTPConnection("127.0.0.1", args.port, timeout=300)
        headers = {"Authorization": f"Api-Key {key}", "Content-Type": "application/json"}
        started = time.perf_counter()
        local.conn.request("POST", URL, body=body, headers=headers)
        response = local.conn.getresponse()
        payload = response.read()
        elapsed = time.perf_counter() - started
        with lock:
            if response.status != 200:
                errors.append(f"{response.status}: {payload[:300]!r}")
            else:
                answer = json.loads(payload)
                for name in ("created", "updated", "unchanged"):
                    counts[name] += answer[name]
                counts["rejected"] += len(answer["rejected"])
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        times = list(pool.map(post, batches))
    wall = time.perf_counter() - started
    records = sum(counts.values())
    return {
        "batches": len(batches),
        "wall_s": round(wall, 3),
        "records_per_s": round(records / wall) if wall else 0,
        "batch_median_ms": round(statistics.median(times) * 1000, 1),
        "batch_p95_ms": round(sorted(times)[max(0, int(len(times) * 0.95) - 1)] * 1000, 1),
        "batch_max_ms": round(max(times) * 1000, 1),
        "counts": counts,
        "errors": errors[:5],
        "error_count": len(errors),
    }


def wait_for_port(port: int, timeout: float) -> None:
    import socket

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not listen on {port}")


def one_run(args, env: dict[str, str], work: Path) -> dict:
    """A fresh tenant: the new feed, then the same feed again; per-pass figures and peak RSS."""
    run_id = dt.datetime.now(dt.UTC).strftime("%H%M%S") + uuid.uuid4().hex[:4]
    key = create_tenant(env, run_id)
    generated = time.perf_counter()
    batches = encoded_batches(args.customers, args.batch, run_id)
    generate_s = time.perf_counter() - generated
    log = (work / "gunicorn.log").open("w")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    # The project's config, with sync workers: a batch is CPU-bound Python, so two batches in
    # threads of one gthread worker would share one GIL while the other worker idles.
    server = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py", "-k", "sync"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    watcher = RssWatcher(server.pid)
    try:
        wait_for_port(args.port, timeout=60)
        time.sleep(1.0)
        watcher.start()
        passes = {}
        for name in ("new", "resend"):
            app_before, db_before = watcher.cpu_seconds(), process_cpu(backend_pids(args))
            passes[name] = post_all(args, key, batches)
            app_cpu = cpu_delta(app_before, watcher.cpu_seconds())
            db_cpu = cpu_delta(db_before, process_cpu(backend_pids(args)))
            records = sum(passes[name]["counts"].values())
            passes[name]["cpu_s"] = {"gunicorn_workers": round(app_cpu, 2), "postgres_backends": round(db_cpu, 2)}
            # What two dedicated cores would sustain if the CPU time measured were the only cost.
            passes[name]["records_per_s_on_2_free_cores_estimate"] = round(records / ((app_cpu + db_cpu) / 2))
    finally:
        watcher.stopped.set()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    return {
        "generate_and_encode_s": round(generate_s, 2),
        "passes": passes,
        "server_worker_peak_rss_mb": {str(pid): round(kb / 1024, 1) for pid, kb in sorted(watcher.peaks.items())},
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work = Path(args.work_dir)
    (work / "staticfiles").mkdir(parents=True, exist_ok=True)
    env = bench_env(args)
    run.ensure_database(args)
    if not args.skip_migrate:
        subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    runs = [one_run(args, env, work) for _ in range(args.runs)]
    passes = {
        name: {
            "records_per_s_median": statistics.median(r["passes"][name]["records_per_s"] for r in runs),
            "records_per_s_runs": [r["passes"][name]["records_per_s"] for r in runs],
            "batch_median_ms_median": statistics.median(r["passes"][name]["batch_median_ms"] for r in runs),
            "records_per_s_on_2_free_cores_estimate_median": statistics.median(
                r["passes"][name]["records_per_s_on_2_free_cores_estimate"] for r in runs
            ),
        }
        for name in ("new", "resend")
    }
    peaks = {}
    for r in runs:
        peaks.update(r["server_worker_peak_rss_mb"])
    result = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "args": vars(args),
        "feed": {"customers": args.customers, "batch": args.batch},
        "summary": passes,
        "runs": runs,
        "targets_records_per_s": TARGETS,
        "server_worker_peak_rss_mb_max": max(peaks.values()),
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_at_end": os.getloadavg(),
            "python": platform.python_version(),
        },
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"bulk-api-{stamp}-{args.customers}c.json"
    out.write_text(json.dumps(result, indent=2))
    for name, measured in passes.items():
        print(
            f"[bench] {name}: median {measured['records_per_s_median']} records/s over {args.runs} runs "
            f"{measured['records_per_s_runs']} (target {TARGETS[name]}), batch median "
            f"{measured['batch_median_ms_median']} ms (~{measured['records_per_s_on_2_free_cores_estimate_median']} "
            "records/s on 2 free cores)"
        )
    print(f"[bench] peak worker RSS {result['server_worker_peak_rss_mb_max']} MB; load {os.getloadavg()} -> {out}")
    errors = sum(p["passes"][n]["error_count"] for p in runs for n in ("new", "resend"))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
