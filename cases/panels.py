"""The customer 360 panel of CASOS: open cases and approved exceptions."""

from __future__ import annotations

from django.urls import reverse

from customers.panels import register_panel


def case_panel_context(request, customer) -> dict | None:
    from cases.permissions import Viewer
    from cases.selectors import customer_case_panel

    membership = getattr(request, "membership", None)
    if membership is None or not membership.has("cases.view"):
        return None
    context = customer_case_panel(Viewer.of(membership), customer.pk)
    context["new_case_url"] = f"{reverse('cases:new')}?customer={customer.pk}" if membership.has("cases.create") else ""
    return context


def register() -> None:
    register_panel(
        "cases.open",
        template="cases/partials/customer_cases_panel.html",
        context=case_panel_context,
        column="aside",
        order=20,
    )
