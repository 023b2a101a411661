"""Orchestration for ``seed_demo``: institutions, staff, the customer book, reset, ANALYZE.

The institution set-up (tenant, branches, products, teams, users, memberships) is small
and goes through the ORM and the customer services, so it is validated and idempotent:
re-running finds what exists by slug, code, name and username. The customer book is
generated in chunks by ``generate`` and written by a writer from ``writers``; a tenant
that already holds customers keeps them (re-running never duplicates).
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import queue
import re
import threading
import time
import zlib
import zoneinfo
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
from django.apps import apps
from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.utils import timezone

from customers import services
from customers.demo import generate, vocab
from customers.demo.profiles import (
    BANCO_ANDINO,
    COOPERATIVA_DEL_PACIFICO,
    DEMO_INSTITUTIONS,
    InstitutionProfile,
    TeamSpec,
    bench_profile,
)
from customers.demo.writers import CopyWriter, OrmWriter, secondary_indexes_deferred
from customers.models import (
    Branch,
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    Product,
)
from vector_crm.db import owner_connection
from vector_crm.models import ApiCredential, Membership, Team, Tenant, User
from vector_crm.roles import Role
from vector_crm.tenancy import TenantModel, platform_context, tenant_context

# Documented in the README and printed by the command; demo and bench data only.
DEMO_PASSWORD = "vector-demo-2025"  # noqa: S105
MULTI_TENANT_USERNAME = "demo.regional"
BENCH_SLUG = re.compile(r"^bench-\d+$")

ROLE_USERNAMES: dict[str, str] = {
    Role.TENANT_ADMIN: "admin",
    Role.BRANCH_MANAGER: "gerente",
    Role.SUPERVISOR: "supervisor",
    Role.ADVISOR: "asesor",
    Role.MARKETING: "mercadeo",
    Role.COLLECTIONS_AGENT: "cobranza",
    Role.COLLECTIONS_MANAGER: "jefecobranza",
    Role.ANALYST: "analista",
}

BOOK_MODELS = (Customer, Holding, ChannelConsent, MonthlyAccountSummary, Payment, Interaction)


@dataclass(frozen=True)
class BookSpec:
    """How rich a generated customer book is."""

    customers: int
    holdings_per_customer: float = 2.0
    months: int = 0  # monthly summaries and paid instalments per holding (unpaid ones are always written)
    interactions_per_customer: float = 0.0
    consents: bool = False
    chunk_size: int = 50_000


DEMO_BOOK = BookSpec(customers=300, holdings_per_customer=2.6, months=12, interactions_per_customer=4, consents=True)


@dataclass
class StaffRow:
    username: str
    institution: str
    role: str
    branch: str
    team: str
    is_staff: bool


@dataclass
class Institution:
    profile: InstitutionProfile
    tenant: Tenant
    branches: dict[str, Branch]
    products: dict[str, Product]
    staff: list[StaffRow]
    book: generate.TenantBook


@dataclass
class SeedReport:
    institutions: list[str] = field(default_factory=list)
    staff: list[StaffRow] = field(default_factory=list)
    rows: Counter = field(default_factory=Counter)
    seconds: Counter = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "institutions": self.institutions,
            "rows": dict(self.rows),
            "seconds": {key: round(value, 3) for key, value in self.seconds.items()},
            "skipped": self.skipped,
            "notes": self.notes,
        }


Progress = Callable[[str], None]


class SeedError(ValueError):
    """A request the seeder refuses (bad sizes, a bench book of another size without reset)."""


def _silent(_message: str) -> None:
    return None


# --- institution set-up ---------------------------------------------------------------------


def _staff_plan(profile: InstitutionProfile) -> list[tuple[str, str, str, str | None]]:
    """(username, role, branch code, team name) for one user per role plus every team's
    supervisor and advisors. The first team's supervisor and advisor carry the plain
    role usernames (``andino.supervisor``, ``andino.asesor``)."""
    head_office = profile.branches[0].code
    first_team = profile.teams[0]
    plan: list[tuple[str, str, str, str | None]] = []
    for role, name in ROLE_USERNAMES.items():
        if role in (Role.SUPERVISOR, Role.ADVISOR):
            continue
        branch = first_team.branch if role == Role.BRANCH_MANAGER else head_office
        plan.append((f"{profile.key}.{name}", role, branch, None))
    advisor_number = 0
    for team_number, team in enumerate(profile.teams, start=1):
        suffix = "" if team_number == 1 else str(team_number)
        plan.append((f"{profile.key}.supervisor{suffix}", Role.SUPERVISOR, team.branch, team.name))
        for _ in range(team.advisors):
            advisor_number += 1
            suffix = "" if advisor_number == 1 else str(advisor_number)
            plan.append((f"{profile.key}.asesor{suffix}", Role.ADVISOR, team.branch, team.name))
    # One user per role first (in the role table's order), then the other team members.
    role_order = {role: index for index, role in enumerate(ROLE_USERNAMES)}
    return sorted(plan, key=lambda row: (row[0][-1].isdigit(), role_order[row[1]]))


def _staff_names(profile: InstitutionProfile, count: int) -> list[tuple[str, str]]:
    rng = np.random.default_rng(sum(map(ord, profile.slug)))
    given = [name for name, _w in vocab.FEMALE_NAMES + vocab.MALE_NAMES]
    surnames = [name for name, _w in profile.surnames]
    return [(given[rng.integers(len(given))], surnames[rng.integers(len(surnames))]) for _ in range(count)]


def setup_institution(
    profile: InstitutionProfile, *, password_hash: str, now: dt.datetime, is_bench: bool = False
) -> Institution:
    """Create or update the tenant, its branches, products, teams, staff and memberships."""
    with platform_context():
        tenant = Tenant.objects.filter(slug=profile.slug).first() or Tenant(slug=profile.slug)
        wanted = {
            "name": profile.name,
            "country": profile.country,
            "currency": profile.currency,
            "timezone": profile.timezone,
            "locale": profile.locale,
            "holiday_country": profile.holiday_country,
            "is_active": True,
        }
        changed = tenant.pk is None or any(getattr(tenant, key) != value for key, value in wanted.items())
        marker = "bench" if is_bench else "demo"
        if tenant.settings.get("seeded_by") != marker:
            tenant.settings = {**tenant.settings, "seeded_by": marker}
            changed = True
        if changed:
            for key, value in wanted.items():
                setattr(tenant, key, value)
            tenant.save()

    with tenant_context(tenant.pk), transaction.atomic():
        existing_branches = {b.code: b for b in Branch.objects.all()}
        for spec in profile.branches:
            if spec.code not in existing_branches:
                existing_branches[spec.code] = services.branch_create(
                    data={
                        "code": spec.code,
                        "name": spec.name,
                        "city": spec.city,
                        "region": spec.region,
                        "address": spec.address,
                    }
                )
        existing_products = {p.code: p for p in Product.objects.all()}
        for spec in profile.products:
            if spec.code not in existing_products:
                existing_products[spec.code] = services.product_create(
                    data={"code": spec.code, "name": spec.name, "family": spec.family, "currency": profile.currency}
                )
        teams = {t.name: t for t in Team.objects.all()}
        for spec in profile.teams:
            if spec.name not in teams:
                teams[spec.name] = Team.objects.create(name=spec.name, branch=existing_branches[spec.branch])

        plan = _staff_plan(profile)
        staff = _ensure_users(profile, plan, password_hash)
        memberships = {m.user_id: m for m in Membership.objects.all()}
        new_memberships = []
        for username, role, branch_code, team_name in plan:
            user = staff[username]
            branch = existing_branches[branch_code]
            team = teams[team_name] if team_name else None
            membership = memberships.get(user.pk)
            if membership is None:
                new_memberships.append(Membership(user=user, role=role, branch=branch, team=team, tenant=tenant))
            elif (membership.role, membership.branch_id, membership.team_id, membership.is_active) != (
                role,
                branch.pk,
                team.pk if team else None,
                True,
            ):
                membership.role, membership.branch, membership.team, membership.is_active = role, branch, team, True
                membership.save(update_fields=["role", "branch", "team", "is_active"])
        Membership.objects.bulk_create(new_memberships)

    branch_index = {spec.code: i for i, spec in enumerate(profile.branches)}
    advisors = [(staff[u].pk, branch_index[b]) for u, role, b, _t in plan if role == Role.ADVISOR]
    collectors = [staff[u].pk for u, role, _b, _t in plan if role in (Role.COLLECTIONS_AGENT, Role.COLLECTIONS_MANAGER)]
    local_today = now.astimezone(zoneinfo.ZoneInfo(profile.timezone)).date()
    book = generate.TenantBook(
        profile=profile,
        tenant_id=tenant.pk,
        branch_ids=np.array([existing_branches[s.code].pk for s in profile.branches], dtype=np.int64),
        advisor_ids=np.array([a for a, _b in advisors], dtype=np.int64),
        advisor_branch=np.array([b for _a, b in advisors], dtype=np.int64),
        collector_ids=np.array(collectors, dtype=np.int64),
        product_ids=np.array([existing_products[s.code].pk for s in profile.products], dtype=np.int64),
        today=local_today,
        now=now,
        salt=zlib.crc32(profile.slug.encode()),
    )
    rows = [
        StaffRow(username, profile.name, role, branch_code, team_name or "", role == Role.TENANT_ADMIN)
        for username, role, branch_code, team_name in plan
    ]
    return Institution(profile, tenant, existing_branches, existing_products, rows, book)


def _ensure_users(profile: InstitutionProfile, plan, password_hash: str) -> dict[str, User]:
    """Users by username: missing ones created, all reset to the demo password."""
    usernames = [row[0] for row in plan]
    admins = {row[0] for row in plan if row[1] == Role.TENANT_ADMIN}
    existing = {u.username: u for u in User.objects.filter(username__in=usernames)}
    names = _staff_names(profile, len(usernames))
    new_users = []
    for (username, _role, _branch, _team), (first, last) in zip(plan, names, strict=True):
        if username in existing:
            continue
        new_users.append(
            User(
                username=username,
                first_name=first,
                last_name=last,
                email=f"{username}@{profile.slug}.example",
                password=password_hash,
                is_staff=username in admins,
            )
        )
    User.objects.bulk_create(new_users)
    stale = [u for u in existing.values() if u.password != password_hash or u.is_staff != (u.username in admins)]
    for user in stale:
        user.password = password_hash
        user.is_staff = user.username in admins
        user.is_active = True
    User.objects.bulk_update(stale, ["password", "is_staff", "is_active"])
    return {u.username: u for u in User.objects.filter(username__in=usernames)}


def ensure_multi_tenant_user(institutions: list[Institution], password_hash: str) -> list[StaffRow]:
    """One analyst who belongs to every demo institution (switches tenant in the UI)."""
    user, created = User.objects.get_or_create(
        username=MULTI_TENANT_USERNAME,
        defaults={
            "first_name": "Regina",
            "last_name": "Salazar Mora",
            "email": "regional@demo.example",
            "password": password_hash,
        },
    )
    if not created and user.password != password_hash:
        user.password = password_hash
        user.save(update_fields=["password"])
    rows = []
    for institution in institutions:
        head_office = institution.branches[institution.profile.branches[0].code]
        with tenant_context(institution.tenant.pk):
            membership = Membership.objects.filter(user=user).first()
            if membership is None:
                Membership.objects.create(user=user, role=Role.ANALYST, branch=head_office)
            elif membership.role != Role.ANALYST or not membership.is_active:
                membership.role, membership.is_active = Role.ANALYST, True
                membership.save(update_fields=["role", "is_active"])
        rows.append(StaffRow(user.username, institution.profile.name, Role.ANALYST, head_office.code, "", False))
    return rows


# --- the customer book ----------------------------------------------------------------------


def write_book(
    institution: Institution, spec: BookSpec, writer, *, seed: int, report: SeedReport, progress: Progress = _silent
) -> None:
    """Generate and write ``spec.customers`` customers (and their accounts, history and
    timeline) for the institution, chunk by chunk, inside the current transaction."""
    book = institution.book
    with tenant_context(institution.tenant.pk):
        book.next_account = Holding.objects.count() + 1
        start = 0
        chunk_number = 0
        while start < spec.customers:
            count = min(spec.chunk_size, spec.customers - start)
            rng = np.random.default_rng([seed, book.salt, chunk_number])
            people = _timed(report, "generate", generate.customers, book, rng, start, count)
            _timed(report, "write", writer.insert, people)
            accounts = _timed(report, "generate", generate.holdings, book, rng, people, spec.holdings_per_customer)
            _timed(report, "write", writer.insert, accounts)
            tables = [people, accounts]
            if spec.consents:
                tables.append(_timed(report, "generate", generate.consents, book, rng, people))
            if spec.months:
                tables.append(_timed(report, "generate", generate.monthly_summaries, book, rng, accounts, spec.months))
            # Always: at least the unpaid instalments, which explain the days past due.
            tables.append(_timed(report, "generate", generate.payments, book, rng, accounts, spec.months))
            if spec.interactions_per_customer:
                tables.append(
                    _timed(report, "generate", generate.interactions, book, rng, people, spec.interactions_per_customer)
                )
            for table in tables[2:]:
                # Nothing references these rows: PostgreSQL numbers them itself.
                _timed(report, "write", functools.partial(writer.insert, returning_ids=False), table)
            for table in tables:
                report.rows[table.model._meta.label] += len(table)
            start += count
            chunk_number += 1
            progress(f"  {institution.profile.name}: {start:,}/{spec.customers:,} customers")


def _timed(report: SeedReport, phase: str, function, *args):
    started = time.perf_counter()
    try:
        return function(*args)
    finally:
        report.seconds[phase] += time.perf_counter() - started


def seed_stage_apps(tenant_id: int, now: dt.datetime, seed: int, report: SeedReport) -> None:
    """Demo data of the stage apps on top of the customer book: every installed app with a
    ``demo`` module exposing ``seed_demo_tenant(tenant_id=, now=, seed=) -> {label: rows}``
    (e.g. ``cases.demo``) seeds its own, idempotently. Discovered, not imported by name, so
    the shared customer model does not depend on the stage apps."""
    for config in apps.get_app_configs():
        if config.name == "customers":
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{config.name}.demo":
                raise
            continue
        seeder = getattr(module, "seed_demo_tenant", None)
        if seeder is not None:
            with transaction.atomic():
                report.rows.update(seeder(tenant_id=tenant_id, now=now, seed=seed))


def _existing_customers(institution: Institution) -> int:
    with tenant_context(institution.tenant.pk):
        return Customer.objects.count()


# --- entry points ---------------------------------------------------------------------------


def seed_demo(
    *,
    book: BookSpec = DEMO_BOOK,
    seed: int = 42,
    reset: bool = False,
    analyze: bool = True,
    progress: Progress = _silent,
) -> SeedReport:
    """The two demo institutions with realistic books (ORM, works on SQLite)."""
    report = SeedReport()
    started = time.perf_counter()
    if reset:
        wiped = reset_tenants([p.slug for p in DEMO_INSTITUTIONS], progress=progress)
        report.notes.append(f"reset {wiped} demo institution(s)")
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    institutions = []
    for profile in DEMO_INSTITUTIONS:
        institution = setup_institution(profile, password_hash=password_hash, now=now)
        institutions.append(institution)
        report.institutions.append(profile.name)
        report.staff.extend(institution.staff)
        existing = _existing_customers(institution)
        if existing:
            report.skipped.append(f"{profile.name} already has {existing:,} customers (use --reset to rebuild)")
            continue
        with transaction.atomic():
            write_book(institution, book, OrmWriter(), seed=seed, report=report, progress=progress)
    report.staff.extend(ensure_multi_tenant_user(institutions, password_hash))
    for institution in institutions:
        _timed(report, "stage apps", seed_stage_apps, institution.tenant.pk, now, seed, report)
    if analyze:
        # Fresh planner statistics: without them (autovacuum may be off or late) set-based
        # jobs over the new rows can pick nested-loop plans that take minutes.
        report.notes.append(analyze_tables())
    report.seconds["total"] = time.perf_counter() - started
    return report


def bench_spec_for(customers: int, tenants: int, index: int, base: BookSpec) -> BookSpec:
    """Tenant ``index`` (0-based) gets an equal share; the first ones take the remainder."""
    share = customers // tenants + (1 if index < customers % tenants else 0)
    return replace(base, customers=share)


def bench_teams(profile: InstitutionProfile, customers: int) -> InstitutionProfile:
    """One team per branch, with about one advisor per 1,500 customers of the branch."""
    total_weight = sum(b.weight for b in profile.branches)
    teams = tuple(
        TeamSpec(f"Equipo {b.name}", b.code, max(1, min(40, round(customers * b.weight / total_weight / 1500))))
        for b in profile.branches
    )
    return replace(profile, teams=teams)


def seed_bench(
    *,
    customers: int,
    tenants: int,
    base: BookSpec,
    seed: int = 42,
    reset: bool = False,
    method: str = "auto",
    jobs: int = 2,
    analyze: bool = True,
    bulk_load: bool = False,
    progress: Progress = _silent,
) -> SeedReport:
    """``customers`` customers spread over ``tenants`` bench tenants ("Bench 01"...), written
    with COPY on PostgreSQL (bulk_create elsewhere, or with ``method="orm"``), loading up
    to ``jobs`` tenants at once on separate connections.

    ``bulk_load`` (PostgreSQL, needs ``DATABASE_OWNER_URL``): load every tenant in one
    transaction as the schema owner, with the book tables' secondary indexes, unique and
    foreign-key constraints dropped during the load and rebuilt before the commit (see
    ``writers.secondary_indexes_deferred``); an owner that is a superuser also skips the
    RLS staging table and COPYs straight into the tables. Other sessions wait for the
    book tables until it commits: for benchmark databases, not a live one."""
    if tenants < 1 or customers < 0:
        raise SeedError("Need at least one tenant and a non-negative number of customers.")
    if bulk_load and (
        connection.vendor != "postgresql" or not getattr(settings, "DATABASE_OWNER", None) or method == "orm"
    ):
        raise SeedError("--bulk-load needs PostgreSQL, the COPY writer and DATABASE_OWNER_URL (the schema owner).")
    if bulk_load and connection.in_atomic_block:
        raise SeedError("--bulk-load runs its own transaction; call it outside one.")
    report = SeedReport()
    started = time.perf_counter()
    if reset:
        with platform_context():
            slugs = [t.slug for t in Tenant.objects.all() if BENCH_SLUG.match(t.slug)]
        wiped = reset_tenants(slugs, progress=progress)
        report.notes.append(f"reset {wiped} bench tenant(s)")
        report.seconds["reset"] = time.perf_counter() - started
    use_copy = method == "copy" or (method == "auto" and connection.vendor == "postgresql")
    report.notes.append(f"writer: {'COPY' if use_copy else 'bulk_create'}")
    password_hash = make_password(DEMO_PASSWORD)
    now = timezone.now()
    plans = []
    setup_started = time.perf_counter()
    for index in range(tenants):
        spec = bench_spec_for(customers, tenants, index, base)
        profile = bench_teams(bench_profile(index + 1), spec.customers)
        institution = setup_institution(profile, password_hash=password_hash, now=now, is_bench=True)
        report.institutions.append(profile.name)
        report.staff.extend(row for row in institution.staff if row.role in (Role.TENANT_ADMIN, Role.ANALYST))
        existing = _existing_customers(institution)
        if existing == spec.customers:
            report.skipped.append(f"{profile.name} already has {existing:,} customers")
            continue
        if existing:
            raise SeedError(
                f"{profile.name} already has {existing:,} customers, not {spec.customers:,}: use --reset to rebuild."
            )
        plans.append((institution, spec))
    report.seconds["setup"] = time.perf_counter() - setup_started
    if bulk_load and plans:
        report.notes.append("bulk load: secondary indexes and constraints rebuilt after the load, as the owner")
        with owner_connection(), transaction.atomic():
            with secondary_indexes_deferred(BOOK_MODELS, report.seconds):
                _load_tenants(plans, use_copy=True, jobs=1, seed=seed, report=report, progress=progress)
            progress(f"indexes rebuilt in {report.seconds['rebuild']:.1f} s")
    else:
        _load_tenants(plans, use_copy=use_copy, jobs=jobs, seed=seed, report=report, progress=progress)
    load_done = time.perf_counter()
    report.seconds["load"] = load_done - setup_started - report.seconds["setup"]
    if analyze:
        report.notes.append(analyze_tables())
        report.seconds["analyze"] = time.perf_counter() - load_done
    report.seconds["total"] = time.perf_counter() - started
    return report


def _load_tenants(plans, *, use_copy: bool, jobs: int, seed: int, report: SeedReport, progress: Progress) -> None:
    """Write each planned tenant's book in its own transaction, ``jobs`` connections at once.

    PostgreSQL does the heavy part (index maintenance and the deferred foreign-key checks
    at commit) in one backend process per connection, so two connections use both cores
    of a small machine while Python renders the next chunk. SQLite, the ORM writer and a
    caller already inside a transaction (tests) load one tenant at a time on this thread.
    """

    def load(institution: Institution, spec: BookSpec, into: SeedReport) -> None:
        writer = CopyWriter() if use_copy else OrmWriter(batch_size=2000)
        started = time.perf_counter()
        with transaction.atomic():
            write_book(institution, spec, writer, seed=seed, report=into)
        for phase, seconds in getattr(writer, "seconds", {}).items():
            into.seconds[f"write.{phase}"] += seconds
        progress(f"{institution.profile.name}: {spec.customers:,} customers in {time.perf_counter() - started:.1f} s")

    if jobs <= 1 or len(plans) <= 1 or not use_copy or connection.in_atomic_block:
        for institution, spec in plans:
            load(institution, spec, report)
        return
    pending: queue.SimpleQueue = queue.SimpleQueue()
    for plan in plans:
        pending.put(plan)
    partial_reports: list[SeedReport] = []
    errors: list[BaseException] = []

    def worker() -> None:
        local = SeedReport()
        try:
            while not errors:
                try:
                    institution, spec = pending.get_nowait()
                except queue.Empty:
                    return
                load(institution, spec, local)
        except BaseException as error:  # re-raised on the calling thread below
            errors.append(error)
        finally:
            connections.close_all()  # this thread's connections only
            partial_reports.append(local)

    threads = [threading.Thread(target=worker, name=f"seed-demo-{i}") for i in range(min(jobs, len(plans)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for local in partial_reports:
        report.rows.update(local.rows)
        report.seconds.update(local.seconds)
    if errors:
        raise errors[0]


def profile_for(tenant: Tenant) -> InstitutionProfile:
    """The profile a tenant was seeded from (demo or bench), else one shaped by its country."""
    for profile in DEMO_INSTITUTIONS:
        if profile.slug == tenant.slug:
            return profile
    if BENCH_SLUG.match(tenant.slug):
        return bench_profile(int(tenant.slug.rsplit("-", 1)[1]))
    base = COOPERATIVA_DEL_PACIFICO if tenant.country == "EC" else BANCO_ANDINO
    return replace(base, name=tenant.name, slug=tenant.slug, timezone=tenant.timezone)


def enrich_customers(
    tenant_id: int, customer_ids: list[int], *, interactions_per_customer: float = 10.0, seed: int = 42
) -> Counter:
    """Give chosen customers of an existing book a timeline and channel consents.

    The bench loads a million customers without them (the three-minute target), then
    enriches the customers whose 360 it measures, so that page renders a realistic
    timeline. Customers that already have interactions or consents are left alone.
    """
    with platform_context():
        tenant = Tenant.objects.get(pk=tenant_id)
    profile = profile_for(tenant)
    written: Counter = Counter()
    with tenant_context(tenant_id), transaction.atomic():
        rows = list(
            Customer.objects.filter(pk__in=customer_ids)
            .exclude(interactions__isnull=False)
            .exclude(consents__isnull=False)
            .values_list("id", "lifecycle_status", "owner_id", "kind", "created_at")
            .order_by("id")
        )
        if not rows:
            return written
        members = list(Membership.objects.filter(is_active=True).values_list("user_id", "role"))
        now = timezone.now()
        book = generate.TenantBook(
            profile=profile,
            tenant_id=tenant_id,
            branch_ids=np.zeros(0, dtype=np.int64),
            advisor_ids=np.array([u for u, r in members if r == Role.ADVISOR], dtype=np.int64),
            advisor_branch=np.zeros(0, dtype=np.int64),
            collector_ids=np.array(
                [u for u, r in members if r in (Role.COLLECTIONS_AGENT, Role.COLLECTIONS_MANAGER)], dtype=np.int64
            ),
            product_ids=np.zeros(0, dtype=np.int64),
            today=now.astimezone(zoneinfo.ZoneInfo(tenant.timezone)).date(),
            now=now,
            salt=zlib.crc32(tenant.slug.encode()),
        )
        ids, statuses, owners, kinds, created = zip(*rows, strict=True)
        people = generate.Table(
            Customer,
            {
                "id": np.array(ids, dtype=np.int64),
                "lifecycle_status": np.array(statuses, dtype=object),
                "owner_id": np.array([o if o is not None else generate.NULL_INT for o in owners], dtype=np.int64),
            },
            {
                "since": np.array([c.date() for c in created], dtype="datetime64[D]"),
                "company": np.array([k == "company" for k in kinds]),
            },
        )
        rng = np.random.default_rng([seed, book.salt, len(rows)])
        writer = OrmWriter()
        for table in (
            generate.interactions(book, rng, people, interactions_per_customer),
            generate.consents(book, rng, people),
        ):
            writer.insert(table)
            written[table.model._meta.label] += len(table)
    return written


# --- reset and statistics -------------------------------------------------------------------


def _tenant_models_in_delete_order() -> list[type[TenantModel]]:
    """Tenant-owned models, each listed before the tenant models it references."""
    models = [m for m in apps.get_models() if issubclass(m, TenantModel) and not m._meta.proxy]
    references = {
        m: {f.related_model for f in m._meta.concrete_fields if f.is_relation and f.related_model in models} - {m}
        for m in models
    }
    ordered: list[type[TenantModel]] = []
    remaining = set(models)
    while remaining:
        # Ready: nothing still remaining points at it.
        ready = sorted(
            (m for m in remaining if not any(m in references[o] for o in remaining if o is not m)),
            key=lambda m: m._meta.label,
        )
        if not ready:  # a reference cycle: the deferred foreign keys settle it at commit
            ready = sorted(remaining, key=lambda m: m._meta.label)
        ordered.extend(ready)
        remaining.difference_update(ready)
    return ordered


def wipe_tenant(tenant_id: int) -> None:
    """Delete a tenant's business data with set-based SQL (no per-row signals, so no audit
    entries for millions of rows). The tenant row and its audit trail stay: the trail is
    append-only; credentials an audit entry points at are revoked instead of deleted."""
    quote = connection.ops.quote_name
    tenant_models = _tenant_models_in_delete_order()
    with tenant_context(tenant_id), transaction.atomic(), connection.cursor() as cursor:
        for through in apps.get_models(include_auto_created=True):
            if not through._meta.auto_created:
                continue
            for fk in through._meta.concrete_fields:
                if fk.is_relation and fk.related_model in tenant_models:
                    parent = fk.related_model._meta.db_table
                    cursor.execute(
                        f"DELETE FROM {quote(through._meta.db_table)} WHERE {quote(fk.column)} IN "  # noqa: S608
                        f"(SELECT id FROM {quote(parent)} WHERE tenant_id = %s)",
                        [tenant_id],
                    )
        for model in tenant_models:
            table = quote(model._meta.db_table)
            if model is ApiCredential:
                cursor.execute(
                    f"DELETE FROM {table} WHERE tenant_id = %s AND NOT EXISTS (SELECT 1 FROM "  # noqa: S608
                    f"vector_crm_auditlogentry a WHERE a.api_credential_id = {table}.id)",
                    [tenant_id],
                )
                cursor.execute(
                    f"UPDATE {table} SET revoked_at = %s WHERE tenant_id = %s AND revoked_at IS NULL",  # noqa: S608
                    [timezone.now(), tenant_id],
                )
                continue
            cursor.execute(f"DELETE FROM {table} WHERE tenant_id = %s", [tenant_id])  # noqa: S608


def reset_tenants(slugs: list[str], *, progress: Progress = _silent) -> int:
    with platform_context():
        tenants = list(Tenant.objects.filter(slug__in=slugs))
    for tenant in tenants:
        started = time.perf_counter()
        wipe_tenant(tenant.pk)
        progress(f"wiped {tenant.name} in {time.perf_counter() - started:.1f} s")
    return len(tenants)


def analyze_tables() -> str:
    """Refresh planner statistics (and, on PostgreSQL, the visibility map) after a load.

    PostgreSQL lets only a table's owner VACUUM/ANALYZE it, so with DATABASE_OWNER_URL set
    this opens a short owner connection; inside a transaction (tests) it is skipped.
    """
    tables = [m._meta.db_table for m in BOOK_MODELS]
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return "ANALYZE done"
    if connection.vendor != "postgresql":
        return "ANALYZE skipped (unsupported database)"
    if connection.in_atomic_block:
        return "VACUUM ANALYZE skipped (inside a transaction)"
    import psycopg2

    params = dict(connection.get_connection_params())
    owner = getattr(settings, "DATABASE_OWNER", None)
    if owner:
        params.update(user=owner["USER"], password=owner.get("PASSWORD") or "")
    raw = psycopg2.connect(**params)
    try:
        raw.autocommit = True
        with raw.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_tables t JOIN pg_roles r ON r.rolname = current_user "
                "WHERE t.tablename = ANY(%s) AND (t.tableowner = current_user OR r.rolsuper)",
                [tables],
            )
            if cursor.fetchone()[0] < len(tables):
                return "VACUUM ANALYZE skipped: set DATABASE_OWNER_URL (only the table owner may run it)"
            for table in tables:
                cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(table)}")
    finally:
        raw.close()
    return "VACUUM ANALYZE done"
