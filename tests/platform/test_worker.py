"""A real Celery worker and beat, as separate processes, against the test database.

Not eager mode: the test enqueues through ``job_enqueue`` onto a real broker (kombu's
filesystem transport in a temporary folder, or Redis on a dedicated database number when
REDIS_URL is set), and a ``celery -A vector_crm worker`` subprocess picks the message up
and writes the Job row that the test polls. Every run uses its own queue name, so
concurrent runs sharing a Redis never take each other's messages.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils.timezone import now as django_now

from customers.choices import LifecycleStatus
from customers.jobs import REFRESH_DELINQUENCY, refresh_delinquency
from customers.models import Customer, Holding
from tests import factories as f
from vector_crm.background import job_enqueue
from vector_crm.celery import app
from vector_crm.models import JobStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.worker

BASE_DIR = Path(settings.BASE_DIR)
START_TIMEOUT = 60
JOB_TIMEOUT = 90


def _with_db_name(url: str, name: str) -> str:
    return urlsplit(url)._replace(path="/" + quote(name)).geturl()


def _postgres_url(db: dict, name: str) -> str:
    auth = quote(db.get("USER") or "")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"])
    host = db.get("HOST") or "127.0.0.1"
    return f"postgres://{auth}@{host}:{db.get('PORT') or 5432}/{quote(name)}"


def _database_env() -> dict[str, str]:
    """DATABASE_URL / DATABASE_OWNER_URL of this process, pointed at the test database."""
    name = connection.settings_dict["NAME"]
    if connection.vendor == "sqlite":
        return {"DATABASE_URL": f"sqlite:///{name}"}
    env = {
        "DATABASE_URL": _with_db_name(
            os.environ.get("DATABASE_URL") or _postgres_url(connection.settings_dict, name), name
        )
    }
    if os.environ.get("DATABASE_OWNER_URL"):
        env["DATABASE_OWNER_URL"] = _with_db_name(os.environ["DATABASE_OWNER_URL"], name)
    return env


def _dedicated_redis_url(url: str) -> str:
    """The same Redis server on another database number, kept for the worker tests."""
    parts = urlsplit(url)
    current = int(parts.path.strip("/") or 0)
    db = int(os.environ.get("VECTOR_TEST_BROKER_REDIS_DB", 15 if current != 15 else 14))
    return parts._replace(path=f"/{db}").geturl()


def _reset_broker_connections() -> None:
    """Forget the cached broker pool, producer pool, queues and router of this process."""
    from kombu import pools

    if app._pool is not None:
        app._pool.force_close_all()
    app._pool = None
    app.__dict__.pop("amqp", None)
    # kombu keeps producer pools per connection in a process-wide group: with the same
    # Redis URL in two tests the second would get the first's (closed) pool back.
    pools.reset()


class Broker:
    """Points this process's Celery app at a private broker queue; ``env`` does the same
    for the subprocesses."""

    def __init__(self, tmp_path: Path):
        self.queue = f"vector-test-{uuid.uuid4().hex[:10]}"
        redis_url = os.environ.get("CELERY_BROKER_URL") or settings.REDIS_URL
        if redis_url.startswith(("redis://", "rediss://")):
            self.url = _dedicated_redis_url(redis_url)
            self.transport_options: dict = {}
            self.env = {"CELERY_BROKER_URL": self.url}
        else:
            folder = tmp_path / "broker"
            for sub in ("queue", "processed", "control"):
                (folder / sub).mkdir(parents=True)
            self.url = "filesystem://"
            self.transport_options = {
                "data_folder_in": str(folder / "queue"),
                "data_folder_out": str(folder / "queue"),
                "processed_folder": str(folder / "processed"),
                "control_folder": str(folder / "control"),
                "store_processed": False,
            }
            self.env = {"CELERY_BROKER_URL": "filesystem://", "VECTOR_BROKER_DIR": str(folder)}
        self.env["CELERY_TASK_DEFAULT_QUEUE"] = self.queue
        self._saved: dict = {}

    def __enter__(self) -> Broker:
        overrides = {
            "broker_url": self.url,
            "broker_transport_options": self.transport_options,
            "task_default_queue": self.queue,
            "task_always_eager": False,
        }
        self._saved = {key: app.conf[key] for key in overrides}
        for key, value in overrides.items():
            app.conf[key] = value
        _reset_broker_connections()
        return self

    def __exit__(self, *exc) -> None:
        if self.url != "filesystem://":
            import redis

            # The private queue, and the exchange named after it, leave nothing behind.
            client = redis.Redis.from_url(self.url)
            client.delete(self.queue, f"_kombu.binding.{self.queue}", f"_kombu.binding_permanent.{self.queue}")
            client.close()
        for key, value in self._saved.items():
            app.conf[key] = value
        _reset_broker_connections()


class CeleryProcess:
    """``celery -A vector_crm <args>`` in its own process group, output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path):
        self.name = name
        self.log = log
        self._log_file = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "vector_crm", *args],
            cwd=BASE_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output())
            if match:
                return match
            if self.proc.poll() is not None:
                break
            time.sleep(0.2)
        pytest.fail(
            f"{self.name}: no {pattern!r} within {timeout}s (exit {self.proc.poll()}):\n{self.output()[-4000:]}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash or the OOM killer would."""
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait(timeout=15)

    def stop(self) -> None:
        """TERM the whole process group, then KILL what is left."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        if self.proc.poll() is None:
            self.proc.wait(timeout=5)
        self._log_file.close()


@pytest.fixture
def broker(tmp_path):
    with Broker(tmp_path) as broker:
        yield broker


@pytest.fixture
def celery_env(transactional_db, broker, tmp_path) -> dict[str, str]:
    env = {**os.environ, **_database_env(), **broker.env}
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    env["VECTOR_VAR_DIR"] = str(settings.VAR_DIR)  # same SQLite test file, not the dev one
    env["PYTHONUNBUFFERED"] = "1"
    return env


@pytest.fixture
def start_celery(celery_env, broker, tmp_path):
    started: list[CeleryProcess] = []

    def start(kind: str, *extra: str, env: dict[str, str] | None = None) -> CeleryProcess:
        args = [kind, "--loglevel=INFO", *extra]
        if kind == "worker":
            args += ["--pool=solo", f"--hostname={broker.queue}@%h", f"--queues={broker.queue}"]
            args += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
        process = CeleryProcess(kind, args, {**celery_env, **(env or {})}, tmp_path / f"{kind}-{len(started)}.log")
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()


def _overdue_portfolio(tenant, customers: int) -> list[Holding]:
    holdings = []
    with tenant_context(tenant.pk):
        for _ in range(customers):
            holding = f.HoldingFactory(customer=f.CustomerFactory(lifecycle_status=LifecycleStatus.ACTIVE))
            f.PaymentFactory(
                holding=holding,
                due_date=dt.date(2026, 10, 1),
                amount_due=Decimal("100.00"),
                paid_on=None,
                amount_paid=0,
            )
            holdings.append(holding)
    return holdings


def test_worker_runs_a_tenant_job_and_records_progress(tenant_a, tenant_b, start_celery):
    # given five customers with one overdue instalment each in tenant A, one in tenant B
    holdings = _overdue_portfolio(tenant_a, 5)
    (b_holding,) = _overdue_portfolio(tenant_b, 1)
    worker = start_celery("worker")
    worker.wait_for(r"\bready\.", START_TIMEOUT)

    # when the job is queued the way the UI and beat do, in chunks of two customers
    with transaction.atomic():
        job = job_enqueue(
            refresh_delinquency,
            tenant_id=tenant_a.pk,
            kind=REFRESH_DELINQUENCY,
            params={"as_of": "2026-11-10", "chunk_size": 2},
        )

    # then the worker process runs it and the Job row tells the whole story
    deadline = time.monotonic() + JOB_TIMEOUT
    seen = set()
    while time.monotonic() < deadline:
        with tenant_context(tenant_a.pk):
            job.refresh_from_db()
        seen.add(job.status)
        if job.is_finished or worker.proc.poll() is not None:
            break
        time.sleep(0.1)
    log = worker.output()
    assert job.status == JobStatus.SUCCEEDED, f"{job.status} {job.error}\n{log[-4000:]}"
    assert job.total == job.done == 5
    assert job.started_at is not None and job.finished_at is not None
    assert job.created_at <= job.started_at <= job.finished_at
    assert job.counts == {"chunks": 3, "holdings_updated": 5, "customers_delinquent": 5, "customers_cured": 0}
    assert job.result["customers"] == 5
    assert f"Task {REFRESH_DELINQUENCY}[" in log and "succeeded" in log
    # and the data changed in tenant A only
    with tenant_context(tenant_a.pk):
        assert set(Holding.objects.values_list("days_past_due", flat=True)) == {40}
        assert set(Customer.objects.values_list("lifecycle_status", flat=True)) == {LifecycleStatus.DELINQUENT}
        assert len(holdings) == Holding.objects.count()
    with tenant_context(tenant_b.pk):
        assert Holding.objects.get(pk=b_holding.pk).days_past_due == 0


def test_worker_answers_inspect_ping(broker, celery_env, start_celery):
    worker = start_celery("worker")
    worker.wait_for(r"\bready\.", START_TIMEOUT)

    ping = subprocess.run(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "vector_crm",
            "inspect",
            "ping",
            "--timeout=5",
            f"--destination={broker.queue}@{os.uname().nodename}",
        ],
        cwd=BASE_DIR,
        env=celery_env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "pong" in ping.stdout


def test_beat_sends_the_heartbeat_that_the_worker_runs(start_celery, tmp_path):
    # given a worker, and beat with the heartbeat every second and its own schedule file
    worker = start_celery("worker")
    worker.wait_for(r"\bready\.", START_TIMEOUT)
    cache.delete("vector_crm:heartbeat")
    start_celery("beat", f"--schedule={tmp_path / 'beat-schedule'}", env={"VECTOR_HEARTBEAT_SECONDS": "1"})

    # then within seconds the worker has run vector_crm.heartbeat, sent by beat
    worker.wait_for(r"Task vector_crm\.heartbeat\[[0-9a-f-]+\] succeeded", START_TIMEOUT)
    if settings.REDIS_URL:  # a shared cache: the health-check key is visible here too
        assert cache.get("vector_crm:heartbeat")


class StallingReceiver:
    """A local webhook receiver that records every request; the first one stalls (the
    worker is inside the POST) until ``release`` or a timeout, the others get 200."""

    def __init__(self, stall_seconds: float = 60):
        import http.server
        import threading

        self.requests: list[dict] = []
        self.first_arrived = threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                if len(receiver.requests) == 1:
                    receiver.first_arrived.set()
                    receiver.release.wait(timeout=stall_seconds)
                try:
                    self.send_response(200)
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the worker that sent it is gone

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"

    def __enter__(self) -> StallingReceiver:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.1)
    pytest.fail(f"timed out after {timeout}s waiting for {what}")


LEASE_SECONDS = 3


def test_killed_worker_mid_delivery_leads_to_redelivery_with_the_same_event_id(org_a, start_celery, settings, tmp_path):
    from customers.services import customer_create
    from vector_crm.jobs import sweep_webhook_deliveries
    from vector_crm.models import DeliveryStatus, OutboxEvent, WebhookDelivery
    from vector_crm.outbox import verify
    from vector_crm.services import webhook_endpoint_create

    settings.VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP = True
    admin = org_a["tenant_admin"]
    with StallingReceiver() as receiver:
        # given an endpoint on a local receiver and a worker whose claims last LEASE_SECONDS
        with tenant_context(org_a.tenant.pk):
            endpoint, secret = webhook_endpoint_create(
                actor=admin.user, membership=admin, url=receiver.url, event_types=["customer.created"]
            )
        # (the receiver listens on the loopback, which deliveries reach only with the local setting)
        local = {"VECTOR_WEBHOOKS_ALLOW_LOCAL_HTTP": "1"}
        first = start_celery("worker", env={"VECTOR_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS), **local})
        first.wait_for(r"\bready\.", START_TIMEOUT)

        # when a customer is created (the delivery is queued on commit) and the worker is
        # killed while its POST is at the receiver
        with tenant_context(org_a.tenant.pk):
            customer_create(
                actor=admin.user,
                membership=admin,
                data={
                    "kind": "person",
                    "identification_type": "cc",
                    "identification_number": "1098765432",
                    "first_name": "Ana",
                    "last_name": "Rojas",
                },
            )
            event = OutboxEvent.objects.get()
        assert receiver.first_arrived.wait(timeout=JOB_TIMEOUT), first.output()[-4000:]
        first.kill()
        receiver.release.set()
        with tenant_context(org_a.tenant.pk):
            claimed = WebhookDelivery.objects.get()
        assert (claimed.status, claimed.attempts) == (DeliveryStatus.PENDING, 0)  # the outcome was never written

        # then a fresh worker, run by the sweep once the lease has passed, delivers it again
        second = start_celery("worker", env=local)
        second.wait_for(r"\bready\.", START_TIMEOUT)
        _wait_for(lambda: claimed.next_attempt_at <= django_now(), LEASE_SECONDS + 5, "the claim's lease to pass")
        sweep_webhook_deliveries.delay()

        def delivered():
            with tenant_context(org_a.tenant.pk):
                delivery = WebhookDelivery.objects.get()
            return delivery if delivery.status == DeliveryStatus.SUCCEEDED else None

        delivery = _wait_for(delivered, JOB_TIMEOUT, "the redelivery")
        # and a later sweep finds nothing due
        sweep_webhook_deliveries.delay()
        sweeps = r"Task vector_crm\.sweep_webhook_deliveries\[[0-9a-f-]+\] succeeded in [0-9.]+s: (\d+)"
        results = _wait_for(
            lambda: len(re.findall(sweeps, second.output())) >= 2 and re.findall(sweeps, second.output()),
            JOB_TIMEOUT,
            "the second sweep",
        )
        assert results[:2] == ["1", "0"]

    # the receiver got the stalled POST and the redelivery, with one event id and valid signatures
    assert len(receiver.requests) == 2, [r["headers"].get("X-Vector-Event-Id") for r in receiver.requests]
    for request in receiver.requests:
        headers, body = request["headers"], request["body"]
        assert headers["X-Vector-Event-Id"] == str(event.event_id)
        assert json.loads(body)["id"] == str(event.event_id)
        assert verify(secret, headers["X-Vector-Signature"], body, now=int(django_now().timestamp()))
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (DeliveryStatus.SUCCEEDED, 1, 200)
    assert delivery.delivered_at is not None and delivery.endpoint_id == endpoint.pk
