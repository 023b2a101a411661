"""The scoring job on a hand-made portfolio: exact value, potential, gap, priority, tiers
and key accounts against a direct reference computation; per-tenant formula; clusters
stable for a fixed seed; run twice; an interrupted run re-run leaves one snapshot."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.choices import CustomerKind, IdentificationType, ProductFamily
from customers.models import MonthlyAccountSummary
from segmentation import pipeline, selectors, services
from segmentation.choices import RunStatus
from segmentation.jobs import score_customers
from segmentation.models import CustomerScore, ScoringRun, Segment, SegmentMembership
from tests import factories as f
from vector_crm.models import Job, JobStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 15)
WINDOW = [dt.date(2025, 11, 1), dt.date(2025, 12, 1)] + [dt.date(2026, m, 1) for m in range(1, 11)]
MONTHLY_REVENUE = {"p1": "10.00", "p2": "20.00", "p3": "30.00", "p4": "40.00", "p5": "50.00", "co": "100.00"}


def _customer(key: str):
    if key == "co":
        return f.CustomerFactory(
            kind=CustomerKind.COMPANY,
            identification_type=IdentificationType.NIT,
            identification_number="9001234567",
            legal_name="Textiles del Norte SAS",
            first_name="",
            last_name="",
            economic_sector="manufacturing",
            employees=40,
        )
    return f.CustomerFactory(birth_date=dt.date(1990, 6, 1), income_band="2to4")


def _summaries(holding, revenue: str, *, fees="2.00", balance="1000.00"):
    for month in WINDOW:
        f.MonthlyAccountSummaryFactory(
            holding=holding,
            customer=holding.customer,
            tenant=holding.tenant,
            month=month,
            revenue=Decimal(revenue),
            fees=Decimal(fees),
            average_balance=Decimal(balance),
            transactions=5,
        )


@pytest.fixture
def book(tenant_a):
    """Five persons of one peer group (age 36, income 2-4) and one company; one savings
    account each with twelve months of summaries, plus months outside the window."""
    with tenant_context(tenant_a.pk):
        product = f.ProductFactory(family=ProductFamily.SAVINGS)
        customers = {}
        for key, revenue in MONTHLY_REVENUE.items():
            customer = _customer(key)
            holding = f.HoldingFactory(customer=customer, product=product)
            _summaries(holding, revenue)
            customers[key] = customer
        outside = customers["p1"].holdings.get()
        # Before the window and the current (incomplete) month: never counted.
        for month in (dt.date(2025, 10, 1), dt.date(2026, 11, 1)):
            f.MonthlyAccountSummaryFactory(
                holding=outside, customer=customers["p1"], month=month, revenue=Decimal("1000.00")
            )
    return customers


def _run(tenant, **kwargs) -> ScoringRun:
    """Start a run and execute its job in-process, as the worker would."""
    with tenant_context(tenant.pk):
        run = services.scoring_run_start(as_of=AS_OF, **kwargs)
        score_customers(tenant.pk, run.job_id, run_id=run.pk)
        run.refresh_from_db()
    return run


def _scores(run) -> dict[int, CustomerScore]:
    return {s.customer_id: s for s in CustomerScore.objects.filter(run=run)}


def _percentile(values: list[Decimal], p: Decimal) -> Decimal:
    """Linear-interpolation percentile, written out by hand."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _reference_values(customers) -> dict[int, Decimal]:
    """Σ revenue over the window, straight from the rows."""
    result = {}
    for customer in customers.values():
        rows = MonthlyAccountSummary.objects.filter(customer=customer, month__in=WINDOW)
        result[customer.pk] = sum((r.revenue for r in rows), Decimal(0))
    return result


def test_value_potential_gap_and_tiers_equal_the_reference(book, tenant_a):
    # when the scoring job runs
    run = _run(tenant_a)
    with tenant_context(tenant_a.pk):
        scores = _scores(run)
        values = _reference_values(book)
    assert run.status == RunStatus.SUCCEEDED
    # then current value is the window's revenue (months outside it ignored)
    expected_value = {book[k].pk: Decimal(MONTHLY_REVENUE[k]) * 12 for k in MONTHLY_REVENUE}
    assert values == expected_value
    assert {pk: s.current_value for pk, s in scores.items()} == expected_value
    # and potential is the 75th percentile of the five persons' values (the company is
    # alone in its groups and falls back to "company", i.e. itself)
    persons = [values[book[k].pk] for k in ("p1", "p2", "p3", "p4", "p5")]
    p75 = _percentile(persons, Decimal("0.75"))
    assert p75 == Decimal("480.00")
    for key in ("p1", "p2", "p3", "p4", "p5"):
        score = scores[book[key].pk]
        assert score.potential_value == max(values[book[key].pk], p75)
        assert score.gap == score.potential_value - score.current_value
        assert score.peer_group == "person|35-44|2to4"
    assert scores[book["co"].pk].potential_value == Decimal("1200.00")
    assert scores[book["co"].pk].peer_group == "company"
    # and priority = value + 0.5 gap ranks co, p5, p4, p3, p2, p1: A = 2, B = 1, C = 3
    assert [scores[book[k].pk].priority for k in ("co", "p5", "p4", "p3", "p2", "p1")] == [
        Decimal("1200.00"),
        Decimal("600.00"),
        Decimal("480.00"),
        Decimal("420.00"),
        Decimal("360.00"),
        Decimal("300.00"),
    ]
    assert {k: scores[book[k].pk].tier for k in MONTHLY_REVENUE} == {
        "co": "A",
        "p5": "A",
        "p4": "B",
        "p3": "C",
        "p2": "C",
        "p1": "C",
    }
    assert [k for k in MONTHLY_REVENUE if scores[book[k].pk].key_account] == ["co"]
    assert run.result["tiers"] == {"A": 2, "B": 1, "C": 3}
    assert run.result["current_value"] == 3000.0


def test_formula_is_configurable_per_tenant(book, tenant_a, tenant_b):
    # given tenant A weighs fees and carries 1 % of the mean balance
    with tenant_context(tenant_a.pk):
        services.value_config_update(
            data={"fee_weight": Decimal("1"), "balance_weight": Decimal("0.01"), "peer_min_size": 10}
        )
    run = _run(tenant_a)
    with tenant_context(tenant_a.pk):
        scores = _scores(run)
    # then value = Σ revenue + Σ fees (12 x 2) + 0.01 x (Σ balance 12 x 1000 / 12)
    assert scores[book["p1"].pk].current_value == Decimal("120.00") + Decimal("24.00") + Decimal("10.00")
    # and with peer groups of at least 10 every person falls back to "person" (5 of them)
    assert scores[book["p1"].pk].peer_group == "person"
    # and tenant B still has the defaults
    with tenant_context(tenant_b.pk):
        assert services.value_config_current().fee_weight == Decimal("0")


def test_customer_tiers_contract_reads_the_latest_succeeded_run(book, tenant_a):
    with tenant_context(tenant_a.pk):
        assert selectors.customer_tiers([book["co"].pk]) == {}
    _run(tenant_a)
    with tenant_context(tenant_a.pk):
        assert selectors.customer_tiers([book["co"].pk, book["p1"].pk]) == {book["co"].pk: "A", book["p1"].pk: "C"}
        assert selectors.key_account_ids() == {book["co"].pk}


def test_clusters_are_stable_for_a_fixed_seed_and_described(book, tenant_a):
    first = _run(tenant_a)
    second = _run(tenant_a)
    with tenant_context(tenant_a.pk):
        one = {s.customer_id: s.cluster.cluster_number for s in CustomerScore.objects.filter(run=first)}
        two = {s.customer_id: s.cluster.cluster_number for s in CustomerScore.objects.filter(run=second)}
        clusters = list(Segment.objects.filter(run=second).order_by("cluster_number"))
        first_traits = list(
            Segment.objects.filter(run=first).order_by("cluster_number").values_list("traits", flat=True)
        )
    assert one == two
    assert [c.traits for c in clusters] == first_traits
    assert len(clusters) == 5
    assert all(c.traits and c.traits[0]["feature"] for c in clusters)
    assert sum(c.size for c in clusters) == 6


def test_running_the_job_twice_changes_nothing(book, tenant_a):
    run = _run(tenant_a)
    with tenant_context(tenant_a.pk):
        before = sorted(CustomerScore.objects.filter(run=run).values_list("customer_id", "tier", "current_value"))
        result = score_customers(tenant_a.pk, run.job_id, run_id=run.pk)
        after = sorted(CustomerScore.objects.filter(run=run).values_list("customer_id", "tier", "current_value"))
    assert after == before
    assert result["tiers"] == {"A": 2, "B": 1, "C": 3}


def test_a_second_run_cannot_start_while_one_is_active(book, tenant_a, tenant_b):
    with tenant_context(tenant_a.pk):
        services.scoring_run_start(as_of=AS_OF)
        with pytest.raises(services.RunAlreadyActive):
            services.scoring_run_start(as_of=AS_OF)
        assert ScoringRun.objects.filter(status__in=["queued", "running"]).count() == 1
    # another tenant is not blocked
    with tenant_context(tenant_b.pk):
        services.scoring_run_start(as_of=AS_OF)


class Interrupted(BaseException):
    """A worker killed mid-write: nothing in the process gets to clean up."""


def test_an_interrupted_run_rerun_leaves_exactly_one_consistent_snapshot(book, tenant_a, monkeypatch):
    # given a previous good snapshot
    good = _run(tenant_a)
    # when the next run dies after writing its first chunk of scores
    monkeypatch.setattr(pipeline, "WRITE_CHUNK", 2)
    original = pipeline._score_rows
    calls = {"n": 0}

    def dying(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise Interrupted
        return original(*args, **kwargs)

    monkeypatch.setattr(pipeline, "_score_rows", dying)
    with tenant_context(tenant_a.pk):
        run = services.scoring_run_start(as_of=AS_OF)
        with pytest.raises(Interrupted):
            score_customers(tenant_a.pk, run.job_id, run_id=run.pk)
        # then half a snapshot exists but nobody reads it: the latest run is still the good one
        assert CustomerScore.objects.filter(run=run).count() == 2
        assert selectors.latest_run() == good
        assert Job.objects.get(pk=run.job_id).status == JobStatus.RUNNING
    # when the message is redelivered and the same job runs again
    monkeypatch.setattr(pipeline, "_score_rows", original)
    with tenant_context(tenant_a.pk):
        score_customers(tenant_a.pk, run.job_id, run_id=run.pk)
        run.refresh_from_db()
        # then the run holds exactly one row per customer, consistent with the good run
        assert run.status == RunStatus.SUCCEEDED
        rows = list(CustomerScore.objects.filter(run=run).values_list("customer_id", "tier", "current_value"))
        assert len(rows) == len({r[0] for r in rows}) == 6
        assert sorted(rows) == sorted(
            CustomerScore.objects.filter(run=good).values_list("customer_id", "tier", "current_value")
        )
        assert Segment.objects.filter(run=run).count() == 5
        assert selectors.latest_run() == run


def test_a_failed_run_leaves_no_rows_and_the_previous_snapshot_published(book, tenant_a, monkeypatch):
    good = _run(tenant_a)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(pipeline, "materialise_rule_segments", broken)
    with tenant_context(tenant_a.pk):
        run = services.scoring_run_start(as_of=AS_OF)
        with pytest.raises(RuntimeError):
            score_customers(tenant_a.pk, run.job_id, run_id=run.pk)
        run.refresh_from_db()
        assert run.status == RunStatus.FAILED
        assert CustomerScore.objects.filter(run=run).count() == 0
        assert Segment.objects.filter(run=run).count() == 0
        assert selectors.latest_run() == good
        # and the tenant can start again
        services.scoring_run_start(as_of=AS_OF)


def test_rule_segments_are_materialised_per_run(book, tenant_a):
    with tenant_context(tenant_a.pk):
        segment = services.segment_create(
            data={"name": "Prioridad alta", "rules": [{"field": "tier", "op": "eq", "value": "A"}]}
        )
    run = _run(tenant_a)
    with tenant_context(tenant_a.pk):
        members = set(SegmentMembership.objects.filter(run=run, segment=segment).values_list("customer_id", flat=True))
        segment.refresh_from_db()
    assert members == {book["co"].pk, book["p5"].pk}
    assert segment.size == 2
    assert run.result["rule_segments"] == {str(segment.pk): 2}


def test_runs_are_isolated_per_tenant(book, tenant_a, tenant_b):
    run = _run(tenant_a)
    with tenant_context(tenant_b.pk):
        assert selectors.latest_run() is None
        assert selectors.customer_tiers([book["co"].pk]) == {}
        assert not CustomerScore.objects.filter(run_id=run.pk).exists()


def test_nightly_fan_out_queues_one_run_per_tenant_and_skips_busy_ones(
    tenant_a, tenant_b, django_capture_on_commit_callbacks, monkeypatch
):
    from segmentation import jobs

    sent = []
    monkeypatch.setattr(jobs.score_customers, "delay", lambda *args, **kwargs: sent.append((args, kwargs)))
    with tenant_context(tenant_b.pk):
        busy = services.scoring_run_start(as_of=AS_OF)
    with django_capture_on_commit_callbacks(execute=True):
        queued = jobs.score_all_tenants()
    with tenant_context(tenant_a.pk):
        run_a = ScoringRun.objects.get()
    assert queued == [run_a.pk]
    assert [args[0] for args, _kwargs in sent] == [tenant_a.pk]
    # run twice: nothing new while tenant A's run is still queued
    assert jobs.score_all_tenants() == []
    with tenant_context(tenant_b.pk):
        assert list(ScoringRun.objects.values_list("pk", flat=True)) == [busy.pk]


def test_a_run_without_heartbeat_for_hours_no_longer_blocks(book, tenant_a):
    from django.utils import timezone

    with tenant_context(tenant_a.pk):
        stale = services.scoring_run_start(as_of=AS_OF)
        ScoringRun.objects.filter(pk=stale.pk).update(
            status=RunStatus.RUNNING, heartbeat_at=timezone.now() - services.STALE_AFTER - dt.timedelta(minutes=1)
        )
        f.CustomerScoreFactory(tenant=tenant_a, run=stale, customer=book["p1"])
        fresh = services.scoring_run_start(as_of=AS_OF)
        stale.refresh_from_db()
        assert stale.status == RunStatus.FAILED
        assert not CustomerScore.objects.filter(run=stale).exists()
        assert fresh.status == RunStatus.QUEUED


def test_snapshot_rows_follow_their_customer_without_database_constraints(book, tenant_a, monkeypatch):
    # given a customer deleted between the run's read and its write-back
    gone = book["p1"]
    gone_id = gone.pk
    original = pipeline.features.read_features

    def read_then_delete(**kwargs):
        frame = original(**kwargs)
        with tenant_context(tenant_a.pk):
            MonthlyAccountSummary.objects.filter(customer=gone).delete()
            gone.holdings.all().delete()
            gone.delete()
        return frame

    monkeypatch.setattr(pipeline.features, "read_features", read_then_delete)
    run = _run(tenant_a)
    # then the snapshot holds only the customers that still exist
    with tenant_context(tenant_a.pk):
        scored = set(CustomerScore.objects.filter(run=run).values_list("customer_id", flat=True))
        assert gone_id not in scored
        assert scored == {c.pk for k, c in book.items() if k != "p1"}
        assert run.status == RunStatus.SUCCEEDED
    # when another customer is deleted through the ORM, then its scores go with it
    monkeypatch.setattr(pipeline.features, "read_features", original)
    run = _run(tenant_a)
    with tenant_context(tenant_a.pk):
        survivor = book["p2"]
        survivor_id = survivor.pk
        assert CustomerScore.objects.filter(customer=survivor).count() == 2
        MonthlyAccountSummary.objects.filter(customer=survivor).delete()
        survivor.holdings.all().delete()
        survivor.delete()
        assert not CustomerScore.objects.filter(customer_id=survivor_id).exists()
        assert CustomerScore.objects.filter(run=run).count() == 4
