"""Vectorised generators: each returns a ``Table`` (one numpy array per database column).

No per-row Python loops over the book: a chunk of 50,000 customers is a few dozen
numpy operations. Conventions for the arrays (shared with ``writers``):

* text: object arrays of ``str`` (blank is ``""``; ``None`` only where the column is NULL-able)
* integers and foreign keys: int64, ``NULL_INT`` (-1) for NULL
* decimals: int64 fixed-point in units of ``10**-decimal_places`` (cents for money),
  ``NULL_FIXED`` for NULL
* dates: ``datetime64[D]``, timestamps ``datetime64[s]`` in UTC; ``NaT`` for NULL
* booleans: bool arrays

The data hang together the way a user would check them: delinquent customers have credit
holdings with days past due, which equal the age of their oldest unpaid instalment in the
payment history; churned customers have a reason, a date and closed accounts; term
deposits and loans mature after they open; e-mail addresses follow the names.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

import numpy as np

from customers.choices import (
    Channel,
    ChurnReason,
    CivilStatus,
    ConsentSource,
    CustomerKind,
    Direction,
    Education,
    HoldingStatus,
    IdentificationType,
    IncomeBand,
    InteractionOutcome,
    InteractionType,
    LifecycleStatus,
)
from customers.choices import ProductFamily as F
from customers.demo import identifiers, vocab
from customers.demo.profiles import InstitutionProfile
from customers.models import (
    ChannelConsent,
    Customer,
    Holding,
    Interaction,
    MonthlyAccountSummary,
    Payment,
    search_key,
)

NULL_INT = -1
NULL_FIXED = np.iinfo(np.int64).min
NAT_D = np.datetime64("NaT", "D")

CREDIT_FAMILIES = frozenset({F.LOAN, F.MORTGAGE, F.CREDIT_CARD, F.OVERDRAFT, F.MICROCREDIT, F.COMMERCIAL_LOAN})
REVOLVING_FAMILIES = frozenset({F.CREDIT_CARD, F.OVERDRAFT})
DEPOSIT_FAMILIES = frozenset({F.SAVINGS, F.CHECKING, F.TERM_DEPOSIT, F.INVESTMENT})
INSURANCE_FAMILIES = frozenset({F.LIFE, F.VEHICLE, F.HEALTH, F.UNIVERSAL_LIFE})
SERVICE_FAMILIES = frozenset({F.RECURRING_PAYMENTS, F.CASH_MANAGEMENT, F.PAYROLL})

_DUE_DAYS = np.array((5, 10, 15, 20, 25, 28))


@dataclass
class Table:
    """Rows for one model: ``columns`` are database attnames, ``extra`` generator-only data."""

    model: type
    columns: dict[str, np.ndarray]
    extra: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(next(iter(self.columns.values()))) if self.columns else 0


@dataclass
class TenantBook:
    """What the generators need to know about one tenant's set-up (ids from the database)."""

    profile: InstitutionProfile
    tenant_id: int
    branch_ids: np.ndarray  # aligned with profile.branches
    advisor_ids: np.ndarray  # user ids of advisors
    advisor_branch: np.ndarray  # index into profile.branches, aligned with advisor_ids
    collector_ids: np.ndarray  # user ids of collections staff
    product_ids: np.ndarray  # aligned with profile.products
    today: dt.date
    now: dt.datetime
    salt: int = 0  # stable per institution (not the database id), so data repeat across databases
    next_account: int = 1  # running account-number sequence inside the tenant

    @property
    def today64(self) -> np.datetime64:
        return np.datetime64(self.today, "D")


# --- small helpers ------------------------------------------------------------------------


def _weights(pairs) -> tuple[np.ndarray, np.ndarray]:
    values = np.array([p[0] for p in pairs], dtype=object)
    weights = np.array([p[-1] for p in pairs], dtype=float)
    return values, weights / weights.sum()


def _pick(rng: np.random.Generator, probabilities: np.ndarray, size: int) -> np.ndarray:
    return rng.choice(len(probabilities), size=size, p=probabilities)


def _keys(values: np.ndarray) -> np.ndarray:
    return np.array([search_key(v) for v in values], dtype=object)


def add_months(dates: np.ndarray, months) -> np.ndarray:
    """``dates`` (datetime64[D]) moved by ``months``, clamping the day to the month's end."""
    months_arr = np.asarray(months, dtype=np.int64)
    month = dates.astype("datetime64[M]")
    day = (dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + months_arr
    length = ((target + 1).astype("datetime64[D]") - target.astype("datetime64[D]")).astype(np.int64)
    return target.astype("datetime64[D]") + np.minimum(day, length - 1)


def _to_fixed(amount: np.ndarray, places: int = 2) -> np.ndarray:
    return np.round(np.asarray(amount, dtype=float) * 10**places).astype(np.int64)


def _money(book: TenantBook, usd: np.ndarray) -> np.ndarray:
    """US-dollar amounts in the tenant's currency, as cents (COP rounded to 100 pesos)."""
    local = np.asarray(usd, dtype=float) * book.profile.usd_rate
    if book.profile.cents:
        return _to_fixed(local)
    return np.round(local / 100).astype(np.int64) * 10_000


def _local_hours_to_utc(book: TenantBook, days: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Local wall-clock time (date + seconds after midnight) in the tenant's zone, as UTC."""
    offset = zoneinfo.ZoneInfo(book.profile.timezone).utcoffset(book.now.replace(tzinfo=None))
    offset_s = int(offset.total_seconds()) if offset is not None else 0
    return days.astype("datetime64[s]") + seconds.astype("timedelta64[s]") - np.timedelta64(offset_s, "s")


_FAMILY_OF = {}


def _families(book: TenantBook) -> np.ndarray:
    key = id(book.profile)
    if key not in _FAMILY_OF:
        _FAMILY_OF[key] = np.array([str(p.family) for p in book.profile.products], dtype=object)
    return _FAMILY_OF[key]


def _family_mask(families: np.ndarray, wanted: frozenset) -> np.ndarray:
    return np.isin(families, np.array(sorted(str(f) for f in wanted), dtype=object))


# --- customers ----------------------------------------------------------------------------

_FEMALE, _FEMALE_P = _weights(vocab.FEMALE_NAMES)
_MALE, _MALE_P = _weights(vocab.MALE_NAMES)
_FEMALE_KEYS, _MALE_KEYS = _keys(_FEMALE), _keys(_MALE)
_DOMAINS, _DOMAINS_P = _weights(vocab.PERSON_EMAIL_DOMAINS)
_TRADES = np.array([t[0] for t in vocab.COMPANY_TRADES], dtype=object)
_TRADE_SECTORS = np.array([t[1] for t in vocab.COMPANY_TRADES], dtype=object)
_TRADES_P = np.array([t[2] for t in vocab.COMPANY_TRADES], dtype=float) / sum(t[2] for t in vocab.COMPANY_TRADES)
_CORES = np.array(vocab.COMPANY_CORES, dtype=object)
_OCCUPATION_M = np.array([o[0] for o in vocab.OCCUPATIONS], dtype=object)
_OCCUPATION_F = np.array([o[1] for o in vocab.OCCUPATIONS], dtype=object)
_OCCUPATION_FLOOR = np.array([o[2] for o in vocab.OCCUPATIONS])

_STATUSES, _STATUS_P = _weights(
    (
        (LifecycleStatus.ACTIVE.value, 62),
        (LifecycleStatus.PROSPECT.value, 8),
        (LifecycleStatus.DORMANT.value, 10),
        (LifecycleStatus.DELINQUENT.value, 9),
        (LifecycleStatus.WRITTEN_OFF.value, 2),
        (LifecycleStatus.CHURNED.value, 9),
    )
)
_CHURN, _CHURN_P = _weights(
    (
        (ChurnReason.POOR_SERVICE.value, 14),
        (ChurnReason.DISSATISFACTION.value, 14),
        (ChurnReason.NON_RENEWAL.value, 18),
        (ChurnReason.PERSONAL.value, 12),
        (ChurnReason.NON_USE.value, 16),
        (ChurnReason.CANCELLED_NON_PAYMENT.value, 10),
        (ChurnReason.CANCELLED_MISUSE.value, 4),
        (ChurnReason.CANCELLED_PLAN_CHANGE.value, 12),
    )
)
_EDUCATION, _EDUCATION_P = _weights(
    (
        (Education.PRIMARY.value, 10),
        (Education.SECONDARY.value, 30),
        (Education.TECHNICAL.value, 22),
        (Education.UNIVERSITY.value, 28),
        (Education.POSTGRADUATE.value, 6),
        (Education.UNKNOWN.value, 4),
    )
)
_EDUCATION_LEVEL = np.array([0, 0, 1, 2, 2, 0])  # occupation floor reachable per education
_EDUCATION_BONUS = np.array([-0.5, 0.0, 0.3, 0.8, 1.5, 0.0])
_INCOME_BANDS = np.array([b.value for b in IncomeBand], dtype=object)
_WEALTH = np.array([0.4, 0.8, 1.5, 3.0, 6.0, 12.0])  # relative to a typical customer, per income band
_CHANNELS, _CHANNELS_P = _weights(
    (
        (Channel.APP.value, 25),
        (Channel.WHATSAPP.value, 22),
        (Channel.BRANCH.value, 18),
        (Channel.PHONE.value, 12),
        (Channel.EMAIL.value, 10),
        (Channel.WEB.value, 8),
        (Channel.SMS.value, 4),
        (Channel.MAIL.value, 1),
    )
)
_CIVIL = np.array([c.value for c in CivilStatus], dtype=object)  # single married cohabiting divorced widowed
_CIVIL_BY_AGE = np.array(
    [
        [80, 5, 15, 0, 0],  # under 25
        [35, 30, 30, 5, 0],  # 25-39
        [15, 50, 20, 12, 3],  # 40-59
        [10, 50, 8, 12, 20],  # 60+
    ],
    dtype=float,
)
_CO_STRATA_P = np.array([18, 32, 30, 11, 5, 4], dtype=float) / 100
_EC_STRATA_P = np.array([15, 50, 23, 10, 2], dtype=float) / 100  # INEC levels D, C-, C+, B, A


def _split_index(index: np.ndarray, company_percent: int) -> tuple[np.ndarray, np.ndarray]:
    """Company flag and the compact rank inside the person / company series.

    Whether row ``index`` is a company depends on ``index % 100`` only, so every chunk
    (and a re-run) agrees on it, and each series' rank is dense: document numbers come
    from the rank, which keeps them unique without coordination between chunks.
    """
    block, within = np.divmod(index, 100)
    company = within < company_percent
    rank = np.where(
        company, block * company_percent + within, block * (100 - company_percent) + within - company_percent
    )
    return company, rank


def customers(book: TenantBook, rng: np.random.Generator, start: int, count: int) -> Table:
    """``count`` customers with tenant-wide row numbers ``start .. start + count - 1``."""
    profile = book.profile
    n = count
    index = start + rng.permutation(n).astype(np.int64)  # unique numbers, in no visible order
    company_percent = round(profile.company_share * 100)
    company, rank = _split_index(index, company_percent)
    person = ~company
    today = book.today64

    # Branch, city and (Ecuador) province of registration.
    branch_weights = np.array([b.weight for b in profile.branches], dtype=float)
    branch_idx = _pick(rng, branch_weights / branch_weights.sum(), n)
    cities = np.array([b.city for b in profile.branches], dtype=object)
    city_idx = np.where(rng.random(n) < 0.9, branch_idx, rng.integers(0, len(cities), n))
    provinces = np.array([b.province for b in profile.branches])
    province = np.where(rng.random(n) < 0.85, provinces[branch_idx], rng.integers(1, 25, n))

    # Identification.
    id_type = np.empty(n, dtype=object)
    id_number = np.empty(n, dtype=object)
    old_series = np.zeros(n, dtype=bool)
    if profile.is_ecuador:
        id_type[person], id_type[company] = IdentificationType.CI_EC.value, IdentificationType.RUC.value
        id_number[person] = identifiers.ecuadorian_cedulas(rank[person], province[person], book.salt)
        id_number[company] = identifiers.ecuadorian_company_rucs(rank[company], province[company], book.salt)
    else:
        id_type[person], id_type[company] = IdentificationType.CC.value, IdentificationType.NIT.value
        numbers, old = identifiers.colombian_cedulas(rank[person], book.salt)
        id_number[person], old_series[person] = numbers, old
        id_number[company] = identifiers.colombian_nits(rank[company], book.salt)

    # Names (persons): one or two given names, usually two surnames.
    female = rng.random(n) < 0.52
    f1, f2 = _pick(rng, _FEMALE_P, n), _pick(rng, _FEMALE_P, n)
    m1, m2 = _pick(rng, _MALE_P, n), _pick(rng, _MALE_P, n)
    f2 = np.where(f2 == f1, (f2 + 1) % len(_FEMALE), f2)
    m2 = np.where(m2 == m1, (m2 + 1) % len(_MALE), m2)
    compound = rng.random(n) < 0.35
    given = np.where(female, _FEMALE[f1], _MALE[m1])
    given_key = np.where(female, _FEMALE_KEYS[f1], _MALE_KEYS[m1])
    second = np.where(female, _FEMALE[f2], _MALE[m2])
    second_key = np.where(female, _FEMALE_KEYS[f2], _MALE_KEYS[m2])
    first_name = np.where(compound, given + " " + second, given)
    first_key = np.where(compound, given_key + " " + second_key, given_key)
    surnames, surname_p = _weights(profile.surnames)
    surname_keys = _keys(surnames)
    s1, s2 = _pick(rng, surname_p, n), _pick(rng, surname_p, n)
    two = rng.random(n) < 0.95
    last_name = np.where(two, surnames[s1] + " " + surnames[s2], surnames[s1])
    last_key = np.where(two, surname_keys[s1] + " " + surname_keys[s2], surname_keys[s1])

    # Names (companies): trade + place or family name + legal form; the trade gives the sector.
    trade = _pick(rng, _TRADES_P, n)
    forms, forms_p = _weights(profile.legal_forms)
    form = forms[_pick(rng, forms_p, n)]
    core = np.where(rng.random(n) < 0.3, surnames[s1] + " " + surnames[s2], _CORES[rng.integers(0, len(_CORES), n)])
    legal_name = _TRADES[trade] + " " + core + " " + form
    legal_key = _keys(legal_name[company]) if company.any() else np.empty(0, dtype=object)

    search_name = np.where(person, first_key + " " + last_key, "").astype(object)
    search_name[company] = legal_key
    first_name = np.where(person, first_name, "").astype(object)
    last_name = np.where(person, last_name, "").astype(object)
    legal_name = np.where(company, legal_name, "").astype(object)

    # Age and the profile that follows from it.
    if profile.is_ecuador:
        age_years = np.clip(18 + rng.gamma(3.0, 9.0, n), 18, 88)
    else:
        # 8-digit cédulas were issued until the 2000s: their holders are older.
        age_years = np.where(old_series, rng.uniform(40, 80, n), rng.uniform(18, 40, n))
    birth = today - (age_years * 365.25).astype(np.int64)
    company_age = rng.uniform(1, 40, n)
    birth = np.where(company, today - (company_age * 365.25).astype(np.int64), birth)
    age_band = np.digitize(age_years, [25, 40, 60])
    civil_p = _CIVIL_BY_AGE / _CIVIL_BY_AGE.sum(axis=1, keepdims=True)
    civil_idx = np.minimum((rng.random(n)[:, None] > np.cumsum(civil_p[age_band], axis=1)).sum(axis=1), 4)
    children = np.minimum(rng.poisson(np.array([0.3, 1.2, 2.0, 2.2])[age_band]), 8)
    education_idx = _pick(rng, _EDUCATION_P, n)
    strata_p = _EC_STRATA_P if profile.is_ecuador else _CO_STRATA_P
    stratum = _pick(rng, strata_p, n) + 1
    stratum = stratum + ((education_idx >= 3) & (rng.random(n) < 0.35)) - ((education_idx == 0) & (rng.random(n) < 0.3))
    stratum = np.clip(stratum, 1, len(strata_p))
    band = np.clip(
        np.round((stratum - 1) * 0.9 + _EDUCATION_BONUS[education_idx] + rng.normal(0, 0.7, n)), 0, 5
    ).astype(np.int64)
    occupation_idx = _occupations(rng, _EDUCATION_LEVEL[education_idx])
    occupation = np.where(female, _OCCUPATION_F[occupation_idx], _OCCUPATION_M[occupation_idx])
    retired = (age_years >= 62) & (rng.random(n) < 0.5)
    occupation = np.where(retired, np.where(female, "Pensionada", "Pensionado"), occupation)
    student = (age_years < 23) & (rng.random(n) < 0.4)
    occupation = np.where(student, "Estudiante", occupation)

    # Companies: equity (log-normal) and staff that grow with it.
    equity_usd = np.exp(np.log(150_000) + 1.5 * rng.standard_normal(n))
    employees = np.clip(
        np.round(np.exp(np.log(12) + 0.6 * np.log(equity_usd / 150_000) + 0.5 * rng.standard_normal(n))), 1, 20_000
    ).astype(np.int64)
    wealth = np.where(company, np.clip(equity_usd / 150_000, 0.05, 200) * 8, _WEALTH[band])

    # Contact data.
    mobile = identifiers.mobiles(rng, n, profile.dialing_code, profile.mobile_prefixes, profile.mobile_digits)
    mobile = np.where(rng.random(n) < 0.04, "", mobile).astype(object)
    email = _emails(rng, n, first_key, surname_keys[s1], birth, company, trade, core)
    email = np.where(rng.random(n) < 0.07, "", email).astype(object)
    address = _addresses(rng, profile, n)

    # Lifecycle.
    status = _STATUSES[_pick(rng, _STATUS_P, n)]
    status = np.where(company & (status == LifecycleStatus.WRITTEN_OFF.value), LifecycleStatus.DELINQUENT.value, status)
    churned = status == LifecycleStatus.CHURNED.value
    prospect = status == LifecycleStatus.PROSPECT.value
    churn_reason = np.where(churned, _CHURN[_pick(rng, _CHURN_P, n)], "").astype(object)
    churned_at = np.where(churned, today - rng.integers(5, 360, n), NAT_D)

    # Customer since: recent for prospects, years back for the rest, never before adulthood.
    since_days = np.where(prospect, rng.integers(1, 180, n), np.clip(rng.exponential(5 * 365, n), 60, 25 * 365))
    since = today - since_days.astype(np.int64)
    adult = np.where(company, birth, add_months(birth, 18 * 12))
    since = np.maximum(since, np.minimum(adult, today - 30))
    since = np.where(churned, np.minimum(since, churned_at - 60), since)

    # Owner: an advisor of the customer's branch for most; the rest stay unassigned.
    owner = _owners(book, rng, branch_idx, owned=rng.random(n) < 0.82)

    created = _local_hours_to_utc(book, since, rng.integers(8 * 3600, 18 * 3600, n))
    external_id = np.where(
        prospect, "", np.char.add(f"{profile.account_prefix}C", np.char.zfill(index.astype(str), 9)).astype(object)
    ).astype(object)

    columns = {
        "tenant_id": np.full(n, book.tenant_id, dtype=np.int64),
        "kind": np.where(company, CustomerKind.COMPANY.value, CustomerKind.PERSON.value).astype(object),
        "identification_type": id_type,
        "identification_number": id_number.astype(object),
        "external_id": external_id,
        "first_name": first_name,
        "last_name": last_name,
        "legal_name": legal_name,
        "search_name": search_name,
        "mobile": mobile,
        "email": email,
        "address": address,
        "city": cities[city_idx],
        "birth_date": birth,
        "civil_status": np.where(person, _CIVIL[civil_idx], "").astype(object),
        "stratum": np.where(person, stratum, NULL_INT),
        "children": np.where(person, children, NULL_INT),
        "education": np.where(person, _EDUCATION[education_idx], "").astype(object),
        "occupation": np.where(person, occupation, "").astype(object),
        "income_band": np.where(person, _INCOME_BANDS[band], "").astype(object),
        "economic_sector": np.where(company, _TRADE_SECTORS[trade], "").astype(object),
        "equity": np.where(company, _money(book, equity_usd), NULL_FIXED),
        "employees": np.where(company, employees, NULL_INT),
        "lifecycle_status": status.astype(object),
        "churn_reason": churn_reason,
        "churned_at": churned_at,
        "owner_id": owner,
        "branch_id": book.branch_ids[branch_idx],
        "preferred_channel": _CHANNELS[_pick(rng, _CHANNELS_P, n)],
        "created_at": created,
        "updated_at": np.full(n, np.datetime64(book.now.replace(tzinfo=None), "s")),
    }
    extra = {"since": since, "wealth": wealth, "company": company, "branch_idx": branch_idx}
    return Table(Customer, columns, extra)


def _occupations(rng: np.random.Generator, level: np.ndarray) -> np.ndarray:
    """A random occupation whose education floor is at most ``level``, per row."""
    result = np.empty(len(level), dtype=np.int64)
    for value in np.unique(level):
        rows = np.flatnonzero(level == value)
        allowed = np.flatnonzero(_OCCUPATION_FLOOR <= value)
        result[rows] = allowed[rng.integers(0, len(allowed), len(rows))]
    return result


def _emails(rng, n, first_key, surname_key, birth, company, trade, core) -> np.ndarray:
    first_token = np.array([k.split(" ", 1)[0] for k in first_key], dtype=object)
    surname_token = np.array([k.split(" ", 1)[0] for k in surname_key], dtype=object)
    suffix_kind = rng.integers(0, 3, n)
    year = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    suffix = np.where(
        suffix_kind == 0, "", np.where(suffix_kind == 1, (year % 100).astype(str), rng.integers(1, 999, n).astype(str))
    ).astype(object)
    separator = np.where(rng.random(n) < 0.6, ".", np.where(rng.random(n) < 0.5, "_", "")).astype(object)
    domain = _DOMAINS[_pick(rng, _DOMAINS_P, n)]
    person_email = first_token + separator + surname_token + suffix + "@" + domain
    if not company.any():
        return person_email
    business = np.array(
        [search_key(f"{t} {c}").replace(" ", "") for t, c in zip(_TRADES[trade[company]], core[company], strict=True)],
        dtype=object,
    )
    mailbox = np.array(("contacto", "gerencia", "tesoreria", "info"), dtype=object)[rng.integers(0, 4, company.sum())]
    result = person_email.copy()
    result[company] = mailbox + "@" + business + ".example"
    return result


def _addresses(rng, profile: InstitutionProfile, n: int) -> np.ndarray:
    a, b, c = rng.integers(1, 180, n), rng.integers(1, 120, n), rng.integers(1, 99, n)
    if profile.is_ecuador:
        streets = np.array(vocab.STREET_NAMES_EC, dtype=object)[rng.integers(0, len(vocab.STREET_NAMES_EC), n)]
        cross = np.array(vocab.CROSS_STREETS_EC, dtype=object)[rng.integers(0, len(vocab.CROSS_STREETS_EC), n)]
        return streets + " " + (a * 10 + c).astype(str).astype(object) + " y " + cross
    kinds = np.array(vocab.STREET_KINDS_CO, dtype=object)[rng.integers(0, len(vocab.STREET_KINDS_CO), n)]
    return (
        kinds
        + " "
        + a.astype(str).astype(object)
        + " # "
        + b.astype(str).astype(object)
        + "-"
        + c.astype(str).astype(object)
    )


def _owners(book: TenantBook, rng: np.random.Generator, branch_idx: np.ndarray, owned: np.ndarray) -> np.ndarray:
    """An advisor of the row's branch (uniformly), or NULL_INT when unowned or none there."""
    n_branches = len(book.branch_ids)
    order = np.argsort(book.advisor_branch, kind="stable")
    sorted_ids = book.advisor_ids[order]
    counts = np.bincount(book.advisor_branch, minlength=n_branches) if len(order) else np.zeros(n_branches, int)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
    available = counts[branch_idx]
    pick = starts[branch_idx] + np.floor(rng.random(len(branch_idx)) * np.maximum(available, 1)).astype(np.int64)
    owner = np.full(len(branch_idx), NULL_INT, dtype=np.int64)
    mask = owned & (available > 0)
    owner[mask] = sorted_ids[pick[mask]]
    return owner


# --- holdings -----------------------------------------------------------------------------


def holdings(book: TenantBook, rng: np.random.Generator, people: Table, per_customer: float) -> Table:
    """Accounts of ``people`` (which must carry database ids), ``per_customer`` on average."""
    profile = book.profile
    today = book.today64
    status = people.columns["lifecycle_status"]
    prospect = status == LifecycleStatus.PROSPECT.value
    company = people.extra["company"]
    holders = (~prospect).mean() if len(status) else 1.0
    extra_rate = max(per_customer / max(holders, 1e-9) - 1.0, 0.0)
    counts = np.where(prospect, 0, 1 + np.minimum(rng.poisson(extra_rate * np.where(company, 1.3, 1.0)), 11))
    owner_row = np.repeat(np.arange(len(status)), counts)
    n = len(owner_row)
    row_company = company[owner_row]
    row_status = status[owner_row]

    families = _families(book)
    person_p = np.array([p.person_weight for p in profile.products], dtype=float)
    company_p = np.array([p.company_weight for p in profile.products], dtype=float)
    product = np.where(
        row_company, _pick(rng, company_p / company_p.sum(), n), _pick(rng, person_p / person_p.sum(), n)
    )
    # Customers in arrears must owe something: their first account becomes a credit product.
    credit = _family_mask(families, CREDIT_FAMILIES)
    in_arrears = np.isin(row_status, [LifecycleStatus.DELINQUENT.value, LifecycleStatus.WRITTEN_OFF.value])
    first = np.r_[True, owner_row[1:] != owner_row[:-1]] if n else np.zeros(0, bool)
    has_credit = np.bincount(owner_row, weights=credit[product], minlength=len(status)) > 0
    needs_credit = first & in_arrears & ~has_credit[owner_row]
    if needs_credit.any():
        credit_idx = np.flatnonzero(credit)
        for kind_mask, weights in ((row_company, company_p), (~row_company, person_p)):
            rows = np.flatnonzero(needs_credit & kind_mask)
            w = weights[credit_idx]
            product[rows] = credit_idx[_pick(rng, w / w.sum(), len(rows))]
    family = families[product]
    is_credit = credit[product]
    revolving = _family_mask(families, REVOLVING_FAMILIES)[product]
    deposit = _family_mask(families, DEPOSIT_FAMILIES)[product]
    insurance = _family_mask(families, INSURANCE_FAMILIES)[product]

    # Opening date and term.
    since = people.extra["since"][owner_row]
    span = np.maximum((today - since).astype(np.int64) - 30, 1)
    opened = since + (rng.random(n) * span).astype(np.int64)
    term_min = np.array([p.term_months[0] for p in profile.products])[product]
    term_max = np.array([p.term_months[1] for p in profile.products])[product]
    term = np.where(term_max > 0, term_min + (rng.random(n) * (term_max - term_min + 1)).astype(np.int64), 0)
    term = np.where((term > 12) & ~_family_mask(families, {F.TERM_DEPOSIT})[product], (term // 6) * 6, term)
    live = row_status != LifecycleStatus.CHURNED.value
    # A live loan or deposit has not matured yet: it was opened (or renewed) within its term.
    termed = (term > 0) & live
    latest_open = add_months(np.full(n, today), -np.maximum(term, 1) + 1)
    opened = np.where(termed & (opened < latest_open), latest_open - rng.integers(0, 28, n), opened)

    # Instalments fall on a fixed day; customers in arrears missed the latest ones (and had
    # the account long enough to miss them). ``last_due`` is the latest due date before
    # today: an instalment due today is not late yet.
    due_day = _DUE_DAYS[rng.integers(0, len(_DUE_DAYS), n)]
    month_start = today.astype("datetime64[M]").astype("datetime64[D]")
    this_month_due = month_start + (due_day - 1)
    last_due = np.where(this_month_due < today, this_month_due, add_months(this_month_due, -1))
    missed = np.zeros(n, dtype=np.int64)
    delinquent_rows = is_credit & (row_status == LifecycleStatus.DELINQUENT.value)
    missed[delinquent_rows] = rng.choice(
        np.arange(1, 7), size=int(delinquent_rows.sum()), p=[0.3, 0.25, 0.18, 0.12, 0.08, 0.07]
    )
    written_off = (row_status == LifecycleStatus.WRITTEN_OFF.value) & is_credit
    missed[written_off] = rng.integers(7, 13, int(written_off.sum()))
    # Active customers are current: one unpaid instalment makes a customer delinquent (the
    # rule customers.services.holdings_refresh_delinquency applies every night).
    arrears = missed > 0
    opened = np.where(arrears, np.minimum(opened, add_months(last_due, -(missed + 2)) - rng.integers(0, 60, n)), opened)
    opened = np.minimum(np.maximum(opened, since), today - 1)
    maturity = np.where(term > 0, add_months(opened, term), NAT_D)
    maturity = np.where(insurance, add_months(opened, ((today - opened).astype(np.int64) // 365 + 1) * 12), maturity)
    # Due dates after the opening day and up to the last one: the most that can be missed.
    opened_month = opened.astype("datetime64[M]")
    opened_day = (opened - opened_month.astype("datetime64[D]")).astype(np.int64)
    dues = (last_due.astype("datetime64[M]") - opened_month).astype(np.int64) + (opened_day < due_day - 1)
    missed = np.clip(missed, 0, np.maximum(dues, 0))

    # Holding status follows the customer's.
    holding_status = np.full(n, HoldingStatus.ACTIVE.value, dtype=object)
    draw = rng.random(n)
    holding_status[(row_status == LifecycleStatus.ACTIVE.value) & (draw < 0.03)] = HoldingStatus.DORMANT.value
    holding_status[(row_status == LifecycleStatus.ACTIVE.value) & (draw > 0.98)] = HoldingStatus.CLOSED.value
    holding_status[(row_status == LifecycleStatus.DORMANT.value) & (draw < 0.8)] = HoldingStatus.DORMANT.value
    holding_status[(row_status == LifecycleStatus.DORMANT.value) & (draw >= 0.8)] = HoldingStatus.CLOSED.value
    holding_status[row_status == LifecycleStatus.CHURNED.value] = HoldingStatus.CLOSED.value
    holding_status[(row_status == LifecycleStatus.WRITTEN_OFF.value) & ~is_credit] = HoldingStatus.CLOSED.value
    holding_status[written_off] = HoldingStatus.WRITTEN_OFF.value
    closed = holding_status == HoldingStatus.CLOSED.value
    missed = np.where(closed, 0, missed)

    # Sizes: log-normal per product, scaled by the customer's wealth.
    median = np.array([p.usd_median for p in profile.products])[product]
    sigma = np.array([p.sigma for p in profile.products])[product]
    wealth = people.extra["wealth"][owner_row]
    size_usd = np.exp(np.log(median) + sigma * rng.standard_normal(n)) * np.where(
        insurance | ~(deposit | is_credit), 1.0, wealth**0.6
    )
    rate_lo = np.array([p.rate[0] for p in profile.products])[product]
    rate_hi = np.array([p.rate[1] for p in profile.products])[product]
    rate = rate_lo + rng.random(n) * (rate_hi - rate_lo)
    has_rate = rate_hi > 0

    elapsed = np.maximum(((today - opened).astype(np.int64) / 30.44), 0)
    remaining = np.clip(1 - elapsed / np.maximum(term, 1), 0.03, 1)
    monthly = rate / 1200
    instalment_usd = np.where(
        term > 0,
        size_usd * monthly / np.maximum(1 - (1 + monthly) ** (-np.maximum(term, 1)), 1e-9),
        0,
    )
    instalment_usd = np.where(monthly == 0, size_usd / np.maximum(term, 1), instalment_usd)
    utilisation = np.where(revolving, rng.beta(2, 3, n), 0)
    balance_usd = np.select(
        [deposit, revolving, is_credit],
        [
            size_usd * np.where(holding_status == HoldingStatus.DORMANT.value, 0.05, 1.0),
            size_usd * utilisation,
            size_usd * remaining,
        ],
        0.0,
    )
    balance_usd = np.where(closed, 0, balance_usd)
    due_usd = np.select(
        [revolving, is_credit, insurance], [np.maximum(balance_usd * 0.05, 10), instalment_usd, size_usd], np.nan
    )

    oldest_missed = add_months(last_due, -(np.maximum(missed, 1) - 1))
    days_past_due = np.where(missed > 0, (today - oldest_missed).astype(np.int64), 0)
    next_due = add_months(last_due, 1)
    billed = (is_credit | insurance) & ~closed & ~written_off
    behaviour = np.where(
        row_status[:] == LifecycleStatus.DELINQUENT.value, 2, _pick(rng, np.array([0.75, 0.18, 0.07]), n)
    )

    account = book.next_account + np.arange(n, dtype=np.int64)
    book.next_account += n
    columns = {
        "tenant_id": np.full(n, book.tenant_id, dtype=np.int64),
        "customer_id": people.columns["id"][owner_row],
        "product_id": book.product_ids[product],
        "account_number": np.char.add(profile.account_prefix, np.char.zfill(account.astype(str), 10)).astype(object),
        "currency": np.full(n, profile.currency, dtype=object),
        "opened_on": opened,
        "maturity_date": maturity,
        "balance": _money(book, balance_usd),
        "credit_limit": np.where(revolving, _money(book, size_usd), NULL_FIXED),
        "interest_rate": np.where(has_rate, _to_fixed(rate, 4), NULL_FIXED),
        "status": holding_status,
        "days_past_due": days_past_due,
        "next_due_date": np.where(billed, next_due, NAT_D),
        "next_due_amount": np.where(billed, _money(book, np.nan_to_num(due_usd) * (1 + missed)), NULL_FIXED),
        "updated_at": np.full(n, np.datetime64(book.now.replace(tzinfo=None), "s")),
    }
    extra = {
        "row": owner_row,
        "family": family,
        "credit": is_credit,
        "insurance": insurance,
        "missed": missed,
        "last_due": last_due,
        "behaviour": behaviour,
        "instalment": _money(book, np.nan_to_num(due_usd)),
        "rate": rate,
        "size": size_usd,
        "closed": closed,
        "churned_at": people.columns["churned_at"][owner_row],
        "company": row_company,
    }
    return Table(Holding, columns, extra)


# --- monthly summaries and payments ------------------------------------------------------


_TRANSACTIONS = {
    F.SAVINGS: 10,
    F.CHECKING: 35,
    F.TERM_DEPOSIT: 0,
    F.INVESTMENT: 1,
    F.CREDIT_CARD: 14,
    F.OVERDRAFT: 3,
    F.LOAN: 1,
    F.MORTGAGE: 1,
    F.MICROCREDIT: 1,
    F.COMMERCIAL_LOAN: 1,
    F.LIFE: 1,
    F.VEHICLE: 1,
    F.HEALTH: 1,
    F.UNIVERSAL_LIFE: 1,
    F.RECURRING_PAYMENTS: 4,
    F.CASH_MANAGEMENT: 120,
    F.PAYROLL: 25,
}
_FEE_USD = {
    F.SAVINGS: 0.8,
    F.CHECKING: 6.0,
    F.CREDIT_CARD: 8.0,
    F.OVERDRAFT: 3.0,
    F.CASH_MANAGEMENT: 40.0,
    F.PAYROLL: 20.0,
    F.RECURRING_PAYMENTS: 0.5,
}


def monthly_summaries(book: TenantBook, rng: np.random.Generator, accounts: Table, months: int) -> Table:
    """Up to ``months`` closed months per holding (only months the account was open)."""
    n_accounts = len(accounts)
    today = book.today64
    current = today.astype("datetime64[M]")
    lag = np.tile(np.arange(1, months + 1), n_accounts)
    account = np.repeat(np.arange(n_accounts), months)
    month = (current - lag).astype("datetime64[D]")
    opened = accounts.columns["opened_on"][account].astype("datetime64[M]").astype("datetime64[D]")
    churned = accounts.extra["churned_at"][account]
    keep = (month >= opened) & (np.isnat(churned) | (month <= churned))
    account, month, lag = account[keep], month[keep], lag[keep]
    n = len(account)
    family = accounts.extra["family"][account]
    balance = accounts.columns["balance"][account].astype(float) / 100
    credit = accounts.extra["credit"][account]
    instalment = accounts.extra["instalment"][account].astype(float) / 100
    # Loans were larger before each instalment; deposits drift around today's balance.
    average = np.where(
        credit & ~_family_mask(family, REVOLVING_FAMILIES),
        balance + instalment * 0.6 * lag,
        balance * (1 + rng.normal(0, 0.08, n)),
    )
    closed = accounts.extra["closed"][account]
    average = np.where(
        closed, accounts.extra["size"][account] * book.profile.usd_rate * rng.uniform(0.3, 1, n), average
    )
    average = np.maximum(average, 0)
    insurance = accounts.extra["insurance"][account]
    services = _family_mask(family, SERVICE_FAMILIES)
    average = np.where(insurance | services, 0, average)
    base_tx = np.array([_TRANSACTIONS.get(f, 1) for f in family], dtype=float)
    dormant = accounts.columns["status"][account] == HoldingStatus.DORMANT.value
    transactions = rng.poisson(
        base_tx * np.where(accounts.extra["company"][account], 3, 1) * np.where(dormant, 0.05, 1)
    )
    fee_usd = np.array([_FEE_USD.get(f, 0.0) for f in family]) * rng.uniform(0.8, 1.2, n)
    fees = fee_usd * book.profile.usd_rate
    rate = accounts.extra["rate"][account]
    reference = 9.0 if not book.profile.is_ecuador else 8.0
    deposit = _family_mask(family, DEPOSIT_FAMILIES)
    revenue = (
        np.select(
            [credit, deposit, insurance],
            [average * rate * 0.45 / 1200, average * np.maximum(reference - rate, 0.5) / 1200, instalment * 0.25],
            0.0,
        )
        + fees
    )
    columns = {
        "tenant_id": np.full(n, book.tenant_id, dtype=np.int64),
        "holding_id": accounts.columns["id"][account],
        "customer_id": accounts.columns["customer_id"][account],
        "month": month,
        "average_balance": _round_money(book, average),
        "transactions": transactions.astype(np.int64),
        "fees": _round_money(book, fees),
        "revenue": _round_money(book, revenue),
    }
    return Table(MonthlyAccountSummary, columns)


def _round_money(book: TenantBook, local: np.ndarray) -> np.ndarray:
    if book.profile.cents:
        return _to_fixed(local)
    return np.round(np.asarray(local, dtype=float)).astype(np.int64) * 100


def payments(book: TenantBook, rng: np.random.Generator, accounts: Table, months: int) -> Table:
    """Instalments of credit holdings: the last ``months`` (on time or late), and always
    every unpaid one, so the history alone explains each holding's days past due.

    Unpaid instalments are exactly the ``missed`` most recent ones and every other one is
    paid in full by today, so ``customers.services.holdings_refresh_delinquency`` (which
    applies payments to the oldest instalments first) finds the same days past due.
    """
    credit = accounts.extra["credit"] & ~accounts.extra["closed"]
    missed = accounts.extra["missed"]
    lags_per_account = np.where(credit, np.maximum(months, missed), 0)
    account = np.repeat(np.arange(len(accounts)), lags_per_account)
    starts = np.repeat(np.cumsum(lags_per_account) - lags_per_account, lags_per_account)
    lag = np.arange(len(account)) - starts
    today = book.today64
    due = add_months(accounts.extra["last_due"][account], -lag)
    opened = accounts.columns["opened_on"][account]
    keep = due > opened
    account, due, lag, opened = account[keep], due[keep], lag[keep], opened[keep]
    n = len(account)
    amount_due = accounts.extra["instalment"][account]
    unpaid = lag < missed[account]
    behaviour = accounts.extra["behaviour"][account]
    late = rng.random(n) < np.array([0.05, 0.35, 0.65])[behaviour]
    delay = np.where(late, rng.integers(1, np.array([8, 25, 45])[behaviour] + 1), -rng.integers(0, 6, n))
    paid_on = np.clip(due + delay, opened, today)
    columns = {
        "tenant_id": np.full(n, book.tenant_id, dtype=np.int64),
        "holding_id": accounts.columns["id"][account],
        "customer_id": accounts.columns["customer_id"][account],
        "due_date": due,
        "amount_due": amount_due,
        "paid_on": np.where(unpaid, NAT_D, paid_on),
        "amount_paid": np.where(unpaid, 0, amount_due),
    }
    return Table(Payment, columns)


# --- consents and interactions -----------------------------------------------------------

_CONSENT_CHANNELS = (
    (Channel.EMAIL.value, 0.82),
    (Channel.SMS.value, 0.74),
    (Channel.WHATSAPP.value, 0.86),
    (Channel.PHONE.value, 0.9),
)
_SOURCES, _SOURCES_P = _weights(
    (
        (ConsentSource.BRANCH_FORM.value, 40),
        (ConsentSource.WEB.value, 15),
        (ConsentSource.APP.value, 20),
        (ConsentSource.CALL.value, 10),
        (ConsentSource.CORE_BANKING.value, 15),
    )
)


def consents(book: TenantBook, rng: np.random.Generator, people: Table) -> Table:
    """One recorded permission per customer and contact channel (e-mail, SMS, WhatsApp, phone)."""
    n_people = len(people)
    k = len(_CONSENT_CHANNELS)
    row = np.repeat(np.arange(n_people), k)
    channel = np.tile(np.array([c for c, _p in _CONSENT_CHANNELS], dtype=object), n_people)
    probability = np.tile(np.array([p for _c, p in _CONSENT_CHANNELS]), n_people)
    n = len(row)
    since = people.extra["since"][row]
    days = np.maximum((book.today64 - since).astype(np.int64), 1)
    recorded_day = since + (rng.random(n) * np.minimum(days, 400)).astype(np.int64)
    columns = {
        "tenant_id": np.full(n, book.tenant_id, dtype=np.int64),
        "customer_id": people.columns["id"][row],
        "channel": channel,
        "opted_in": rng.random(n) < probability,
        "recorded_at": _local_hours_to_utc(book, recorded_day, rng.integers(8 * 3600, 18 * 3600, n)),
        "source": _SOURCES[_pick(rng, _SOURCES_P, n)],
    }
    return Table(ChannelConsent, columns)


# (type, channel, direction, weight, outcomes)
_TOUCHPOINTS = (
    (
        InteractionType.CALL,
        Channel.PHONE,
        Direction.OUTBOUND,
        24,
        ("contacted", "no_answer", "interested", "not_interested", "follow_up"),
    ),
    (InteractionType.CALL, Channel.PHONE, Direction.INBOUND, 8, ("resolved", "follow_up")),
    (InteractionType.VISIT, Channel.BRANCH, Direction.INBOUND, 12, ("resolved", "interested", "sold")),
    (InteractionType.MEETING, Channel.BRANCH, Direction.OUTBOUND, 5, ("interested", "sold", "follow_up")),
    (InteractionType.MESSAGE, Channel.WHATSAPP, Direction.OUTBOUND, 12, ("contacted", "interested")),
    (InteractionType.EMAIL, Channel.EMAIL, Direction.OUTBOUND, 8, ("contacted", "resolved")),
    (InteractionType.NOTE, Channel.BRANCH, Direction.INBOUND, 4, ("",)),
    (InteractionType.REQUEST, Channel.APP, Direction.INBOUND, 8, ("resolved", "follow_up")),
    (InteractionType.COMPLAINT, Channel.PHONE, Direction.INBOUND, 3, ("resolved", "follow_up")),
    (
        InteractionType.CAMPAIGN,
        Channel.SMS,
        Direction.OUTBOUND,
        8,
        ("interested", "not_interested", "no_answer", "sold"),
    ),
    (InteractionType.CAMPAIGN, Channel.EMAIL, Direction.OUTBOUND, 6, ("interested", "not_interested", "no_answer")),
)
_COLLECTION_OUTCOMES = np.array(
    [
        InteractionOutcome.PROMISE_TO_PAY.value,
        InteractionOutcome.NO_ANSWER.value,
        InteractionOutcome.CONTACTED.value,
        InteractionOutcome.WRONG_NUMBER.value,
    ],
    dtype=object,
)
_NOTES = {str(k): np.array(v, dtype=object) for k, v in vocab.INTERACTION_NOTES.items()}


def interactions(book: TenantBook, rng: np.random.Generator, people: Table, per_customer: float) -> Table:
    """Timeline touchpoints over the last year; customers in arrears also get collection calls."""
    status = people.columns["lifecycle_status"]
    arrears = np.isin(status, [LifecycleStatus.DELINQUENT.value, LifecycleStatus.WRITTEN_OFF.value])
    counts = rng.poisson(per_customer * np.where(status == LifecycleStatus.PROSPECT.value, 0.5, 1.0))
    collection_counts = np.where(arrears, 1 + rng.poisson(max(per_customer * 0.6, 1.0), len(status)), 0)
    row = np.concatenate(
        [np.repeat(np.arange(len(status)), counts), np.repeat(np.arange(len(status)), collection_counts)]
    )
    is_collection = np.r_[np.zeros(counts.sum(), bool), np.ones(collection_counts.sum(), bool)]
    n = len(row)
    weights = np.array([t[3] for t in _TOUCHPOINTS], dtype=float)
    kind = _pick(rng, weights / weights.sum(), n)
    itype = np.array([t[0].value for t in _TOUCHPOINTS], dtype=object)[kind]
    channel = np.array([t[1].value for t in _TOUCHPOINTS], dtype=object)[kind]
    direction = np.array([t[2].value for t in _TOUCHPOINTS], dtype=object)[kind]
    outcome = np.empty(n, dtype=object)
    for index, touchpoint in enumerate(_TOUCHPOINTS):
        rows = np.flatnonzero(kind == index)
        options = np.array(touchpoint[4], dtype=object)
        outcome[rows] = options[rng.integers(0, len(options), len(rows))]
    itype[is_collection] = InteractionType.COLLECTION.value
    collection_channels = np.array([Channel.PHONE.value, Channel.WHATSAPP.value, Channel.SMS.value], dtype=object)
    channel[is_collection] = collection_channels[_pick(rng, np.array([0.6, 0.3, 0.1]), is_collection.sum())]
    direction[is_collection] = Direction.OUTBOUND.value
    outcome[is_collection] = _COLLECTION_OUTCOMES[_pick(rng, np.array([0.35, 0.35, 0.2, 0.1]), is_collection.sum())]
    notes = np.empty(n, dtype=object)
    for value, options in _NOTES.items():
        rows = np.flatnonzero(itype == value)
        notes[rows] = options[rng.integers(0, len(options), len(rows))]

    since = people.extra["since"][row]
    window = np.minimum(np.maximum((book.today64 - since).astype(np.int64), 1), 365)
    day = book.today64 - (rng.random(n) * window).astype(np.int64)
    when = _local_hours_to_utc(book, day, rng.integers(8 * 3600, 18 * 3600, n))
    owner = people.columns["owner_id"][row]
    user = owner.copy()
    # Unassigned customers are served by whichever advisor picks them up.
    unowned = user == NULL_INT
    if len(book.advisor_ids):
        user[unowned] = book.advisor_ids[rng.integers(0, len(book.advisor_ids), int(unowned.sum()))]
    if len(book.collector_ids):
        user[is_collection] = book.collector_ids[rng.integers(0, len(book.collector_ids), is_collection.sum())]
    automated = (itype == InteractionType.CAMPAIGN.value) & np.isin(channel, [Channel.SMS.value, Channel.EMAIL.value])
    user[automated] = NULL_INT
    columns = {
        "tenant_id": np.full(n, book.tenant_id, dtype=np.int64),
        "customer_id": people.columns["id"][row],
        "channel": channel,
        "direction": direction,
        "interaction_type": itype,
        "outcome": outcome,
        "user_id": user,
        "occurred_at": when,
        "notes": notes,
        "related_kind": np.full(n, "", dtype=object),
        "related_id": np.full(n, NULL_INT, dtype=np.int64),
    }
    return Table(Interaction, columns)
