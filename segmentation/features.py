"""The scoring run's read: one aggregate query per chunk of customers into pandas.

``read_features`` returns one row per customer of the current tenant with its profile,
the window's monthly balances and transactions pivoted into columns (``bal_0`` oldest
.. ``bal_{w-1}`` newest, same for ``tx_``), revenue and fees summed over the window, open
holdings (how many, of how many product families, and the balance by category), interactions of the last year (and how many on digital channels)
and the mean survey satisfaction. Everything is aggregated by the database; on
PostgreSQL the rows stream out with ``COPY (query) TO STDOUT`` into ``pandas.read_csv``.
The query is chunked by ranges of customer id so the database never materialises more
than a chunk of aggregates at once.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import numpy as np
import pandas as pd
from django.db import connection

from segmentation.scoring import DIGITAL_CHANNELS
from vector_crm.db import apply_session_settings
from vector_crm.tenancy import require_tenant_id

OPEN_HOLDING_STATUSES = ("active", "dormant", "blocked")
DEFAULT_CHUNK = 250_000
TEXT_COLUMNS = ("kind", "income_band", "economic_sector", "civil_status")


def window_months(as_of: dt.date, months: int) -> list[dt.date]:
    """The ``months`` complete calendar months before ``as_of``'s month, oldest first."""
    year, month = as_of.year, as_of.month
    result = []
    for _ in range(months):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        result.append(dt.date(year, month, 1))
    return list(reversed(result))


def _float(column: str) -> str:
    # Aggregating float8 instead of numeric is several times cheaper on PostgreSQL; the
    # sums of cents stay exact to the cent at these magnitudes and are rounded after.
    return f"CAST({column} AS DOUBLE PRECISION)"


def _sql(months: list[dt.date]) -> tuple[str, list]:
    """The aggregate query for one id range (params: tenant ids, dates, range bounds)."""
    pivots = []
    params: list = []
    for i, month in enumerate(months):
        # FILTER, not SUM(CASE ...): rows of other months skip the transition function (a
        # tenth of the aggregate's time); a month without rows sums to NULL, read as 0 below.
        pivots.append(f"SUM({_float('s.average_balance')}) FILTER (WHERE s.month = %s) AS bal_{i}")
        pivots.append(f"SUM(s.transactions) FILTER (WHERE s.month = %s) AS tx_{i}")
        params += [month, month]
    digital = ", ".join(f"'{c}'" for c in DIGITAL_CHANNELS)
    open_statuses = ", ".join(f"'{s}'" for s in OPEN_HOLDING_STATUSES)
    pivot_columns = ", ".join(
        f"COALESCE(s.bal_{i}, 0) AS bal_{i}, COALESCE(s.tx_{i}, 0) AS tx_{i}" for i in range(len(months))
    )
    sql = f"""
        SELECT c.id AS customer_id, c.kind, c.birth_date, c.income_band, c.economic_sector, c.employees,
               c.stratum, c.civil_status, c.children, {_float("c.equity")} AS equity,
               COALESCE(s.revenue, 0) AS revenue, COALESCE(s.fees, 0) AS fees,
               COALESCE(s.balance_sum, 0) AS balance_sum, {pivot_columns},
               COALESCE(h.products, 0) AS products, COALESCE(h.families, 0) AS families,
               COALESCE(h.asset_balance, 0) AS asset_balance,
               COALESCE(h.liability_balance, 0) AS liability_balance,
               COALESCE(i.interactions, 0) AS interactions, COALESCE(i.digital, 0) AS digital_interactions,
               v.satisfaction
        FROM customers_customer c
        LEFT JOIN (
            SELECT s.customer_id, SUM({_float("s.revenue")}) AS revenue, SUM({_float("s.fees")}) AS fees,
                   SUM({_float("s.average_balance")}) AS balance_sum, {", ".join(pivots)}
            FROM customers_monthlyaccountsummary s
            WHERE s.tenant_id = %s AND s.month >= %s AND s.month <= %s AND s.customer_id BETWEEN %s AND %s
            GROUP BY s.customer_id
        ) s ON s.customer_id = c.id
        LEFT JOIN (
            SELECT h.customer_id, COUNT(*) AS products, COUNT(DISTINCT p.family) AS families,
                   SUM(CASE WHEN p.category = 'asset' THEN {_float("h.balance")} ELSE 0 END) AS asset_balance,
                   SUM(CASE WHEN p.category = 'liability' THEN {_float("h.balance")} ELSE 0 END) AS liability_balance
            FROM customers_holding h JOIN customers_product p ON p.id = h.product_id
            WHERE h.tenant_id = %s AND h.status IN ({open_statuses}) AND h.customer_id BETWEEN %s AND %s
            GROUP BY h.customer_id
        ) h ON h.customer_id = c.id
        LEFT JOIN (
            SELECT i.customer_id, COUNT(*) AS interactions,
                   SUM(CASE WHEN i.channel IN ({digital}) THEN 1 ELSE 0 END) AS digital
            FROM customers_interaction i
            WHERE i.tenant_id = %s AND i.occurred_at >= %s AND i.customer_id BETWEEN %s AND %s
            GROUP BY i.customer_id
        ) i ON i.customer_id = c.id
        LEFT JOIN (
            SELECT r.customer_id, AVG(r.satisfaction * 1.0) AS satisfaction
            FROM segmentation_surveyresponse r
            WHERE r.tenant_id = %s AND r.responded_on >= %s AND r.customer_id BETWEEN %s AND %s
            GROUP BY r.customer_id
        ) v ON v.customer_id = c.id
        WHERE c.tenant_id = %s AND c.id BETWEEN %s AND %s
        ORDER BY c.id
    """  # noqa: S608 - only generated column names and fixed vocabularies are interpolated
    return sql, params


def _params(pivot_params: list, tenant_id: int, months: list[dt.date], low: int, high: int) -> list:
    start, end = months[0], months[-1]
    since = dt.datetime.combine(start, dt.time(), tzinfo=dt.UTC)
    return [
        *pivot_params,
        tenant_id, start, end, low, high,
        tenant_id, low, high,
        tenant_id, since, low, high,
        tenant_id, start, low, high,
        tenant_id, low, high,
    ]  # fmt: skip


def id_ranges(chunk: int) -> tuple[int, list[tuple[int, int]]]:
    """(customer count, inclusive id ranges of about ``chunk`` customers) of the tenant."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*), MIN(id), MAX(id) FROM customers_customer WHERE tenant_id = %s", [require_tenant_id()]
        )
        count, low, high = cursor.fetchone()
    if not count:
        return 0, []
    # Ids are dense within a tenant in practice; a sparse tenant only gets lighter chunks.
    span = max(1, round((high - low + 1) * chunk / count))
    return count, [(start, min(high, start + span - 1)) for start in range(low, high + 1, span)]


def _read_chunk(sql: str, params: list) -> pd.DataFrame:
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        buffer = io.BytesIO()
        with connection.connection.cursor() as cursor:
            apply_session_settings(cursor, connection)
            # JIT compilation of this wide aggregate costs more than it saves (half the
            # chunk's time at 250k customers), and on freshly loaded tables without
            # statistics the planner may pick nested loops that re-aggregate per customer;
            # this bulk read always wants hash/merge joins. For these statements only.
            cursor.execute("SET jit = off; SET enable_nestloop = off")
            try:
                query = cursor.mogrify(sql, params).decode()
                cursor.copy_expert(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)", buffer)
            finally:
                cursor.execute("RESET jit; RESET enable_nestloop")
        buffer.seek(0)
        return pd.read_csv(buffer, dtype={c: str for c in TEXT_COLUMNS})
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        columns = [c[0] for c in cursor.description]
        return pd.DataFrame.from_records(cursor.fetchall(), columns=columns)


def ages(birth_dates: pd.Series, as_of: dt.date) -> pd.Series:
    """Whole years between each birth date and ``as_of`` (NaN where unknown)."""
    born = pd.to_datetime(birth_dates, errors="coerce")
    years = as_of.year - born.dt.year
    before_birthday = (born.dt.month * 100 + born.dt.day) > (as_of.month * 100 + as_of.day)
    return (years - before_birthday.astype(float)).where(born.notna())


def read_features(
    *, as_of: dt.date, months: int, chunk: int = DEFAULT_CHUNK, progress: Callable[[int], None] | None = None
) -> pd.DataFrame:
    """One row per customer of the current tenant (see the module docstring)."""
    window = window_months(as_of, months)
    sql, pivot_params = _sql(window)
    tenant_id = require_tenant_id()
    _count, ranges = id_ranges(chunk)
    frames = []
    for low, high in ranges:
        frames.append(_read_chunk(sql, _params(pivot_params, tenant_id, window, low, high)))
        if progress:
            progress(sum(len(f) for f in frames))
    if not frames:
        return _empty_frame(len(window))
    frame = pd.concat(frames, ignore_index=True)
    frame["age"] = ages(frame.pop("birth_date"), as_of)
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].fillna("").astype(str)
    numeric = [c for c in frame.columns if c not in TEXT_COLUMNS]
    frame[numeric] = frame[numeric].apply(pd.to_numeric, errors="coerce")
    return frame


def _empty_frame(months: int) -> pd.DataFrame:
    columns = ["customer_id", "kind", "age", "income_band", "economic_sector", "employees", "revenue", "fees"]
    columns += ["stratum", "civil_status", "children", "equity", "families"]
    columns += ["balance_sum", *(f"{p}_{i}" for i in range(months) for p in ("bal", "tx"))]
    columns += ["products", "asset_balance", "liability_balance", "interactions", "digital_interactions"]
    columns += ["satisfaction"]
    return pd.DataFrame({c: np.zeros(0) for c in columns})
