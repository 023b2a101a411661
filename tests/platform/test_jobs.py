"""The background-job machinery (vector_crm.background), the platform tasks and the beat
schedule, run in-process. A real worker and beat are exercised in test_worker.py."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.cache import cache

from tests import factories as f
from vector_crm.background import job_enqueue, tenant_job
from vector_crm.celery import app
from vector_crm.jobs import heartbeat
from vector_crm.models import Job, JobStatus
from vector_crm.tenancy import get_current_tenant_id, tenant_context

pytestmark = pytest.mark.django_db

seen_tenants: list[int | None] = []


@tenant_job("tests.count_to")
def count_to(*, reporter, n: int, fail_at: int | None = None) -> dict:
    seen_tenants.append(get_current_tenant_id())
    reporter.set_total(n)
    for i in range(1, n + 1):
        if i == fail_at:
            raise ValueError(f"broke at {i}")
        reporter.progress(i, steps=i)
    return {"counted": n}


@pytest.fixture(autouse=True)
def _reset_seen():
    seen_tenants.clear()


def _job(tenant, **params):
    with tenant_context(tenant.pk):
        return f.JobFactory(kind="tests.count_to", params=params)


def test_tenant_job_runs_in_the_tenant_and_records_success(tenant_a):
    job = _job(tenant_a, n=3)

    result = count_to.apply(args=(tenant_a.pk, job.pk), kwargs={"n": 3}).get()

    with tenant_context(tenant_a.pk):
        job.refresh_from_db()
    assert result == {"counted": 3}
    assert seen_tenants == [tenant_a.pk]
    assert (job.status, job.total, job.done, job.counts, job.result) == (
        JobStatus.SUCCEEDED,
        3,
        3,
        {"steps": 3},
        {"counted": 3},
    )
    assert job.started_at <= job.finished_at
    assert job.percent == 100


def test_tenant_job_records_failure_with_the_error(tenant_a):
    job = _job(tenant_a, n=5, fail_at=3)

    with pytest.raises(ValueError, match="broke at 3"):
        count_to.apply(args=(tenant_a.pk, job.pk), kwargs={"n": 5, "fail_at": 3}, throw=True).get()

    with tenant_context(tenant_a.pk):
        job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.done == 2 and job.total == 5  # progress up to the failure is kept
    assert "broke at 3" in job.error
    assert job.finished_at is not None


def test_a_finished_job_is_not_run_again(tenant_a):
    job = _job(tenant_a, n=2)
    count_to.apply(args=(tenant_a.pk, job.pk), kwargs={"n": 2})
    # a redelivered message for the same Job
    count_to.apply(args=(tenant_a.pk, job.pk), kwargs={"n": 2})
    assert seen_tenants == [tenant_a.pk]


def test_a_job_id_of_another_tenant_is_skipped_untouched(tenant_a, tenant_b):
    job = _job(tenant_a, n=2)

    assert count_to.apply(args=(tenant_b.pk, job.pk), kwargs={"n": 2}).get() is None

    with tenant_context(tenant_a.pk):
        job.refresh_from_db()
    assert seen_tenants == []
    assert job.status == JobStatus.QUEUED


def test_job_enqueue_creates_the_job_and_sends_after_commit(tenant_a, org_a, django_capture_on_commit_callbacks):
    with mock.patch.object(count_to, "delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            job = job_enqueue(
                count_to,
                tenant_id=tenant_a.pk,
                kind="tests.count_to",
                params={"n": 4},
                created_by=org_a["tenant_admin"].user,
            )
        # nothing is sent before the transaction commits
        delay.assert_not_called()
        for callback in callbacks:
            callback()
    delay.assert_called_once_with(tenant_a.pk, job.pk, n=4)
    with tenant_context(tenant_a.pk):
        stored = Job.objects.get(pk=job.pk)
    assert (stored.tenant_id, stored.status, stored.params, stored.created_by) == (
        tenant_a.pk,
        JobStatus.QUEUED,
        {"n": 4},
        org_a["tenant_admin"].user,
    )


def test_heartbeat_records_the_time_in_the_cache():
    cache.delete("vector_crm:heartbeat")
    stamp = heartbeat.apply().get()
    assert cache.get("vector_crm:heartbeat") == stamp


def test_beat_schedule_names_only_registered_tasks():
    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert {"customers-refresh-delinquency-nightly", "platform-heartbeat"} <= set(schedule)
    for name, entry in schedule.items():
        assert entry["task"] in app.tasks, f"beat entry {name} names unknown task {entry['task']}"


def test_every_job_module_task_acks_late():
    """DESIGN.md: every job uses acks_late (a worker lost mid-job re-runs it)."""
    app.loader.import_default_modules()
    ours = [t for name, t in app.tasks.items() if not name.startswith("celery.")]
    assert ours
    for task in ours:
        assert task.acks_late, task.name
