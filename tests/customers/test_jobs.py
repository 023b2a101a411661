"""customers.refresh_delinquency: exact days past due and statuses on a hand-made
portfolio, run-twice idempotency, tenant isolation, and the all-tenants fan-out."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from decimal import Decimal

import pytest
from celery import current_app
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.choices import ChurnReason, LifecycleStatus
from customers.jobs import REFRESH_DELINQUENCY, refresh_delinquency, refresh_delinquency_all_tenants
from customers.models import Customer, Holding
from customers.services import holdings_refresh_delinquency
from tests import factories as f
from vector_crm.models import Job, JobStatus
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 10)


def _holding(customer, *, days_past_due=0):
    return f.HoldingFactory(customer=customer, tenant=customer.tenant, days_past_due=days_past_due)


def _instalment(holding, due, *, amount_due="100.00", paid_on=None, amount_paid="0.00"):
    return f.PaymentFactory(
        holding=holding,
        tenant=holding.tenant,
        due_date=due,
        amount_due=Decimal(amount_due),
        paid_on=paid_on,
        amount_paid=Decimal(amount_paid),
    )


def _customer(status=LifecycleStatus.ACTIVE, **kwargs):
    return f.CustomerFactory(lifecycle_status=status, **kwargs)


@pytest.fixture
def portfolio(tenant_a):
    """Tenant A's hand-made portfolio, each holding annotated with its expected days past due."""
    with tenant_context(tenant_a.pk):
        late = _customer()
        loan = _holding(late)  # paid in September, October and November unpaid: 36 days
        _instalment(loan, dt.date(2026, 9, 5), paid_on=dt.date(2026, 9, 5), amount_paid="100.00")
        _instalment(loan, dt.date(2026, 10, 5))
        _instalment(loan, dt.date(2026, 11, 5))
        savings = _holding(late, days_past_due=99)  # no instalments: a stale value goes back to 0

        cured = _customer(LifecycleStatus.DELINQUENT)
        paid_late = _holding(cured, days_past_due=15)  # paid late but in full before as_of
        _instalment(paid_late, dt.date(2026, 10, 5), paid_on=dt.date(2026, 10, 20), amount_paid="100.00")

        partial = _customer()
        partly_paid = _holding(partial)  # 40 of 100 paid on the due date: still outstanding
        _instalment(partly_paid, dt.date(2026, 11, 1), paid_on=dt.date(2026, 11, 1), amount_paid="40.00")

        paid_after = _customer()
        paid_after_as_of = _holding(paid_after)  # paid on 12 Nov: as of 10 Nov it was unpaid
        _instalment(paid_after_as_of, dt.date(2026, 10, 25), paid_on=dt.date(2026, 11, 12), amount_paid="100.00")

        short_paid = _customer()
        shortfall = _holding(short_paid)  # 40 short in August: payments cover the oldest first,
        # so August and September are covered and October is 40 short: 36 days, not 97
        _instalment(shortfall, dt.date(2026, 8, 5), paid_on=dt.date(2026, 8, 5), amount_paid="60.00")
        _instalment(shortfall, dt.date(2026, 9, 5), paid_on=dt.date(2026, 9, 5), amount_paid="100.00")
        _instalment(shortfall, dt.date(2026, 10, 5), paid_on=dt.date(2026, 10, 5), amount_paid="100.00")

        caught_up = _customer(LifecycleStatus.DELINQUENT)
        caught_up_loan = _holding(caught_up, days_past_due=30)  # September skipped, October paid double
        _instalment(caught_up_loan, dt.date(2026, 9, 5))
        _instalment(caught_up_loan, dt.date(2026, 10, 5), paid_on=dt.date(2026, 10, 5), amount_paid="200.00")

        current = _customer()
        due_today = _holding(current)  # due on as_of itself and in the future: not past due
        _instalment(due_today, AS_OF)
        _instalment(due_today, dt.date(2026, 12, 10))

        prospect = _customer(LifecycleStatus.PROSPECT)
        churned = _customer(LifecycleStatus.CHURNED, churn_reason=ChurnReason.NON_USE)
        written_off = _customer(LifecycleStatus.WRITTEN_OFF)
        dormant = _customer(LifecycleStatus.DORMANT)
        untouched_statuses = [prospect, churned, written_off, dormant]
        untouched_holdings = []
        for customer in untouched_statuses:
            holding = _holding(customer)
            _instalment(holding, dt.date(2026, 10, 31))  # 10 days
            untouched_holdings.append(holding)

        no_holdings = _customer(LifecycleStatus.DELINQUENT)  # nothing owed: back to active

    expected_days = {
        loan.pk: 36,
        savings.pk: 0,
        paid_late.pk: 0,
        partly_paid.pk: 9,
        paid_after_as_of.pk: 16,
        shortfall.pk: 36,
        caught_up_loan.pk: 0,
        due_today.pk: 0,
        **{h.pk: 10 for h in untouched_holdings},
    }
    expected_status = {
        late.pk: LifecycleStatus.DELINQUENT,
        cured.pk: LifecycleStatus.ACTIVE,
        partial.pk: LifecycleStatus.DELINQUENT,
        paid_after.pk: LifecycleStatus.DELINQUENT,
        short_paid.pk: LifecycleStatus.DELINQUENT,
        caught_up.pk: LifecycleStatus.ACTIVE,
        current.pk: LifecycleStatus.ACTIVE,
        prospect.pk: LifecycleStatus.PROSPECT,
        churned.pk: LifecycleStatus.CHURNED,
        written_off.pk: LifecycleStatus.WRITTEN_OFF,
        dormant.pk: LifecycleStatus.DORMANT,
        no_holdings.pk: LifecycleStatus.ACTIVE,
    }
    return expected_days, expected_status


def _run(tenant, **params):
    """Run the task body in this process the way a worker would (tenant + Job row)."""
    with tenant_context(tenant.pk):
        job = f.JobFactory(kind=REFRESH_DELINQUENCY, params=params)
    refresh_delinquency.apply(args=(tenant.pk, job.pk), kwargs=params)
    with tenant_context(tenant.pk):
        job.refresh_from_db()
        days = dict(Holding.objects.values_list("pk", "days_past_due"))
        statuses = dict(Customer.objects.values_list("pk", "lifecycle_status"))
    return job, days, statuses


def test_refresh_sets_exact_days_past_due_and_statuses(tenant_a, portfolio):
    expected_days, expected_status = portfolio

    # when the refresh runs as of 10 Nov 2026 in chunks of 3 customers
    job, days, statuses = _run(tenant_a, as_of=AS_OF.isoformat(), chunk_size=3)

    # then every holding and customer has exactly the expected value
    assert days == expected_days
    assert statuses == expected_status
    # and the Job shows it finished, with progress per chunk and what changed
    assert job.status == JobStatus.SUCCEEDED
    assert job.total == job.done == 12
    assert job.started_at is not None and job.finished_at is not None
    assert job.counts["chunks"] == 4
    assert job.result == {
        "as_of": "2026-11-10",
        "customers": 12,
        "chunks": 4,
        "holdings_updated": 11,  # all but the one that stays at 0
        "customers_delinquent": 4,
        "customers_cured": 3,
    }


def test_refresh_twice_gives_the_same_result_and_changes_nothing(tenant_a, portfolio):
    # given a first run
    _, first_days, first_statuses = _run(tenant_a, as_of=AS_OF.isoformat())
    # when it runs again on the same data
    job, days, statuses = _run(tenant_a, as_of=AS_OF.isoformat())
    # then the values are identical and no row was rewritten
    assert (days, statuses) == (first_days, first_statuses) == portfolio
    assert job.result["holdings_updated"] == job.result["customers_delinquent"] == job.result["customers_cured"] == 0


def test_a_paid_instalment_cures_the_customer_on_the_next_run(tenant_a):
    with tenant_context(tenant_a.pk):
        customer = _customer()
        holding = _holding(customer)
        instalment = _instalment(holding, dt.date(2026, 11, 1))
    _, days, statuses = _run(tenant_a, as_of=AS_OF.isoformat())
    assert (days[holding.pk], statuses[customer.pk]) == (9, LifecycleStatus.DELINQUENT)

    # when the customer pays in full and the refresh runs again
    with tenant_context(tenant_a.pk):
        instalment.paid_on, instalment.amount_paid = AS_OF, Decimal("100.00")
        instalment.save(update_fields=["paid_on", "amount_paid"])
    _, days, statuses = _run(tenant_a, as_of=dt.date(2026, 11, 11).isoformat())

    # then the holding is current and the customer active again
    assert (days[holding.pk], statuses[customer.pk]) == (0, LifecycleStatus.ACTIVE)


def test_default_as_of_is_today_in_the_tenant_time_zone(tenant_a):
    with tenant_context(tenant_a.pk):
        customer = _customer()
        _instalment(_holding(customer), dt.date(2000, 1, 1))
    job, _, statuses = _run(tenant_a)
    today = timezone.localdate(timezone=zoneinfo.ZoneInfo("America/Bogota"))
    assert job.result["as_of"] == today.isoformat()
    assert statuses[customer.pk] == LifecycleStatus.DELINQUENT


def test_a_run_in_tenant_a_never_touches_tenant_b(tenant_a, tenant_b, portfolio):
    # given tenant B with stale values the refresh would change if it ran there
    with tenant_context(tenant_b.pk):
        b_late = _customer()
        b_holding = _holding(b_late)
        _instalment(b_holding, dt.date(2026, 10, 1))
        b_delinquent = _customer(LifecycleStatus.DELINQUENT)
        b_stale = _holding(b_delinquent, days_past_due=30)

    # when tenant A's refresh runs
    job, _, _ = _run(tenant_a, as_of=AS_OF.isoformat())

    # then tenant B's rows are exactly as they were, and A's job counted only A's customers
    with tenant_context(tenant_b.pk):
        assert dict(Holding.objects.values_list("pk", "days_past_due")) == {b_holding.pk: 0, b_stale.pk: 30}
        assert dict(Customer.objects.values_list("pk", "lifecycle_status")) == {
            b_late.pk: LifecycleStatus.ACTIVE,
            b_delinquent.pk: LifecycleStatus.DELINQUENT,
        }
    assert job.total == 12


@pytest.fixture
def eager_celery():
    """Run ``.delay`` in-process for the fan-out test (the real worker has its own test)."""
    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


def test_all_tenants_fan_out_queues_one_job_per_active_tenant(
    tenant_a, tenant_b, eager_celery, django_capture_on_commit_callbacks
):
    # given an overdue instalment in each tenant and a deactivated third tenant
    dormant_tenant = f.TenantFactory(slug="cerrado", is_active=False)
    holdings = {}
    for tenant in (tenant_a, tenant_b, dormant_tenant):
        with tenant_context(tenant.pk):
            holding = _holding(_customer())
            _instalment(holding, dt.date(2026, 11, 1))
            holdings[tenant.pk] = holding

    # when the nightly sweep runs
    with django_capture_on_commit_callbacks(execute=True):
        job_ids = refresh_delinquency_all_tenants(as_of=AS_OF.isoformat())

    # then each active tenant got its own succeeded Job and refreshed data; the inactive one nothing
    with platform_context():
        jobs = {job.tenant_id: job for job in Job.unscoped.filter(kind=REFRESH_DELINQUENCY)}
        days = dict(Holding.unscoped.values_list("tenant_id", "days_past_due"))
    assert sorted(jobs) == sorted([tenant_a.pk, tenant_b.pk])
    assert sorted(job_ids) == sorted(job.pk for job in jobs.values())
    assert {job.status for job in jobs.values()} == {JobStatus.SUCCEEDED}
    assert {job.params["as_of"] for job in jobs.values()} == {"2026-11-10"}
    assert days == {tenant_a.pk: 9, tenant_b.pk: 9, dormant_tenant.pk: 0}


def test_fan_out_skips_a_tenant_whose_refresh_is_still_pending(tenant_a, tenant_b, django_capture_on_commit_callbacks):
    # given tenant A already has a queued refresh
    with tenant_context(tenant_a.pk):
        pending = f.JobFactory(kind=REFRESH_DELINQUENCY)
    # when the sweep runs (messages captured, not sent)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job_ids = refresh_delinquency_all_tenants()
    # then only tenant B gets a new Job
    with platform_context():
        new_jobs = list(Job.unscoped.filter(kind=REFRESH_DELINQUENCY).exclude(pk=pending.pk))
    assert [job.tenant_id for job in new_jobs] == [tenant_b.pk]
    assert job_ids == [new_jobs[0].pk]
    assert len(callbacks) == 1


def test_each_chunk_is_three_bulk_statements_whatever_its_size(tenant_a, portfolio):
    with tenant_context(tenant_a.pk):
        ids = list(Customer.objects.values_list("pk", flat=True))
        with CaptureQueriesContext(connection) as queries:
            holdings_refresh_delinquency(as_of=AS_OF, customer_ids=ids)
    statements = [
        q["sql"].split()[0] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))
    ]
    assert statements == ["UPDATE", "UPDATE", "UPDATE"]  # holdings, customers to delinquent, cured
