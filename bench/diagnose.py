"""Why is a request as fast or slow as it is: query counts and the plans of its queries.

Run inside the bench environment after ``bench.prepare``::

    python -m bench.diagnose --fixtures /tmp/vector-bench/fixtures.json --out diag.json

Replays a few of the fixture requests in-process (Django test client, same settings and
database role as gunicorn), captures every SQL statement, and runs
``EXPLAIN (ANALYZE, BUFFERS)`` on the slowest one in the request's tenant, so the
row-level security policy is part of the plan exactly as in production.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fixtures", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--per-endpoint", type=int, default=3, help="Requests diagnosed per endpoint.")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vector_crm.settings")
    import django

    django.setup()
    fixtures = json.loads(Path(args.fixtures).read_text())
    report = {
        endpoint: [diagnose(fixtures, sample, api=endpoint != "detail") for sample in samples[: args.per_endpoint]]
        for endpoint, samples in ((e, fixtures.get(e, [])) for e in ("list", "search", "detail"))
    }
    text = json.dumps(report, indent=2)
    for tenant in fixtures["tenants"].values():  # results are committed: no live session keys
        text = text.replace(tenant["session_cookie"].partition("=")[2], "<session-key>")
    Path(args.out).write_text(text)
    for name, runs in report.items():
        for run in runs:
            print(
                f"{name:6} {run['status']} {run['queries']:>3} queries {run['db_ms']:>7.1f} ms in SQL "
                f"(slowest {run['slowest_ms']:.1f} ms) {run['path']}"
            )
    return 0


def diagnose(fixtures: dict, sample: dict, *, api: bool) -> dict:
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from vector_crm.tenancy import tenant_context

    tenant = fixtures["tenants"][sample["tenant"]]
    client = Client()
    headers = {}
    if api:
        headers["HTTP_AUTHORIZATION"] = f"Api-Key {tenant['api_key']}"
    else:
        name, _sep, value = tenant["session_cookie"].partition("=")
        client.cookies[name or settings.SESSION_COOKIE_NAME] = value
    client.get(sample["path"], **headers)  # warm caches and connection
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(sample["path"], **headers)
        elapsed = time.perf_counter() - started
    queries = [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in captured.captured_queries]
    slowest = max(queries, key=lambda q: q["ms"], default={"sql": "", "ms": 0.0})
    plan = ""
    if slowest["sql"].lstrip().upper().startswith("SELECT") and connection.vendor == "postgresql":
        with tenant_context(int(sample["tenant"])), connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
            plan = "\n".join(row[0] for row in cursor.fetchall())
    return {
        "path": sample["path"],
        "status": response.status_code,
        "in_process_ms": round(elapsed * 1000, 2),
        "queries": len(queries),
        "db_ms": round(sum(q["ms"] for q in queries), 2),
        "slowest_ms": round(slowest["ms"], 2),
        "slowest_sql": slowest["sql"],
        "slowest_plan": plan,
        "all_queries": queries,
    }


if __name__ == "__main__":
    sys.exit(main())
