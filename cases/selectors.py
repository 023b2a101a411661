"""Read queries of CASOS, shared by UI, API and jobs.

``visible_cases(viewer)`` is the only way views and endpoints reach cases: cases of the
customers the member sees (``customers.selectors.visibility_filter``), of the member's
queue or branch, or assigned to them; restricted (security) cases only for viewers with
``cases.view_security``. ``access_case`` answers the same ``NotFound`` for "does not exist",
"another tenant", "outside your portfolio" and "restricted".
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from cases import sla
from cases.choices import OPEN_STATUSES, ApprovalStatus, CaseKind, EventKind
from cases.models import BusinessCalendar, Case, CaseEvent, CaseType, Escalation, SlaPolicy, TriageModel
from cases.permissions import Viewer
from customers.selectors import visibility_filter
from vector_crm.errors import DomainError, NotFound
from vector_crm.models import Membership, Tenant, User
from vector_crm.roles import VISIBILITY, Role, Visibility
from vector_crm.tenancy import require_tenant_id


def case_visibility(viewer: Viewer) -> Q:
    membership = viewer.membership
    condition = Q()
    if membership is not None and VISIBILITY.get(membership.role) != Visibility.ALL:
        condition = Q(customer__isnull=True) | visibility_filter(membership, prefix="customer__")
        condition |= Q(assignee_id=membership.user_id)
        if membership.team_id:
            condition |= Q(team_id=membership.team_id)
        if membership.branch_id and VISIBILITY.get(membership.role) == Visibility.BRANCH:
            condition |= Q(branch_id=membership.branch_id)
    if not viewer.sees_security:
        condition &= Q(restricted=False)
    return condition


def visible_cases(viewer: Viewer) -> QuerySet[Case]:
    return Case.objects.filter(case_visibility(viewer))


def case_list(viewer: Viewer) -> QuerySet[Case]:
    """Visible cases, newest first, with type, customer, assignee and queue joined once."""
    return (
        visible_cases(viewer).select_related("case_type", "customer", "assignee", "team").order_by("-opened_at", "-id")
    )


def access_case(viewer: Viewer, case_id: int) -> Case:
    case = case_list(viewer).select_related("branch", "holding", "sla_policy").filter(pk=case_id).first()
    if case is None:
        raise NotFound()
    return case


def case_timeline(case: Case) -> list[CaseEvent]:
    """The case's interaction log in time order, with its escalations merged in: an
    ``Escalation`` is its own record (the sweep writes no duplicate event), shown as an
    unsaved ``CaseEvent`` of kind ``escalation`` (reason as text; clock, level, target and
    notified users as data). Two queries."""
    events = list(CaseEvent.objects.filter(case=case).select_related("actor").order_by("occurred_at", "id"))
    escalations = Escalation.objects.filter(case=case).select_related("milestone").order_by("escalated_at", "id")
    for escalation in escalations:
        data = {"clock": escalation.clock, "level": escalation.level, "to": escalation.target_role}
        if escalation.milestone is not None:
            data["milestone"] = escalation.milestone.code
        events.append(
            CaseEvent(
                tenant_id=escalation.tenant_id,
                case_id=escalation.case_id,
                kind=EventKind.ESCALATION,
                body=escalation.reason,
                data={**data, "notified": escalation.notified},
                occurred_at=escalation.escalated_at,
            )
        )
    # Stable: an escalation written in the same sweep as a warning comes after it.
    events.sort(key=lambda event: (event.occurred_at, event.kind == EventKind.ESCALATION))
    return events


def comment_list(viewer: Viewer) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(kind="comment", case__in=visible_cases(viewer)).select_related("actor")


def my_cases(viewer: Viewer, user_id: int) -> QuerySet[Case]:
    return case_list(viewer).filter(assignee_id=user_id, status__in=OPEN_STATUSES).order_by("next_deadline_at", "id")


def customer_case_panel(viewer: Viewer, customer_id: int, *, limit: int = 10) -> dict:
    """The 360 panel: the customer's open cases and approved exceptions (visible only)."""
    cases = visible_cases(viewer).filter(customer_id=customer_id).select_related("case_type", "assignee")
    open_cases = list(cases.filter(status__in=OPEN_STATUSES).order_by("resolution_due_at", "id")[:limit])
    exceptions = list(
        cases.filter(kind=CaseKind.EXCEPTION, approval_status=ApprovalStatus.APPROVED).order_by("-decided_at")[:limit]
    )
    return {"open_cases": open_cases, "approved_exceptions": exceptions}


def case_counts(viewer: Viewer) -> dict[str, int]:
    rows = visible_cases(viewer).filter(status__in=OPEN_STATUSES).values_list("status").annotate(n=Count("id"))
    return dict(rows.order_by())


def case_type_list() -> QuerySet[CaseType]:
    return CaseType.objects.all().order_by("name")


def sla_policy_list() -> QuerySet[SlaPolicy]:
    return SlaPolicy.objects.select_related("case_type").order_by("case_type__name", "priority", "tier")


# --- Calendars --------------------------------------------------------------------------


def tenant_calendar(tenant_id: int | None = None) -> sla.BusinessCalendar:
    """The current tenant's business calendar (its hours, holidays, time zone)."""
    tenant_id = tenant_id or require_tenant_id()
    tenant = Tenant.objects.get(pk=tenant_id)
    stored = BusinessCalendar.objects.filter(tenant_id=tenant_id).first()
    hours = sla.parse_hours(stored.hours) if stored and stored.hours else dict(sla.DEFAULT_HOURS)
    extra = frozenset(dt.date.fromisoformat(d) for d in (stored.extra_holidays if stored else []))
    zone = (stored.timezone if stored else "") or tenant.timezone
    country = (stored.holiday_country if stored else "") or tenant.holiday_country
    return sla.BusinessCalendar(timezone=zone, hours=hours, country=country or None, extra_holidays=extra)


def calendar_holidays(cal: sla.BusinessCalendar, start: dt.date, days: int = 365) -> list[dict]:
    """The holidays of ``cal`` from ``start`` for ``days`` days, in order: date, name (the
    country's, or "the institution's own"), and whether it falls on a working weekday (a
    day whose working hours the SLA clock skips)."""
    import holidays as holidays_lib

    end = start + dt.timedelta(days=days - 1)
    names: dict[dt.date, str] = {}
    if cal.country:
        years = range(start.year, end.year + 1)
        supported = holidays_lib.country_holidays(cal.country).supported_languages
        # The holiday names in the viewer's language when the library has it ("es", "en_US").
        language = next((lang for lang in supported if lang.split("_")[0] == (get_language() or "es")[:2]), None)
        country = holidays_lib.country_holidays(cal.country, years=years, language=language)
        names.update({day: str(name) for day, name in country.items() if start <= day <= end})
    for day in cal.extra_holidays:
        if start <= day <= end:
            names.setdefault(day, "")
    return [
        {"date": day, "name": name, "own": day in cal.extra_holidays, "skips_work": bool(cal.hours.get(day.weekday()))}
        for day, name in sorted(names.items())
    ]


# --- The supervisor's escalation board ----------------------------------------------------

AT_RISK = "at_risk"
BREACHED = "breached"


# No joins: with the board's OR-filters PostgreSQL expects one row and would join users
# by nested loop; names come from the totals (queues) and one query (assignees).
BOARD_COLUMNS = (
    "id",
    "subject",
    "team_id",
    "assignee_id",
    "resolution_due_at",
    "responded_at",
    "response_breached_at",
    "escalation_level",
)
BOARD_PAGE_SIZE = 100


def _queue_cases(viewer: Viewer, team_id: int | None) -> QuerySet[Case]:
    """Visible cases, of one queue when ``team_id``. A member's own queue is visible whole
    (``case_visibility`` ORs it in), so it needs no join to the customers' owners."""
    membership = viewer.membership
    if team_id and membership is not None and team_id == membership.team_id:
        cases = Case.objects.filter(team_id=team_id)
        return cases if viewer.sees_security else cases.filter(restricted=False)
    cases = visible_cases(viewer)
    return cases.filter(team_id=team_id) if team_id else cases


def escalation_board(
    viewer: Viewer,
    *,
    now: dt.datetime | None = None,
    team_id: int | None = None,
    limit: int = BOARD_PAGE_SIZE,
    page: int = 1,
):
    """Open cases at risk (warned, not yet breached) and breached, by queue (team), most
    urgent first, one page of ``limit`` rows as plain dicts; plus per-team totals counted in
    SQL. Three queries whatever the number of open cases."""
    now = now or timezone.now()
    cases = _queue_cases(viewer, team_id).filter(status__in=OPEN_STATUSES)
    breached = Q(resolution_due_at__lte=now) | Q(response_breached_at__isnull=False, responded_at__isnull=True)
    at_risk = Q(warn_at__lte=now) & ~breached
    urgent = cases.filter(breached | at_risk)
    totals = list(
        urgent.order_by()
        .values("team_id", "team__name")
        .annotate(breached=Count("id", filter=breached), at_risk=Count("id", filter=at_risk))
        .order_by("team__name")
    )
    total = sum(row["breached"] + row["at_risk"] for row in totals)
    pages = max(1, -(-total // limit))
    page = min(max(1, page), pages)
    offset = (page - 1) * limit
    rows = list(urgent.order_by("resolution_due_at", "id").values(*BOARD_COLUMNS)[offset : offset + limit])
    team_names = {row["team_id"]: row["team__name"] for row in totals}
    assignee_ids = {row["assignee_id"] for row in rows if row["assignee_id"]}
    usernames = dict(User.objects.filter(pk__in=assignee_ids).values_list("pk", "username")) if assignee_ids else {}
    by_team: dict[int | None, list] = defaultdict(list)
    for row in rows:
        row["reference"] = f"C-{row['id']:06d}"
        row["team_name"] = team_names.get(row["team_id"])
        row["assignee_name"] = usernames.get(row["assignee_id"])
        due = row["resolution_due_at"]
        row["board_state"] = (
            BREACHED
            if (due is not None and due <= now) or (row["response_breached_at"] and not row["responded_at"])
            else AT_RISK
        )
        by_team[row["team_id"]].append(row)
    return {
        "totals": totals,
        "rows": rows,
        "by_team": dict(by_team),
        "now": now,
        "page": page,
        "pages": pages,
        "total": total,
        "first": offset + 1 if rows else 0,
        "last": offset + len(rows),
    }


def team_members_for_board(membership: Membership | None):
    """Members a supervisor may hand cases to: front-office members of the tenant."""
    return (
        Membership.objects.filter(is_active=True, role__in=[Role.ADVISOR, Role.SUPERVISOR, Role.BRANCH_MANAGER])
        .select_related("user", "team")
        .order_by("user__username")
    )


# --- Triage ---------------------------------------------------------------------------------

TRIAGE_JOB_KIND = "cases.train_triage"  # cases.jobs.TRAIN_TRIAGE

# Fitted models loaded from ``TriageModel`` rows: tenant id -> ((row id, trained_at), Triage).
# A row is never changed after it is written, so (id, trained_at) is its version; a newer
# row replaces the tenant's entry. Keyed by tenant, so a tenant only ever reaches its own.
_TRIAGE_MODELS: dict[int, tuple[tuple, object]] = {}


def _triage_cases() -> QuerySet[Case]:
    return Case.objects.filter(kind=CaseKind.COMPLAINT, status="closed").exclude(description="").exclude(category="")


def triage_training_size() -> tuple[int, int]:
    """How many closed complaints the current tenant could train on, in how many categories."""
    totals = _triage_cases().aggregate(n=Count("id"), categories=Count("category", distinct=True))
    return totals["n"], totals["categories"]


def triage_training_set() -> tuple[list[str], list[str], list[int | None]]:
    """The current tenant's closed complaints with a narrative and a category, oldest
    first: texts, categories, queues (team ids)."""
    rows = list(_triage_cases().order_by("pk").values_list("description", "category", "team_id"))
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def triage_model_current() -> TriageModel | None:
    """The current tenant's newest trained model (without its pipeline bytes)."""
    return TriageModel.objects.defer("pipeline").order_by("-trained_at", "-id").first()


def triage_job_latest():
    from vector_crm.models import Job

    return Job.objects.filter(kind=TRIAGE_JOB_KIND).order_by("-created_at", "-id").first()


def _load_triage(tenant_id: int):
    """The tenant's newest model, unpickled once per model version per process."""
    current = (
        TriageModel.objects.filter(tenant_id=tenant_id).order_by("-trained_at", "-id").values_list("pk", "trained_at")
    ).first()
    if current is None:
        return None, None
    model_id = current[0]
    cached = _TRIAGE_MODELS.get(tenant_id)
    # (id, trained_at) is the version: an id alone may come back after a rolled-back insert.
    if cached is None or cached[0] != current:
        import io

        import joblib

        row = TriageModel.objects.filter(tenant_id=tenant_id, pk=model_id).values_list("pipeline", flat=True).get()
        # Written only by this tenant's own training job (cases.services.triage_model_train).
        _TRIAGE_MODELS[tenant_id] = (current, joblib.load(io.BytesIO(bytes(row))))
    return model_id, _TRIAGE_MODELS[tenant_id][1]


def case_triage(narrative: str) -> dict:
    """Suggested category and queue for a new complaint, from the classifier the training
    job stored for the current tenant (trained on its own closed complaints)."""
    tenant_id = require_tenant_id()
    model_id, model = _load_triage(tenant_id)
    if model is None:
        raise DomainError(
            _("Aún no hay un clasificador entrenado para esta entidad: entrénelo desde Políticas de ANS."),
            field="narrative",
        )
    return {**model.suggest(narrative), "trained_on": model.trained_on, "model": model_id}
