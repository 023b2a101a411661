"""Celery jobs of CASOS. Thin: they call ``cases.sweep`` / ``cases.services``."""

from __future__ import annotations

from celery import shared_task

from cases.sweep import sla_sweep


@shared_task(name="cases.sweep_sla_deadlines", acks_late=True, ignore_result=True)
def sweep_sla_deadlines() -> dict[str, int]:
    """Beat, every minute: warn and escalate every tenant's due cases, in batches.

    The timers are the cases' ``next_deadline_at``; a lost or repeated tick is harmless
    (the next one finds the same due cases; a case already handled is no longer due)."""
    return sla_sweep()
