"""The SLA sweep: warnings and escalations of due cases and milestones, set-based and
exactly once.

Each batch is one transaction: it locks up to ``batch_size`` cases whose
``next_deadline_at`` has passed (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so two sweeps
never take the same case), loads their pending milestones (one query), computes every
step now due with the pure ``cases.sla`` plan, and writes with one statement each: the
escalations, the warnings' timeline rows, the milestones' and the cases' new state, the
notifications and the outbox events. A sweep run twice finds nothing due the second time;
a worker killed mid-batch rolls that batch back and the next sweep redoes it (the unique
constraints on ``Escalation`` are the last guard against duplicates).

What a batch writes:

* an escalation is its own timeline record (``Escalation``; the case page and the API
  merge it into the timeline), so no duplicate ``CaseEvent`` is written for it; a warning
  is a ``CaseEvent`` of kind ``warning``;
* notifications are digested: one in-app notification (and so one e-mail) per recipient
  and kind per batch, naming every case it covers (a single case keeps its own title and
  link);
* outbox events, one per step: ``case.sla_warning`` and ``case.escalated``. A missed
  milestone is a ``case.escalated`` event with ``clock`` "milestone", ``milestone`` (its
  code), ``milestone_name`` and ``due_at`` (its warning: ``case.sla_warning`` with the same
  keys), so a webhook subscribed to escalations hears about every escalation.
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
from cases.models import Case, CaseEvent, CaseMilestone, Escalation
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
# A digest names this many cases, then how many more.
DIGEST_LINES = 20


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
    # Per (recipient, kind), in order of first mention: [Message of one case, its digest line]
    digests: dict[tuple[int, str], list[tuple[Message, str]]] = field(default_factory=dict)
    warned: list[tuple[dict, tuple]] = field(default_factory=list)
    escalated: list[tuple[dict, tuple]] = field(default_factory=list)
    updates: list[tuple] = field(default_factory=list)  # (id, warned_at, breached_at, level, next_at)
    milestone_updates: list[tuple] = field(default_factory=list)  # (id, warned_at, missed_at)

    def notify(self, users: list[int], kind: str, title: str, body: str, url: str, line: str) -> None:
        for user_id in users:
            message = Message(user_id=user_id, kind=kind, title=title, body=body, url=url)
            self.digests.setdefault((user_id, kind), []).append((message, line))


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


def _milestone_state(milestone: dict) -> sla.MilestoneState:
    return sla.MilestoneState(
        due_at=milestone["due_at"],
        warn_at=milestone["warn_at"],
        warned=milestone["warned_at"] is not None,
        missed=milestone["missed_at"] is not None,
        reached=False,
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
        "milestone_warning": _("El momento de verdad «%(name)s» está por vencer."),
        "milestone_missed": _("Se incumplió el momento de verdad «%(name)s»."),
        "digest_warning": _("%(n)s casos en riesgo de vencer su ANS"),
        "digest_escalated": _("%(n)s casos escalados"),
        "digest_more": _("… y %(n)s más."),
    }


def _notify_row(ctx: dict, row: dict, users: list[int], kind: str, title: str, body: str, line: str) -> None:
    """One case's message to its recipients, and its line in their digests."""
    ctx["out"].notify(users, kind, title, body, f"{ctx['url_prefix']}{row['id']}/", line)


def _escalate(ctx: dict, row: dict, *, clock: str, level: int, target: str, reason: str, due, extra: dict) -> None:
    out, now = ctx["out"], ctx["now"]
    users = ctx["recipients"].for_step(row, target)
    out.escalations.append(
        {
            "case_id": row["id"],
            "milestone_id": extra.get("milestone_id"),
            "clock": clock,
            "level": level,
            "target_role": target,
            "reason": reason,
            "escalated_at": now,
            "notified": users,
        }
    )
    reference = _reference(row["id"])
    title = ctx["texts"]["escalated_title"] % {"ref": reference, "reason": reason}
    _notify_row(ctx, row, users, "case.escalated", title, row["subject"], title)
    detail = {"clock": str(clock), "level": level, "to": target, "notified": users, **extra.get("payload", {})}
    payload = {"id": row["id"], "reference": reference, "reason": reason, "due_at": due.isoformat(), **detail}
    out.escalated.append((payload, (CASE_LABEL, row["id"])))


def _warn(ctx: dict, row: dict, *, text: str, due: str, due_key: str, extra: dict) -> None:
    """A warning: timeline row, message to the assignee (or the queue's supervisors), and
    the ``case.sla_warning`` event (``due_key``: which deadline ``due`` is)."""
    out = ctx["out"]
    users = ctx["recipients"].for_step(row, "assignee")
    reference = _reference(row["id"])
    out.events.append(
        _event_row(row["id"], EventKind.WARNING, text, ctx["now"], {"due": due, "notified": users, **extra})
    )
    title = ctx["texts"]["warning_title"] % {"ref": reference}
    _notify_row(ctx, row, users, "case.sla_warning", title, f"{row['subject']}\n{text}", f"{reference}: {text}")
    payload = {"id": row["id"], "reference": reference, due_key: due, "notified": users, **extra}
    out.warned.append((payload, (CASE_LABEL, row["id"])))


def _case_step(ctx: dict, row: dict, step: sla.Checkpoint) -> None:
    """What one fired SLA step writes: the warning, or the escalation."""
    texts = ctx["texts"]
    if step.kind == sla.WARNING:
        due = row["resolution_due_at"].isoformat()
        _warn(ctx, row, text=texts["warning"], due=due, due_key="resolution_due_at", extra={})
    elif step.kind == sla.RESPONSE_BREACH:
        _escalate(
            ctx,
            row,
            clock=Clock.FIRST_RESPONSE,
            level=1,
            target="supervisor",
            reason=texts["response"],
            due=row["response_due_at"],
            extra={},
        )
    else:
        _escalate(
            ctx,
            row,
            clock=Clock.RESOLUTION,
            level=step.level,
            target=ESCALATION_TARGETS.get(step.level, "branch_manager"),
            reason=texts["resolution"] % {"level": step.level},
            due=row["resolution_due_at"],
            extra={},
        )


def _milestone_step(ctx: dict, row: dict, milestone: dict, step: sla.Checkpoint) -> None:
    """What one fired milestone step writes: its warning, or its miss (an escalation to the
    team's supervisor, level 1 on the milestone's own clock)."""
    texts = ctx["texts"]
    about = {"milestone": milestone["code"], "milestone_name": milestone["name"]}
    if step.kind == sla.MILESTONE_WARNING:
        text = texts["milestone_warning"] % {"name": milestone["name"]}
        _warn(ctx, row, text=text, due=milestone["due_at"].isoformat(), due_key="due_at", extra=about)
        return
    _escalate(
        ctx,
        row,
        clock=Clock.MILESTONE,
        level=1,
        target="supervisor",
        reason=texts["milestone_missed"] % {"name": milestone["name"]},
        due=milestone["due_at"],
        extra={"milestone_id": milestone["id"], "payload": about},
    )


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


def _apply_row(row: dict, milestones: list[dict], ctx: dict) -> None:
    """Fire the case's due steps, then its milestones' (each in order), and plan its next deadline."""
    now, out = ctx["now"], ctx["out"]
    offsets = [float(m) * 60 for m in row["escalation_offsets"] or []]
    fired, state, following = sla.due_checkpoints(_state(row), now, offsets, ctx["add"])
    for step in fired:
        _case_step(ctx, row, step)
    for milestone in milestones:
        steps, after, upcoming = sla.due_milestone_checkpoints(_milestone_state(milestone), now)
        for step in steps:
            _milestone_step(ctx, row, milestone, step)
        if steps:
            out.milestone_updates.append(
                (
                    milestone["id"],
                    milestone["warned_at"] or (now if after.warned else None),
                    now if after.missed else None,
                )
            )
        following = sla.earliest(following, upcoming)
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


def _pending_milestones(case_ids: list[int]) -> dict[int, list[dict]]:
    """The locked cases' milestones neither reached nor missed, by case (one query)."""
    rows = (
        CaseMilestone.objects.filter(case_id__in=case_ids, reached_at=None, missed_at=None)
        .order_by("due_at", "pk")
        .values("id", "case_id", "code", "name", "due_at", "warn_at", "warned_at", "missed_at")
    )
    by_case: dict[int, list[dict]] = defaultdict(list)
    for milestone in rows:
        by_case[milestone["case_id"]].append(milestone)
    return by_case


def _digest_messages(out: BatchOutput, texts: dict[str, str], board_url: str) -> list[Message]:
    """One message per recipient and kind: a lone case as itself, several as a digest that
    names them all (up to ``DIGEST_LINES``) and links to the board."""
    messages = []
    for (user_id, kind), lines in out.digests.items():
        if len(lines) == 1:
            messages.append(lines[0][0])
            continue
        key = "digest_warning" if kind == "case.sla_warning" else "digest_escalated"
        shown = [line for _message, line in lines[:DIGEST_LINES]]
        if len(lines) > DIGEST_LINES:
            shown.append(texts["digest_more"] % {"n": len(lines) - DIGEST_LINES})
        title = texts[key] % {"n": len(lines)}
        messages.append(Message(user_id=user_id, kind=kind, title=title, body="\n".join(shown), url=board_url))
    return messages


def _write(out: BatchOutput, tenant_id: int, messages: list[Message]) -> None:
    for row in (*out.escalations, *out.events):
        row["tenant_id"] = tenant_id
    insert_rows(Escalation, out.escalations)
    insert_rows(CaseEvent, out.events)
    _bulk_update_cases(out.updates)
    _bulk_update_milestones(out.milestone_updates)
    notify_many(messages)
    events_emit_many(type="case.sla_warning", items=out.warned, json_ready=True)
    events_emit_many(type="case.escalated", items=out.escalated, json_ready=True)


def _update_from_values(table: str, columns: tuple[tuple[str, str], ...], updates: list[tuple]) -> None:
    """``UPDATE table SET col = v.col ... FROM (VALUES ...)``: one statement for a batch
    (Django's bulk_update builds CASE chains). ``columns``: (name, SQL cast) after ``id``."""
    row_sql = "(%s, " + ", ".join(f"%s::{cast}" for _name, cast in columns) + ")"
    names = ", ".join(name for name, _cast in columns)
    assignments = ", ".join(f"{name} = v.{name}" for name, _cast in columns)
    params = [value for update in updates for value in update]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET {assignments} "  # noqa: S608 (identifiers are constants, values bound)
            f"FROM (VALUES {', '.join([row_sql] * len(updates))}) AS v(id, {names}) WHERE t.id = v.id",
            params,
        )


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
    columns = (
        ("warned_at", "timestamptz"),
        ("response_breached_at", "timestamptz"),
        ("escalation_level", "smallint"),
        ("next_deadline_at", "timestamptz"),
    )
    _update_from_values(Case._meta.db_table, columns, updates)


def _bulk_update_milestones(updates: list[tuple]) -> None:
    if not updates:
        return
    if connection.vendor != "postgresql":
        milestones = [CaseMilestone(pk=pk, warned_at=warned, missed_at=missed) for pk, warned, missed in updates]
        CaseMilestone.objects.bulk_update(milestones, ["warned_at", "missed_at"], batch_size=500)
        return
    columns = (("warned_at", "timestamptz"), ("missed_at", "timestamptz"))
    _update_from_values(CaseMilestone._meta.db_table, columns, updates)


def sla_sweep_batch(
    *,
    now: dt.datetime | None = None,
    batch_size: int = 500,
    calendar: sla.BusinessCalendar | None = None,
    recipients: Recipients | None = None,
) -> dict[str, int]:
    """Process one batch of the current tenant's due cases in one transaction; returns
    ``{"cases": n, "warnings": w, "escalations": e}`` (milestones' included)."""
    from vector_crm.tenancy import require_tenant_id

    now = now or timezone.now()
    tenant_id = require_tenant_id()
    with transaction.atomic():
        rows = _lock_due(now, batch_size)
        if not rows:
            return {"cases": 0, "warnings": 0, "escalations": 0}
        milestones = _pending_milestones([row["id"] for row in rows])
        cal = calendar or tenant_calendar(tenant_id)
        out = BatchOutput()
        texts = _texts()
        ctx = {
            "now": now,
            "out": out,
            "recipients": recipients or Recipients.load(),
            "texts": texts,
            "url_prefix": reverse("cases:detail", args=[0])[:-2],
            "add": lambda moment, seconds: sla.add_business_time(cal, moment, seconds),
        }
        for row in rows:
            _apply_row(row, milestones.get(row["id"], []), ctx)
        _write(out, tenant_id, _digest_messages(out, texts, reverse("cases:board")))
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
