"""VALOR reads other apps may use.

``customer_tiers`` is the contract the cases app (SLA policies by tier) and the campaigns
app build on: the priority tier of each customer from the latest finished scoring run of
the current tenant. Until the first scoring run there are no tiers, and the answer is empty.
"""

from __future__ import annotations

from collections.abc import Iterable


def customer_tiers(customer_ids: Iterable[int]) -> dict[int, str]:
    """``{customer_id: tier}`` for the given customers that have a tier (no scoring model yet)."""
    list(customer_ids)
    return {}
