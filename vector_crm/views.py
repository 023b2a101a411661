"""Browser UI of the platform: home per role, tenant switch, jobs and their progress, API
credentials, webhooks, and the shared view helpers (``member_required``, ``is_htmx``) the apps' views use."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers, patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from customers import selectors as customer_selectors
from customers.choices import LifecycleStatus, ProductCategory
from vector_crm import selectors, services
from vector_crm.errors import DomainError, NotFound, PermissionDeniedError
from vector_crm.forms import ApiCredentialCreateForm, WebhookEndpointForm
from vector_crm.middleware import SESSION_TENANT_KEY
from vector_crm.roles import Role
from vector_crm.templatetags.vector_ui import STAGES_BY_KEY


def is_htmx(request: HttpRequest) -> bool:
    """An htmx request that wants a fragment (a history restore wants the whole page)."""
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-History-Restore-Request") != "true"


def render_page_or_fragment(request, page: str, fragment: str, context: dict) -> HttpResponse:
    """The full page for a normal request, the fragment for htmx; the cache keys on it."""
    response = render(request, fragment if is_htmx(request) else page, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def member_required(capability: str | None = None):
    """Signed in, acting in a tenant, and (optionally) holding ``capability``.

    Domain errors raised by selectors and services map to the HTTP answers a browser
    expects: ``NotFound`` (missing, other tenant, outside the portfolio) to 404 and
    ``PermissionDeniedError`` to 403.
    """

    def decorator(view):
        @functools.wraps(view)
        @login_required
        def wrapper(request, *args, **kwargs):
            if getattr(request, "membership", None) is None:
                return redirect("no_membership")
            if capability and not request.membership.has(capability):
                raise PermissionDenied
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            except PermissionDeniedError as exc:
                raise PermissionDenied(exc.message) from exc

        return wrapper

    return decorator


# --- Home -----------------------------------------------------------------------------

PORTFOLIO_ROLES = {Role.ADVISOR, Role.SUPERVISOR, Role.BRANCH_MANAGER}
COLLECTIONS_ROLES = {Role.COLLECTIONS_AGENT, Role.COLLECTIONS_MANAGER}


def _status_rows(by_status: dict[str, int]) -> list[dict]:
    return [
        {"value": value, "label": label, "total": by_status.get(value, 0)} for value, label in LifecycleStatus.choices
    ]


def _balance_rows(balances: list[dict]) -> list[dict]:
    labels = dict(ProductCategory.choices)
    return [
        {
            "category": row["product__category"],
            "label": labels.get(row["product__category"], row["product__category"]),
            "currency": row["currency"],
            "total": row["total"],
            "accounts": row["accounts"],
        }
        for row in balances
    ]


@member_required()
@require_GET
def home(request):
    """The landing page of the member's role, from real figures through selectors.

    Advisors see their own portfolio; supervisors and branch managers the portfolio they
    oversee; collections roles the most delinquent accounts; the rest the institution.
    """
    membership = request.membership
    role = membership.role
    own = role == Role.ADVISOR
    summary = customer_selectors.portfolio_summary(membership, owner_id=request.user.pk if own else None)
    context = {
        "role": role,
        "summary": summary,
        "status_rows": _status_rows(summary["customers_by_status"]),
        "balance_rows": _balance_rows(summary["balances"]),
        "is_portfolio_home": role in PORTFOLIO_ROLES,
        "is_collections_home": role in COLLECTIONS_ROLES,
        "is_institution_home": role not in PORTFOLIO_ROLES | COLLECTIONS_ROLES,
    }
    if role in PORTFOLIO_ROLES:
        context["interactions"] = customer_selectors.latest_interactions(
            membership, user_id=request.user.pk if own else None, limit=8
        )
        context["delinquent"] = customer_selectors.delinquent_holdings(
            membership, owner_id=request.user.pk if own else None, limit=5
        )
    elif role in COLLECTIONS_ROLES:
        context["delinquent"] = customer_selectors.delinquent_holdings(membership, limit=15)
        context["interactions"] = customer_selectors.latest_interactions(membership, user_id=request.user.pk, limit=8)
    else:
        labels = dict(Role.choices)
        context["members_by_role"] = [
            {"label": labels.get(value, value), "total": total}
            for value, total in sorted(selectors.member_counts_by_role().items(), key=lambda item: -item[1])
        ]
        context["branch_count"] = customer_selectors.branch_list().count()
        context["jobs"] = selectors.jobs_recent(limit=5)
    return render(request, "home.html", context)


@login_required
@require_GET
def no_membership(request):
    """Signed in but without an active membership in any active institution."""
    if getattr(request, "membership", None) is not None:
        return redirect("home")
    return render(request, "no_membership.html", status=403)


@login_required
@require_POST
def tenant_switch(request):
    """Act in another institution the user belongs to; 404 for any other id."""
    try:
        tenant_id = int(request.POST.get("tenant_id", ""))
    except ValueError as exc:
        raise Http404 from exc
    membership = request.user.membership_for(tenant_id)
    if membership is None:
        raise Http404
    request.session[SESSION_TENANT_KEY] = membership.tenant_id
    messages.success(request, _("Ahora trabaja en %(name)s.") % {"name": membership.tenant.name})
    # Home, not the previous page: that page may show an object of the old institution.
    return redirect("home")


@member_required()
@require_GET
def coming_soon(request, stage: str):
    item = STAGES_BY_KEY.get(stage)
    if item is None:
        raise Http404
    return render(request, "coming_soon.html", {"stage": item})


# --- Jobs -----------------------------------------------------------------------------


@member_required("jobs.view")
@require_GET
def job_list(request):
    return render(request, "jobs/job_list.html", {"jobs": selectors.jobs_recent(limit=50)})


@member_required("jobs.view")
@require_GET
def job_progress(request, pk: int):
    """The progress bar fragment; it polls itself every second until the job finishes."""
    job = selectors.access_job(pk)
    return render(request, "partials/job_progress.html", {"job": job})


# --- API credentials ------------------------------------------------------------------


def _shown_once(request, template: str, context: dict) -> HttpResponse:
    """A page with a secret on it: never cached, never stored."""
    response = render(request, template, context)
    add_never_cache_headers(response)
    response["Cache-Control"] = "no-store"
    return response


def _form_error(form, exc: DomainError) -> None:
    if exc.status_code != 400:
        raise exc
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _credentials_page(request, form: ApiCredentialCreateForm, *, status: int = 200) -> HttpResponse:
    context = {"credentials": selectors.api_credential_list(), "form": form}
    return render(request, "settings/api_credentials.html", context, status=status)


@member_required("credentials.manage")
@require_http_methods(["GET", "POST"])
def api_credential_list(request):
    """The tenant's API keys and the form to create one.

    A created key is shown once, on the response to the POST (never cached, never
    stored); reloading the list shows only its prefix.
    """
    if request.method == "GET":
        return _credentials_page(request, ApiCredentialCreateForm())
    form = ApiCredentialCreateForm(request.POST)
    if form.is_valid():
        try:
            credential, raw_key = services.api_credential_create(
                actor=request.user,
                membership=request.membership,
                name=form.cleaned_data["name"],
                scopes=form.cleaned_data["scopes"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _shown_once(
                request, "settings/api_credential_created.html", {"credential": credential, "api_key": raw_key}
            )
    return _credentials_page(request, form, status=422)


@member_required("credentials.manage")
@require_POST
def api_credential_revoke(request, pk: int):
    """Revoke one of the tenant's keys (404 for any other id), then back to the list."""
    credential = selectors.access_api_credential(pk)
    services.api_credential_revoke(actor=request.user, membership=request.membership, credential=credential)
    messages.success(request, _("Clave «%(name)s» revocada.") % {"name": credential.name})
    return redirect("api_credential_list")


# --- Webhooks -------------------------------------------------------------------------

WEBHOOKS_CAPABILITY = services.WEBHOOKS_CAPABILITY
DELIVERIES_PER_PAGE = 25


@member_required(WEBHOOKS_CAPABILITY)
@require_http_methods(["GET", "POST"])
def webhook_list(request):
    """The tenant's webhook endpoints and the form to register one; the signing secret is
    shown once, on the answer to the POST."""
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None, initial={"is_active": True})
    if request.method == "POST" and form.is_valid():
        try:
            endpoint, secret = services.webhook_endpoint_create(
                actor=request.user, membership=request.membership, **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            return _shown_once(
                request, "settings/webhook_secret.html", {"endpoint": endpoint, "secret": secret, "created": True}
            )
    context = {"endpoints": list(selectors.webhook_endpoint_list()), "form": form}
    return render(request, "settings/webhooks.html", context, status=422 if form.is_bound else 200)


def _deliveries_page(request, endpoint):
    from django.core.paginator import Paginator

    from vector_crm.api.filters import WebhookDeliveryFilterSet

    filterset = WebhookDeliveryFilterSet(
        {"status": request.GET.get("status", "")}, queryset=selectors.webhook_delivery_list(endpoint)
    )
    deliveries = filterset.qs if filterset.is_valid() else selectors.webhook_delivery_list(endpoint).none()
    page = Paginator(deliveries, DELIVERIES_PER_PAGE).get_page(request.GET.get("page"))
    return filterset, page


@member_required(WEBHOOKS_CAPABILITY)
@require_http_methods(["GET", "POST"])
def webhook_detail(request, pk: int):
    """One endpoint: its settings form, actions and delivery log (newest first, paged,
    filtered by status)."""
    endpoint = selectors.access_webhook_endpoint(pk)
    initial = {name: getattr(endpoint, name) for name in ("url", "description", "event_types", "is_active")}
    form = WebhookEndpointForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.webhook_endpoint_update(
                actor=request.user, membership=request.membership, endpoint=endpoint, **form.cleaned_data
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Endpoint actualizado."))
            return redirect("webhook_detail", pk=endpoint.pk)
    filterset, page = _deliveries_page(request, endpoint)
    context = {
        "endpoint": endpoint,
        "form": form,
        "filterset": filterset,
        "page": page,
        "status_filter": request.GET.get("status", ""),
    }
    return render(request, "settings/webhook_detail.html", context, status=422 if form.is_bound else 200)


@member_required(WEBHOOKS_CAPABILITY)
@require_POST
def webhook_rotate_secret(request, pk: int):
    endpoint = selectors.access_webhook_endpoint(pk)
    endpoint, secret = services.webhook_endpoint_rotate_secret(
        actor=request.user, membership=request.membership, endpoint=endpoint
    )
    return _shown_once(request, "settings/webhook_secret.html", {"endpoint": endpoint, "secret": secret})


@member_required(WEBHOOKS_CAPABILITY)
@require_POST
def webhook_set_active(request, pk: int):
    endpoint = selectors.access_webhook_endpoint(pk)
    active = request.POST.get("active") == "1"
    services.webhook_endpoint_update(
        actor=request.user, membership=request.membership, endpoint=endpoint, is_active=active
    )
    messages.success(
        request, _("Endpoint activado.") if active else _("Endpoint desactivado: no recibirá eventos nuevos.")
    )
    return redirect("webhook_detail", pk=endpoint.pk)


@member_required(WEBHOOKS_CAPABILITY)
@require_POST
def webhook_delete(request, pk: int):
    endpoint = selectors.access_webhook_endpoint(pk)
    services.webhook_endpoint_delete(actor=request.user, membership=request.membership, endpoint=endpoint)
    messages.success(request, _("Endpoint «%(url)s» eliminado.") % {"url": endpoint.url})
    return redirect("webhook_list")


@member_required(WEBHOOKS_CAPABILITY)
@require_POST
def webhook_send_test(request, pk: int):
    endpoint = selectors.access_webhook_endpoint(pk)
    try:
        services.webhook_send_test(actor=request.user, membership=request.membership, endpoint=endpoint)
    except DomainError as exc:
        if exc.status_code != 400:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Evento de prueba en cola; su entrega aparece en el registro."))
    return redirect("webhook_detail", pk=endpoint.pk)


@member_required(WEBHOOKS_CAPABILITY)
@require_POST
def webhook_redeliver_failed(request, pk: int):
    endpoint = selectors.access_webhook_endpoint(pk)
    queued = services.webhook_redeliver_failed(actor=request.user, membership=request.membership, endpoint=endpoint)
    messages.success(request, _("%(count)d entregas en cola para reenviarse.") % {"count": queued})
    return redirect("webhook_detail", pk=endpoint.pk)


@member_required(WEBHOOKS_CAPABILITY)
@require_POST
def webhook_delivery_redeliver(request, pk: int, delivery_pk: int):
    endpoint = selectors.access_webhook_endpoint(pk)
    delivery = selectors.access_webhook_delivery(delivery_pk, endpoint=endpoint)
    services.webhook_redeliver(actor=request.user, membership=request.membership, delivery=delivery)
    messages.success(request, _("Entrega en cola para reenviarse con el mismo id de evento."))
    return redirect("webhook_detail", pk=endpoint.pk)


# --- Notifications ----------------------------------------------------------------------


@member_required()
@require_http_methods(["GET", "POST"])
def notification_list(request):
    """The member's in-app notifications (SLA warnings, escalations...), newest first;
    POST marks them all read."""
    from vector_crm.models import Notification
    from vector_crm.notifications import mark_read

    if request.method == "POST":
        mark_read(user_id=request.user.pk)
        return redirect("notification_list")
    notifications = list(Notification.objects.filter(user_id=request.user.pk).order_by("-created_at", "-id")[:100])
    return render(request, "notifications/list.html", {"notifications": notifications})
