"""CASOS benchmark: the minute SLA sweep and the supervisor's escalation board at scale.

    python bench/cases_sweep.py --cases 1000000 --tenants 10      # the reference run
    python bench/cases_sweep.py --cases 100000 --tenants 2        # a quick one
    python bench/cases_sweep.py --skip-seed                       # re-measure the seeded database

1. recreates the database (``--database``) and migrates it as the owner;
2. as the app role (row-level security on), creates the tenants (a branch, ten teams with
   a supervisor and two advisors each, a branch manager, an admin, the four case types) and
   COPYs ``--cases`` open cases across them (``customers.demo.writers.CopyWriter``); every
   tenant's first team holds ``--board-cases`` open cases, 10 % of them past their warning
   and 5 % breached; no case is due, and none falls due for a year (resolution deadlines
   lie 400-730 days ahead), so ``--skip-seed`` days later measures the same thing;
3. VACUUM ANALYZE, then measures, in-process as the app role:
   * ``sla_sweep()`` with nothing due (``--repeat`` runs: median, p95; target < 50 ms);
   * ``sla_sweep()`` after ``--due`` cases (spread over the tenants) fell due: one run,
     escalating each once (target < 10 s), with the process's peak memory. Of them,
     ``--due-milestones`` are due on a missed milestone ("moment of truth"), the others on
     their resolution target; each has one escalation level, so nothing is left due after;
   * the escalation board of a supervisor whose team has ``--board-cases`` open cases,
     rendered by Django's test client (session, middleware, template; no network):
     p50/p95 of ``--requests`` renders (target p95 < 300 ms) and the SQL queries per render;
4. stores ``EXPLAIN (ANALYZE, BUFFERS)`` of the sweep's lock query and the board's case
   query (in the first tenant, with its row-level security policy);
5. writes ``bench/results/<UTC>-cases-<N>c-<T>t.json`` and prints a summary.

Every measurement shows where its time went (the machine is often shared, so wall time
alone misleads): ``wall_s``; ``python_cpu_s``, this process's CPU time; ``postgres_cpu_s``,
the CPU time of its PostgreSQL backend (from ``/proc/<backend pid>/stat``, same host);
``sql_wait_s`` and ``statements``, the time spent waiting on SQL statements (client side)
and their number; and the load average before and after.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGETS_MS = {"sweep_nothing_due_p95": 50, "sweep_escalate_due": 10_000, "board_p95": 300}
TEAMS = 10


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=1_000_000, help="Open cases in total (the scale knob).")
    parser.add_argument("--tenants", type=int, default=10)
    parser.add_argument("--due", type=int, default=10_000, help="Cases made due for the escalation sweep.")
    parser.add_argument(
        "--due-milestones", type=int, default=1_000, help="Of the due cases, those due on a missed milestone."
    )
    parser.add_argument("--board-cases", type=int, default=5_000, help="Open cases of the measured supervisor's team.")
    parser.add_argument("--repeat", type=int, default=30, help="Runs of the empty sweep.")
    parser.add_argument("--requests", type=int, default=100, help="Timed board renders (after 10 warm-up).")
    parser.add_argument("--database", default="vector_crm_bench_casos")
    parser.add_argument("--pg-host", default="127.0.0.1")
    parser.add_argument("--pg-port", type=int, default=5432)
    parser.add_argument("--owner", default="postgres")
    parser.add_argument("--app-user", default="vector_app")
    parser.add_argument("--work-dir", default=os.environ.get("VECTOR_VAR_DIR", str(ROOT / "var" / "bench-cases")))
    parser.add_argument(
        "--skip-seed", action="store_true", help="Reuse the seeded database (migrate it, then measure)."
    )
    parser.add_argument("--strict", action="store_true", help="Exit 1 when a target is missed.")
    return parser.parse_args(argv)


def _owner_connection(args, database="postgres"):
    import psycopg2

    connection = psycopg2.connect(host=args.pg_host, port=args.pg_port, user=args.owner, dbname=database)
    connection.autocommit = True
    return connection


def prepare_database(args) -> None:
    if args.skip_seed:
        subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=os.environ.copy(), check=True)
        return
    connection = _owner_connection(args)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [args.database],
        )
        cursor.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        cursor.execute(f'CREATE DATABASE "{args.database}"')
    connection.close()
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=os.environ.copy(), check=True)


def configure_django(args) -> None:
    base = f"{args.pg_host}:{args.pg_port}/{args.database}"
    os.environ.update(
        DATABASE_URL=f"postgres://{args.app_user}@{base}",
        DATABASE_OWNER_URL=f"postgres://{args.owner}@{base}",
        VECTOR_VAR_DIR=args.work_dir,
        DJANGO_SETTINGS_MODULE="vector_crm.settings",
        LOG_LEVEL="WARNING",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
    )
    os.environ.pop("REDIS_URL", None)
    os.environ.pop("CELERY_BROKER_URL", None)
    sys.path.insert(0, str(ROOT))
    Path(args.work_dir).mkdir(parents=True, exist_ok=True)


def setup_tenant(index: int) -> dict:
    """Tenant, branch, teams with a supervisor and two advisors, manager, admin, case types."""
    from cases.models import CaseType, SlaPolicy
    from cases.services import case_types_ensure_defaults
    from customers.models import Branch
    from vector_crm.models import Membership, Team, Tenant, User
    from vector_crm.tenancy import tenant_context

    tenant = Tenant.objects.create(
        name=f"Bench casos {index:02d}",
        slug=f"bench-casos-{index:02d}",
        country="CO",
        currency="COP",
        holiday_country="CO",
    )
    with tenant_context(tenant.pk):
        branch = Branch.objects.create(code="B01", name="Principal")
        teams, supervisors = [], []

        def member(name: str, role: str, team=None) -> int:
            user = User.objects.create(username=f"{tenant.slug}-{name}")
            Membership.objects.create(user=user, role=role, branch=branch, team=team)
            return user.pk

        for t in range(TEAMS):
            team = Team.objects.create(name=f"Equipo {t:02d}", branch=branch)
            teams.append(team.pk)
            supervisors.append(member(f"sup{t}", "supervisor", team))
            for a in range(2):
                member(f"adv{t}-{a}", "advisor", team)
        member("manager", "branch_manager")
        member("admin", "tenant_admin")
        case_types_ensure_defaults()
        case_type = CaseType.objects.get(code="solicitud")
        policy = SlaPolicy.objects.get(case_type=case_type)
    return {
        "tenant_id": tenant.pk,
        "branch_id": branch.pk,
        "teams": teams,
        "supervisors": supervisors,
        "case_type_id": case_type.pk,
        "policy_id": policy.pk,
    }


def generate_cases(book: dict, count: int, board_cases: int, now: np.datetime64, rng: np.random.Generator):
    """Open cases of one tenant as numpy columns: the first ``board_cases`` on team 0."""
    from cases.models import Case
    from customers.demo.generate import NULL_INT, Table

    minutes = lambda values: values.astype("timedelta64[m]")  # noqa: E731
    teams = np.asarray(book["teams"], dtype=np.int64)
    team = np.where(np.arange(count) < board_cases, teams[0], teams[1 + rng.integers(0, TEAMS - 1, count)])
    opened = now - minutes(rng.integers(60, 20 * 24 * 60, count))
    # A year or more ahead: nothing falls due between seeding and a later --skip-seed run.
    resolution_due = now + minutes(rng.integers(400 * 24 * 60, 730 * 24 * 60, count))
    warn_at = resolution_due - minutes(np.full(count, 120))
    next_at = warn_at.copy()
    warned = np.full(count, np.datetime64("NaT"), dtype="datetime64[us]")
    level = np.zeros(count, dtype=np.int64)
    board = np.arange(count) < board_cases
    at_risk = board & (rng.random(count) < 0.10)
    breached = board & ~at_risk & (rng.random(count) < 0.0556)
    warn_at[at_risk] = now - minutes(rng.integers(1, 600, int(at_risk.sum())))
    warned[at_risk] = warn_at[at_risk]
    next_at[at_risk] = resolution_due[at_risk]
    resolution_due[breached] = now - minutes(rng.integers(300, 6000, int(breached.sum())))
    warn_at[breached] = resolution_due[breached] - minutes(np.full(int(breached.sum()), 120))
    warned[breached] = warn_at[breached]
    level[breached] = 2
    next_at[breached] = np.datetime64("NaT")
    priorities = np.array(["low", "medium", "high", "critical"], dtype=object)
    blank = {
        name: np.full(count, "", dtype=object)
        for name in (
            "description",
            "product_label",
            "category",
            "subcategory",
            "pqrs_type",
            "exception_type",
            "approval_status",
            "decision_reason",
            "resolution",
        )
    }
    return Table(
        Case,
        {
            **blank,
            "tenant_id": np.full(count, book["tenant_id"], dtype=np.int64),
            "case_type_id": np.full(count, book["case_type_id"], dtype=np.int64),
            "kind": np.full(count, "request", dtype=object),
            "restricted": np.zeros(count, dtype=bool),
            "subject": np.array([f"Solicitud {i}" for i in range(count)], dtype=object),
            "channel": np.full(count, "branch", dtype=object),
            "priority": priorities[rng.integers(0, 3, count)],
            "status": np.full(count, "in_progress", dtype=object),
            "team_id": team.astype(np.int64),
            "branch_id": np.full(count, book["branch_id"], dtype=np.int64),
            "assignee_id": np.full(count, NULL_INT, dtype=np.int64),
            "opened_at": opened.astype("datetime64[us]"),
            "responded_at": opened.astype("datetime64[us]"),
            "updated_at": np.full(count, now, dtype="datetime64[us]"),
            "sla_policy_id": np.full(count, book["policy_id"], dtype=np.int64),
            "response_due_at": opened.astype("datetime64[us]"),
            "resolution_due_at": resolution_due.astype("datetime64[us]"),
            "warn_at": warn_at.astype("datetime64[us]"),
            "warned_at": warned,
            "escalation_level": level,
            "escalation_offsets": np.full(count, "[0, 240]", dtype=object),
            "next_deadline_at": next_at.astype("datetime64[us]"),
        },
    )


def seed(args, phases: dict) -> list[dict]:
    from django.db import transaction

    from customers.demo.writers import CopyWriter
    from vector_crm.tenancy import tenant_context

    started = time.perf_counter()
    books = [setup_tenant(i) for i in range(args.tenants)]
    phases["tenants"] = time.perf_counter() - started
    rng = np.random.default_rng(20261123)
    now = np.datetime64(dt.datetime.now(dt.UTC).replace(tzinfo=None), "us")
    per_tenant = args.cases // args.tenants
    writer = CopyWriter()
    started = time.perf_counter()
    for book in books:
        with tenant_context(book["tenant_id"]), transaction.atomic():
            for start in range(0, per_tenant, 100_000):
                count = min(100_000, per_tenant - start)
                board = max(0, min(args.board_cases - start, count))
                writer.insert(generate_cases(book, count, board, now, rng))
    phases["copy_cases"] = time.perf_counter() - started
    connection = _owner_connection(args, args.database)
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE cases_case")
    connection.close()
    phases["vacuum_analyze"] = time.perf_counter() - started
    return books


def existing_books() -> list[dict]:
    """The seeded tenants' ids, teams and supervisors (``--skip-seed``)."""
    from vector_crm.models import Membership, Team, Tenant
    from vector_crm.tenancy import platform_context, tenant_context

    with platform_context():
        tenant_ids = list(
            Tenant.objects.filter(slug__startswith="bench-casos-").order_by("pk").values_list("pk", flat=True)
        )
    books = []
    for tenant_id in tenant_ids:
        with tenant_context(tenant_id):
            teams = list(Team.objects.order_by("name").values_list("pk", flat=True))
            supervisors = [
                Membership.objects.filter(team_id=team, role="supervisor").values_list("user_id", flat=True).first()
                for team in teams
            ]
        books.append({"tenant_id": tenant_id, "teams": teams, "supervisors": supervisors})
    return books


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class Meter:
    """Where a measured block's time went: wall, this process's CPU, its PostgreSQL
    backend's CPU (``/proc/<pid>/stat`` of the backend, same host), the time spent waiting
    on SQL statements and their number, and the load average before and after."""

    def __init__(self) -> None:
        from django.db import connection

        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend_pid = cursor.fetchone()[0]
        self.sql_wait = 0.0
        self.statements = 0

    def _backend_cpu(self) -> float | None:
        try:
            fields = Path(f"/proc/{self.backend_pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None  # PostgreSQL on another host
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _timed(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.sql_wait += time.perf_counter() - started
            self.statements += 1

    def __enter__(self) -> Meter:
        from django.db import connection

        self._wrapper = connection.execute_wrapper(self._timed)
        self._wrapper.__enter__()
        self.sql_wait, self.statements = 0.0, 0
        self._load = os.getloadavg()
        self._cpu = time.process_time()
        self._pg = self._backend_cpu()
        self._wall = time.perf_counter()
        return self

    def __exit__(self, *exc) -> None:
        self.wall = time.perf_counter() - self._wall
        self.python_cpu = time.process_time() - self._cpu
        pg = self._backend_cpu()
        self.postgres_cpu = pg - self._pg if pg is not None and self._pg is not None else None
        self._wrapper.__exit__(*exc)
        self.load = (self._load, os.getloadavg())

    def split(self, runs: int = 1) -> dict:
        """Totals of the block, per run when ``runs`` > 1 (milliseconds then)."""
        scale, unit = (1000 / runs, "ms") if runs > 1 else (1, "s")
        per = lambda value: None if value is None else round(value * scale, 3)  # noqa: E731
        return {
            f"wall_{unit}": per(self.wall),
            f"python_cpu_{unit}": per(self.python_cpu),
            f"postgres_cpu_{unit}": per(self.postgres_cpu),
            f"sql_wait_{unit}": per(self.sql_wait),
            "statements": round(self.statements / runs, 1),
            "load_average_before": [round(x, 2) for x in self.load[0]],
            "load_average_after": [round(x, 2) for x in self.load[1]],
        }


def measure_empty_sweep(args) -> dict:
    from cases.sweep import sla_sweep

    timings = []
    with Meter() as meter:
        for _ in range(args.repeat):
            started = time.perf_counter()
            counts = sla_sweep()
            timings.append(time.perf_counter() - started)
            assert counts["cases"] == 0, f"cases are due before the escalation run: {counts}"
    timings.sort()
    return {
        "runs": len(timings),
        "median_ms": _ms(statistics.median(timings)),
        "p95_ms": _ms(timings[int(0.95 * (len(timings) - 1))]),
        "max_ms": _ms(timings[-1]),
        "per_run": meter.split(runs=len(timings)),
    }


def make_due(books: list[dict], due: int, due_milestones: int) -> dict[str, int]:
    """``due`` open, not yet escalated cases (spread over the tenants) fall due a minute
    ago with one escalation level left: ``due_milestones`` of them on a warned milestone
    (inserted), the others on their resolution target (already warned)."""
    from django.db import connection

    from vector_crm.db import apply_session_settings
    from vector_crm.tenancy import tenant_context

    per_tenant, milestones_per_tenant = due // len(books), due_milestones // len(books)
    made = {"resolution": 0, "milestone": 0}
    for book in books:
        with tenant_context(book["tenant_id"]), connection.cursor() as cursor:
            apply_session_settings(cursor.cursor, connection)
            cursor.execute("CREATE TEMP TABLE IF NOT EXISTS bench_due (id bigint, n int)")
            cursor.execute("TRUNCATE bench_due")
            # Cases never used by an earlier run: not escalated, no milestone.
            cursor.execute(
                "INSERT INTO bench_due SELECT id, row_number() OVER (ORDER BY id) FROM cases_case c "
                "WHERE tenant_id = %s AND team_id <> %s AND escalation_level = 0 AND next_deadline_at IS NOT NULL "
                "AND NOT EXISTS (SELECT 1 FROM cases_casemilestone m WHERE m.case_id = c.id) ORDER BY id LIMIT %s",
                [book["tenant_id"], book["teams"][0], per_tenant],
            )
            cursor.execute(
                "UPDATE cases_case c SET resolution_due_at = now() - interval '1 minute', warn_at = now() - "
                "interval '3 hours', warned_at = now() - interval '3 hours', next_deadline_at = now() - interval "
                "'1 minute', escalation_offsets = '[0]' FROM bench_due d WHERE c.id = d.id AND d.n > %s",
                [milestones_per_tenant],
            )
            made["resolution"] += cursor.rowcount
            cursor.execute(
                "INSERT INTO cases_casemilestone (tenant_id, case_id, code, name, due_at, warn_at, warned_at) "
                "SELECT %s, d.id, 'documentos', 'Documentos completos', now() - interval '1 minute', "
                "now() - interval '1 hour', now() - interval '1 hour' FROM bench_due d WHERE d.n <= %s "
                "ON CONFLICT DO NOTHING",
                [book["tenant_id"], milestones_per_tenant],
            )
            made["milestone"] += cursor.rowcount
            cursor.execute(
                "UPDATE cases_case c SET next_deadline_at = now() - interval '1 minute' "
                "FROM bench_due d WHERE c.id = d.id AND d.n <= %s",
                [milestones_per_tenant],
            )
    return made


def _backend_memory_kb() -> dict:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        status = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    return {line.split(":")[0]: line.split(":")[1].strip() for line in status if line.startswith(("VmHWM", "VmRSS"))}


def measure_escalation_sweep(args, books) -> dict:
    from cases.sweep import sla_sweep

    made = make_due(books, args.due, args.due_milestones)
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with Meter() as meter:
        counts = sla_sweep()
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    second = sla_sweep()
    due = made["resolution"] + made["milestone"]
    return {
        "due": due,
        "due_by": made,
        "counts": counts,
        "seconds": round(meter.wall, 3),
        "escalations_per_second": round(counts["escalations"] / meter.wall, 1) if meter.wall else None,
        "split": meter.split(),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "peak_rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "postgres_backend_memory": _backend_memory_kb(),
        "second_run_counts": second,
    }


def measure_board(args, book: dict) -> dict:
    from django.test import Client

    from vector_crm.middleware import SESSION_TENANT_KEY
    from vector_crm.models import User

    client = Client()
    client.force_login(User.objects.get(pk=book["supervisors"][0]))
    session = client.session
    session[SESSION_TENANT_KEY] = book["tenant_id"]
    session.save()
    for _ in range(10):
        response = client.get("/cases/board/")
        assert response.status_code == 200, response.status_code
    timings = []
    with Meter() as meter:
        for _ in range(args.requests):
            started = time.perf_counter()
            response = client.get("/cases/board/")
            timings.append(time.perf_counter() - started)
    timings.sort()
    body = response.content.decode()
    return {
        "requests": len(timings),
        "p50_ms": _ms(timings[len(timings) // 2]),
        "p95_ms": _ms(timings[int(0.95 * (len(timings) - 1))]),
        "p99_ms": _ms(timings[int(0.99 * (len(timings) - 1))]),
        "per_request": meter.split(runs=len(timings)),
        "rows_rendered": body.count('name="case_ids"'),
        "bytes": len(response.content),
    }


def explain_plans(book: dict) -> dict[str, str]:
    """``EXPLAIN (ANALYZE, BUFFERS)`` of the sweep's and the board's queries, run in the
    first tenant so the row-level security policy is in the plan."""
    from django.db.models import Q
    from django.utils import timezone

    from cases.choices import OPEN_STATUSES
    from cases.models import Case
    from cases.selectors import BOARD_COLUMNS
    from cases.sweep import SWEEP_FIELDS
    from vector_crm.tenancy import tenant_context

    now = timezone.now()
    plans = {}
    with tenant_context(book["tenant_id"]):
        due = Case.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at", "pk")
        plans["sweep_lock_due"] = due.values(*SWEEP_FIELDS)[:500].explain(analyze=True, buffers=True)
        breached = Q(resolution_due_at__lte=now) | Q(response_breached_at__isnull=False, responded_at__isnull=True)
        urgent = Case.objects.filter(team_id=book["teams"][0], status__in=OPEN_STATUSES).filter(
            breached | Q(warn_at__lte=now)
        )
        rows = urgent.order_by("resolution_due_at", "id").values(*BOARD_COLUMNS)[:100]
        plans["board_rows"] = rows.explain(analyze=True, buffers=True)
    return plans


def _line(name: str, headline: str, split: dict) -> str:
    unit = "ms" if "wall_ms" in split else "s"
    parts = [
        f"{key.removesuffix('_' + unit)} {split[key]}"
        for key in (f"wall_{unit}", f"python_cpu_{unit}", f"postgres_cpu_{unit}", f"sql_wait_{unit}")
    ]
    return (
        f"  {name:<22} {headline:<34} [{unit}: {', '.join(parts)}; {split['statements']} statements; "
        f"load {split['load_average_before'][0]}->{split['load_average_after'][0]}]"
    )


def print_summary(results: dict) -> None:
    empty, escalation, board = results["sweep_nothing_due"], results["sweep_escalate_due"], results["board"]
    met = results["met"]
    ok = lambda key: "met" if met[key] else "MISSED"  # noqa: E731
    print("[bench] summary (targets: nothing due p95 < 50 ms, 10k escalations < 10 s, board p95 < 300 ms)")
    print(
        _line(
            "sweep, nothing due",
            f"p95 {empty['p95_ms']} ms ({ok('sweep_nothing_due_p95')})",
            empty["per_run"],
        )
    )
    print(
        _line(
            "sweep, escalate due",
            f"{escalation['seconds']} s for {escalation['counts']['escalations']} ({ok('sweep_escalate_due')})",
            escalation["split"],
        )
    )
    print(_line("board", f"p95 {board['p95_ms']} ms ({ok('board_p95')})", board["per_request"]))
    print(f"  peak RSS {escalation['peak_rss_mb']} MB; seeding phases {results['phases_seconds']}", flush=True)


def main(argv=None) -> int:
    args = parse_args(argv)
    configure_django(args)
    phases: dict[str, float] = {}
    started = time.perf_counter()
    prepare_database(args)
    phases["migrate"] = time.perf_counter() - started
    import django

    django.setup()
    from django.conf import settings

    if args.skip_seed:
        books = existing_books()
    else:
        print(f"[bench] seeding {args.cases} open cases over {args.tenants} tenants ...", flush=True)
        books = seed(args, phases)
    print(f"[bench] seeded: {json.dumps({k: round(v, 1) for k, v in phases.items()})}", flush=True)
    empty = measure_empty_sweep(args)
    print(f"[bench] empty sweep: {empty}", flush=True)
    board = measure_board(args, books[0])
    print(f"[bench] board: {board}", flush=True)
    escalation = measure_escalation_sweep(args, books)
    print(f"[bench] escalation sweep: {escalation}", flush=True)
    results = {
        "benchmark": "cases_sweep",
        "arguments": vars(args),
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "batch_size": settings.CASES_SLA_SWEEP_BATCH_SIZE,
        "phases_seconds": {k: round(v, 2) for k, v in phases.items()},
        "sweep_nothing_due": empty,
        "sweep_escalate_due": escalation,
        "board": board,
        "plans": explain_plans(books[0]),
        "targets_ms": TARGETS_MS,
        "met": {
            "sweep_nothing_due_p95": empty["p95_ms"] < TARGETS_MS["sweep_nothing_due_p95"],
            "sweep_escalate_due": escalation["seconds"] * 1000 < TARGETS_MS["sweep_escalate_due"]
            and escalation["counts"]["escalations"] == escalation["due"]
            and escalation["second_run_counts"]["cases"] == 0,
            "board_p95": board["p95_ms"] < TARGETS_MS["board_p95"],
        },
    }
    RESULTS.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
    path = RESULTS / f"{stamp}-cases-{args.cases}c-{args.tenants}t.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print_summary(results)
    print(f"[bench] results: {path.relative_to(ROOT)}  met: {results['met']}", flush=True)
    return 1 if args.strict and not all(results["met"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
