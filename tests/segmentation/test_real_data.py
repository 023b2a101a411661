"""Real data: the UCI Bank Marketing sample (4,521 customers), loaded through the bulk
contract, scored; the clusters separate customers by age and balance as their
descriptions say."""

from __future__ import annotations

import math

import numpy as np
import pytest

from customers.models import Customer
from segmentation import datasets
from segmentation.descriptions import describe_traits
from segmentation.jobs import score_customers
from segmentation.models import CustomerScore, Segment
from segmentation.services import scoring_run_start
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

PATH = datasets.default_path()


@pytest.fixture
def bank(tenant_a):
    if PATH is None:
        pytest.skip("shared/data/bank_marketing/bank.csv is not beside the checkout")
    with tenant_context(tenant_a.pk):
        counts = datasets.load_bank_marketing(PATH, currency=tenant_a.currency)
        run = scoring_run_start(as_of=datasets.AS_OF, enqueue=False)
        score_customers(tenant_a.pk, run.job_id, run_id=run.pk)
        run.refresh_from_db()
    return counts, run


def test_loading_goes_through_the_bulk_contract_and_is_idempotent(bank, tenant_a):
    counts, _run = bank
    rows = datasets.read_rows(PATH)
    housing = sum(r["housing"] == "yes" for r in rows)
    loans = sum(r["loan"] == "yes" for r in rows)
    assert counts == {"customers": 4521, "holdings": 4521 + housing + loans, "monthly_summaries": 4521 * 12}
    with tenant_context(tenant_a.pk):
        again = datasets.load_bank_marketing(PATH, currency=tenant_a.currency)
        assert again == counts
        assert Customer.objects.count() == 4521


def test_scoring_produces_tiers_and_described_clusters(bank, tenant_a):
    _counts, run = bank
    n = 4521
    assert run.status == "succeeded"
    assert run.result["tiers"] == {
        "A": math.ceil(n * 0.2),
        "B": math.ceil(n * 0.5) - math.ceil(n * 0.2),
        "C": n - math.ceil(n * 0.5),
    }
    with tenant_context(tenant_a.pk):
        clusters = list(Segment.objects.filter(run=run).order_by("cluster_number"))
    assert len(clusters) == 5
    assert all(describe_traits(c.traits) for c in clusters)


def _member_stats(run, tenant_a):
    rows = datasets.read_rows(PATH)
    by_external = {f"BANK-{n:05d}": (int(r["age"]), int(r["balance"])) for n, r in enumerate(rows, start=1)}
    with tenant_context(tenant_a.pk):
        members = CustomerScore.objects.filter(run=run).values_list("cluster__cluster_number", "customer__external_id")
        cluster_of = np.array([c for c, _e in members])
        ages = np.array([by_external[e][0] for _c, e in members], dtype=float)
        balances = np.array([by_external[e][1] for _c, e in members], dtype=float)
    return cluster_of, ages, balances


def test_clusters_separate_age_and_balance_bands_as_described(bank, tenant_a):
    _counts, run = bank
    cluster_of, ages, balances = _member_stats(run, tenant_a)
    with tenant_context(tenant_a.pk):
        traits = {c.cluster_number: c.traits for c in Segment.objects.filter(run=run)}
    source = {"age": ages, "log_balance": balances}
    checked = set()
    for number, cluster_traits in traits.items():
        inside = cluster_of == number
        for trait in cluster_traits:
            if trait["feature"] not in source:
                continue
            values = source[trait["feature"]]
            # the cluster's median sits on the side of the portfolio's median that the
            # description states ("edad alto(a)": older than most; "saldo promedio bajo(a)": poorer)
            if trait["direction"] == "high":
                assert np.median(values[inside]) > np.median(values), (number, trait)
            else:
                assert np.median(values[inside]) < np.median(values), (number, trait)
            checked.add(trait["feature"])
    # and both age and balance are among what distinguishes the clusters
    assert checked == {"age", "log_balance"}
