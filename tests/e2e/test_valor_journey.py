"""A marketer's VALOR journey in real Chromium: the VALOR home, a rule segment built with
the htmx live count, saved; a scoring run started from the UI and finished (jobs run
eagerly, in the live server); the segment's detail with its charts; a member's 360 with
the VALOR panel; and the value migration report against the previous run. Every figure
on screen is checked against the database."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db.models import Count

from customers.choices import ProductFamily
from customers.models import Customer
from segmentation import selectors
from segmentation.jobs import score_customers
from segmentation.models import CustomerScore, ScoringRun, Segment
from tests import factories as f
from tests.e2e.test_customer_journey import sign_in
from tests.e2e.test_import_journey import eager_jobs  # noqa: F401 - fixture
from vector_crm.templatetags.vector_ui import format_money
from vector_crm.tenancy import tenant_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

FIRST_AS_OF = dt.date(2026, 10, 15)


def build_book(org) -> dict:
    """Twelve people aged 32 to 76, savings or a loan, a month of revenue each, scored once
    (the run the migration report compares with); then one customer's revenue jumps."""
    tenant = org.tenant
    with tenant_context(tenant.pk):
        savings = f.ProductFactory(tenant=tenant, family=ProductFamily.SAVINGS)
        loan = f.ProductFactory(tenant=tenant, family=ProductFamily.LOAN)
        customers = []
        for n in range(12):
            customer = f.CustomerFactory(
                tenant=tenant,
                first_name="Cliente",
                last_name=f"Valor {n:02d}",
                birth_date=dt.date(1950 + 4 * n, 3, 1),
                income_band=["1to2", "2to4", "4to8"][n % 3],
                branch=org.branches[0],
            )
            holding = f.HoldingFactory(tenant=tenant, customer=customer, product=savings if n % 4 else loan)
            for month in (dt.date(2026, 9, 1), dt.date(2026, 10, 1)):
                f.MonthlyAccountSummaryFactory(
                    tenant=tenant, holding=holding, customer=customer, month=month, revenue=Decimal(10 * (n + 1))
                )
            customers.append(customer)
        first = ScoringRun.objects.create(as_of=FIRST_AS_OF, status="queued")
        score_customers(tenant.pk, None, run_id=first.pk)
        first.refresh_from_db()
        assert first.status == "succeeded"
        # the youngest-but-one customer's revenue jumps: the biggest gain of the next run
        star = customers[1]
        star.holdings.first().monthly_summaries.update(revenue=Decimal("5000.00"))
    return {"customers": customers, "star": star, "first": first}


def preview_count(page) -> str:
    return page.get_by_test_id("segment-count").inner_text().strip()


def test_marketer_builds_a_segment_scores_and_reads_the_migration(page, org_a, eager_jobs):  # noqa: F811
    from playwright.sync_api import expect

    book = build_book(org_a)
    tenant_id = org_a.tenant.pk
    sign_in(page, "a_marketing")

    # VALOR from the navigation: the first run is there
    page.locator('a[data-stage="valor"]').first.click()
    expect(page).to_have_url(re.compile(r"/valor/$"))
    expect(page.get_by_test_id("latest-run")).to_contain_text("12")
    expect(page.get_by_test_id("tier-mix")).to_be_visible()

    # the builder: each rule changes the live count in place (htmx), as the ORM counts
    page.get_by_test_id("new-segment").click()
    page.evaluate("window.__samePage = true")
    page.get_by_label("Campo", exact=True).nth(0).select_option("age")
    page.get_by_label("Operador", exact=True).nth(0).select_option("gte")
    page.get_by_label("Valor", exact=True).nth(0).press_sequentially("50", delay=40)
    with tenant_context(tenant_id):
        over_50 = Customer.objects.filter(birth_date__lte=dt.date(1976, 11, 15)).count()
        over_50_savings = (
            Customer.objects.filter(
                birth_date__lte=dt.date(1976, 11, 15), holdings__product__family=ProductFamily.SAVINGS
            )
            .distinct()
            .count()
        )
    assert 0 < over_50_savings < over_50 < 12
    expect(page.get_by_test_id("segment-count")).to_have_text(str(over_50))
    page.get_by_label("Campo", exact=True).nth(1).select_option("product_family")
    page.get_by_label("Valor", exact=True).nth(1).press_sequentially("savings", delay=40)
    expect(page.get_by_test_id("segment-count")).to_have_text(str(over_50_savings))
    assert page.evaluate("window.__samePage") is True

    # saved, it opens on its detail page
    page.get_by_label("Nombre", exact=True).fill("Mayores de 50 con ahorro")
    page.get_by_test_id("segment-save").click()
    expect(page.get_by_text("Segmento guardado.")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Mayores de 50 con ahorro")
    segment_url = page.url
    with tenant_context(tenant_id):
        segment = Segment.objects.get(name="Mayores de 50 con ahorro")
    assert segment.rules == [
        {"field": "age", "op": "gte", "value": 50},
        {"field": "product_family", "op": "eq", "value": "savings"},
    ]

    # a scoring run from the runs page, finished by the time the page is back
    page.goto("/valor/runs/")
    page.get_by_test_id("run-start").click()
    expect(page.get_by_text("Cálculo de valor en cola.")).to_be_visible()
    with tenant_context(tenant_id):
        run = ScoringRun.objects.order_by("-id").first()
    assert run.pk != book["first"].pk and run.status == "succeeded"
    first_row = page.get_by_test_id("run-list").locator("tbody tr").first
    expect(first_row).to_contain_text("Terminado")
    expect(first_row).to_contain_text("100 %")
    expect(first_row).to_contain_text("12")

    # the segment's detail: members of the new run and the three charts
    page.goto(segment_url)
    expect(page.get_by_test_id("segment-members")).to_have_text(str(over_50_savings))
    for chart in ("value-distribution", "tier-mix", "product-mix"):
        expect(page.get_by_test_id(chart)).to_be_visible()
        assert page.get_by_test_id(chart).locator("rect").count() > 0
    members = page.get_by_test_id("score-table").locator("tbody tr")
    expect(members).to_have_count(over_50_savings)

    # a member's 360 shows the VALOR panel with the run's figures
    first_member = members.first.get_by_role("link").first
    name = first_member.inner_text().strip()
    first_member.click()
    expect(page.get_by_test_id("customer-name")).to_have_text(name)
    with tenant_context(tenant_id):
        score = CustomerScore.objects.get(run=run, customer__last_name=name.removeprefix("Cliente ").strip())
    panel = page.get_by_test_id("valor-panel")
    expect(panel.get_by_test_id("valor-tier")).to_have_text(score.tier)
    expect(panel.get_by_test_id("valor-current")).to_have_text(format_money(score.current_value, "COP", "es-CO"))
    expect(panel.get_by_test_id("valor-potential")).to_have_text(format_money(score.potential_value, "COP", "es-CO"))
    expect(panel.get_by_test_id("valor-history").locator("tbody tr")).to_have_count(2)

    # the migration report, from the VALOR home: the two runs, the matrix, the top gain
    page.locator('a[data-stage="valor"]').first.click()
    page.get_by_test_id("migration-link").click()
    expect(page).to_have_url(re.compile(r"/valor/migration/$"))
    expect(page.get_by_test_id("migration-runs")).to_contain_text(f"#{book['first'].pk}")
    expect(page.get_by_test_id("migration-runs")).to_contain_text(f"#{run.pk}")
    expect(page.get_by_test_id("migration-total-customers")).to_have_text("12")
    with tenant_context(tenant_id):
        report = selectors.value_migration(book["first"], run, None)
        per_pair = dict(
            CustomerScore.objects.filter(run=run).values_list("tier").annotate(n=Count("id")).values_list("tier", "n")
        )
    for cell in report["cells"]:
        key = f"{cell['from_tier'] or 'new'}-{cell['to_tier'] or 'gone'}"
        expect(page.get_by_test_id(f"migration-cell-{key}").locator("strong")).to_have_text(str(cell["customers"]))
    assert sum(c["customers"] for c in report["cells"] if c["to_tier"] == "A") == per_pair.get("A", 0)
    expect(page.get_by_test_id("migration-total-change")).to_have_text(
        format_money(report["totals"]["change"], "COP", "es-CO")
    )
    top_gain = page.get_by_test_id("migration-gains").locator("tbody tr").first
    expect(top_gain).to_contain_text(book["star"].display_name)
    expect(top_gain).to_contain_text(format_money(report["gains"][0]["change"], "COP", "es-CO"))
    assert report["gains"][0]["customer_id"] == book["star"].pk
    assert page.external_requests == []
