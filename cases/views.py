"""Browser UI of CASOS: case list and "my cases", intake (standalone and from the 360),
the case page with its timeline and SLA clocks, the supervisor's escalation board with
reassignment and bulk actions, and the SLA policy admin for tenant admins.

Cases are reached through ``selectors`` (visibility, security restriction) and changed
through ``services``; a case the member may not see is the same 404 as a missing one.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import selectors, services, sla
from cases.filters import CaseFilterSet
from cases.forms import (
    AssignForm,
    AttachmentForm,
    BusinessCalendarForm,
    CaseIntakeForm,
    CommentForm,
    DecisionForm,
    DuePreviewForm,
    SlaPolicyForm,
    TransitionForm,
)
from cases.models import BusinessCalendar, CaseMilestone, SlaPolicy
from cases.permissions import Viewer, authority_of
from customers.selectors import access_customer
from vector_crm.errors import DomainError, NotFound
from vector_crm.models import Team, Tenant, User
from vector_crm.views import member_required

LIST_LIMIT = 100


def _viewer(request) -> Viewer:
    return Viewer.of(request.membership)


def _service_kwargs(request) -> dict:
    return {"actor": request.user, "membership": request.membership}


@member_required("cases.view")
@require_GET
def case_index(request):
    """Visible cases, filtered by ``CaseFilterSet``; ``?mine=1`` is "my cases"."""
    viewer = _viewer(request)
    queryset = selectors.case_list(viewer)
    mine = request.GET.get("mine") == "1"
    if mine:
        queryset = selectors.my_cases(viewer, request.user.pk)
    filterset = CaseFilterSet(request.GET or None, queryset=queryset, request=request)
    context = {
        "filterset": filterset,
        "cases": list(filterset.qs[:LIST_LIMIT]),
        "mine": mine,
        "counts": selectors.case_counts(viewer),
        "now": timezone.now(),
    }
    return render(request, "cases/case_list.html", context)


@member_required("cases.create")
@require_http_methods(["GET", "POST"])
def case_new(request):
    """Open a case; ``?customer=<id>`` presets the customer (the 360's button)."""
    services.case_types_ensure_defaults()
    customer_id = request.POST.get("customer") or request.GET.get("customer")
    customer = access_customer(request.membership, int(customer_id)) if customer_id and customer_id.isdigit() else None
    viewer = _viewer(request)
    case_types = selectors.case_type_list().filter(is_active=True)
    if not viewer.sees_security:
        case_types = case_types.filter(restricted=False)
    form = CaseIntakeForm(request.POST or None, case_types=case_types, initial={"customer": customer_id})
    if request.method == "POST" and form.is_valid():
        try:
            case = services.case_open(**_service_kwargs(request), viewer=viewer, data=form.service_data(customer))
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Caso %(ref)s abierto.") % {"ref": case.reference})
            return redirect("cases:detail", pk=case.pk)
    return render(
        request, "cases/case_form.html", {"form": form, "customer": customer}, status=400 if form.errors else 200
    )


def _detail_context(request, case, **forms) -> dict:
    membership = request.membership
    members = User.objects.filter(memberships__is_active=True, memberships__tenant_id=case.tenant_id).order_by(
        "username"
    )
    context = {
        "case": case,
        "timeline": selectors.case_timeline(case),
        "milestones": list(CaseMilestone.objects.filter(case=case).order_by("due_at")),
        "escalations": list(case.escalations.order_by("escalated_at")),
        "attachments": list(case.attachments.order_by("uploaded_at")),
        "clocks": _clocks(case),
        "transition_form": forms.get("transition_form") or TransitionForm(current=case.status),
        "comment_form": forms.get("comment_form") or CommentForm(),
        "assign_form": forms.get("assign_form")
        or AssignForm(members=members, initial={"assignee": case.assignee_id, "team": case.team_id}),
        "decision_form": forms.get("decision_form") or DecisionForm(),
        "attachment_form": AttachmentForm(),
        "can_change": membership.has("cases.change"),
        "can_reassign": membership.has("cases.reassign"),
        "can_decide": case.kind == "exception" and case.approval_status == "pending" and authority_of(membership) > 0,
    }
    return context


def _clocks(case) -> list[dict]:
    now = timezone.now()
    clocks = []
    for label, due, done in (
        (_("Primera respuesta"), case.response_due_at, case.responded_at),
        (_("Resolución"), case.resolution_due_at, case.resolved_at),
    ):
        if due is None:
            continue
        state = "done" if done else ("paused" if case.paused_at else ("breached" if due <= now else "running"))
        if state == "running" and case.warn_at and case.warn_at <= now and label == _("Resolución"):
            state = "at_risk"
        clocks.append({"label": label, "due": due, "done": done, "state": state})
    return clocks


@member_required("cases.view")
@require_GET
def case_detail(request, pk: int):
    case = selectors.access_case(_viewer(request), pk)
    return render(request, "cases/case_detail.html", _detail_context(request, case))


def _act(request, pk: int, action):
    """Run ``action(case)`` for a POST on the case page; a domain error re-renders the page
    with the message (400), success redirects back to it."""
    case = selectors.access_case(_viewer(request), pk)
    try:
        action(case)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
        response = render(
            request, "cases/case_detail.html", _detail_context(request, selectors.access_case(_viewer(request), pk))
        )
        response.status_code = 403 if exc.status_code == 403 else 400
        return response
    return redirect("cases:detail", pk=pk)


@member_required("cases.change")
@require_POST
def case_transition(request, pk: int):
    def action(case):
        form = TransitionForm(request.POST, current=case.status)
        to_status = request.POST.get("to_status", "")
        data = form.cleaned_data if form.is_valid() else {"note": request.POST.get("note", "")}
        services.case_transition(
            **_service_kwargs(request),
            case=case,
            to_status=to_status,
            note=data.get("note") or "",
            satisfaction=data.get("satisfaction"),
            customer_confirmed=bool(data.get("customer_confirmed")),
        )

    return _act(request, pk, action)


@member_required("cases.change")
@require_POST
def case_comment(request, pk: int):
    def action(case):
        form = CommentForm(request.POST)
        form.is_valid()
        services.case_comment(
            **_service_kwargs(request),
            case=case,
            body=form.cleaned_data.get("body", ""),
            is_internal=bool(form.cleaned_data.get("is_internal")),
        )

    return _act(request, pk, action)


@member_required("cases.change")
@require_POST
def case_assign(request, pk: int):
    def action(case):
        assignee = User.objects.filter(pk=request.POST.get("assignee") or 0).first()
        team = Team.objects.filter(pk=request.POST.get("team") or 0).first()
        services.case_assign(**_service_kwargs(request), case=case, assignee=assignee, team=team)

    return _act(request, pk, action)


@member_required("cases.approve")
@require_POST
def case_decide(request, pk: int):
    def action(case):
        services.case_exception_decide(
            **_service_kwargs(request),
            case=case,
            approve=request.POST.get("approve") == "1",
            reason=request.POST.get("reason", ""),
        )

    return _act(request, pk, action)


@member_required("cases.change")
@require_POST
def case_attach(request, pk: int):
    return _act(
        request,
        pk,
        lambda case: services.case_attach(**_service_kwargs(request), case=case, upload=request.FILES.get("file")),
    )


@member_required("cases.reassign")
@require_http_methods(["GET", "POST"])
def escalation_board(request):
    """At-risk and breached cases by queue, with reassignment and bulk actions."""
    viewer = _viewer(request)
    if request.method == "POST":
        ids = [int(v) for v in request.POST.getlist("case_ids") if v.isdigit()]
        assignee = User.objects.filter(pk=request.POST.get("assignee") or 0).first()
        team = Team.objects.filter(pk=request.POST.get("team") or 0).first()
        try:
            moved = services.cases_bulk_assign(
                **_service_kwargs(request), viewer=viewer, case_ids=ids, assignee=assignee, team=team
            )
            messages.success(request, _("%(n)s casos reasignados.") % {"n": moved})
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("cases:board")
    # A supervisor starts on their own team's queue; ?team=all shows every visible queue.
    team_param = request.GET.get("team") or ""
    team_id = int(team_param) if team_param.isdigit() else None
    if not team_param and request.membership.team_id:
        team_id = request.membership.team_id
    page = request.GET.get("page") or ""
    board = selectors.escalation_board(viewer, team_id=team_id, page=int(page) if page.isdigit() else 1)
    members = selectors.team_members_for_board(request.membership)
    return render(
        request,
        "cases/board.html",
        {**board, "team_param": team_param, "members": members, "teams": Team.objects.order_by("name")},
    )


@member_required("case_config.change")
@require_http_methods(["GET", "POST"])
def policy_admin(request):
    """SLA policies of the tenant: list, add, deactivate."""
    services.case_types_ensure_defaults()
    form = SlaPolicyForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("delete"):
            policy = SlaPolicy.objects.filter(pk=request.POST["delete"]).first()
            if policy is None:
                raise NotFound()
            services.sla_policy_delete(**_service_kwargs(request), policy=policy)
            return redirect("cases:policies")
        if form.is_valid():
            try:
                services.sla_policy_create(**_service_kwargs(request), data=form.cleaned_data)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Política de ANS guardada."))
                return redirect("cases:policies")
    return render(
        request,
        "cases/policies.html",
        {
            "form": form,
            "policies": selectors.sla_policy_list(),
            "calendar": selectors.tenant_calendar(),
            "triage_model": selectors.triage_model_current(),
            "triage_job": selectors.triage_job_latest(),
        },
        status=400 if form.errors else 200,
    )


def _due_preview(request, cal: sla.BusinessCalendar) -> tuple[DuePreviewForm, dict | None]:
    """The preview form (bound when ``start`` is given) and, when valid, its answer."""
    if "start" not in request.GET:
        now_local = timezone.now().astimezone(cal.tz).replace(second=0, microsecond=0, tzinfo=None)
        return DuePreviewForm(initial={"start": now_local, "business_hours": 8}), None
    form = DuePreviewForm(request.GET)
    if not form.is_valid():
        return form, None
    start_value = form.cleaned_data["start"]
    if timezone.is_aware(start_value):
        start_value = timezone.make_naive(start_value)
    # The start is read as wall-clock time of the calendar's own zone.
    start = start_value.replace(tzinfo=cal.tz)
    hours = form.cleaned_data["business_hours"]
    due = sla.add_business_time(cal, start, float(hours) * 3600)
    return form, {"start": start, "hours": hours, "due": due.astimezone(cal.tz)}


@member_required("case_config.change")
@require_http_methods(["GET", "POST"])
def calendar_admin(request):
    """The tenant's business calendar: working hours per weekday (closed days, split
    hours), time zone, holiday country and own non-working days; the public holidays of
    the next 12 months the SLA clocks skip; a "when would this fall due" preview."""
    tenant = Tenant.objects.get(pk=request.membership.tenant_id)
    stored = BusinessCalendar.objects.first()
    if request.method == "POST":
        form = BusinessCalendarForm(request.POST, tenant=tenant)
        if form.is_valid():
            try:
                services.business_calendar_set(**_service_kwargs(request), **form.service_data())
            except DomainError as exc:
                field = exc.field if exc.field in form.fields else None
                form.add_error(field, exc.message)
            else:
                messages.success(request, _("Calendario hábil guardado."))
                return redirect("cases:calendar")
    else:
        form = BusinessCalendarForm(initial=BusinessCalendarForm.initial_from(stored), tenant=tenant)
    cal = selectors.tenant_calendar()
    today = timezone.now().astimezone(cal.tz).date()
    preview_form, preview = _due_preview(request, cal)
    day_fields = [form[f"day_{weekday}"] for weekday in range(7)]
    context = {
        "form": form,
        "day_fields": day_fields,
        "calendar": cal,
        "holidays": selectors.calendar_holidays(cal, today),
        "preview_form": preview_form,
        "preview": preview,
    }
    return render(request, "cases/calendar.html", context, status=400 if form.errors or preview_form.errors else 200)


@member_required("case_config.change")
@require_POST
def triage_train(request):
    """Queue the triage training job for this institution (its progress shows on the
    policies page); one at a time."""
    try:
        job = services.triage_training_start(**_service_kwargs(request))
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Entrenamiento del clasificador en cola (trabajo %(id)s).") % {"id": job.pk})
    return redirect("cases:policies")


@member_required("cases.create")
@require_POST
def triage_suggest(request):
    """htmx partial of the intake form: the category and queue the institution's trained
    model suggests for the description typed so far."""
    narrative = (request.POST.get("description") or "").strip()
    context: dict = {"suggestion": None, "error": None}
    if len(narrative) >= TRIAGE_MIN_CHARS:
        try:
            suggestion = selectors.case_triage(narrative)
        except DomainError as exc:
            context["error"] = exc.message
        else:
            queue = Team.objects.filter(pk=suggestion["queue"]).first() if suggestion["queue"] else None
            context["suggestion"] = {**suggestion, "queue_obj": queue}
    return render(request, "cases/partials/triage_suggestion.html", context)


TRIAGE_MIN_CHARS = 20
