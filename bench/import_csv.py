"""CSV import benchmark: an N-row customers file imported through the file-import job.

    python bench/import_csv.py --rows 1000000 --runs 3

Steps: migrate the bench database (``vector_crm_bench_import`` by default) as the owner,
write the CSV (the bulk API benchmark's feed as a bank would export it: ``;``-separated,
es-CO dates ``dd/mm/yyyy``, UTF-8 with BOM, CRLF, quoted names), then per run start a
fresh Python process as the non-owner ``vector_app`` role (row-level security on) that
creates a fresh tenant and tenant admin, uploads the file through
``vector_crm.imports.services.import_upload``, confirms the suggested mapping and runs
``services.import_start``, whose ``vector_crm.imports.run`` job executes in-process
(``CELERY_TASK_ALWAYS_EAGER``) exactly as a worker would. A second pass re-imports the same
file into the same tenant (every row unchanged); ``--dry-run`` adds a dry run of the file
of the fresh tenant before its import (it writes nothing: a read-only check).

Each pass reports wall time, rows/s, the split measured by the engine (``parse``,
``normalise``, ``validate``: main thread; ``write``: the database work of the chunks, which
runs on a background thread overlapped with parsing the next chunk; ``write_wait``: how
long the main thread waited for it), the CPU seconds of this Python process (all threads)
and of its PostgreSQL backend (from ``/proc/<pid>/stat``; both on this machine), and the
load average before and after. Also the process's peak RSS (``ru_maxrss``). The summary is
the median of the runs. Writes ``bench/results/import-csv-<timestamp>-<rows>r.json``.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import run  # noqa: E402 - after the path set-up, for a plain `python bench/import_csv.py`

RESULTS = ROOT / "bench" / "results"
TARGET_ROWS_PER_SECOND = 50_000  # issue 3
HEADER = "id_cliente;tipo_documento;documento;nombres;apellidos;celular;correo;ciudad;fecha_nacimiento;estado_cliente"
CITIES = ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Bucaramanga")


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="Rows in the CSV (the scale knob).")
    parser.add_argument("--runs", type=int, default=3, help="Fresh-tenant imports; the median is reported.")
    parser.add_argument("--chunk-rows", type=int, default=10_000, help="Rows per chunk (engine.CHUNK_ROWS).")
    parser.add_argument("--no-resend", action="store_true", help="Skip the re-import of the unchanged file.")
    parser.add_argument("--dry-run", action="store_true", help="Also time a dry run before the first import.")
    parser.add_argument("--database", default="vector_crm_bench_import")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--owner", default="postgres", help="Role that owns the schema (migrations).")
    parser.add_argument("--app-user", default="vector_app", help="Runtime role, subject to row-level security.")
    parser.add_argument("--skip-migrate", action="store_true")
    parser.add_argument("--work-dir", default=str(Path(tempfile.gettempdir()) / "vector-bench-import"))
    parser.add_argument("--child", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def bench_env(args) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "DJANGO_", "CELERY_"))}
    base = f"{args.pg_host}:{args.pg_port}/{args.database}"
    env.update(
        DATABASE_URL=f"postgres://{args.app_user}@{base}",
        DATABASE_OWNER_URL=f"postgres://{args.owner}@{base}",
        VECTOR_VAR_DIR=args.work_dir,
        DJANGO_SETTINGS_MODULE="vector_crm.settings",
        DJANGO_DEBUG="0",
        CELERY_TASK_ALWAYS_EAGER="1",
        LOG_LEVEL="WARNING",
        PYTHONPATH=str(ROOT),
    )
    env.pop("REDIS_URL", None)
    return env


def write_csv(path: Path, rows: int) -> None:
    """The bulk benchmark's customers, as a spreadsheet export (streamed, never in memory)."""
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        handle.write(HEADER + "\r\n")
        for n in range(rows):
            first = ("Ana", "Luis", "María", "Jorge")[n % 4]
            birth = f"{1 + n % 28:02d}/{1 + n % 12:02d}/{1950 + n % 50}"
            handle.write(
                f'B-{n:08d};cc;{10_000_000 + n};{first};"Pérez Gómez {n}";+57300{n % 10_000_000:07d};'
                f"cliente{n}@example.com;{CITIES[n % len(CITIES)]};{birth};active\r\n"
            )


def migrate(args, env) -> None:
    run.ensure_database(args)  # the runtime role and the database, on a fresh machine
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)


# --- the child: one fresh tenant, the import (and the re-import) --------------------------


def process_cpu_seconds() -> float:
    """User + system CPU of this process, every thread included."""
    usage = os.times()
    return usage.user + usage.system


def backend_cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a PostgreSQL backend on this machine (None when unreadable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child(args) -> dict:
    import resource

    import django

    django.setup()
    from django.core.files import File
    from django.db import connection

    from vector_crm.imports import services
    from vector_crm.models import FileImport, Membership, Tenant, User
    from vector_crm.roles import Role
    from vector_crm.tenancy import platform_context, tenant_context

    run_id = uuid.uuid4().hex[:8]
    with platform_context():
        tenant = Tenant.objects.create(
            name=f"Bench import {run_id}",
            slug=f"bench-import-{run_id}",
            country="CO",
            currency="COP",
            timezone="America/Bogota",
            locale="es-CO",
            holiday_country="CO",
            import_max_bytes=10 * 1024**3,
        )
        user = User.objects.create(username=f"bench-import-{run_id}")
    with tenant_context(tenant.pk):
        membership = Membership.objects.create(tenant=tenant, user=user, role=Role.TENANT_ADMIN)
    baseline_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        backend_pid = cursor.fetchone()[0]
    passes = {}
    names = [*(["dry_run"] if args.dry_run else []), "new", *([] if args.no_resend else ["resend"])]
    for name in names:
        with tenant_context(tenant.pk), open(args.child, "rb") as handle:  # noqa: PTH123
            started = time.perf_counter()
            upload = File(handle, name="clientes.csv")
            file_import = services.import_upload(
                actor=user, principal=membership, upload=upload, importable="customers"
            )
            services.import_set_mapping(
                actor=user, principal=membership, file_import=file_import, mapping=file_import.mapping
            )
            uploaded = time.perf_counter()
            load_before = os.getloadavg()
            cpu_before, pg_before = process_cpu_seconds(), backend_cpu_seconds(backend_pid)
            start = services.import_start_dry_run if name == "dry_run" else services.import_start
            start(actor=user, principal=membership, file_import=file_import, chunk_rows=args.chunk_rows)
            finished = time.perf_counter()
            cpu_after, pg_after = process_cpu_seconds(), backend_cpu_seconds(backend_pid)
            load_after = os.getloadavg()
            done = FileImport.objects.get(pk=file_import.pk)
        passes[name] = {
            "python_cpu_seconds": round(cpu_after - cpu_before, 3),
            "postgres_backend_cpu_seconds": round(pg_after - pg_before, 3) if pg_before is not None else None,
            "load_average_before": [round(x, 2) for x in load_before],
            "load_average_after": [round(x, 2) for x in load_after],
            "status": done.status,
            "rows": done.total_rows,
            "issues": done.issue_count,
            "counts": done.counts,
            "upload_seconds": round(uploaded - started, 3),
            "import_seconds": round(finished - uploaded, 3),
            "rows_per_second": round(done.total_rows / (finished - uploaded)),
            "split_seconds": done.options.get("seconds", {}),
        }
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    return {
        "passes": passes,
        "baseline_rss_mb": round(baseline_kb / 1024, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


# --- the parent -----------------------------------------------------------------------------


def summarize(runs: list[dict], name: str) -> dict:
    passes = [r["passes"][name] for r in runs if name in r["passes"]]
    if not passes:
        return {}
    keys = {k for p in passes for k in p["split_seconds"]}
    split = {k: round(statistics.median(p["split_seconds"].get(k, 0) for p in passes), 3) for k in sorted(keys)}
    pg_cpu = [p["postgres_backend_cpu_seconds"] for p in passes if p["postgres_backend_cpu_seconds"] is not None]
    return {
        "median_rows_per_second": round(statistics.median(p["rows_per_second"] for p in passes)),
        "median_import_seconds": round(statistics.median(p["import_seconds"] for p in passes), 3),
        "median_split_seconds": split,
        "median_python_cpu_seconds": round(statistics.median(p["python_cpu_seconds"] for p in passes), 3),
        "median_postgres_backend_cpu_seconds": round(statistics.median(pg_cpu), 3) if pg_cpu else None,
        "load_average_1m_before": [p["load_average_before"][0] for p in passes],
        "counts": passes[0]["counts"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.child:
        print(json.dumps(child(args)))  # noqa: T201
        return 0
    work = Path(args.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    env = bench_env(args)
    if not args.skip_migrate:
        migrate(args, env)
    csv_path = work / f"clientes-{args.rows}.csv"
    started = time.perf_counter()
    if not csv_path.exists():
        write_csv(csv_path, args.rows)
    generated = time.perf_counter() - started
    runs = []
    for number in range(1, args.runs + 1):
        command = [sys.executable, str(Path(__file__).resolve()), "--child", str(csv_path), "--chunk-rows"]
        command += [str(args.chunk_rows), *(["--no-resend"] if args.no_resend else [])]
        command += ["--dry-run"] if args.dry_run else []
        output = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=True).stdout
        runs.append(json.loads(output.strip().splitlines()[-1]))
        print(f"run {number}: {json.dumps(runs[-1])}")  # noqa: T201
    summary = {name: summarize(runs, name) for name in ("dry_run", "new", "resend")}
    result = {
        "benchmark": "import_csv",
        "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "arguments": {k: v for k, v in vars(args).items() if k != "child"},
        "machine": {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()},
        "file": {"rows": args.rows, "bytes": csv_path.stat().st_size, "generate_seconds": round(generated, 2)},
        "target_rows_per_second": TARGET_ROWS_PER_SECOND,
        "summary": summary,
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "baseline_rss_mb": max(r["baseline_rss_mb"] for r in runs),
        "runs": runs,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    out = RESULTS / f"import-csv-{stamp}-{args.rows}r.json"
    out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"\n{args.rows:,} rows, median of {args.runs} (target {TARGET_ROWS_PER_SECOND:,} rows/s):")  # noqa: T201
    for name, label in (("dry_run", "dry run"), ("new", "import"), ("resend", "re-import unchanged")):
        if not summary[name]:
            continue
        got = summary[name]
        print(  # noqa: T201
            f"  {label:<20} {got['median_rows_per_second']:>9,} rows/s  {got['median_import_seconds']:>8} s wall  "
            f"CPU python {got['median_python_cpu_seconds']} s / postgres {got['median_postgres_backend_cpu_seconds']} s"
            f"  load {got['load_average_1m_before']}\n  {'':<20} split (s) {got['median_split_seconds']}"
        )
    print(  # noqa: T201
        f"  peak RSS {result['peak_rss_mb']} MB (baseline {result['baseline_rss_mb']} MB)\n-> {out.relative_to(ROOT)}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
