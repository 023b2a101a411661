"""Browser UI of the shared customer model: the searchable customer list and the customer
360 with its interaction timeline.

Every customer is reached through ``selectors`` (``customer_list``, ``customer_360``),
which decide visibility, so another tenant's customer and one outside the member's
portfolio are the same 404. Writes go through ``services``.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from customers import selectors, services
from customers.choices import ProductCategory
from customers.filters import CustomerFilterSet
from customers.forms import CustomerSearchForm, InteractionLogForm
from customers.panels import render_panels
from vector_crm.errors import DomainError
from vector_crm.views import is_htmx, member_required, render_page_or_fragment

PAGE_SIZE = 25


def keyset_page(queryset, *, after: int | None, before: int | None, size: int = PAGE_SIZE) -> dict:
    """One page of a queryset ordered by ``-id``, without COUNT or OFFSET.

    ``after`` continues below an id (next page), ``before`` goes back above one (previous
    page). One query: it fetches one row more than the page to know whether more exist.
    """
    if before is not None:
        rows = list(queryset.filter(pk__gt=before).order_by("id")[: size + 1])
        has_previous = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_next = True
    else:
        if after is not None:
            queryset = queryset.filter(pk__lt=after)
        rows = list(queryset.order_by("-id")[: size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        has_previous = after is not None
    return {
        "rows": rows,
        "next_after": rows[-1].pk if rows and has_next else None,
        "previous_before": rows[0].pk if rows and has_previous else None,
    }


def _query_without_cursor(request, **extra) -> str:
    params = request.GET.copy()
    for key in ("after", "before", "page"):
        params.pop(key, None)
    for key, value in extra.items():
        params[key] = value
    return params.urlencode()


@member_required("customers.view")
@require_GET
def customer_list(request):
    """Customers the member sees, filtered by the shared ``CustomerFilterSet``; htmx
    requests get only the results fragment."""
    form = CustomerSearchForm(request.GET or None)
    filterset = CustomerFilterSet(
        request.GET or None, queryset=selectors.customer_list(request.membership), request=request
    )
    cursor = form.cursor()
    page = keyset_page(filterset.qs, after=cursor.get("after"), before=cursor.get("before"))
    context = {
        "form": form,
        "page": page,
        "is_filtered": any(value for key, value in request.GET.items() if key not in ("after", "before")),
        "next_query": _query_without_cursor(request, after=page["next_after"]) if page["next_after"] else "",
        "previous_query": _query_without_cursor(request, before=page["previous_before"])
        if page["previous_before"]
        else "",
    }
    return render_page_or_fragment(request, "customers/customer_list.html", "customers/partials/results.html", context)


def _totals_by_currency(holdings) -> list[dict]:
    """Open balances per category and currency (accounts in several currencies are never
    summed into one figure)."""
    totals: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    labels = dict(ProductCategory.choices)
    for holding in holdings:
        if holding.status in selectors.OPEN_HOLDING_STATUSES:
            totals[(holding.product.category, holding.currency)] += holding.balance or Decimal(0)
    order = {value: index for index, value in enumerate(ProductCategory.values)}
    return [
        {"category": category, "label": labels.get(category, category), "currency": currency, "total": total}
        for (category, currency), total in sorted(
            totals.items(), key=lambda item: (order.get(item[0][0], 99), item[0][1])
        )
    ]


def _available_credit(holding) -> Decimal | None:
    if holding.credit_limit is None:
        return None
    return max(Decimal(0), holding.credit_limit - (holding.balance or Decimal(0)))


def _customer_360_context(request, customer_id: int, *, form: InteractionLogForm | None = None) -> dict:
    data = selectors.customer_360(request.membership, customer_id)
    for holding in data["holdings"]:
        holding.available_credit = _available_credit(holding)
    data["totals_by_currency"] = _totals_by_currency(data["holdings"])
    data["can_log_interaction"] = request.membership.has("interactions.create")
    data["interaction_form"] = form or InteractionLogForm()
    data["main_panels"] = render_panels(request, data["customer"], "main")
    data["aside_panels"] = render_panels(request, data["customer"], "aside")
    return data


@member_required("customers.view")
@require_GET
def customer_detail(request, pk: int):
    """The customer 360: profile, consents, holdings, delinquency, totals and timeline."""
    return render(request, "customers/customer_detail.html", _customer_360_context(request, pk))


@member_required("customers.view")
@require_POST
def interaction_log(request, pk: int):
    """Log a touchpoint through ``services.interaction_log``.

    htmx gets the timeline panel back (fresh form and timeline, or the form with its
    errors and status 422, which base.html tells htmx to swap); a plain form post is
    redirected to the 360 (post/redirect/get).
    """
    customer = selectors.access_customer(request.membership, pk)
    if not request.membership.has("interactions.create"):
        raise PermissionDenied
    form = InteractionLogForm(request.POST)
    logged = False
    if form.is_valid():
        try:
            services.interaction_log(
                actor=request.user, membership=request.membership, customer=customer, data=form.service_data()
            )
            logged = True
        except DomainError as exc:
            if exc.status_code != 400:
                raise
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    if not is_htmx(request):
        if logged:
            messages.success(request, _("Interacción registrada."))
            return redirect("customers:detail", pk=customer.pk)
        context = _customer_360_context(request, customer.pk, form=form)
        return render(request, "customers/customer_detail.html", context, status=422)
    context = _customer_360_context(request, customer.pk, form=None if logged else form)
    context["just_logged"] = logged
    return render(request, "customers/partials/timeline_panel.html", context, status=200 if logged else 422)
