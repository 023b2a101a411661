"""Missed milestones ("moments of truth") in the SLA sweep, notification digests, and the
sweep's fixed number of statements per batch.

The "solicitud" type's milestone "Documentos completos" has a 540-business-minute target:
a case opened Tuesday 08:00 must reach it by 17:00, and is warned at 75 % (14:45). Its
own SLA (tests/cases/conftest.py): first response 09:00, warning 14:00, resolution 16:00,
level 2 on Wednesday 11:00.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import selectors, services, sweep
from cases.choices import Clock, Status
from cases.models import Case, CaseEvent, CaseMilestone, Escalation
from tests.cases.conftest import BOGOTA
from tests.cases.factories import CaseFactory
from tests.ui.helpers import page_text
from vector_crm.models import Notification, OutboxEvent
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

TUESDAY = dt.date(2026, 1, 13)
WEDNESDAY = TUESDAY + dt.timedelta(days=1)


def at(hour, minute=0, day=TUESDAY):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=BOGOTA)


def _run(org, now, batch_size=10):
    return sweep.sla_sweep_tenant(org.tenant.pk, now=now, batch_size=batch_size)


def _acknowledged_case(open_case, org):
    case = open_case(team=org.team, assignee=org["advisor"].user, opened_at=at(8, 0))
    with tenant_context(org.tenant.pk):
        return services.case_transition(
            actor=None, membership=org["advisor"], case=case, to_status=Status.ACKNOWLEDGED, now=at(8, 30)
        )


def test_a_milestone_is_planned_with_its_warning_and_moves_the_next_deadline(open_case, org_a):
    case = _acknowledged_case(open_case, org_a)
    with tenant_context(org_a.tenant.pk):
        milestone = CaseMilestone.objects.get(case=case)
        stored = Case.objects.get(pk=case.pk)
    assert (milestone.code, milestone.warn_at, milestone.due_at) == ("documentos", at(14, 45), at(17, 0))
    assert stored.next_deadline_at == at(14, 0)  # the SLA warning still comes first


def test_a_missed_milestone_warns_then_escalates_once_each_in_order(open_case, org_a):
    case = _acknowledged_case(open_case, org_a)
    advisor, supervisor = org_a["advisor"].user_id, org_a["supervisor"].user_id
    assert _run(org_a, at(14, 0))["warnings"] == 1  # the SLA's own warning
    assert _run(org_a, at(14, 44))["cases"] == 0
    # 14:45: 75 % of the milestone's target -> a warning to the assignee
    assert _run(org_a, at(14, 45)) == {"cases": 1, "warnings": 1, "escalations": 0, "batches": 1}
    assert _run(org_a, at(14, 45))["cases"] == 0
    assert _run(org_a, at(16, 0))["escalations"] == 1  # resolution level 1
    # 17:00: the milestone was not reached -> escalated to the team's supervisor, once
    assert _run(org_a, at(17, 0)) == {"cases": 1, "warnings": 0, "escalations": 1, "batches": 1}
    assert _run(org_a, at(17, 0))["cases"] == 0
    with tenant_context(org_a.tenant.pk):
        milestone = CaseMilestone.objects.get(case=case)
        assert (milestone.warned_at, milestone.missed_at, milestone.reached_at) == (at(14, 45), at(17, 0), None)
        escalations = list(
            Escalation.objects.filter(case=case)
            .order_by("pk")
            .values_list("clock", "level", "target_role", "milestone_id", "escalated_at", "reason", "notified")
        )
        warnings = list(CaseEvent.objects.filter(case=case, kind="warning").order_by("pk").values_list("body", "data"))
        notified = list(Notification.objects.order_by("pk").values_list("user_id", "kind", "title"))
        outbox = list(
            OutboxEvent.objects.filter(aggregate_id=str(case.pk)).order_by("pk").values_list("type", "payload")
        )
        timeline = [(event.kind, event.occurred_at) for event in selectors.case_timeline(case)]
        assert Case.objects.get(pk=case.pk).next_deadline_at == at(11, 0, WEDNESDAY)  # then level 2
    missed = "Se incumplió el momento de verdad «Documentos completos»."
    assert escalations == [
        (Clock.RESOLUTION, 1, "supervisor", None, at(16, 0), "Venció el ANS de resolución (nivel 1).", [supervisor]),
        (Clock.MILESTONE, 1, "supervisor", milestone.pk, at(17, 0), missed, [supervisor]),
    ]
    assert warnings[1] == (
        "El momento de verdad «Documentos completos» está por vencer.",
        {
            "due": at(17, 0).astimezone(dt.UTC).isoformat(),
            "notified": [advisor],
            "milestone": "documentos",
            "milestone_name": "Documentos completos",
        },
    )
    reference = case.reference
    assert [(user, kind) for user, kind, _title in notified] == [
        (advisor, "case.sla_warning"),
        (advisor, "case.sla_warning"),
        (supervisor, "case.escalated"),
        (supervisor, "case.escalated"),
    ]
    assert notified[-1][2] == f"{reference} escalado: {missed}"
    milestone_events = [(kind, payload) for kind, payload in outbox if payload.get("milestone") == "documentos"]
    assert [kind for kind, _payload in milestone_events] == ["case.sla_warning", "case.escalated"]
    warned = milestone_events[0][1]
    assert (warned["due_at"], warned["milestone_name"], warned["notified"]) == (
        at(17, 0).astimezone(dt.UTC).isoformat(),
        "Documentos completos",
        [advisor],
    )
    escalated = milestone_events[1][1]
    assert (escalated["clock"], escalated["level"], escalated["to"], escalated["reason"]) == (
        "milestone",
        1,
        "supervisor",
        missed,
    )
    assert escalated["due_at"] == at(17, 0).astimezone(dt.UTC).isoformat()
    assert timeline == [
        ("created", at(8, 0)),
        ("transition", at(8, 30)),
        ("warning", at(14, 0)),
        ("warning", at(14, 45)),
        ("escalation", at(16, 0)),
        ("escalation", at(17, 0)),
    ]


def test_a_reached_milestone_is_neither_warned_nor_escalated(open_case, org_a):
    case = _acknowledged_case(open_case, org_a)
    with tenant_context(org_a.tenant.pk):
        milestone = CaseMilestone.objects.get(case=case)
        services.case_milestone_reach(actor=None, membership=org_a["advisor"], milestone=milestone)
        assert Case.objects.get(pk=case.pk).next_deadline_at == at(14, 0)
    # a sweep long after the milestone's deadline escalates the SLA only
    assert _run(org_a, at(17, 0)) == {"cases": 1, "warnings": 1, "escalations": 1, "batches": 1}
    with tenant_context(org_a.tenant.pk):
        assert list(Escalation.objects.values_list("clock", flat=True)) == [Clock.RESOLUTION]
        assert CaseMilestone.objects.get(pk=milestone.pk).missed_at is None


def test_a_late_sweep_fires_the_milestone_warning_then_its_miss_once(open_case, org_a):
    case = _acknowledged_case(open_case, org_a)
    thursday_noon = at(12, 0, TUESDAY + dt.timedelta(days=2))
    # the worker was down until Thursday: SLA warning + levels 1 and 2, milestone warning + miss
    assert _run(org_a, thursday_noon) == {"cases": 1, "warnings": 2, "escalations": 3, "batches": 1}
    assert _run(org_a, thursday_noon)["cases"] == 0
    with tenant_context(org_a.tenant.pk):
        assert list(Escalation.objects.order_by("pk").values_list("clock", "level")) == [
            (Clock.RESOLUTION, 1),
            (Clock.RESOLUTION, 2),
            (Clock.MILESTONE, 1),
        ]
        milestone = CaseMilestone.objects.get(case=case)
        assert milestone.warned_at == milestone.missed_at == thursday_noon
        assert Case.objects.get(pk=case.pk).next_deadline_at is None
        # the database refuses a second escalation of the same milestone
        with pytest.raises(IntegrityError), transaction.atomic():
            Escalation.objects.create(
                case=case,
                milestone=milestone,
                clock=Clock.MILESTONE,
                level=1,
                target_role="x",
                reason="x",
                escalated_at=thursday_noon,
            )


def test_pausing_pushes_the_milestone_and_its_warning(open_case, org_a):
    case = _acknowledged_case(open_case, org_a)
    with tenant_context(org_a.tenant.pk):
        case = services.case_transition(
            actor=None, membership=org_a["advisor"], case=case, to_status=Status.WAITING_CUSTOMER, now=at(9, 0)
        )
        services.case_transition(
            actor=None, membership=org_a["advisor"], case=case, to_status=Status.IN_PROGRESS, now=at(11, 0)
        )
        milestone = CaseMilestone.objects.get(case=case)
    # two working hours paused: 14:45 -> 16:45, 17:00 -> Wednesday 10:00
    assert (milestone.warn_at, milestone.due_at) == (at(16, 45), at(10, 0, WEDNESDAY))


def _due_team_cases(org, count, due):
    with tenant_context(org.tenant.pk):
        return [
            CaseFactory(
                tenant=org.tenant,
                team=org.team,
                next_deadline_at=due,
                resolution_due_at=due,
                escalation_offsets=[0],
                subject=f"Caso {n}",
            )
            for n in range(count)
        ]


def test_a_supervisor_gets_one_digest_per_sweep_naming_every_escalated_case(org_a):
    cases = _due_team_cases(org_a, 3, at(9, 0))
    assert _run(org_a, at(9, 0)) == {"cases": 3, "warnings": 0, "escalations": 3, "batches": 1}
    with tenant_context(org_a.tenant.pk):
        (note,) = Notification.objects.values_list("user_id", "kind", "title", "body", "url")
        assert Escalation.objects.filter(notified=[org_a["supervisor"].user_id]).count() == 3
        assert OutboxEvent.objects.filter(type="case.escalated").count() == 3
    user_id, kind, title, body, url = note
    assert (user_id, kind, title, url) == (
        org_a["supervisor"].user_id,
        "case.escalated",
        "3 casos escalados",
        reverse("cases:board"),
    )
    assert body.splitlines() == [
        f"{c.reference} escalado: Venció el ANS de resolución (nivel 1)." for c in sorted(cases, key=lambda c: c.pk)
    ]


def _batch_queries(org, count, day):
    _due_team_cases(org, count, at(9, 0, day))
    with tenant_context(org.tenant.pk), CaptureQueriesContext(connection) as queries:
        assert sweep.sla_sweep_batch(now=at(9, 0, day), batch_size=100)["escalations"] == count
    return len(queries)


def test_a_batch_runs_the_same_statements_for_3_or_40_cases(org_a):
    few = _batch_queries(org_a, 3, TUESDAY)
    many = _batch_queries(org_a, 40, WEDNESDAY)
    assert few == many <= 14


def test_the_case_page_shows_the_missed_milestone_and_its_escalation(open_case, org_a, client_for):
    case = _acknowledged_case(open_case, org_a)
    _run(org_a, at(17, 0))
    text = page_text(client_for(org_a["supervisor"]).get(reverse("cases:detail", args=[case.pk])))
    assert "Documentos completos" in text and "Incumplido" in text
    assert "Se incumplió el momento de verdad «Documentos completos»." in text


def test_an_assignee_gets_one_warning_digest_naming_each_case_and_why(org_a):
    advisor = org_a["advisor"].user
    with tenant_context(org_a.tenant.pk):
        cases = [
            CaseFactory(
                tenant=org_a.tenant,
                team=org_a.team,
                assignee=advisor,
                warn_at=at(9, 0),
                next_deadline_at=at(9, 0),
                resolution_due_at=at(16, 0),
                escalation_offsets=[0],
            )
            for _ in range(2)
        ]
    assert _run(org_a, at(9, 0)) == {"cases": 2, "warnings": 2, "escalations": 0, "batches": 1}
    with tenant_context(org_a.tenant.pk):
        (note,) = Notification.objects.values_list("user_id", "kind", "title", "body")
    warning = "El caso alcanzó el umbral de alerta de su ANS de resolución."
    assert note == (
        advisor.pk,
        "case.sla_warning",
        "2 casos en riesgo de vencer su ANS",
        "\n".join(f"{c.reference}: {warning}" for c in cases),
    )
