"""``seed_demo``: the demo institutions (small, realistic, idempotent) and the bench fast path.

Runs on SQLite and on PostgreSQL; on PostgreSQL the fast path goes through COPY as the
application role, so the row-level security checks are exercised too.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections import Counter
from io import StringIO

import numpy as np
import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import F
from django.utils import timezone

from customers import identification
from customers.choices import LifecycleStatus, ProductFamily
from customers.demo import generate, identifiers
from customers.demo.profiles import BANCO_ANDINO, COOPERATIVA_DEL_PACIFICO
from customers.demo.seed import DEMO_PASSWORD, MULTI_TENANT_USERNAME, enrich_customers
from customers.demo.writers import copy_text
from customers.models import (
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
    search_key,
)
from customers.services import holdings_refresh_delinquency
from vector_crm.models import Membership, Tenant, User
from vector_crm.roles import Role
from vector_crm.tenancy import platform_context, tenant_context

DEMO_SLUGS = (BANCO_ANDINO.slug, COOPERATIVA_DEL_PACIFICO.slug)


def seed(*args, **options) -> str:
    out = StringIO()
    call_command("seed_demo", *args, stdout=out, verbosity=0, **options)
    return out.getvalue()


def demo_tenants() -> dict[str, Tenant]:
    return {t.slug: t for t in Tenant.objects.filter(slug__in=DEMO_SLUGS)}


def bench_tenants() -> list[Tenant]:
    return list(Tenant.objects.filter(slug__startswith="bench-").order_by("slug"))


def book_counts(tenant: Tenant) -> dict[str, int]:
    with tenant_context(tenant.pk):
        return {
            model.__name__: model.objects.count()
            for model in (Customer, Holding, MonthlyAccountSummary, Payment, Interaction, ChannelConsent, Membership)
        }


# --- demo mode -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_demo_creates_both_institutions_with_their_country_settings():
    # when the demo is seeded
    output = seed()

    # then there are exactly the two institutions, set up for their countries
    tenants = demo_tenants()
    assert set(tenants) == set(DEMO_SLUGS)
    andino, pacifico = tenants[BANCO_ANDINO.slug], tenants[COOPERATIVA_DEL_PACIFICO.slug]
    assert (andino.name, andino.country, andino.currency, andino.timezone, andino.locale, andino.holiday_country) == (
        "Banco Andino",
        "CO",
        "COP",
        "America/Bogota",
        "es-CO",
        "CO",
    )
    assert (pacifico.name, pacifico.country, pacifico.currency, pacifico.timezone, pacifico.locale) == (
        "Cooperativa del Pacífico",
        "EC",
        "USD",
        "America/Guayaquil",
        "es-EC",
    )
    assert pacifico.holiday_country == "EC"
    # and the printed table names users, the password and both institutions
    assert "andino.admin" in output and "pacifico.asesor" in output and DEMO_PASSWORD in output
    for tenant in tenants.values():
        with tenant_context(tenant.pk):
            assert Customer.objects.count() == 300


@pytest.mark.django_db
def test_demo_has_a_user_for_every_role_with_working_visibility_assignments():
    seed()
    for tenant in demo_tenants().values():
        with tenant_context(tenant.pk):
            memberships = list(Membership.objects.select_related("user", "team", "branch"))
            roles = Counter(m.role for m in memberships)
            # every role is staffed, advisors several times over
            assert set(roles) == set(Role.values)
            assert roles[Role.ADVISOR] >= 5
            by_role = {m.role: m for m in memberships if not m.user.username[-1].isdigit()}
            # the tenant admin may use the Django admin
            assert by_role[Role.TENANT_ADMIN].user.is_staff
            # the first supervisor leads a team that has advisors, in the team's branch
            supervisor = by_role[Role.SUPERVISOR]
            team_advisors = [m for m in memberships if m.role == Role.ADVISOR and m.team_id == supervisor.team_id]
            assert supervisor.team is not None and len(team_advisors) >= 2
            assert {m.branch_id for m in team_advisors} == {supervisor.team.branch_id}
            assert by_role[Role.BRANCH_MANAGER].branch_id is not None
            # every team has a supervisor
            teams = {m.team_id for m in memberships if m.team_id}
            assert teams == {m.team_id for m in memberships if m.role == Role.SUPERVISOR}
            # customers are spread across advisors, some unassigned
            owners = Counter(Customer.objects.values_list("owner_id", flat=True))
            advisor_ids = {m.user_id for m in memberships if m.role == Role.ADVISOR}
            assert set(owners) - {None} <= advisor_ids
            assert len(set(owners) - {None}) >= 5
            assert 0.2 < owners[None] / sum(owners.values()) < 0.7
    # one user belongs to both institutions, and the demo password works
    with platform_context():
        multi = Membership.unscoped.filter(user__username=MULTI_TENANT_USERNAME)
        assert {m.tenant.slug for m in multi} == set(DEMO_SLUGS)
    assert User.objects.get(username="andino.asesor").check_password(DEMO_PASSWORD)


@pytest.mark.django_db
def test_demo_customers_have_valid_documents_and_contact_data():
    seed()
    for tenant in demo_tenants().values():
        with tenant_context(tenant.pk):
            customers = list(Customer.objects.all())
            # every document passes the institution's own validation (check digits included)
            problems = [
                (c.identification_type, c.identification_number)
                for c in customers
                if identification.problem(c.identification_type, c.identification_number)
            ]
            assert problems == []
            types = Counter(c.identification_type for c in customers)
            expected = {"cc", "nit"} if tenant.country == "CO" else {"ci_ec", "ruc"}
            assert set(types) == expected
            # mobiles are valid E.164 numbers of the country
            code = 57 if tenant.country == "CO" else 593
            mobiles = [c.mobile for c in customers if c.mobile]
            assert len(mobiles) > 0.9 * len(customers)
            assert all(phonenumbers.is_valid_number(m) and m.country_code == code for m in mobiles)
            # search works off the normalised display name
            assert all(c.search_name == search_key(c.display_name) for c in customers)
            persons = [c for c in customers if c.kind == "person"]
            companies = [c for c in customers if c.kind == "company"]
            assert companies and all(c.legal_name and c.economic_sector and c.equity and c.employees for c in companies)
            assert all(c.first_name and c.last_name and c.birth_date and c.civil_status for c in persons)
            assert {c.income_band for c in persons} >= {"lt1", "1to2", "2to4"}
            assert len({c.stratum for c in persons}) >= 4
            assert all(c.email.count("@") == 1 for c in customers if c.email)
            # a sample passes the model's full validation
            for customer in customers[:25]:
                customer.full_clean()


@pytest.mark.django_db
def test_demo_books_carry_delinquency_churn_history_and_timeline():
    seed()
    for tenant in demo_tenants().values():
        with tenant_context(tenant.pk):
            statuses = Counter(Customer.objects.values_list("lifecycle_status", flat=True))
            assert statuses[LifecycleStatus.DELINQUENT] > 0 and statuses[LifecycleStatus.CHURNED] > 0
            # churned customers have a reason and a date
            churned = Customer.objects.filter(lifecycle_status=LifecycleStatus.CHURNED)
            assert not churned.filter(churn_reason="").exists() and not churned.filter(churned_at=None).exists()
            # a realistic share of accounts is in arrears, every delinquent customer among them
            holdings = Holding.objects.count()
            late = Holding.objects.filter(days_past_due__gt=0)
            assert 0.02 * holdings < late.count() < 0.3 * holdings
            delinquent = Customer.objects.filter(lifecycle_status=LifecycleStatus.DELINQUENT)
            assert not delinquent.exclude(holdings__days_past_due__gt=0).exists()
            # days past due are the age of the oldest unpaid instalment in the payment history
            local_today = timezone.now().astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()
            for holding in late.filter(days_past_due__lt=300).order_by("id")[:25]:
                unpaid = Payment.objects.filter(holding=holding, paid_on=None).order_by("due_date").first()
                assert unpaid.due_date + dt.timedelta(days=holding.days_past_due) == local_today
            assert not Payment.objects.filter(paid_on__gt=local_today).exists()
            assert Payment.objects.filter(paid_on__gt=F("due_date")).exists()  # some paid late
            # at most 12 monthly summaries per account, most accounts have all 12
            per_holding = Counter(MonthlyAccountSummary.objects.values_list("holding_id", flat=True))
            assert max(per_holding.values()) == 12
            assert sum(1 for v in per_holding.values() if v == 12) > 0.4 * len(per_holding)
            assert Interaction.objects.count() > 300 and ChannelConsent.objects.count() == 4 * 300
            assert Interaction.objects.filter(interaction_type="collection").exists()
    # the bank's catalogue covers every product family
    with tenant_context(demo_tenants()[BANCO_ANDINO.slug].pk):
        assert set(Product.objects.values_list("family", flat=True)) == set(ProductFamily.values)


@pytest.mark.django_db
@pytest.mark.parametrize("fast_path", [False, True], ids=["demo", "fast-path"])
def test_seeded_delinquency_is_what_the_nightly_refresh_computes(fast_path):
    # given seeded books (the fast path writes no paid history, only unpaid instalments)
    if fast_path:
        seed(customers=1000, tenants=2)
        tenants = bench_tenants()
    else:
        seed()
        tenants = list(demo_tenants().values())
    for tenant in tenants:
        local_today = timezone.now().astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date()
        with tenant_context(tenant.pk):
            ids = list(Customer.objects.values_list("id", flat=True))
            assert Holding.objects.filter(days_past_due__gt=0).exists()
            # when the nightly job recomputes days past due and statuses from the payments
            # (small chunks: without planner statistics, which a test transaction cannot
            # gather, its SQL grows much faster than linearly with the chunk on PostgreSQL)
            changes = Counter()
            for start in range(0, len(ids), 20):
                changes.update(holdings_refresh_delinquency(as_of=local_today, customer_ids=ids[start : start + 20]))
        # then it finds nothing to change
        assert +changes == Counter()


@pytest.mark.django_db
def test_demo_rerun_does_not_duplicate_and_reset_rebuilds_the_same_book():
    # given a seeded demo
    seed()
    before = {slug: book_counts(t) for slug, t in demo_tenants().items()}
    users = User.objects.count()

    # when it is seeded again, then nothing is duplicated
    output = seed()
    assert {slug: book_counts(t) for slug, t in demo_tenants().items()} == before
    assert User.objects.count() == users and "already has 300 customers" in output

    # when it is reset, then the same deterministic book is rebuilt in the same tenants
    tenant_ids = {t.pk for t in demo_tenants().values()}
    seed("--reset")
    assert {t.pk for t in demo_tenants().values()} == tenant_ids
    assert {slug: book_counts(t) for slug, t in demo_tenants().items()} == before


# --- fast path -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_fast_path_writes_exactly_the_requested_customers_with_search_names():
    # when 2,000 customers are loaded across two bench tenants
    seed(customers=2000, tenants=2)

    # then each bench tenant holds its half, with filled search names and valid documents
    tenants = bench_tenants()
    assert [t.name for t in tenants] == ["Bench 01", "Bench 02"]
    assert {t.country for t in tenants} == {"CO", "EC"}
    total = 0
    for tenant in tenants:
        with tenant_context(tenant.pk):
            rows = list(
                Customer.objects.values_list(
                    "kind",
                    "first_name",
                    "last_name",
                    "legal_name",
                    "search_name",
                    "identification_type",
                    "identification_number",
                )
            )
            assert len(rows) == 1000
            total += len(rows)
            for kind, first, last, legal, search_name, id_type, number in rows:
                display = legal if kind == "company" else f"{first} {last}"
                assert search_name and search_name == search_key(display)
                assert identification.problem(id_type, number) is None
            holdings = Holding.objects.count()
            assert 1.6 * 1000 < holdings < 2.4 * 1000
            assert Holding.objects.filter(days_past_due__gt=0).exists()
            assert not Holding.objects.exclude(customer__tenant_id=tenant.pk).exists()
            # bulk loads write no per-row audit entries
            from vector_crm.models import AuditLogEntry

            assert not AuditLogEntry.objects.filter(content_type__model="customer").exists()
    assert total == 2000


@pytest.mark.django_db
def test_fast_path_with_history_and_refusal_to_mix_books():
    # given a bench tenant with history
    seed(customers=300, tenants=1, months=3, interactions_per_customer=1, consents=True)
    (tenant,) = bench_tenants()
    counts = book_counts(tenant)
    assert counts["Customer"] == 300 and counts["MonthlyAccountSummary"] > counts["Holding"]
    assert counts["Payment"] > 0 and counts["Interaction"] > 0 and counts["ChannelConsent"] == 1200

    # when the same size is requested again, then nothing changes
    seed(customers=300, tenants=1)
    assert book_counts(tenant) == counts
    # when a different size is requested, then it refuses rather than mixing books
    with pytest.raises(CommandError, match="--reset"):
        seed(customers=500, tenants=1)
    # and with --reset it rebuilds to the new size
    seed("--reset", customers=500, tenants=1)
    assert book_counts(tenant)["Customer"] == 500


@pytest.mark.django_db
def test_enrich_gives_chosen_customers_a_timeline_once():
    # given a bench book without timelines
    seed(customers=200, tenants=1)
    (tenant,) = bench_tenants()
    with tenant_context(tenant.pk):
        chosen = list(Customer.objects.order_by("id").values_list("id", flat=True)[:5])

    # when five customers are enriched, twice
    written = enrich_customers(tenant.pk, chosen, interactions_per_customer=8)
    again = enrich_customers(tenant.pk, chosen, interactions_per_customer=8)

    # then they alone have a timeline and four consents each, written once
    assert written["customers.ChannelConsent"] == 20 and written["customers.Interaction"] >= 5 * 3
    assert not again
    with tenant_context(tenant.pk):
        assert set(Interaction.objects.values_list("customer_id", flat=True)) == set(chosen)
        assert ChannelConsent.objects.count() == 20


@pytest.mark.django_db
def test_fast_path_rows_stay_isolated_by_row_level_security(pg_only):
    seed(customers=2000, tenants=2)
    first, second = bench_tenants()
    for mine, other in ((first, second), (second, first)):
        with tenant_context(mine.pk), connection.cursor() as cursor:
            for table in ("customers_customer", "customers_holding"):
                cursor.execute(f"SELECT count(*) FROM {table} WHERE tenant_id = %s", [other.pk])  # noqa: S608
                assert cursor.fetchone()[0] == 0
                cursor.execute(f"SELECT count(*), count(DISTINCT tenant_id) FROM {table}")  # noqa: S608
                visible, tenants = cursor.fetchone()
                assert visible > 0 and tenants == 1


# --- pure parts ----------------------------------------------------------------------------


def test_document_generators_are_valid_and_unique_across_chunks():
    index = np.arange(20_000)
    first, second = index[:10_000], index[10_000:]
    provinces = np.resize(np.array([1, 9, 13, 17, 24]), 10_000)
    for make, kind in (
        (lambda i: identifiers.colombian_cedulas(i, 7)[0], "cc"),
        (lambda i: identifiers.colombian_nits(i, 7), "nit"),
        (lambda i: identifiers.ecuadorian_cedulas(i, provinces, 7), "ci_ec"),
        (lambda i: identifiers.ecuadorian_company_rucs(i * 37, provinces, 7), "ruc"),
    ):
        numbers = np.concatenate([make(first), make(second)])
        assert len(set(numbers)) == len(numbers), kind
        assert [n for n in numbers[:3000] if identification.problem(kind, n)] == [], kind


def test_ruc_check_digit_follows_the_modulo_11_rule():
    rucs = identifiers.ecuadorian_company_rucs(np.arange(0, 900_000, 997), np.full(903, 17), 3)
    weights = (4, 3, 2, 7, 6, 5, 4, 3, 2)
    for ruc in rucs:
        remainder = sum(int(d) * w for d, w in zip(ruc[:9], weights, strict=True)) % 11
        assert ruc[2] == "9" and int(ruc[9]) == (0 if remainder == 0 else 11 - remainder) and ruc.endswith("001")


def test_copy_text_renders_nulls_decimals_and_dates():
    table = generate.Table(
        Holding,
        {
            "id": np.array([1, 2]),
            "tenant_id": np.array([5, 5]),
            "customer_id": np.array([7, 8]),
            "product_id": np.array([3, 3]),
            "account_number": np.array(["A1", "A2"], dtype=object),
            "currency": np.array(["USD", "USD"], dtype=object),
            "opened_on": np.array(["2024-01-31", "2024-02-29"], dtype="datetime64[D]"),
            "maturity_date": np.array(["2025-01-31", "NaT"], dtype="datetime64[D]"),
            "balance": np.array([123_45, 5]),
            "credit_limit": np.array([generate.NULL_FIXED, 100_000]),
            "interest_rate": np.array([167_700, generate.NULL_FIXED]),
            "status": np.array(["active", "closed"], dtype=object),
            "days_past_due": np.array([0, 31]),
            "next_due_date": np.array(["NaT", "NaT"], dtype="datetime64[D]"),
            "next_due_amount": np.array([generate.NULL_FIXED, generate.NULL_FIXED]),
            "updated_at": np.array(["2026-01-02T03:04:05", "2026-01-02T03:04:05"], dtype="datetime64[s]"),
        },
    )
    names, body = copy_text(table)
    assert names[:3] == ["id", "tenant_id", "customer_id"]
    first, second = (dict(zip(names, line.split("\t"), strict=True)) for line in body.splitlines())
    assert first["balance"] == "123.45" and second["balance"] == "0.05"
    assert first["credit_limit"] == "\\N" and second["credit_limit"] == "1000.00"
    assert first["interest_rate"] == "16.7700" and second["interest_rate"] == "\\N"
    assert first["maturity_date"] == "2025-01-31" and second["maturity_date"] == "\\N"
    assert first["updated_at"] == "2026-01-02T03:04:05+00:00"


def test_add_months_clamps_to_the_end_of_the_month():
    dates = np.array(["2024-01-31", "2024-03-31", "2023-12-15"], dtype="datetime64[D]")
    assert generate.add_months(dates, 1).astype(str).tolist() == ["2024-02-29", "2024-04-30", "2024-01-15"]
    assert generate.add_months(dates, -1).astype(str).tolist() == ["2023-12-31", "2024-02-29", "2023-11-15"]


# --- bulk load (PostgreSQL, as the owner) ---------------------------------------------------

BOOK_TABLES = ["customers_customer", "customers_holding", "customers_monthlyaccountsummary", "customers_payment"]


def _index_and_constraint_definitions() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tablename, indexdef FROM pg_indexes WHERE tablename = ANY(%s) "
            "UNION ALL SELECT conrelid::regclass::text, conname || ' ' || pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE conrelid = ANY(%s::regclass[])",
            [BOOK_TABLES, BOOK_TABLES],
        )
        return set(cursor.fetchall())


@pytest.mark.django_db
def test_bulk_load_is_refused_without_postgresql_and_an_owner(settings):
    settings.DATABASE_OWNER = None
    with pytest.raises(CommandError, match="--bulk-load needs PostgreSQL"):
        seed("--bulk-load", customers=10, tenants=1)
    assert not bench_tenants()


@pytest.mark.django_db(transaction=True)
def test_bulk_load_rebuilds_every_index_and_constraint(pg_only, settings):
    if not settings.DATABASE_OWNER:
        pytest.skip("needs DATABASE_OWNER_URL")
    # given the schema's indexes and constraints on the book tables
    before = _index_and_constraint_definitions()
    # when a book is bulk-loaded (indexes dropped during the load)
    seed("--bulk-load", customers=400, tenants=1, months=3)
    # then the same indexes and constraints exist afterwards, and the book is complete
    assert _index_and_constraint_definitions() == before
    (tenant,) = bench_tenants()
    counts = book_counts(tenant)
    assert counts["Customer"] == 400 and counts["MonthlyAccountSummary"] > counts["Holding"] > 400
    assert counts["Payment"] > 0


@pytest.mark.django_db(transaction=True)
def test_a_failed_bulk_load_leaves_no_rows_and_every_index(pg_only, settings, monkeypatch):
    if not settings.DATABASE_OWNER:
        pytest.skip("needs DATABASE_OWNER_URL")
    from customers.demo import seed as seed_module

    before = _index_and_constraint_definitions()
    original = seed_module.generate.payments

    def broken(*args, **kwargs):
        original(*args, **kwargs)
        raise RuntimeError("disk full")

    # when the load fails after customers, holdings and summaries were copied
    monkeypatch.setattr(seed_module.generate, "payments", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        seed("--bulk-load", customers=200, tenants=1, months=2)
    # then nothing of the book was written and no index or constraint is missing
    assert _index_and_constraint_definitions() == before
    with platform_context():
        assert not Customer.unscoped.exists() and not MonthlyAccountSummary.unscoped.exists()
