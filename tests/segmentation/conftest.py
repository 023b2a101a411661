"""Fixtures of the VALOR tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.choices import ProductFamily
from segmentation.jobs import score_customers
from segmentation.models import ScoringRun
from tests import factories as f
from vector_crm.tenancy import tenant_context

AS_OF = dt.date(2026, 11, 15)


@pytest.fixture
def scored(org_a):
    """Twelve customers of tenant A with different ages, incomes and products, scored."""
    tenant = org_a.tenant
    with tenant_context(tenant.pk):
        savings = f.ProductFactory(family=ProductFamily.SAVINGS)
        loan = f.ProductFactory(family=ProductFamily.LOAN)
        customers = []
        for n in range(12):
            customer = f.CustomerFactory(
                birth_date=dt.date(1950 + 4 * n, 3, 1),
                income_band=["1to2", "2to4", "4to8"][n % 3],
                owner=org_a["advisor"].user if n % 2 else None,
                branch=org_a.branches[0],
                external_id=f"EXT-{n}",
            )
            holding = f.HoldingFactory(customer=customer, product=savings if n % 4 else loan)
            f.MonthlyAccountSummaryFactory(
                holding=holding, customer=customer, month=dt.date(2026, 10, 1), revenue=Decimal(10 * (n + 1))
            )
            customers.append(customer)
        run = ScoringRun.objects.create(as_of=AS_OF, status="queued")
        score_customers(tenant.pk, None, run_id=run.pk)
    return customers
