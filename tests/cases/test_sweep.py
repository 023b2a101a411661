"""The SLA sweep: warning then escalation once each, in order; twice -> once; tenants apart."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from cases import selectors, sweep
from cases.choices import Clock, Status
from cases.jobs import sweep_sla_deadlines
from cases.models import Case, Escalation
from tests.cases.conftest import BOGOTA
from vector_crm.celery import app
from vector_crm.models import Notification, OutboxEvent
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

TUESDAY = dt.date(2026, 1, 13)


def at(hour, minute=0, day=TUESDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BOGOTA)


def _run(org, now):
    return sweep.sla_sweep_tenant(org.tenant.pk, now=now, batch_size=2)


def _escalations(org, case):
    with tenant_context(org.tenant.pk):
        return list(Escalation.objects.filter(case=case).order_by("pk").values_list("clock", "level", "target_role"))


def _timeline(org, case):
    """The kinds of the case page's timeline (events with the escalations merged in)."""
    with tenant_context(org.tenant.pk):
        return [event.kind for event in selectors.case_timeline(case)]


def _sla_only(types_a):
    """These tests follow the SLA clocks alone: the type's moments of truth are left out."""
    types_a["solicitud"].milestones = []


def test_nothing_happens_before_the_first_deadline(open_case, org_a):
    case = open_case()
    assert _run(org_a, at(8, 59)) == {"cases": 0, "warnings": 0, "escalations": 0, "batches": 0}
    assert _escalations(org_a, case) == []


def test_warning_then_escalations_once_each_and_in_order(open_case, org_a, types_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _sla_only(types_a)
    case = open_case(team=org_a.team, assignee=org_a["advisor"].user)
    advisor, supervisor = org_a["advisor"].user, org_a["supervisor"].user
    manager = org_a["branch_manager"].user
    with tenant_context(org_a.tenant.pk):
        from cases import services

        services.case_transition(
            actor=advisor, membership=org_a["advisor"], case=case, to_status=Status.ACKNOWLEDGED, now=at(8, 30)
        )
    # 14:00 = 75 % of the 8 h target: the assignee is warned
    assert _run(org_a, at(14, 0))["warnings"] == 1
    assert _run(org_a, at(14, 1))["cases"] == 0
    # 16:00: resolution breached -> level 1 to the team's supervisor
    assert _run(org_a, at(16, 0))["escalations"] == 1
    # four working hours later (Wednesday 11:00) -> level 2 to the branch manager
    assert _run(org_a, at(10, 59, TUESDAY + dt.timedelta(days=1)))["escalations"] == 0
    assert _run(org_a, at(11, 0, TUESDAY + dt.timedelta(days=1)))["escalations"] == 1
    assert _run(org_a, at(11, 0, TUESDAY + dt.timedelta(days=9)))["cases"] == 0
    assert _escalations(org_a, case) == [(Clock.RESOLUTION, 1, "supervisor"), (Clock.RESOLUTION, 2, "branch_manager")]
    assert _timeline(org_a, case) == ["created", "transition", "warning", "escalation", "escalation"]
    with tenant_context(org_a.tenant.pk):
        stored = Case.objects.get(pk=case.pk)
        assert (stored.escalation_level, stored.next_deadline_at) == (2, None)
        assert stored.warned_at == at(14, 0)
        notified = list(Notification.objects.order_by("pk").values_list("user_id", "kind"))
        events = list(
            OutboxEvent.objects.filter(aggregate_id=str(case.pk)).order_by("pk").values_list("type", flat=True)
        )
    assert notified == [
        (advisor.pk, "case.sla_warning"),
        (supervisor.pk, "case.escalated"),
        (manager.pk, "case.escalated"),
    ]
    assert events.count("case.sla_warning") == 1
    assert events.count("case.escalated") == 2


def test_a_late_sweep_fires_every_missed_step_in_order_once(open_case, org_a, types_a):
    _sla_only(types_a)
    case = open_case(team=org_a.team)
    # nobody answered and the worker was down until Thursday: every step at once
    counts = _run(org_a, at(12, 0, TUESDAY + dt.timedelta(days=2)))
    assert counts == {"cases": 1, "warnings": 1, "escalations": 3, "batches": 1}
    assert _escalations(org_a, case) == [
        (Clock.FIRST_RESPONSE, 1, "supervisor"),
        (Clock.RESOLUTION, 1, "supervisor"),
        (Clock.RESOLUTION, 2, "branch_manager"),
    ]
    # on the timeline, steps recorded at the same instant list the warning first
    assert _timeline(org_a, case) == ["created", "warning", "escalation", "escalation", "escalation"]
    # run twice -> nothing more
    assert _run(org_a, at(12, 0, TUESDAY + dt.timedelta(days=2)))["cases"] == 0
    assert len(_escalations(org_a, case)) == 3


def test_waiting_on_the_customer_stops_the_clock(open_case, org_a):
    case = open_case()
    with tenant_context(org_a.tenant.pk):
        from cases import services

        for status in (Status.ACKNOWLEDGED, Status.WAITING_CUSTOMER):
            case = services.case_transition(actor=None, membership=None, case=case, to_status=status, now=at(8, 30))
    assert _run(org_a, at(12, 0, TUESDAY + dt.timedelta(days=5)))["cases"] == 0
    assert _escalations(org_a, case) == []


def test_batches_cover_every_due_case_and_leave_other_tenants_alone(open_case, org_a, org_b):
    from tests.cases.factories import CaseFactory

    cases = [open_case(subject=f"caso {i}") for i in range(5)]
    with tenant_context(org_b.tenant.pk):
        theirs = CaseFactory(
            tenant=org_b.tenant, next_deadline_at=at(9), resolution_due_at=at(9), escalation_offsets=[0]
        )
    counts = _run(org_a, at(9, 0))
    assert counts["cases"] == 5 and counts["batches"] == 3
    assert all(_escalations(org_a, c) == [(Clock.FIRST_RESPONSE, 1, "supervisor")] for c in cases)
    with tenant_context(org_b.tenant.pk):
        assert Case.objects.get(pk=theirs.pk).next_deadline_at == at(9)
        assert not Escalation.objects.exists()


def test_beat_task_sweeps_every_tenant_and_is_scheduled_every_minute(open_case, org_a, org_b, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from tests.cases.factories import CaseFactory

    past = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    with tenant_context(org_b.tenant.pk):
        theirs = CaseFactory(
            tenant=org_b.tenant, next_deadline_at=past, resolution_due_at=past, escalation_offsets=[0], team=org_b.team
        )
    assert sweep_sla_deadlines() == {"tenants": 1, "cases": 1, "warnings": 0, "escalations": 1}
    assert sweep_sla_deadlines() == {"tenants": 0, "cases": 0, "warnings": 0, "escalations": 0}
    with tenant_context(org_b.tenant.pk):
        assert Escalation.objects.get(case=theirs).notified == [org_b["supervisor"].user_id]
    assert app.conf.beat_schedule["cases-sweep-sla-deadlines"]["schedule"] == 60.0
    assert mail.outbox == []  # e-mails leave after commit, from the worker


def test_notification_emails_are_sent_once(org_a, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    from tests import factories as f
    from vector_crm.jobs import send_notification_emails

    with tenant_context(org_a.tenant.pk):
        user = org_a["supervisor"].user
        user.email = "sup@banco.example"
        user.save()
        note = f.NotificationFactory(user=user, title="C-000001 escalado")
    assert send_notification_emails(org_a.tenant.pk, [note.pk]) == 1
    assert send_notification_emails(org_a.tenant.pk, [note.pk]) == 0
    assert [(m.subject, m.to) for m in mail.outbox] == [("C-000001 escalado", ["sup@banco.example"])]
