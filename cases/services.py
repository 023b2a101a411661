"""Every write of CASOS: one function per business action.

Keyword-only, one transaction each (``audited``), permission and invariants checked here,
a timeline row (``CaseEvent``) and an outbox event per change. Views, API, admin, the
import and the SLA sweep call these. The sweep itself (``sla_sweep_batch``) is set-based:
it locks a batch of due cases, computes their steps with the pure ``cases.sla`` module and
writes escalations, timeline rows, notifications and events with bulk statements.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cases import sla
from cases.choices import (
    ALLOWED_TRANSITIONS,
    OPEN_STATUSES,
    ApprovalStatus,
    Authority,
    CaseKind,
    EventKind,
    Priority,
    Status,
)
from cases.models import BusinessCalendar, Case, CaseAttachment, CaseEvent, CaseMilestone, CaseType, SlaPolicy
from cases.permissions import SECURITY_CAPABILITY, Viewer, authority_of
from cases.selectors import tenant_calendar
from customers.selectors import visible_customers
from vector_crm.audit import audited
from vector_crm.errors import DomainError, ErrorCode, PermissionDeniedError
from vector_crm.models import Membership, Team
from vector_crm.outbox import event_emit
from vector_crm.tenancy import require_tenant_id

# --- Defaults ---------------------------------------------------------------------------

# The source's four case families, with targets in business minutes (a 9-hour day).
DEFAULT_TYPES: list[dict[str, Any]] = [
    {
        "code": "solicitud",
        "name": "Solicitud",
        "kind": CaseKind.REQUEST,
        "default_priority": Priority.MEDIUM,
        "categories": ["Cambio de dirección", "Certificado", "Carta de crédito", "Reexpedición de tarjeta"],
        "milestones": [{"code": "documentos", "name": "Documentos completos", "target_minutes": 540}],
        "policy": {"first_response_minutes": 240, "resolution_minutes": 2700},
    },
    {
        "code": "pqrs",
        "name": "PQRS",
        "kind": CaseKind.COMPLAINT,
        "default_priority": Priority.MEDIUM,
        "categories": [],
        "milestones": [{"code": "acuse", "name": "Acuse de recibo al cliente", "target_minutes": 60}],
        # 15 business days, the usual regulatory term for a complaint.
        "policy": {"first_response_minutes": 480, "resolution_minutes": 8100},
    },
    {
        "code": "excepcion",
        "name": "Excepción de umbral",
        "kind": CaseKind.EXCEPTION,
        "default_priority": Priority.HIGH,
        "categories": ["Sobregiro", "Aplazamiento", "Tasa preferencial", "Aumento de cupo"],
        "milestones": [],
        "policy": {"first_response_minutes": 120, "resolution_minutes": 960},
    },
    {
        "code": "seguridad",
        "name": "Seguridad",
        "kind": CaseKind.SECURITY,
        "default_priority": Priority.CRITICAL,
        "restricted": True,
        "categories": ["Fraude transaccional", "Privacidad de datos"],
        "milestones": [{"code": "bloqueo", "name": "Bloqueo preventivo", "target_minutes": 30}],
        "policy": {"first_response_minutes": 30, "resolution_minutes": 480, "escalation_minutes": [0, 60]},
    },
]


def case_types_ensure_defaults() -> list[CaseType]:
    """Seed the current tenant with the four case types and one SLA policy each, once."""
    if CaseType.objects.exists():
        return list(CaseType.objects.order_by("pk"))
    created = []
    for spec in DEFAULT_TYPES:
        spec = dict(spec)
        policy = spec.pop("policy")
        case_type = CaseType.objects.create(**spec)
        SlaPolicy.objects.create(case_type=case_type, **policy)
        created.append(case_type)
    return created


# --- Helpers ----------------------------------------------------------------------------


def _require(membership: Membership | None, capability: str) -> None:
    """API credentials (membership None) were already checked against their scopes."""
    if membership is not None and not membership.has(capability):
        raise PermissionDeniedError()


def _user_id(actor) -> int | None:
    return actor.pk if getattr(actor, "pk", None) else None


def _event(case: Case, kind: str, *, actor=None, body: str = "", data: dict | None = None, **extra) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor_id=_user_id(actor),
        body=body,
        data=data or {},
        occurred_at=extra.pop("occurred_at", None) or timezone.now(),
        **extra,
    )


def case_payload(case: Case, **extra: Any) -> dict[str, Any]:
    """The ``data`` of a case event: what a receiving system needs to route it."""
    return {
        "id": case.pk,
        "reference": case.reference,
        "type": case.case_type.code,
        "kind": case.kind,
        "status": case.status,
        "priority": case.priority,
        "customer": case.customer_id,
        "assignee": case.assignee_id,
        "team": case.team_id,
        "resolution_due_at": case.resolution_due_at,
        **extra,
    }


def _check_member(user, field: str, *, restricted: bool) -> Membership | None:
    if user is None:
        return None
    member = Membership.objects.filter(user=user, is_active=True).first()
    if member is None:
        raise DomainError(_("No es miembro de esta entidad."), code=ErrorCode.INVALID_ASSIGNMENT, field=field)
    if restricted and not member.has(SECURITY_CAPABILITY):
        raise DomainError(
            _("Los casos de seguridad solo se asignan a quien puede verlos."),
            code=ErrorCode.INVALID_ASSIGNMENT,
            field=field,
        )
    return member


def _check_in_tenant(obj, field: str) -> None:
    if obj is not None and not type(obj).objects.filter(pk=obj.pk).exists():
        raise DomainError(_("Referencia desconocida."), code=ErrorCode.CROSS_TENANT_REFERENCE, field=field)


def _validate(case: Case) -> None:
    try:
        case.full_clean(validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        raise DomainError(messages[0], field=None if field == "__all__" else field) from None


# --- SLA planning (per case) ----------------------------------------------------------------


def pick_policy(case_type: CaseType, priority: str, tier: str | None) -> SlaPolicy | None:
    """The most specific active policy: priority and tier, then priority, tier, neither."""
    candidates = list(SlaPolicy.objects.filter(case_type=case_type, is_active=True))

    def score(policy: SlaPolicy) -> int | None:
        if policy.priority and policy.priority != priority:
            return None
        if policy.tier and policy.tier != (tier or ""):
            return None
        return (2 if policy.priority else 0) + (1 if policy.tier else 0)

    scored = [(score(p), p.pk, p) for p in candidates if score(p) is not None]
    return max(scored, key=lambda item: (item[0], -item[1]))[2] if scored else None


def _clock_state(case: Case) -> sla.ClockState:
    return sla.ClockState(
        response_due_at=case.response_due_at,
        responded=case.responded_at is not None,
        response_breached=case.response_breached_at is not None,
        warn_at=case.warn_at,
        warned=case.warned_at is not None,
        resolution_due_at=case.resolution_due_at,
        escalation_level=case.escalation_level,
    )


def _adder(cal: sla.BusinessCalendar):
    return lambda moment, seconds: sla.add_business_time(cal, moment, seconds)


def _offsets(case: Case) -> list[float]:
    return [float(minutes) * 60 for minutes in (case.escalation_offsets or [])]


def milestone_state(milestone: CaseMilestone) -> sla.MilestoneState:
    return sla.MilestoneState(
        due_at=milestone.due_at,
        warn_at=milestone.warn_at,
        warned=milestone.warned_at is not None,
        missed=milestone.missed_at is not None,
        reached=milestone.reached_at is not None,
    )


def plan_next_deadline(case: Case, cal: sla.BusinessCalendar, milestones: list[CaseMilestone] | None = None) -> None:
    """Set ``next_deadline_at`` from the clocks and the pending milestones (``milestones``,
    or the stored ones of a saved case): None when closed, paused or all fired."""
    if case.status not in OPEN_STATUSES or case.paused_at is not None:
        case.next_deadline_at = None
        return
    if milestones is None:
        milestones = list(CaseMilestone.objects.filter(case=case, reached_at=None, missed_at=None)) if case.pk else []
    checkpoint = sla.earliest(
        sla.next_checkpoint(_clock_state(case), _offsets(case), _adder(cal)),
        *(sla.next_milestone_checkpoint(milestone_state(m)) for m in milestones),
    )
    case.next_deadline_at = checkpoint.at if checkpoint else None


def start_clocks(case: Case, cal: sla.BusinessCalendar, tier: str | None) -> None:
    apply_policy_clocks(case, pick_policy(case.case_type, case.priority, tier), cal)


def apply_policy_clocks(case: Case, policy: SlaPolicy | None, cal: sla.BusinessCalendar) -> None:
    """Set the case's SLA policy and its first-response, warning and resolution deadlines
    from its opening time (for set-based callers that chose the policy already)."""
    case.sla_policy = policy
    if policy is None:
        return
    start = case.opened_at
    case.response_due_at = sla.add_business_time(cal, start, policy.first_response_minutes * 60)
    case.resolution_due_at = sla.add_business_time(cal, start, policy.resolution_minutes * 60)
    case.warn_at = sla.add_business_time(cal, start, policy.resolution_minutes * 60 * policy.warning_percent / 100)
    case.escalation_offsets = [int(m) for m in policy.escalation_minutes or []]


def _shift_clocks(case: Case, cal: sla.BusinessCalendar, paused_at: dt.datetime, resumed_at: dt.datetime) -> None:
    """The clocks stood still from ``paused_at`` to ``resumed_at``: push every open deadline."""
    for name in ("resolution_due_at", "warn_at", "response_due_at"):
        due = getattr(case, name)
        if due is None or (name == "response_due_at" and case.responded_at is not None):
            continue
        if name == "warn_at" and case.warned_at is not None:
            continue
        setattr(case, name, sla.shift_for_pause(cal, due, paused_at, resumed_at))
    for milestone in CaseMilestone.objects.filter(case=case, reached_at=None, missed_at=None):
        milestone.due_at = sla.shift_for_pause(cal, milestone.due_at, paused_at, resumed_at)
        if milestone.warn_at is not None and milestone.warned_at is None:
            milestone.warn_at = sla.shift_for_pause(cal, milestone.warn_at, paused_at, resumed_at)
        milestone.save(update_fields=["due_at", "warn_at"])


def _customer_tier(customer_id: int | None) -> str | None:
    if customer_id is None:
        return None
    from segmentation.selectors import customer_tiers

    return customer_tiers([customer_id]).get(customer_id)


def _required_authority(case_type: CaseType, amount: Decimal, limit: Decimal) -> int:
    limits = {"advisor": 1.0, "supervisor": 1.5, **(case_type.authority_limits or {})}
    ratio = float(amount) / float(limit) if limit else float("inf")
    if ratio <= float(limits["advisor"]):
        return Authority.ADVISOR
    if ratio <= float(limits["supervisor"]):
        return Authority.SUPERVISOR
    return Authority.MANAGER


# --- Opening and editing ------------------------------------------------------------------

OPEN_FIELDS = frozenset(
    {
        "case_type",
        "subject",
        "description",
        "customer",
        "holding",
        "product_label",
        "channel",
        "category",
        "subcategory",
        "pqrs_type",
        "priority",
        "assignee",
        "team",
        "external_id",
        "exception_type",
        "amount",
        "policy_limit",
    }
)
EDITABLE_FIELDS = frozenset(
    {
        "subject",
        "description",
        "holding",
        "product_label",
        "channel",
        "category",
        "subcategory",
        "pqrs_type",
        "priority",
        "resolution",
        "satisfaction",
    }
)


@audited
def case_open(
    *,
    actor=None,
    membership: Membership | None = None,
    viewer: Viewer | None = None,
    data: dict[str, Any],
    opened_at: dt.datetime | None = None,
    calendar: sla.BusinessCalendar | None = None,
) -> Case:
    """Open a case: validate it, start its SLA clocks (policy by type x priority x the
    customer's tier) and its milestones, log it and emit ``case.created``."""
    _require(membership, "cases.create")
    unknown = set(data) - OPEN_FIELDS
    if unknown:
        raise DomainError(_("Campo desconocido: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    data = dict(data)
    case_type: CaseType | None = data.get("case_type")
    if case_type is None:
        raise DomainError(_("Indique el tipo de caso."), field="case_type")
    _check_in_tenant(case_type, "case_type")
    case = Case(**data, opened_at=opened_at or timezone.now(), created_by_id=_user_id(actor))
    case.kind = case_type.kind
    case.restricted = case_type.restricted or case_type.kind == CaseKind.SECURITY
    if case.restricted:
        case.priority = Priority.CRITICAL  # security cases always go first
    elif "priority" not in data:
        case.priority = case_type.default_priority
    _check_references(case, membership)
    _check_member(case.assignee, "assignee", restricted=case.restricted)
    if case.restricted and viewer is not None and not viewer.sees_security:
        raise PermissionDeniedError()
    if case.kind == CaseKind.EXCEPTION:
        _prepare_exception(case)
    if case.customer_id and not case.branch_id:
        case.branch_id = case.customer.branch_id
    if case.team_id and not case.branch_id:
        case.branch_id = case.team.branch_id
    _validate(case)
    cal = calendar or tenant_calendar()
    start_clocks(case, cal, _customer_tier(case.customer_id))
    milestones = _plan_milestones(case, case_type, cal)
    plan_next_deadline(case, cal, milestones)
    case.save()
    for milestone in milestones:
        milestone.case = case
    CaseMilestone.objects.bulk_create(milestones)
    _event(case, EventKind.CREATED, actor=actor, to_status=case.status, occurred_at=case.opened_at)
    event_emit(type="case.created", payload=case_payload(case), aggregate=case)
    return case


def _plan_milestones(case: Case, case_type: CaseType, cal: sla.BusinessCalendar) -> list[CaseMilestone]:
    """The case type's moments of truth with their deadlines and warnings (at the policy's
    warning share of each target, 75 % without a policy)."""
    share = (case.sla_policy.warning_percent if case.sla_policy else 75) / 100
    milestones = []
    for m in case_type.milestones or []:
        seconds = int(m["target_minutes"]) * 60
        milestones.append(
            CaseMilestone(
                tenant_id=case.tenant_id,
                code=m["code"],
                name=m["name"],
                due_at=sla.add_business_time(cal, case.opened_at, seconds),
                warn_at=sla.add_business_time(cal, case.opened_at, seconds * share),
            )
        )
    return milestones


def _check_references(case: Case, membership: Membership | None) -> None:
    if case.customer is not None:
        if not visible_customers(membership).filter(pk=case.customer.pk).exists():
            raise DomainError(_("Cliente desconocido."), code=ErrorCode.CROSS_TENANT_REFERENCE, field="customer")
    if case.holding is not None:
        _check_in_tenant(case.holding, "holding")
        if case.customer_id and case.holding.customer_id != case.customer_id:
            raise DomainError(_("La cuenta no es de este cliente."), field="holding")
    if case.team is not None:
        _check_in_tenant(case.team, "team")


def _prepare_exception(case: Case) -> None:
    for name in ("exception_type", "amount", "policy_limit"):
        if getattr(case, name) in (None, ""):
            raise DomainError(_("Obligatorio en una excepción."), field=name)
    if case.policy_limit <= 0:
        raise DomainError(_("El límite de la política debe ser positivo."), field="policy_limit")
    case.required_authority = _required_authority(case.case_type, case.amount, case.policy_limit)
    case.approval_status = ApprovalStatus.PENDING


@audited
def case_update(*, actor=None, membership: Membership | None = None, case: Case, data: dict[str, Any]) -> Case:
    """Change a case's descriptive fields (not its status: that is ``case_transition``)."""
    _require(membership, "cases.change")
    unknown = set(data) - EDITABLE_FIELDS
    if unknown:
        raise DomainError(_("Campo no modificable: %(f)s.") % {"f": sorted(unknown)[0]}, field=sorted(unknown)[0])
    for name, value in data.items():
        setattr(case, name, value)
    if case.restricted:
        case.priority = Priority.CRITICAL
    _check_references(case, membership)
    _validate(case)
    case.save(update_fields=[*data, "priority", "updated_at"])
    event_emit(type="case.updated", payload=case_payload(case, changed=sorted(data)), aggregate=case)
    return case


# --- Lifecycle -----------------------------------------------------------------------------


@audited
def case_transition(
    *,
    actor=None,
    membership: Membership | None = None,
    case: Case,
    to_status: str,
    note: str = "",
    satisfaction: int | None = None,
    customer_confirmed: bool = False,
    now: dt.datetime | None = None,
    calendar: sla.BusinessCalendar | None = None,
) -> Case:
    """Move a case along its lifecycle (``ALLOWED_TRANSITIONS``); anything else is refused
    naming the two statuses. Waiting on the customer stops the SLA clocks; leaving it
    pushes every deadline by the working time paused."""
    _require(membership, "cases.change")
    case = Case.objects.select_for_update().get(pk=case.pk)
    now = now or timezone.now()
    from_status = case.status
    if to_status not in ALLOWED_TRANSITIONS.get(from_status, frozenset()):
        raise DomainError(
            _("No se puede pasar de «%(a)s» a «%(b)s».")
            % {
                "a": Status(from_status).label,
                "b": Status(to_status).label if to_status in Status.values else to_status,
            },
            code=ErrorCode.INVALID_TRANSITION,
            field="status",
        )
    cal = calendar or tenant_calendar()
    _apply_transition(case, to_status, note=note, now=now, cal=cal)
    if to_status == Status.CLOSED:
        if satisfaction is not None and not 1 <= int(satisfaction) <= 5:
            raise DomainError(_("La satisfacción va de 1 a 5."), field="satisfaction")
        case.satisfaction = satisfaction
        case.customer_confirmed = bool(customer_confirmed)
    case.status = to_status
    plan_next_deadline(case, cal)
    case.save()
    _event(
        case,
        EventKind.TRANSITION,
        actor=actor,
        body=note,
        from_status=from_status,
        to_status=to_status,
        occurred_at=now,
    )
    payload = case_payload(case, from_status=from_status)
    event_emit(type="case.transitioned", payload=payload, aggregate=case)
    if to_status in (Status.RESOLVED, Status.CLOSED):
        event_emit(type=f"case.{to_status}", payload=payload, aggregate=case)
    return case


def _apply_transition(case: Case, to_status: str, *, note: str, now: dt.datetime, cal: sla.BusinessCalendar) -> None:
    if case.responded_at is None and to_status != Status.CANCELLED:
        case.responded_at = now
    if case.status == Status.WAITING_CUSTOMER and case.paused_at is not None:
        _shift_clocks(case, cal, case.paused_at, now)
        case.paused_at = None
    if to_status == Status.WAITING_CUSTOMER:
        case.paused_at = now
    elif to_status == Status.RESOLVED:
        resolution = (note or case.resolution).strip()
        if not resolution:
            raise DomainError(_("Describa la resolución."), field="resolution")
        if case.kind == CaseKind.EXCEPTION and case.approval_status == ApprovalStatus.PENDING:
            raise DomainError(_("La excepción aún no tiene decisión."), field="approval_status")
        case.resolution = resolution
        case.resolved_at = now
    elif to_status == Status.CLOSED:
        case.closed_at = now
    elif to_status == Status.REOPENED:
        # The time spent resolved does not count against the promise.
        if case.resolved_at is not None:
            _shift_clocks(case, cal, case.resolved_at, now)
        case.resolved_at = None
        case.closed_at = None
        case.customer_confirmed = False


@audited
def case_assign(
    *, actor=None, membership: Membership | None = None, case: Case, assignee=None, team: Team | None = None
) -> Case:
    """Hand a case to a member and/or a queue. Taking an unassigned case for oneself needs
    ``cases.change``; anything else ``cases.reassign``."""
    taking = assignee is not None and membership is not None and assignee.pk == membership.user_id
    _require(membership, "cases.change" if taking and case.assignee_id is None else "cases.reassign")
    _check_member(assignee, "assignee", restricted=case.restricted)
    _check_in_tenant(team, "team")
    before = {"assignee": case.assignee_id, "team": case.team_id}
    case.assignee = assignee
    if team is not None:
        case.team = team
    case.save(update_fields=["assignee", "team", "updated_at"])
    after = {"assignee": case.assignee_id, "team": case.team_id}
    _event(case, EventKind.ASSIGNMENT, actor=actor, data={"before": before, "after": after})
    event_emit(type="case.assigned", payload=case_payload(case, before=before), aggregate=case)
    return case


def cases_bulk_assign(
    *, actor=None, membership: Membership | None, viewer: Viewer, case_ids: list[int], assignee=None, team=None
) -> int:
    """The board's bulk action: reassign up to 200 visible cases, each audited."""
    from cases.selectors import visible_cases

    if len(case_ids) > 200:
        raise DomainError(_("Como máximo 200 casos a la vez."), field="case_ids")
    if assignee is None and team is None:
        raise DomainError(_("Elija a quién o a qué cola reasignar."), field="assignee")
    cases = list(visible_cases(viewer).filter(pk__in=case_ids).order_by("pk"))
    if len(cases) != len(set(case_ids)):
        raise DomainError(_("Caso desconocido."), field="case_ids")
    with transaction.atomic():
        for case in cases:
            case_assign(actor=actor, membership=membership, case=case, assignee=assignee, team=team)
    return len(cases)


@audited
def case_comment(
    *, actor=None, membership: Membership | None = None, case: Case, body: str, is_internal: bool = False
) -> CaseEvent:
    """Add a note or a message to the case's interaction log."""
    _require(membership, "cases.change")
    body = (body or "").strip()
    if not body:
        raise DomainError(_("Escriba el comentario."), field="body")
    event = _event(case, EventKind.COMMENT, actor=actor, body=body, is_internal=is_internal)
    event_emit(type="case.commented", payload=case_payload(case, comment=event.pk), aggregate=case)
    return event


MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024


@audited
def case_attach(*, actor=None, membership: Membership | None = None, case: Case, upload) -> CaseAttachment:
    """Store a file on the case (10 MB at most) and log it."""
    _require(membership, "cases.change")
    if upload is None:
        raise DomainError(_("Adjunte un archivo."), field="file")
    if upload.size > MAX_ATTACHMENT_BYTES:
        raise DomainError(_("El archivo supera 10 MB."), field="file")
    attachment = CaseAttachment(
        case=case,
        name=upload.name[:200],
        content_type=getattr(upload, "content_type", "") or "",
        size=upload.size,
        uploaded_by_id=_user_id(actor),
    )
    attachment.file.save(upload.name, upload, save=False)
    attachment.save()
    _event(case, EventKind.ATTACHMENT, actor=actor, body=attachment.name, data={"attachment": attachment.pk})
    return attachment


@audited
def case_exception_decide(*, actor=None, membership: Membership | None, case: Case, approve: bool, reason: str) -> Case:
    """Approve or reject a threshold exception, with reasons. Refused when the amount needs
    more authority than the approver's role has (advisor < supervisor < manager)."""
    if case.kind != CaseKind.EXCEPTION:
        raise DomainError(_("Este caso no es una excepción."), field="case")
    if case.approval_status != ApprovalStatus.PENDING:
        raise DomainError(_("La excepción ya tiene decisión."), field="approval_status")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("Indique las razones de la decisión."), field="reason")
    authority = authority_of(membership)
    if authority < (case.required_authority or Authority.MANAGER):
        raise DomainError(
            _("Esta excepción requiere autorización de nivel %(level)s.")
            % {"level": Authority(case.required_authority).label},
            code=ErrorCode.AUTHORITY_EXCEEDED,
            field="approve",
        )
    case.approval_status = ApprovalStatus.APPROVED if approve else ApprovalStatus.REJECTED
    case.decided_by_id = _user_id(actor)
    case.decided_at = timezone.now()
    case.decision_reason = reason
    case.save(update_fields=["approval_status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    _event(case, EventKind.DECISION, actor=actor, body=reason, data={"approved": bool(approve)})
    event_emit(type="case.exception_decided", payload=case_payload(case, approved=bool(approve)), aggregate=case)
    return case


@audited
def case_milestone_reach(
    *, actor=None, membership: Membership | None = None, milestone: CaseMilestone
) -> CaseMilestone:
    """Record that a moment of truth happened (once); its pending warning or miss is
    taken off the case's next deadline."""
    _require(membership, "cases.change")
    case = Case.objects.select_for_update().get(pk=milestone.case_id)
    milestone = CaseMilestone.objects.get(pk=milestone.pk)
    if milestone.reached_at is None:
        milestone.reached_at = timezone.now()
        milestone.save(update_fields=["reached_at"])
        _event(case, EventKind.MILESTONE, actor=actor, body=milestone.name, data={"code": milestone.code})
        plan_next_deadline(case, tenant_calendar())
        case.save(update_fields=["next_deadline_at"])
    return milestone


# --- Configuration (tenant admins) ---------------------------------------------------------


def _save_config(instance, membership: Membership | None, capability: str, data: dict[str, Any]):
    _require(membership, capability)
    for name, value in data.items():
        setattr(instance, name, value)
    for name in ("case_type",):
        if name in data:
            _check_in_tenant(data[name], name)
    try:
        instance.full_clean(validate_unique=True, validate_constraints=False)
        instance.validate_constraints()
    except ValidationError as exc:
        field, messages = next(iter(exc.message_dict.items()))
        if field == "__all__":
            field = "tier" if isinstance(instance, SlaPolicy) else "code"
        raise DomainError(messages[0], field=field) from None
    instance.save()
    return instance


@audited
def sla_policy_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> SlaPolicy:
    return _save_config(SlaPolicy(), membership, "case_config.create", data)


@audited
def sla_policy_update(
    *, actor=None, membership: Membership | None = None, policy: SlaPolicy, data: dict[str, Any]
) -> SlaPolicy:
    """Change a policy; cases already open keep the deadlines they were promised."""
    return _save_config(policy, membership, "case_config.change", data)


@audited
def sla_policy_delete(*, actor=None, membership: Membership | None = None, policy: SlaPolicy) -> None:
    _require(membership, "case_config.delete")
    policy.delete()


@audited
def case_type_create(*, actor=None, membership: Membership | None = None, data: dict[str, Any]) -> CaseType:
    return _save_config(CaseType(), membership, "case_config.create", data)


@audited
def case_type_update(
    *, actor=None, membership: Membership | None = None, case_type: CaseType, data: dict[str, Any]
) -> CaseType:
    return _save_config(case_type, membership, "case_config.change", data)


@audited
def case_type_delete(*, actor=None, membership: Membership | None = None, case_type: CaseType) -> None:
    _require(membership, "case_config.delete")
    if Case.objects.filter(case_type=case_type).exists():
        raise DomainError(_("El tipo tiene casos; desactívelo en lugar de borrarlo."), field="case_type")
    case_type.delete()


WEEKDAY_NAMES = {
    0: gettext_lazy("lunes"),
    1: gettext_lazy("martes"),
    2: gettext_lazy("miércoles"),
    3: gettext_lazy("jueves"),
    4: gettext_lazy("viernes"),
    5: gettext_lazy("sábado"),
    6: gettext_lazy("domingo"),
}


def _clean_hours(hours: dict) -> dict[str, list[list[str]]]:
    """Working hours as stored: weekday "0".."6" -> sorted [["HH:MM", "HH:MM"], ...]; a day
    without intervals is closed. Errors name the field ``hours`` and the weekday."""
    if not isinstance(hours, dict):
        raise DomainError(_("Horario inválido."), field="hours")
    cleaned: dict[str, list[list[str]]] = {}
    for key, intervals in hours.items():
        try:
            weekday = int(key)
        except (TypeError, ValueError):
            weekday = -1
        if not 0 <= weekday <= 6:
            raise DomainError(_("Día de la semana inválido: %(d)s.") % {"d": key}, field="hours")
        day = str(WEEKDAY_NAMES[weekday])
        parsed = []
        for interval in intervals or []:
            try:
                start, end = (dt.time.fromisoformat(str(v)) for v in interval)
            except (TypeError, ValueError):
                raise DomainError(
                    _("%(day)s: «%(v)s» no es un intervalo HH:MM-HH:MM.") % {"day": day, "v": interval}, field="hours"
                ) from None
            if not start < end:
                raise DomainError(
                    _("%(day)s: el intervalo %(a)s-%(b)s termina antes de empezar.")
                    % {"day": day, "a": start.strftime("%H:%M"), "b": end.strftime("%H:%M")},
                    field="hours",
                )
            parsed.append((start, end))
        parsed.sort()
        for (_a, previous_end), (next_start, _b) in zip(parsed, parsed[1:], strict=False):
            if next_start < previous_end:
                raise DomainError(_("%(day)s: los intervalos se superponen.") % {"day": day}, field="hours")
        if parsed:
            cleaned[str(weekday)] = [[a.strftime("%H:%M"), b.strftime("%H:%M")] for a, b in parsed]
    if not cleaned:
        raise DomainError(_("El calendario necesita al menos un día con horario hábil."), field="hours")
    return dict(sorted(cleaned.items()))


def _clean_timezone(name: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = (name or "").strip()
    if not name:
        return ""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(_("Zona horaria desconocida: %(v)s.") % {"v": name}, field="timezone") from None
    return name


def _clean_country(code: str) -> str:
    import holidays as holidays_lib

    code = (code or "").strip().upper()
    if code and code not in holidays_lib.list_supported_countries():
        raise DomainError(_("País sin calendario de festivos: %(v)s.") % {"v": code}, field="holiday_country")
    return code


def _clean_extra_holidays(days) -> list[str]:
    cleaned = set()
    for value in days or []:
        try:
            cleaned.add(dt.date.fromisoformat(str(value).strip()).isoformat())
        except ValueError:
            raise DomainError(_("«%(v)s» no es una fecha AAAA-MM-DD.") % {"v": value}, field="extra_holidays") from None
    return sorted(cleaned)


@audited
def business_calendar_set(
    *,
    actor=None,
    membership: Membership | None = None,
    hours: dict,
    extra_holidays: list[str],
    timezone: str | None = None,
    holiday_country: str | None = None,
) -> BusinessCalendar:
    """Set the tenant's working week (closed days, split hours), its own non-working days,
    and optionally the time zone and the country of its public holidays (blank: the
    institution's). Everything is validated before anything is written; an error names the
    field. Cases already open keep the deadlines they were promised."""
    _require(membership, "case_config.change")
    clean_hours = _clean_hours(hours)
    holidays = _clean_extra_holidays(extra_holidays)
    zone = _clean_timezone(timezone) if timezone is not None else None
    country = _clean_country(holiday_country) if holiday_country is not None else None
    # One save (one audit entry): a new calendar is created with its values.
    calendar = BusinessCalendar.objects.first() or BusinessCalendar(tenant_id=require_tenant_id())
    calendar.hours = clean_hours
    calendar.extra_holidays = holidays
    if zone is not None:
        calendar.timezone = zone
    if country is not None:
        calendar.holiday_country = country
    calendar.save()
    return calendar


# --- Triage (the per-tenant complaint classifier) ---------------------------------------------

TRIAGE_FOLDS = 5


def triage_training_start(*, actor=None, membership: Membership | None = None):
    """Queue ``cases.train_triage`` for the current tenant and return its Job; refused while
    one is queued or running (one training at a time per tenant)."""
    from cases import jobs
    from cases.selectors import TRIAGE_JOB_KIND
    from vector_crm.background import job_enqueue
    from vector_crm.models import Job, JobStatus

    _require(membership, "case_config.change")
    busy = Job.objects.filter(
        kind=TRIAGE_JOB_KIND,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        created_at__gte=timezone.now() - dt.timedelta(hours=2),
    ).exists()
    if busy:
        raise DomainError(_("Ya hay un entrenamiento en curso."), field="job")
    return job_enqueue(jobs.train_triage, tenant_id=require_tenant_id(), kind=TRIAGE_JOB_KIND, created_by=actor)


def triage_model_train(*, job_id: int | None = None, reporter=None, folds: int = TRIAGE_FOLDS):
    """Train the current tenant's complaint classifier on its own closed complaints
    (category from the narrative, queue by category), measure its ``folds``-fold
    cross-validated accuracy, and store it as a new ``TriageModel`` (the one intake
    suggestions use from then on). Refused, naming ``training_set``, with fewer than
    ``triage.MIN_TRAINING_CASES`` closed complaints in two categories."""
    import io

    import joblib

    from cases import triage
    from cases.models import TriageModel
    from cases.selectors import triage_training_set

    texts, categories, queues = triage_training_set()
    if reporter is not None:
        reporter.set_total(3)
    if len(texts) < triage.MIN_TRAINING_CASES or len(set(categories)) < 2:
        raise DomainError(
            _("Se necesitan al menos %(n)s casos de PQRS cerrados con descripción y categoría, en dos categorías.")
            % {"n": triage.MIN_TRAINING_CASES},
            field="training_set",
        )
    # A small training set gets fewer folds (each fold keeps at least two cases).
    folds = max(2, min(folds, len(texts) // 2))
    accuracy = triage.cross_validated_accuracy(texts, categories, folds=folds, seed=0)
    if reporter is not None:
        reporter.progress(1, samples=len(texts))
    fitted = triage.train(texts, categories, queues)
    if reporter is not None:
        reporter.progress(2, samples=len(texts))
    buffer = io.BytesIO()
    joblib.dump(fitted, buffer, compress=3)
    model = TriageModel.objects.create(
        trained_at=timezone.now(),
        n_samples=len(texts),
        accuracy=accuracy,
        folds=folds,
        classes=sorted(set(categories)),
        pipeline=buffer.getvalue(),
        job_id=job_id,
    )
    if reporter is not None:
        reporter.progress(3, samples=len(texts))
    return model
