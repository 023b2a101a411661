"""The SLA sweep: warnings and escalations of due cases, set-based and exactly once.

Each batch is one transaction: it locks up to ``batch_size`` cases whose
``next_deadline_at`` has passed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two sweeps
never take the same case), computes every step now due with the pure ``cases.sla`` plan,
and writes escalations, timeline rows, notifications, outbox events and the cases' new
state with bulk statements. A sweep run twice finds nothing due the second time; a worker
killed mid-batch rolls that batch back and the next sweep redoes it (the unique
(case, clock, level) constraint on ``Escalation`` is the last guard against duplicates).
"""

from __future__ import annotations

import datetime as dt
import time
from collections import defaultdict
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cases import sla
from cases.choices import ESCALATION_TARGETS, Clock, EventKind
from cases.models import Case, CaseEvent, Escalation
from cases.selectors import tenant_calendar
from vector_crm.models import Membership, Tenant
from vector_crm.notifications import Message, notify_many
from vector_crm.outbox import events_emit_many
from vector_crm.roles import Role
from vector_crm.tenancy import platform_context, tenant_context

SWEEP_FIELDS = (
    "id",
    "subject",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "branch_id",
    "customer_id",
    "response_due_at",
    "responded_at",
    "response_breached_at",
    "warn_at",
    "warned_at",
    "resolution_due_at",
    "escalation_level",
    "escalation_offsets",
)
UPDATED_FIELDS = ["warned_at", "response_breached_at", "escalation_level", "next_deadline_at"]


@dataclass
class Recipients:
    """Who hears about a step: team supervisors, branch managers, and the tenant admins
    when a case has neither. Loaded once per batch."""

    supervisors: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    managers: dict[int | None, list[int]] = field(default_factory=lambda: defaultdict(list))
    admins: list[int] = field(default_factory=list)

    @classmethod
    def load(cls) -> Recipients:
        recipients = cls()
        rows = Membership.objects.filter(
            is_active=True, role__in=[Role.SUPERVISOR, Role.BRANCH_MANAGER, Role.TENANT_ADMIN]
        ).values_list("role", "user_id", "team_id", "branch_id")
        for role, user_id, team_id, branch_id in rows.order_by("pk"):
            if role == Role.SUPERVISOR:
                recipients.supervisors[team_id].append(user_id)
            elif role == Role.BRANCH_MANAGER:
                recipients.managers[branch_id].append(user_id)
            else:
                recipients.admins.append(user_id)
        return recipients

    def for_step(self, row: dict, target: str) -> list[int]:
        if target == "assignee" and row["assignee_id"]:
            return [row["assignee_id"]]
        if target in ("assignee", "supervisor"):
            users = self.supervisors.get(row["team_id"]) or self.managers.get(row["branch_id"]) or []
        else:
            users = self.managers.get(row["branch_id"]) or []
        return list(dict.fromkeys(users or self.admins))


@dataclass
class BatchOutput:
    escalations: list[Escalation] = field(default_factory=list)
    events: list[CaseEvent] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    warned: list[tuple[dict, Case]] = field(default_factory=list)
    escalated: list[tuple[dict, Case]] = field(default_factory=list)
    cases: list[Case] = field(default_factory=list)


def _state(row: dict) -> sla.ClockState:
    return sla.ClockState(
        response_due_at=row["response_due_at"],
        responded=row["responded_at"] is not None,
        response_breached=row["response_breached_at"] is not None,
        warn_at=row["warn_at"],
        warned=row["warned_at"] is not None,
        resolution_due_at=row["resolution_due_at"],
        escalation_level=row["escalation_level"],
    )


def _reference(case_id: int) -> str:
    return f"C-{case_id:06d}"


def _step_records(row: dict, step: sla.Checkpoint, now: dt.datetime, recipients: Recipients, out: BatchOutput, url):
    """Append what one fired step writes: timeline row, escalation, notifications, event."""
    case_ref = Case(pk=row["id"])
    title_ref = _reference(row["id"])
    if step.kind == sla.WARNING:
        users = recipients.for_step(row, "assignee")
        reason = _("El caso alcanzó el umbral de alerta de su ANS de resolución.")
        out.events.append(
            CaseEvent(
                case_id=row["id"],
                kind=EventKind.WARNING,
                body=reason,
                occurred_at=now,
                data={"due": row["resolution_due_at"].isoformat(), "notified": users},
            )
        )
        out.messages += [
            Message(
                user_id=u,
                kind="case.sla_warning",
                title=_("%(ref)s en riesgo de vencer su ANS") % {"ref": title_ref},
                body=f"{row['subject']}\n{reason}",
                url=url,
            )
            for u in users
        ]
        out.warned.append(
            (
                {
                    "id": row["id"],
                    "reference": title_ref,
                    "resolution_due_at": row["resolution_due_at"],
                    "notified": users,
                },
                case_ref,
            )
        )
        return
    if step.kind == sla.RESPONSE_BREACH:
        clock, level, target = Clock.FIRST_RESPONSE, 1, "supervisor"
        reason = _("Venció el plazo de primera respuesta sin respuesta al cliente.")
        due = row["response_due_at"]
    else:
        clock, level = Clock.RESOLUTION, step.level
        target = ESCALATION_TARGETS.get(level, "branch_manager")
        reason = _("Venció el ANS de resolución (nivel %(level)s).") % {"level": level}
        due = row["resolution_due_at"]
    users = recipients.for_step(row, target)
    out.escalations.append(
        Escalation(
            case_id=row["id"],
            clock=clock,
            level=level,
            target_role=target,
            reason=reason,
            escalated_at=now,
            notified=users,
        )
    )
    out.events.append(
        CaseEvent(
            case_id=row["id"],
            kind=EventKind.ESCALATION,
            body=reason,
            occurred_at=now,
            data={"clock": clock, "level": level, "to": target, "notified": users},
        )
    )
    out.messages += [
        Message(
            user_id=u,
            kind="case.escalated",
            title=_("%(ref)s escalado: %(reason)s") % {"ref": title_ref, "reason": reason},
            body=row["subject"],
            url=url,
        )
        for u in users
    ]
    out.escalated.append(
        (
            {
                "id": row["id"],
                "reference": title_ref,
                "clock": clock,
                "level": level,
                "to": target,
                "reason": reason,
                "due_at": due,
                "notified": users,
            },
            case_ref,
        )
    )


def _apply_row(
    row: dict, now: dt.datetime, cal: sla.BusinessCalendar, recipients: Recipients, out: BatchOutput
) -> None:
    offsets = [float(m) * 60 for m in row["escalation_offsets"] or []]
    add = lambda moment, seconds: sla.add_business_time(cal, moment, seconds)  # noqa: E731
    fired, state, following = sla.due_checkpoints(_state(row), now, offsets, add)
    url = reverse("cases:detail", args=[row["id"]])
    for step in fired:
        _step_records(row, step, now, recipients, out, url)
    case = Case(pk=row["id"])
    case.warned_at = row["warned_at"] or (now if state.warned else None)
    case.response_breached_at = row["response_breached_at"] or (now if state.response_breached else None)
    case.escalation_level = state.escalation_level
    case.next_deadline_at = following.at if following else None
    out.cases.append(case)


def _lock_due(now: dt.datetime, batch_size: int) -> list[dict]:
    due = Case.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at", "pk")
    if connection.vendor == "postgresql":
        due = due.select_for_update(skip_locked=True)
    return list(due.values(*SWEEP_FIELDS)[:batch_size])


def _write(out: BatchOutput, tenant_id: int) -> None:
    for obj in (*out.escalations, *out.events, *out.cases):
        obj.tenant_id = tenant_id
    Escalation.objects.bulk_create(out.escalations, batch_size=1000)
    CaseEvent.objects.bulk_create(out.events, batch_size=1000)
    _bulk_update_cases(out.cases)
    notify_many(out.messages)
    for _payload, case in out.warned + out.escalated:
        case.tenant_id = tenant_id
    events_emit_many(type="case.sla_warning", items=out.warned)
    events_emit_many(type="case.escalated", items=out.escalated)


def _bulk_update_cases(cases: list[Case]) -> None:
    if not cases:
        return
    if connection.vendor != "postgresql":
        Case.objects.bulk_update(cases, UPDATED_FIELDS, batch_size=500)
        return
    # One UPDATE ... FROM (VALUES ...) per batch: Django's bulk_update builds CASE chains.
    values_sql = ", ".join(["(%s, %s::timestamptz, %s::timestamptz, %s, %s::timestamptz)"] * len(cases))
    params: list = []
    for case in cases:
        params += [case.pk, case.warned_at, case.response_breached_at, case.escalation_level, case.next_deadline_at]
    table = Case._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS c SET warned_at = v.warned_at, response_breached_at = v.breached, "  # noqa: S608
            f"escalation_level = v.level, next_deadline_at = v.next_at "
            f"FROM (VALUES {values_sql}) AS v(id, warned_at, breached, level, next_at) WHERE c.id = v.id",
            params,
        )


def sla_sweep_batch(
    *,
    now: dt.datetime | None = None,
    batch_size: int = 500,
    calendar: sla.BusinessCalendar | None = None,
    recipients: Recipients | None = None,
) -> dict[str, int]:
    """Process one batch of the current tenant's due cases in one transaction; returns
    ``{"cases": n, "warnings": w, "escalations": e}``."""
    from vector_crm.tenancy import require_tenant_id

    now = now or timezone.now()
    tenant_id = require_tenant_id()
    with transaction.atomic():
        rows = _lock_due(now, batch_size)
        if not rows:
            return {"cases": 0, "warnings": 0, "escalations": 0}
        cal = calendar or tenant_calendar(tenant_id)
        recipients = recipients or Recipients.load()
        out = BatchOutput()
        for row in rows:
            _apply_row(row, now, cal, recipients, out)
        _write(out, tenant_id)
    return {"cases": len(rows), "warnings": len(out.warned), "escalations": len(out.escalations)}


def sla_sweep_tenant(
    tenant_id: int,
    *,
    now: dt.datetime | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
    pause: float | None = None,
) -> dict[str, int]:
    """Sweep one tenant in bounded batches until nothing is due (or ``max_batches``)."""
    batch_size = batch_size or settings.CASES_SLA_SWEEP_BATCH_SIZE
    pause = settings.CASES_SLA_SWEEP_BATCH_PAUSE if pause is None else pause
    totals = {"cases": 0, "warnings": 0, "escalations": 0, "batches": 0}
    with tenant_context(tenant_id):
        cal = tenant_calendar(tenant_id)
        recipients = Recipients.load()
        while max_batches is None or totals["batches"] < max_batches:
            counts = sla_sweep_batch(now=now, batch_size=batch_size, calendar=cal, recipients=recipients)
            if not counts["cases"]:
                break
            totals["batches"] += 1
            for key, value in counts.items():
                totals[key] += value
            if counts["cases"] < batch_size:
                break
            if pause:
                time.sleep(pause)
    return totals


def tenants_with_due_cases(now: dt.datetime) -> list[int]:
    """Active tenants with at least one due case: one query, an index probe per tenant."""
    with platform_context():
        due = Case.unscoped.filter(tenant_id=OuterRef("pk"), next_deadline_at__lte=now)  # unscoped: platform sweep
        return list(
            Tenant.objects.filter(is_active=True).filter(Exists(due)).order_by("pk").values_list("pk", flat=True)
        )


def sla_sweep(*, now: dt.datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    """Every tenant's due cases (beat, every minute). Idempotent: twice in a row, once."""
    now = now or timezone.now()
    totals = {"tenants": 0, "cases": 0, "warnings": 0, "escalations": 0}
    for tenant_id in tenants_with_due_cases(now):
        counts = sla_sweep_tenant(tenant_id, now=now, batch_size=batch_size)
        totals["tenants"] += 1
        for key in ("cases", "warnings", "escalations"):
            totals[key] += counts[key]
    return totals
