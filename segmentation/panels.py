"""The customer 360 panel of VALOR: value, potential, gap, tier, segments, tier history."""

from __future__ import annotations

from segmentation import selectors


def value_panel_context(request, customer) -> dict | None:
    """Context of ``segmentation/partials/customer_value_panel.html``; None hides it."""
    membership = getattr(request, "membership", None)
    if membership is None or not membership.has("segments.view"):
        return None
    return selectors.customer_value(customer.pk)
