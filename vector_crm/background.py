"""Running background work inside a tenant, with progress in a ``Job`` row.

``tenant_job`` turns a plain function into a Celery task that takes ``tenant_id`` and
``job_id``, enters the tenant, marks the Job running, hands the function a
``JobReporter`` for progress, and records success or failure. ``job_enqueue`` creates the
Job row and queues the task once the surrounding transaction commits.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from typing import Any

from celery import shared_task
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from vector_crm.models import Job, JobStatus
from vector_crm.tenancy import tenant_context

logger = logging.getLogger(__name__)


LIVE_PROGRESS_SECONDS = 6 * 3600


def live_progress_key(job_id: int) -> str:
    return f"vector_crm:job-progress:{job_id}"


class JobReporter:
    """Writes progress to the Job row in its own autocommit statement, so pollers see it.

    Inside a transaction (a job that must write all or nothing, like a file import) the
    row update stays invisible until commit, so progress also goes to the cache, where
    ``overlay_live_progress`` picks it up for the progress bar."""

    def __init__(self, job: Job | None):
        self.job = job

    def set_total(self, total: int) -> None:
        if self.job is not None:
            self.job.total = total
            Job.objects.filter(pk=self.job.pk).update(total=total)
            self._publish()

    def progress(self, done: int, **counts: int) -> None:
        if self.job is None:
            return
        self.job.done = done
        self.job.counts = {**self.job.counts, **counts}
        Job.objects.filter(pk=self.job.pk).update(done=done, counts=self.job.counts)
        self._publish()

    def _publish(self) -> None:
        if transaction.get_connection().in_atomic_block:
            live = {"total": self.job.total, "done": self.job.done, "counts": self.job.counts}
            cache.set(live_progress_key(self.job.pk), live, LIVE_PROGRESS_SECONDS)


def overlay_live_progress(job: Job) -> Job:
    """A running job's progress from the cache when it is ahead of the committed row."""
    if job.status != JobStatus.RUNNING:
        return job
    live = cache.get(live_progress_key(job.pk))
    if live and live.get("done", 0) >= job.done:
        job.total, job.done, job.counts = live["total"], live["done"], live["counts"]
    return job


def _start(job: Job) -> None:
    job.status = JobStatus.RUNNING
    job.started_at = timezone.now()
    job.error = ""
    Job.objects.filter(pk=job.pk).update(status=job.status, started_at=job.started_at, error="")


def _finish(job: Job, *, status: str, result: dict | None = None, error: str = "") -> None:
    job.status = status
    job.finished_at = timezone.now()
    fields: dict[str, Any] = {"status": status, "finished_at": job.finished_at, "error": error}
    if result is not None:
        fields["result"] = result
    if status == JobStatus.SUCCEEDED and job.total:
        fields["done"] = job.total
    Job.objects.filter(pk=job.pk).update(**fields)


def tenant_job(name: str, **task_options: Any) -> Callable:
    """Decorator: ``fn(*, reporter, **kwargs) -> dict | None`` becomes a tenant Celery task.

    The task is idempotent at the Job level: a Job that already finished is not run again
    (a redelivered message after a worker crash re-runs only unfinished work).
    """

    def decorator(fn: Callable[..., dict | None]):
        @shared_task(name=name, bind=True, acks_late=True, **task_options)
        @functools.wraps(fn)
        def task(self, tenant_id: int, job_id: int | None = None, **kwargs: Any):
            with tenant_context(tenant_id):
                job = Job.objects.filter(pk=job_id).first() if job_id else None
                if job_id and job is None:
                    logger.warning("Job %s not found in tenant %s; skipping", job_id, tenant_id)
                    return None
                if job is not None and job.is_finished:
                    return job.result
                if job is not None:
                    _start(job)
                try:
                    result = fn(reporter=JobReporter(job), **kwargs) or {}
                except Exception as exc:
                    if job is not None:
                        _finish(job, status=JobStatus.FAILED, error=f"{exc}\n{traceback.format_exc(limit=5)}")
                    raise
                if job is not None:
                    _finish(job, status=JobStatus.SUCCEEDED, result=result)
                return result

        return task

    return decorator


def job_enqueue(task, *, tenant_id: int, kind: str, created_by=None, params: dict | None = None) -> Job:
    """Create the Job row (current tenant) and queue ``task`` after the transaction commits."""
    params = params or {}
    with tenant_context(tenant_id):
        job = Job.objects.create(kind=kind, params=params, created_by=created_by)
    transaction.on_commit(lambda: task.delay(tenant_id, job.pk, **params))
    return job
