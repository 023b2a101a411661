"""The SLA sweep with a real Celery worker and beat (separate processes, real broker).

Timers are database state, so beat escalates a breached case within two sweep intervals,
and a worker killed in the middle of a sweep loses nothing and doubles nothing: the next
sweep escalates every remaining due case, each exactly once.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import signal
import time

import pytest
from django.db.models import Count
from django.utils import timezone

from cases.jobs import sweep_sla_deadlines
from cases.models import CaseEvent, Escalation
from tests.cases.factories import CaseFactory
from tests.conftest import build_org
from tests.platform.test_worker import START_TIMEOUT
from vector_crm.models import Notification
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.worker

SWEEP_SECONDS = 3


def _due_cases(org, count: int, *, due_at=None):
    due_at = due_at or timezone.now() - dt.timedelta(minutes=5)
    with tenant_context(org.tenant.pk):
        return [
            CaseFactory(
                tenant=org.tenant,
                team=org.team,
                next_deadline_at=due_at,
                resolution_due_at=due_at,
                escalation_offsets=[0],
                subject=f"Caso {n}",
            )
            for n in range(count)
        ]


def _escalation_count(org) -> int:
    with tenant_context(org.tenant.pk):
        return Escalation.objects.count()


def test_beat_and_worker_escalate_a_breached_case_within_two_sweep_intervals(tenant_a, start_celery, tmp_path):
    org = build_org(tenant_a, "w")
    worker = start_celery("worker")
    worker.wait_for(r"\bready\.", START_TIMEOUT)
    beat = start_celery(
        "beat", f"--schedule={tmp_path / 'beat-schedule'}", env={"VECTOR_SLA_SWEEP_SECONDS": str(SWEEP_SECONDS)}
    )
    beat.wait_for(r"Sending due task cases-sweep-sla-deadlines", START_TIMEOUT)
    # given a case that breaches its resolution target now
    (case,) = _due_cases(org, 1, due_at=timezone.now())
    breached_at = time.monotonic()
    # then an escalation is recorded within two sweep intervals
    while time.monotonic() - breached_at < 2 * SWEEP_SECONDS + 1 and not _escalation_count(org):
        time.sleep(0.1)
    elapsed = time.monotonic() - breached_at
    assert _escalation_count(org) == 1, worker.output()[-3000:]
    assert elapsed <= 2 * SWEEP_SECONDS + 1
    with tenant_context(tenant_a.pk):
        escalation = Escalation.objects.get(case=case)
        assert (escalation.level, escalation.target_role, escalation.notified) == (
            1,
            "supervisor",
            [org["supervisor"].user_id],
        )
    # and later ticks change nothing
    worker.wait_for(r"(?s)(Task cases\.sweep_sla_deadlines\[.*succeeded.*){3}", START_TIMEOUT)
    assert _escalation_count(org) == 1


def test_killing_the_worker_mid_sweep_then_restarting_escalates_each_due_case_once(tenant_a, start_celery):
    org = build_org(tenant_a, "k")
    cases = _due_cases(org, 60)
    slow = {"VECTOR_SLA_SWEEP_BATCH_SIZE": "5", "VECTOR_SLA_SWEEP_BATCH_PAUSE": "0.4"}
    worker = start_celery("worker", env=slow)
    worker.wait_for(r"\bready\.", START_TIMEOUT)
    # when a sweep is running and the worker is killed (SIGKILL) between two batches
    sweep_sla_deadlines.delay()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and _escalation_count(org) < 10:
        time.sleep(0.05)
    os.killpg(worker.proc.pid, signal.SIGKILL)
    worker.proc.wait(timeout=10)
    done_before_restart = _escalation_count(org)
    assert 10 <= done_before_restart < 60, done_before_restart
    # and a new worker runs the next sweep
    restarted = start_celery("worker")
    restarted.wait_for(r"\bready\.", START_TIMEOUT)
    sweep_sla_deadlines.delay()
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and _escalation_count(org) < 60:
        time.sleep(0.1)
    restarted.wait_for(r"Task cases\.sweep_sla_deadlines\[[0-9a-f-]+\] succeeded", START_TIMEOUT)
    # then every due case was escalated exactly once (the escalation is its timeline record)
    # and counted in exactly one notification to the supervisor: one digest per committed
    # batch (of five before the kill, of every remaining case after), which names up to 20
    # cases and counts the rest
    with tenant_context(tenant_a.pk):
        per_case = dict(Escalation.objects.values_list("case_id").annotate(n=Count("id")).order_by())
        assert per_case == {case.pk: 1 for case in cases}
        assert not CaseEvent.objects.filter(kind="escalation").exists()
        digests = list(Notification.objects.filter(kind="case.escalated").values_list("user_id", "title", "body"))
    named = [ref for _user, _title, body in digests for ref in re.findall(r"C-\d{6}", body)]
    more = sum(int(n) for _user, _title, body in digests for n in re.findall(r"y (\d+) más", body))
    assert len(set(named)) == len(named) and set(named) <= {case.reference for case in cases}
    assert len(named) + more == 60
    # "N casos escalados", or a lone case's own title
    assert sum(int(t.split()[0]) if t[0].isdigit() else 1 for _user, t, _body in digests) == 60
    assert {user for user, _title, _body in digests} == {org["supervisor"].user_id}
