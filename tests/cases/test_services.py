"""CASOS services: opening with SLA clocks, the lifecycle, pauses, exceptions, security."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from cases import selectors, services
from cases.choices import ApprovalStatus, Authority, Priority, Status
from cases.models import Case, CaseEvent, CaseMilestone, SlaPolicy
from cases.permissions import Viewer
from tests.cases.conftest import BOGOTA, CALENDAR, FRIDAY_1730
from vector_crm.errors import DomainError, ErrorCode, NotFound
from vector_crm.models import OutboxEvent
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db
UTC = dt.UTC


def test_opening_friday_evening_sets_business_hour_deadlines(open_case, org_a):
    case = open_case()
    # 1 h first response and 8 h resolution from Friday 17:30, Monday 12 January a holiday
    assert case.response_due_at == dt.datetime(2026, 1, 13, 9, 0, tzinfo=BOGOTA)
    assert case.resolution_due_at == dt.datetime(2026, 1, 13, 16, 0, tzinfo=BOGOTA)
    assert case.warn_at == dt.datetime(2026, 1, 13, 14, 0, tzinfo=BOGOTA)  # 75 % of 8 h
    assert case.next_deadline_at == case.response_due_at
    assert case.status == Status.NEW
    assert case.escalation_offsets == [0, 240]
    with tenant_context(org_a.tenant.pk):
        assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == ["created"]
        assert OutboxEvent.objects.filter(type="case.created", aggregate_id=str(case.pk)).count() == 1
        milestone = CaseMilestone.objects.get(case=case)
        assert (milestone.code, milestone.due_at) == (
            "documentos",
            dt.datetime(2026, 1, 13, 17, 0, tzinfo=BOGOTA),
        )  # 9 h


def test_the_most_specific_policy_wins_with_the_customers_tier(open_case, org_a, types_a, customer_a, monkeypatch):
    with tenant_context(org_a.tenant.pk):
        SlaPolicy.objects.create(
            case_type=types_a["solicitud"],
            priority=Priority.HIGH,
            tier="oro",
            first_response_minutes=30,
            resolution_minutes=120,
        )
        SlaPolicy.objects.create(
            case_type=types_a["solicitud"], tier="oro", first_response_minutes=45, resolution_minutes=240
        )
    monkeypatch.setattr("segmentation.selectors.customer_tiers", lambda ids: dict.fromkeys(ids, "oro"))
    high = open_case(customer=customer_a, priority=Priority.HIGH)
    medium = open_case(customer=customer_a, priority=Priority.MEDIUM)
    plain = open_case(priority=Priority.HIGH)  # no customer: no tier
    assert high.resolution_due_at == dt.datetime(2026, 1, 13, 10, 0, tzinfo=BOGOTA)
    assert medium.resolution_due_at == dt.datetime(2026, 1, 13, 12, 0, tzinfo=BOGOTA)
    assert plain.resolution_due_at == dt.datetime(2026, 1, 13, 16, 0, tzinfo=BOGOTA)


def _move(org, case, to_status, *, when, membership=None, **kwargs):
    membership = membership or org["advisor"]
    with tenant_context(org.tenant.pk):
        return services.case_transition(
            actor=membership.user,
            membership=membership,
            case=case,
            to_status=to_status,
            now=when,
            calendar=CALENDAR,
            **kwargs,
        )


def test_invalid_transition_is_refused_with_a_clear_error(open_case, org_a):
    case = open_case()
    with pytest.raises(DomainError) as error:
        _move(org_a, case, Status.CLOSED, when=FRIDAY_1730)
    assert error.value.code == ErrorCode.INVALID_TRANSITION
    assert error.value.field == "status"
    assert error.value.message == "No se puede pasar de «Nuevo» a «Cerrado»."
    with tenant_context(org_a.tenant.pk):
        assert Case.objects.get(pk=case.pk).status == Status.NEW


def test_lifecycle_pause_shifts_deadlines_by_the_working_time_waited(open_case, org_a):
    case = open_case()
    tuesday = dt.datetime(2026, 1, 13, 8, 30, tzinfo=BOGOTA)
    case = _move(org_a, case, Status.ACKNOWLEDGED, when=tuesday)
    assert case.responded_at == tuesday
    # waiting on the customer from Tuesday 10:00 to Wednesday 11:00 = 7 + 3 = 10 working hours
    case = _move(org_a, case, Status.WAITING_CUSTOMER, when=dt.datetime(2026, 1, 13, 10, 0, tzinfo=BOGOTA))
    assert case.next_deadline_at is None
    case = _move(org_a, case, Status.IN_PROGRESS, when=dt.datetime(2026, 1, 14, 11, 0, tzinfo=BOGOTA))
    # Tuesday 16:00 + 10 working hours = Thursday 08:00 + ... : Tue 16-17 (1), Wed 8-17 (9) -> Wed 17:00
    assert case.resolution_due_at == dt.datetime(2026, 1, 14, 17, 0, tzinfo=BOGOTA)
    assert case.warn_at == dt.datetime(2026, 1, 14, 15, 0, tzinfo=BOGOTA)
    assert case.next_deadline_at == case.warn_at
    with pytest.raises(DomainError) as error:
        _move(org_a, case, Status.RESOLVED, when=dt.datetime(2026, 1, 14, 12, 0, tzinfo=BOGOTA))
    assert error.value.field == "resolution"
    case = _move(
        org_a, case, Status.RESOLVED, when=dt.datetime(2026, 1, 14, 12, 0, tzinfo=BOGOTA), note="Dirección actualizada"
    )
    assert (case.resolution, case.next_deadline_at) == ("Dirección actualizada", None)
    case = _move(
        org_a,
        case,
        Status.CLOSED,
        when=dt.datetime(2026, 1, 14, 12, 30, tzinfo=BOGOTA),
        satisfaction=5,
        customer_confirmed=True,
    )
    assert (case.status, case.satisfaction, case.customer_confirmed) == (Status.CLOSED, 5, True)
    case = _move(org_a, case, Status.REOPENED, when=dt.datetime(2026, 1, 14, 13, 0, tzinfo=BOGOTA))
    # an hour resolved (12:00-13:00) does not count: due moves from 17:00 to Thursday 09:00
    assert case.resolution_due_at == dt.datetime(2026, 1, 15, 9, 0, tzinfo=BOGOTA)
    assert case.customer_confirmed is False
    with tenant_context(org_a.tenant.pk):
        kinds = list(
            OutboxEvent.objects.filter(aggregate_id=str(case.pk)).order_by("pk").values_list("type", flat=True)
        )
    assert kinds.count("case.transitioned") == 6
    assert "case.resolved" in kinds and "case.closed" in kinds


def _exception(open_case, amount, limit="1000000"):
    return open_case(
        code="excepcion",
        subject="Sobregiro",
        exception_type="overdraft",
        amount=Decimal(amount),
        policy_limit=Decimal(limit),
    )


@pytest.mark.parametrize(
    ("amount", "required"),
    [("900000", Authority.ADVISOR), ("1400000", Authority.SUPERVISOR), ("2000000", Authority.MANAGER)],
)
def test_exception_needs_authority_by_amount(open_case, amount, required):
    assert _exception(open_case, amount).required_authority == required


def _decide(org, case, role, approve=True, reason="Cliente con buen historial"):
    membership = org[role]
    with tenant_context(org.tenant.pk):
        return services.case_exception_decide(
            actor=membership.user, membership=membership, case=case, approve=approve, reason=reason
        )


def test_exception_approval_above_the_approvers_authority_is_refused(open_case, org_a, customer_a):
    case = _exception(open_case, "1400000", limit="1000000")
    with pytest.raises(DomainError) as error:
        _decide(org_a, case, "advisor")
    assert error.value.code == ErrorCode.AUTHORITY_EXCEEDED
    with tenant_context(org_a.tenant.pk):
        assert Case.objects.get(pk=case.pk).approval_status == ApprovalStatus.PENDING
    decided = _decide(org_a, case, "supervisor")
    assert (decided.approval_status, decided.decided_by_id) == (ApprovalStatus.APPROVED, org_a["supervisor"].user_id)


def test_manager_level_exception_is_refused_to_a_supervisor_and_needs_reasons(open_case, org_a):
    case = _exception(open_case, "5000000")
    with pytest.raises(DomainError) as error:
        _decide(org_a, case, "supervisor")
    assert error.value.code == ErrorCode.AUTHORITY_EXCEEDED
    with pytest.raises(DomainError) as error:
        _decide(org_a, case, "branch_manager", reason=" ")
    assert error.value.field == "reason"
    assert _decide(org_a, case, "branch_manager", approve=False).approval_status == ApprovalStatus.REJECTED


def test_approved_exception_is_visible_on_the_customer(open_case, org_a, customer_a):
    case = open_case(
        code="excepcion",
        subject="Cupo",
        exception_type="limit_increase",
        amount=Decimal("100"),
        policy_limit=Decimal("200"),
        customer=customer_a,
    )
    _decide(org_a, case, "advisor")
    with tenant_context(org_a.tenant.pk):
        panel = selectors.customer_case_panel(Viewer.of(org_a["advisor"]), customer_a.pk)
    assert [c.pk for c in panel["approved_exceptions"]] == [case.pk]
    assert [c.pk for c in panel["open_cases"]] == [case.pk]


def test_security_cases_are_top_priority_and_invisible_without_the_capability(open_case, org_a, customer_a):
    case = open_case(
        membership=org_a["supervisor"], code="seguridad", subject="Fraude", customer=customer_a, priority=Priority.LOW
    )
    assert (case.priority, case.restricted) == (Priority.CRITICAL, True)
    with tenant_context(org_a.tenant.pk):
        for role in ("advisor", "collections_agent", "analyst"):
            viewer = Viewer.of(org_a[role])
            assert not selectors.visible_cases(viewer).filter(pk=case.pk).exists(), role
            assert selectors.case_counts(viewer) == {}
            assert selectors.customer_case_panel(viewer, customer_a.pk)["open_cases"] == []
            with pytest.raises(NotFound):
                selectors.access_case(viewer, case.pk)
        for role in ("supervisor", "branch_manager", "tenant_admin"):
            assert selectors.access_case(Viewer.of(org_a[role]), case.pk) == case
        with pytest.raises(DomainError) as error:
            services.case_assign(
                actor=org_a["supervisor"].user,
                membership=org_a["supervisor"],
                case=case,
                assignee=org_a["advisor"].user,
            )
    assert error.value.field == "assignee"


def test_advisor_sees_own_portfolio_cases_only(open_case, org_a, customer_a):
    from tests import factories as f

    with tenant_context(org_a.tenant.pk):
        other = f.CustomerFactory(
            tenant=org_a.tenant, branch=org_a.branches[1], owner=org_a.extra["south_advisor"].user
        )
    mine = open_case(customer=customer_a)
    theirs = open_case(membership=org_a["tenant_admin"], customer=other)
    with tenant_context(org_a.tenant.pk):
        visible = set(selectors.visible_cases(Viewer.of(org_a["advisor"])).values_list("pk", flat=True))
    assert mine.pk in visible and theirs.pk not in visible


def test_bad_input_names_the_field_and_writes_nothing(open_case, org_a, org_b):
    from tests import factories as f

    with tenant_context(org_b.tenant.pk):
        foreign = f.CustomerFactory(tenant=org_b.tenant)
    with pytest.raises(DomainError) as error:
        open_case(customer=foreign)
    assert error.value.field == "customer"
    with pytest.raises(DomainError) as error:
        open_case(code="excepcion", subject="x", exception_type="overdraft")
    assert error.value.field == "amount"
    with tenant_context(org_a.tenant.pk):
        assert Case.objects.count() == 0
