"""PostgreSQL fast path of the bulk upserts: COPY the batch into a temporary stage table,
then one ``INSERT ... SELECT ... ON CONFLICT (key) DO UPDATE ... WHERE (row) IS DISTINCT
FROM (new row)`` that creates new keys, updates changed rows and leaves identical rows
untouched (no dead tuple, no ``updated_at`` bump). ``RETURNING (xmax = 0)`` tells created
from updated rows; whatever is not returned was unchanged.

Row-level security: ``COPY FROM`` into a table under RLS is refused, so the stage is a
temporary table (owned by the app role, not under RLS) and the ``INSERT ... SELECT`` goes
through the policy's WITH CHECK. The raw psycopg cursor bypasses Django's execute-wrapper,
so ``apply_session_settings`` sets ``app.tenant_id`` on it first.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")
INDEX_COLUMN = "bulk_index"


def _copy_value(value: Any) -> str:
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_ESCAPES)
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).translate(_ESCAPES)


def _column_text(values: list[Any]) -> list[str]:
    """One column in COPY's text format; plain strings without special characters (the
    common case) are taken as they are."""
    types = set(map(type, values))  # one C-level pass instead of a generator per check
    if types == {int}:
        return list(map(str, values))
    if types == {str}:
        if not _SPECIAL.search("".join(values)):
            return values
        return [v.translate(_ESCAPES) for v in values]
    return [_copy_value(v) for v in values]


def copy_text(columns: Sequence[Sequence[Any] | Any], count: int) -> str:
    """``count`` rows in COPY's text format from per-column values; a column given as a
    ``Constant`` has one value for every row."""
    rendered = [
        [_copy_value(column.value)] * count if isinstance(column, Constant) else _column_text(list(column))
        for column in columns
    ]
    if not count:
        return ""
    return "\n".join(map("\t".join, zip(*rendered, strict=True))) + "\n"


class Constant:
    """A column whose every row has ``value`` (a default the records do not name)."""

    def __init__(self, value: Any):
        self.value = value


def columns_of(model: type[models.Model]) -> list[models.Field]:
    """Every concrete column but the primary key."""
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def default_row(model: type[models.Model], *, tenant_id: int, now: dt.datetime) -> dict[str, Any]:
    """The value each column gets when a record does not name it (``attname`` keys)."""
    values: dict[str, Any] = {}
    for field in columns_of(model):
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[field.attname] = now
        elif field.has_default():
            values[field.attname] = field.get_default()
        elif field.null:
            values[field.attname] = None
        elif field.attname == "tenant_id":
            values[field.attname] = tenant_id
        elif field.blank and isinstance(field, models.CharField | models.TextField):
            values[field.attname] = ""
        else:
            values[field.attname] = None  # required: every record names it
    values["tenant_id"] = tenant_id
    return values


class Stage:
    """A temporary table shaped like ``model`` (plus the record index), for one transaction
    (several batches of one transaction reuse it)."""

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.columns = [f.column for f in columns_of(model)]
        quote = connection.ops.quote_name
        self.target = quote(model._meta.db_table)
        self.name = quote(f"bulk_stage_{model._meta.db_table}")

    def load(self, cursor, columns: Sequence[Sequence[Any] | Constant], count: int) -> None:
        """Empty the stage and COPY ``count`` rows into it, given per column: the record
        index first, then ``self.columns``."""
        quote = connection.ops.quote_name
        column_list = ", ".join(quote(c) for c in self.columns)
        cursor.execute(
            # Dropped at commit: never outlives the transaction (nor a migration of the model).
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.name} ON COMMIT DROP AS "  # noqa: S608 - quoted identifiers
            f"SELECT 0::integer AS {INDEX_COLUMN}, {column_list} FROM {self.target} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {self.name}")
        body = copy_text(columns, count)
        cursor.copy_expert(
            f"COPY {self.name} ({INDEX_COLUMN}, {column_list}) FROM STDIN", io.StringIO(body), size=1 << 20
        )

    def drop_unchanged(
        self, cursor, *, conflict: Sequence[str], conflict_where: str = "", compare: Sequence[str]
    ) -> None:
        """Delete the staged rows whose stored twin has the same ``compare`` values.

        One index probe per staged row, whatever the planner's statistics say: the LATERAL
        subquery with ``LIMIT 1`` cannot be turned into a join that scans the tenant's rows
        (a freshly loaded table has no statistics, and such a plan read every row of the
        tenant for each batch)."""
        quote = connection.ops.quote_name
        match = [f"t.{quote(c)} = s.{quote(c)}" for c in conflict]
        if conflict_where:
            match.append(f"t.{conflict_where}")
        if compare:
            old_values = ", ".join(f"t.{quote(c)}" for c in compare)
            new_values = ", ".join(f"s.{quote(c)}" for c in compare)
            match.append(f"ROW({old_values}) IS NOT DISTINCT FROM ROW({new_values})")
        cursor.execute(
            f"DELETE FROM {self.name} WHERE {INDEX_COLUMN} IN (SELECT s.{INDEX_COLUMN} FROM {self.name} s "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT 1 FROM {self.target} t WHERE {' AND '.join(match)} LIMIT 1) same)"
        )

    def upsert(
        self,
        cursor,
        *,
        conflict: Sequence[str],
        conflict_where: str = "",  # a partial unique index's predicate: "<column> ...", unqualified
        compare: Sequence[str],
        touch: str | None = None,
        returning: Sequence[str] = (),
    ) -> list[tuple]:
        """Insert new keys, update rows whose ``compare`` columns differ; returns
        ``(created, *returning)`` for each written row.

        Identical rows are first dropped from the stage by a read-only join: ``ON CONFLICT
        DO UPDATE`` locks every conflicting row even when its WHERE is false, which would
        cost a re-sent feed nearly as much as an update. The upsert's own WHERE still
        guards against a row changed in between."""
        quote = connection.ops.quote_name
        self.drop_unchanged(cursor, conflict=conflict, conflict_where=conflict_where, compare=compare)
        column_list = ", ".join(quote(c) for c in self.columns)
        assignments = [*compare, *([touch] if touch else [])]
        sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in assignments)
        old = ", ".join(f"t.{quote(c)}" for c in compare)
        new = ", ".join(f"EXCLUDED.{quote(c)}" for c in compare)
        extra = "".join(f", t.{quote(c)}" for c in returning)
        where = f" WHERE {conflict_where}" if conflict_where else ""
        action = f"DO UPDATE SET {sets} WHERE ROW({old}) IS DISTINCT FROM ROW({new})" if compare else "DO NOTHING"
        sql = (
            f"INSERT INTO {self.target} AS t ({column_list}) "  # noqa: S608 - quoted identifiers
            f"SELECT {column_list} FROM {self.name} ORDER BY {INDEX_COLUMN} "
            f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}){where} {action} "
            f"RETURNING (t.xmax = 0){extra}"
        )
        cursor.execute(sql)
        return cursor.fetchall()
