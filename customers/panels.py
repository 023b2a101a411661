"""Panels that stage apps add to the customer 360, without customers importing them.

A stage app (segmentation, cases, ...) registers a panel from its ``AppConfig.ready``::

    register_panel(
        "segmentation.value",
        template="segmentation/partials/customer_value_panel.html",
        context=value_panel_context,   # (request, customer) -> dict | None
        column="aside",                # "main" (under the holdings) or "aside" (beside the timeline)
        order=10,
    )

The 360 view calls each panel's ``context`` with the request and the already-accessed
customer; ``None`` hides the panel (no data, or the member lacks the capability). The
template gets that dict plus ``customer`` and ``current_tenant``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string

PanelContext = Callable[[Any, Any], dict[str, Any] | None]
COLUMNS = ("main", "aside")


@dataclass(frozen=True)
class Panel:
    name: str
    template: str
    context: PanelContext
    column: str
    order: int


_PANELS: dict[str, Panel] = {}


def register_panel(name: str, *, template: str, context: PanelContext, column: str = "aside", order: int = 50) -> None:
    """Add (or replace, by ``name``) a 360 panel."""
    if column not in COLUMNS:
        raise ValueError(f"column must be one of {COLUMNS}, not {column!r}")
    _PANELS[name] = Panel(name=name, template=template, context=context, column=column, order=order)


def render_panels(request, customer, column: str) -> list[str]:
    """The HTML of ``column``'s visible panels, in ``order``."""
    rendered = []
    for panel in sorted(_PANELS.values(), key=lambda p: (p.order, p.name)):
        if panel.column != column:
            continue
        context = panel.context(request, customer)
        if context is None:
            continue
        context = {"customer": customer, "current_tenant": getattr(request, "tenant", None), **context}
        rendered.append(render_to_string(panel.template, context, request=request))
    return rendered
