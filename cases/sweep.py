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
from vector_crm.db import insert_rows
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
CASE_LABEL = "cases.case"


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
    """Rows one batch writes, as plain dicts (no model instances: set-based inserts)."""

    escalations: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    messages: list[Message] = field(default_factory=list)
    warned: list[tuple[dict, tuple]] = field(default_factory=list)
    escalated: list[tuple[dict, tuple]] = field(default_factory=list)
    updates: list[tuple] = field(default_factory=list)  # (id, warned_at, breached_at, level, next_at)


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


def _texts() -> dict[str, str]:
    """The batch's messages, translated once (not per case)."""
    return {
        "warning": _("El caso alcanzó el umbral de alerta de su ANS de resolución."),
        "warning_title": _("%(ref)s en riesgo de vencer su ANS"),
        "response": _("Venció el plazo de primera respuesta sin respuesta al cliente."),
        "resolution": _("Venció el ANS de resolución (nivel %(level)s)."),
        "escalated_title": _("%(ref)s escalado: %(reason)s"),
    }


def _step_records(row: dict, step: sla.Checkpoint, now: dt.datetime, ctx: dict, out: BatchOutput, url: str) -> None:
    """Append what one fired step writes: timeline row, escalation, notifications, event."""
    recipients, texts = ctx["recipients"], ctx["texts"]
    case_ref = (CASE_LABEL, row["id"])
    title_ref = _reference(row["id"])
    if step.kind == sla.WARNING:
        users = recipients.for_step(row, "assignee")
        due = row["resolution_due_at"].isoformat()
        out.events.append(
            _event_row(row["id"], EventKind.WARNING, texts["warning"], now, {"due": due, "notified": users})
        )
        title = texts["warning_title"] % {"ref": title_ref}
        body = f"{row['subject']}\n{texts['warning']}"
        out.messages += [Message(user_id=u, kind="case.sla_warning", title=title, body=body, url=url) for u in users]
        payload = {"id": row["id"], "reference": title_ref, "resolution_due_at": due, "notified": users}
        out.warned.append((payload, case_ref))
        return
    if step.kind == sla.RESPONSE_BREACH:
        clock, level, target = Clock.FIRST_RESPONSE, 1, "supervisor"
        reason = texts["response"]
        due = row["response_due_at"]
    else:
        clock, level = Clock.RESOLUTION, step.level
        target = ESCALATION_TARGETS.get(level, "branch_manager")
        reason = texts["resolution"] % {"level": level}
        due = row["resolution_due_at"]
    users = recipients.for_step(row, target)
    out.escalations.append(
        {
            "case_id": row["id"],
            "clock": clock,
            "level": level,
            "target_role": target,
            "reason": reason,
            "escalated_at": now,
            "notified": users,
        }
    )
    detail = {"clock": str(clock), "level": level, "to": target, "notified": users}
    out.events.append(_event_row(row["id"], EventKind.ESCALATION, reason, now, detail))
    title = texts["escalated_title"] % {"ref": title_ref, "reason": reason}
    out.messages += [
        Message(user_id=u, kind="case.escalated", title=title, body=row["subject"], url=url) for u in users
    ]
    payload = {"id": row["id"], "reference": title_ref, "reason": reason, "due_at": due.isoformat(), **detail}
    out.escalated.append((payload, case_ref))


def _event_row(case_id: int, kind: str, body: str, now: dt.datetime, data: dict) -> dict:
    return {
        "case_id": case_id,
        "kind": kind,
        "from_status": "",
        "to_status": "",
        "actor_id": None,
        "body": body,
        "is_internal": False,
        "data": data,
        "occurred_at": now,
    }


def _apply_row(row: dict, now: dt.datetime, cal: sla.BusinessCalendar, ctx: dict, out: BatchOutput) -> None:
    offsets = [float(m) * 60 for m in row["escalation_offsets"] or []]
    add = lambda moment, seconds: sla.add_business_time(cal, moment, seconds)  # noqa: E731
    fired, state, following = sla.due_checkpoints(_state(row), now, offsets, add)
    url = f"{ctx['url_prefix']}{row['id']}/"
    for step in fired:
        _step_records(row, step, now, ctx, out, url)
    out.updates.append(
        (
            row["id"],
            row["warned_at"] or (now if state.warned else None),
            row["response_breached_at"] or (now if state.response_breached else None),
            state.escalation_level,
            following.at if following else None,
        )
    )


def _lock_due(now: dt.datetime, batch_size: int) -> list[dict]:
    due = Case.objects.filter(next_deadline_at__lte=now).order_by("next_deadline_at", "pk")
    if connection.vendor == "postgresql":
        due = due.select_for_update(skip_locked=True)
    return list(due.values(*SWEEP_FIELDS)[:batch_size])


def _write(out: BatchOutput, tenant_id: int) -> None:
    for row in (*out.escalations, *out.events):
        row["tenant_id"] = tenant_id
    insert_rows(Escalation, out.escalations)
    insert_rows(CaseEvent, out.events)
    _bulk_update_cases(out.updates)
    notify_many(out.messages)
    events_emit_many(type="case.sla_warning", items=out.warned, json_ready=True)
    events_emit_many(type="case.escalated", items=out.escalated, json_ready=True)


def _bulk_update_cases(updates: list[tuple]) -> None:
    if not updates:
        return
    if connection.vendor != "postgresql":
        cases = [
            Case(pk=pk, warned_at=warned, response_breached_at=breached, escalation_level=level, next_deadline_at=nxt)
            for pk, warned, breached, level, nxt in updates
        ]
        Case.objects.bulk_update(cases, UPDATED_FIELDS, batch_size=500)
        return
    # One UPDATE ... FROM (VALUES ...) per batch: Django's bulk_update builds CASE chains.
    values_sql = ", ".join(["(%s, %s::timestamptz, %s::timestamptz, %s, %s::timestamptz)"] * len(updates))
    params = [value for update in updates for value in update]
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
        ctx = {"recipients": recipients, "texts": _texts(), "url_prefix": reverse("cases:detail", args=[0])[:-2]}
        for row in rows:
            _apply_row(row, now, cal, ctx, out)
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
