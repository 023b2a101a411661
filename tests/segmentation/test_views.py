"""VALOR pages: overview, builder with live count, segment detail with charts and the
performance quadrant, portfolio by priority, runs, the customer 360 panel."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from customers.models import Customer
from segmentation import selectors
from segmentation.models import CustomerScore, ScoringRun, Segment
from tests import factories as f
from tests.ui.helpers import page_text
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def test_overview_lists_segments_and_the_latest_run(scored, org_a, client_for):
    response = client_for(org_a[Role.MARKETING]).get(reverse("segmentation:index"))
    assert response.status_code == 200
    text = page_text(response)
    assert "Clúster 1" in text and "Calcular ahora" in text
    assert 'data-testid="tier-mix"' in response.content.decode()
    # and the nav links the Valor stage to this page
    assert f'href="{reverse("segmentation:index")}"' in response.content.decode()


def test_builder_preview_counts_like_the_orm(scored, org_a, client_for):
    client = client_for(org_a[Role.MARKETING])
    form = {"rule_field": ["age", "income_band"], "rule_op": ["lte", "in"], "rule_value": ["60", "2to4, 4to8"]}
    response = client.post(reverse("segmentation:segment_preview"), form, HTTP_HX_REQUEST="true")
    with tenant_context(org_a.tenant.pk):
        expected = Customer.objects.filter(
            birth_date__gt=dt.date(1965, 11, 15), income_band__in=["2to4", "4to8"]
        ).count()
    count = re.search(r'data-testid="segment-count">([^<]+)<', response.content.decode()).group(1)
    assert int(count.replace(".", "")) == expected > 0


def test_builder_saves_or_shows_the_bad_rule(scored, org_a, client_for):
    client = client_for(org_a[Role.MARKETING])
    bad = client.post(
        reverse("segmentation:segment_new"),
        {"name": "Malo", "rule_field": ["stratum"], "rule_op": ["gte"], "rule_value": ["alto"]},
    )
    assert bad.status_code == 422
    assert "rules[0].value" in page_text(bad)
    good = client.post(
        reverse("segmentation:segment_new"),
        {"name": "Nivel A", "rule_field": ["tier"], "rule_op": ["eq"], "rule_value": ["A"]},
    )
    with tenant_context(org_a.tenant.pk):
        segment = Segment.objects.get(name="Nivel A")
    assert good.status_code == 302
    assert segment.rules == [{"field": "tier", "op": "eq", "value": "A"}]
    # and an advisor may not build segments
    assert client_for(org_a[Role.ADVISOR]).get(reverse("segmentation:segment_new")).status_code == 403


def test_segment_detail_has_charts_members_and_the_quadrant(scored, org_a, client_for):
    with tenant_context(org_a.tenant.pk):
        cluster = Segment.objects.filter(kind="learned").order_by("cluster_number").first()
        members = list(CustomerScore.objects.filter(cluster=cluster).values_list("customer_id", flat=True))
        for customer_id in members:
            # advice matters (5) and disappoints (2); trust matters little and pleases
            f.SurveyResponseFactory(customer_id=customer_id, attribute="advice", importance=5, satisfaction=2)
            f.SurveyResponseFactory(customer_id=customer_id, attribute="trust", importance=2, satisfaction=5)
    response = client_for(org_a[Role.TENANT_ADMIN]).get(reverse("segmentation:segment_detail", args=[cluster.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for testid in ("value-distribution", "tier-mix", "product-mix", "performance-quadrant", "score-table"):
        assert f'data-testid="{testid}"' in html
    assert re.search(r'data-quadrant="improve"><circle[^>]*/><text[^>]*>Asesoría<', html)
    assert re.search(r'data-quadrant="overkill"><circle[^>]*/><text[^>]*>Confianza<', html)
    assert f'data-testid="segment-members">{len(members)}<' in html


def test_other_tenants_segment_is_404(scored, org_a, org_b, client_for):
    with tenant_context(org_a.tenant.pk):
        segment = Segment.objects.first()
    response = client_for(org_b[Role.TENANT_ADMIN]).get(reverse("segmentation:segment_detail", args=[segment.pk]))
    assert response.status_code == 404


def test_advisor_portfolio_is_ranked_by_priority_and_own(scored, org_a, client_for):
    advisor = org_a[Role.ADVISOR]
    response = client_for(advisor).get(reverse("segmentation:portfolio"))
    with tenant_context(org_a.tenant.pk):
        expected = [
            c.display_name
            for c in Customer.objects.filter(owner=advisor.user).order_by(
                "-valor_scores__priority", "valor_scores__customer_id"
            )
        ]
    names = re.findall(r'<td><a href="/customers/\d+/">([^<]+)</a>', response.content.decode())
    assert names == expected
    assert len(names) == 6


def test_run_start_from_the_ui(scored, org_a, client_for):
    response = client_for(org_a[Role.ANALYST]).post(reverse("segmentation:run_start"))
    assert response.status_code == 302
    with tenant_context(org_a.tenant.pk):
        assert ScoringRun.objects.filter(status="queued").count() == 1
    runs = client_for(org_a[Role.ANALYST]).get(reverse("segmentation:run_list"))
    assert 'class="job-progress job-progress--queued"' in runs.content.decode()
    assert client_for(org_a[Role.ADVISOR]).post(reverse("segmentation:run_start")).status_code == 403


def test_customer_360_shows_value_tier_segments_and_history(scored, org_a, client_for):
    customer = scored[11]
    with tenant_context(org_a.tenant.pk):
        score = CustomerScore.objects.select_related("cluster").get(customer=customer)
    response = client_for(org_a[Role.TENANT_ADMIN]).get(reverse("customers:detail", args=[customer.pk]))
    html = response.content.decode()
    assert f'data-testid="valor-tier">{score.tier}<' in html
    assert 'data-testid="valor-history"' in html
    assert score.cluster.name in page_text(response)
    with tenant_context(org_a.tenant.pk):
        assert selectors.customer_tiers([customer.pk]) == {customer.pk: score.tier}


def test_value_formula_is_edited_in_the_admin_through_the_service(org_a, client_for):
    from segmentation.models import ValueConfig
    from tests.ui.test_admin import staff
    from vector_crm.audit import audit_entries_for

    client = client_for(staff(org_a[Role.TENANT_ADMIN]))
    form = {
        "revenue_weight": "1",
        "fee_weight": "0.5",
        "balance_weight": "0",
        "window_months": "12",
        "potential_percentile": "0.8",
        "peer_min_size": "5",
        "gap_weight": "0.5",
        "tier_a_share": "0.3",
        "tier_b_share": "0.2",
        "key_account_share": "0.01",
        "clusters": "4",
        "random_seed": "7",
        "keep_runs": "24",
    }
    url = reverse("admin:segmentation_valueconfig_add")
    refused = client.post(url, form)
    assert refused.status_code == 200  # the form shows the A+B < A error
    assert client.post(url, {**form, "tier_b_share": "0.6"}).status_code == 302
    with tenant_context(org_a.tenant.pk):
        config = ValueConfig.objects.get()
        assert (str(config.fee_weight), config.clusters) == ("0.500000", 4)
        assert audit_entries_for(config).first().actor_id == org_a[Role.TENANT_ADMIN].user_id
