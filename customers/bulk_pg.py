"""PostgreSQL fast path of the bulk upserts: COPY the batch into a temporary stage table
(the columns the records name; the others are one value for the batch, selected as
parameters), then a read-only probe per staged row drops the rows identical to their
stored twin and finds the changed ones. Changed rows go through ``INSERT ... SELECT ... ON
CONFLICT (key) DO UPDATE ... WHERE (row) IS DISTINCT FROM (new row)``, new keys through a
plain ``INSERT`` (no speculative insertion), so identical rows stay untouched (no dead
tuple, no ``updated_at`` bump). Each returns ``(created, ...)`` per written row; whatever
is not returned was unchanged. A caller that expects a batch of new keys only (the file
import's first load) can skip the probe: ``insert_all`` writes the whole batch with one
plain ``INSERT``, or nothing when one of its keys is already stored.

Row-level security: ``COPY FROM`` into a table under RLS is refused, so the stage is a
temporary table (owned by the app role, not under RLS) and the ``INSERT ... SELECT`` goes
through the policy's WITH CHECK. The raw psycopg cursor bypasses Django's execute-wrapper,
so the caller sets ``app.tenant_id`` on it first (``apply_session_settings``, or
``session_settings`` as ``Stage.load``'s prelude).
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2.errors
from django.db import connection, models

from vector_crm.imports.pieces import pieces

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_SPECIAL = re.compile(r"[\\\t\n\r]")
INDEX_COLUMN = "bulk_index"
_SAVEPOINT = "bulk_stage_insert"


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
        if not any(_SPECIAL.search("".join(part)) for part in pieces(values)):
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
    rows = list(zip(*rendered, strict=True))
    return "".join("\n".join(map("\t".join, part)) + "\n" for part in pieces(rows))


class Constant:
    """A column whose every row has ``value`` (a default the records do not name)."""

    def __init__(self, value: Any):
        self.value = value


@dataclass(frozen=True)
class StageBatch:
    """Rows ready for ``Stage.load``: the copied columns' COPY text (encoded) and the
    constants."""

    count: int
    constants: dict[str, Any]
    copied: list[str]  # after the record index
    body: bytes


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
        self.fields = columns_of(model)
        self.columns = [f.column for f in self.fields]
        self.constants: dict[str, Any] = {}  # column -> the value every row of the loaded batch has
        self._types = {f.column: f.cast_db_type(connection) for f in self.fields}
        quote = connection.ops.quote_name
        self.target = quote(model._meta.db_table)
        self.name = quote(f"bulk_stage_{model._meta.db_table}")

    def batch(self, columns: Sequence[Sequence[Any] | Constant], count: int) -> StageBatch:
        """``count`` rows given per column (the record index first, then ``self.columns``)
        as the COPY that ``load`` sends. No database work, so a caller can build the next
        batch on its own thread while another thread writes this one.

        A ``Constant`` column is not copied: the statements below select its value as a
        parameter (a feed names a third of the columns; the rest would be most of the
        COPY's text, parsed for nothing). The tenant is always copied: the probes join on
        it, and as a parameter the planner would plan with the statistics of that one value
        (none for a new tenant), then probe the unique indexes by the tenant alone,
        scanning all its rows per staged row."""
        index, *values = columns
        constants = {
            c: v.value
            for c, v in zip(self.columns, values, strict=True)
            if isinstance(v, Constant) and c != "tenant_id"
        }
        copied = [(c, v) for c, v in zip(self.columns, values, strict=True) if c not in constants]
        return StageBatch(
            count=count,
            constants=constants,
            copied=[c for c, _v in copied],
            body=copy_text([index, *(v for _c, v in copied)], count).encode(),
        )

    def load(self, cursor, batch: StageBatch, *, prelude: tuple[str, list] | None = None) -> None:
        """Empty the stage and COPY ``batch`` into it; ``prelude`` (SQL and parameters)
        runs first, in the same round trip as the stage's set-up."""
        quote = connection.ops.quote_name
        sql, params = prelude or ("", [])
        cursor.execute(
            # Dropped at commit: never outlives the transaction (nor a migration of the model).
            f"{sql + '; ' if sql else ''}"  # noqa: S608 - quoted identifiers
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {self.name} ON COMMIT DROP AS "
            f"SELECT 0::integer AS {INDEX_COLUMN}, {self._column_list()} FROM {self.target} WITH NO DATA; "
            f"TRUNCATE {self.name}",
            params,
        )
        self.constants = batch.constants
        names = ", ".join(quote(c) for c in batch.copied)
        # Encoded beforehand and sent in one read: psycopg2 takes the interpreter lock for
        # each read, and a writer thread beside a busy one waits for it every time.
        cursor.copy_expert(
            f"COPY {self.name} ({INDEX_COLUMN}, {names}) FROM STDIN",
            io.BytesIO(batch.body),
            size=max(len(batch.body), 1 << 16),
        )

    def probe(self, cursor, *, conflict: Sequence[str], conflict_where: str = "", compare: Sequence[str]) -> list[int]:
        """Delete the staged rows whose stored twin has the same ``compare`` values and
        return the record indexes of those whose twin differs; the staged rows left
        without a twin are new keys.

        One index probe per staged row, whatever the planner's statistics say: the LATERAL
        subquery with ``LIMIT 1`` cannot be turned into a join that scans the tenant's rows
        (a freshly loaded table has no statistics, and such a plan read every row of the
        tenant for each batch)."""
        quote = connection.ops.quote_name
        params: list[Any] = []
        same = "true"
        if compare:
            old_values = ", ".join(f"t.{quote(c)}" for c in compare)
            new_values = ", ".join(self.value(c, params) for c in compare)
            same = f"ROW({old_values}) IS NOT DISTINCT FROM ROW({new_values})"
        match = [f"t.{quote(c)} = {self.value(c, params)}" for c in conflict]
        if conflict_where:
            match.append(f"t.{conflict_where}")
        cursor.execute(
            f"WITH twin AS MATERIALIZED (SELECT s.{INDEX_COLUMN}, found.same FROM {self.name} s "  # noqa: S608
            f"CROSS JOIN LATERAL (SELECT {same} AS same FROM {self.target} t WHERE {' AND '.join(match)} LIMIT 1) found), "
            f"gone AS (DELETE FROM {self.name} WHERE {INDEX_COLUMN} IN (SELECT {INDEX_COLUMN} FROM twin WHERE same)) "
            f"SELECT {INDEX_COLUMN} FROM twin WHERE NOT same",
            params,
        )
        return [index for (index,) in cursor.fetchall()]

    def upsert(
        self,
        cursor,
        *,
        conflict: Sequence[str],
        conflict_where: str = "",  # a partial unique index's predicate: "<column> ...", unqualified
        compare: Sequence[str],
        touch: str | None = None,
        returning: Sequence[str] = (),
        then: str = "",
    ) -> list[tuple]:
        """Insert new keys, update rows whose ``compare`` columns differ; returns
        ``(created, *returning)`` for each written row. ``then`` (SQL without parameters)
        runs after the writes, in the same round trip as the last statement.

        ``probe`` first drops the identical rows (``ON CONFLICT DO UPDATE`` locks every
        conflicting row even when its WHERE is false, which would cost a re-sent feed nearly
        as much as an update) and finds the changed ones. Those go through ``INSERT ... ON
        CONFLICT DO UPDATE ... WHERE (row) IS DISTINCT FROM (new row)``, whose WHERE still
        guards against a row changed in between; the new keys through a plain ``INSERT``,
        which skips the speculative insertion of ``ON CONFLICT`` (about a third of the cost
        of a new row). A key a concurrent transaction inserted after the probe makes that
        ``INSERT`` fail: it is rolled back to its savepoint and those rows take the
        ``ON CONFLICT`` path too, which answers as if the probe had seen them.

        Statements share round trips where they can: a thread that waits for the
        interpreter lock after each one (the import's writer) pays a switch per trip."""
        changed = self.probe(cursor, conflict=conflict, conflict_where=conflict_where, compare=compare)
        written = self._upsert(cursor, changed, True, conflict, conflict_where, compare, touch, returning)
        new = self._insert_unless_stored(cursor, changed, returning)
        if new is None:
            written += self._upsert(cursor, changed, False, conflict, conflict_where, compare, touch, returning)
        else:
            written += new
        self._release(cursor, then)
        return written

    def insert_all(self, cursor, *, returning: Sequence[str] = (), then: str = "") -> list[tuple] | None:
        """Every staged row through one plain ``INSERT``, as if every key were new (a first
        load: the unique indexes are the probe, and nothing is looked up twice); returns
        ``(True, *returning)`` per row, or ``None``, having written nothing, as soon as one
        row's key (or other unique value) is already stored. ``then`` as in ``upsert``.

        The rows before the one that is stored are inserted and rolled back: a caller tries
        this while the batches it writes are all new, not once they are mixed."""
        written = self._insert_unless_stored(cursor, [], returning)
        self._release(cursor, then if written is not None else "")
        return written

    def _insert_unless_stored(self, cursor, changed: list[int], returning: Sequence[str]) -> list[tuple] | None:
        """The staged rows not in ``changed`` through a plain ``INSERT`` under the savepoint
        (left open for the caller to ``_release``), returning ``(True, *returning)`` per row;
        ``None`` when a unique value of theirs is stored, rolled back to the savepoint."""
        quote = connection.ops.quote_name
        rows, params = self._rows(changed, among=False, ordered=False)
        extra = "".join(f", t.{quote(c)}" for c in returning)
        result = f" RETURNING true{extra}" if returning else ""  # else the count is enough
        try:
            cursor.execute(
                f"SAVEPOINT {_SAVEPOINT}; INSERT INTO {self.target} AS t ({self._column_list()}) {rows}{result}", params
            )
        except psycopg2.errors.UniqueViolation:
            cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}")
            return None
        return cursor.fetchall() if returning else [(True,)] * cursor.rowcount

    @staticmethod
    def _release(cursor, then: str) -> None:
        """Release the insert's savepoint, then run ``then`` in the same round trip."""
        cursor.execute(f"RELEASE SAVEPOINT {_SAVEPOINT}{'; ' + then if then else ''}")

    def _rows(self, changed: list[int], among: bool, ordered: bool = True) -> tuple[str, list]:
        """The stage's rows in ``changed`` (``among``) or not in it, every column of the
        model (the constants as typed parameters); with its parameters. In record order:
        ``ORDER BY`` when ``ordered``, else the order a scan of the stage gives, which is
        the COPY's (a temporary table is read from its first block, and the probes only
        delete from it), without the sort (2 % of a new row's cost)."""
        params: list[Any] = []
        select = [self.value(column, params, alias="") for column in self.columns]
        if not changed:
            where = "WHERE false" if among else ""
        else:
            where = f"WHERE {INDEX_COLUMN} = ANY(%s)" if among else f"WHERE NOT ({INDEX_COLUMN} = ANY(%s))"
            params.append(changed)
        order = f" ORDER BY {INDEX_COLUMN}" if ordered else ""
        return f"SELECT {', '.join(select)} FROM {self.name} {where}{order}", params  # noqa: S608

    def value(self, column: str, params: list, alias: str = "s") -> str:
        """SQL for a staged row's ``column``: the stage's column (qualified by ``alias``),
        or, for a constant, a typed parameter appended to ``params``."""
        if column in self.constants:
            params.append(self.constants[column])
            return f"%s::{self._types[column]}"
        quoted = connection.ops.quote_name(column)
        return f"{alias}.{quoted}" if alias else quoted

    def _column_list(self) -> str:
        quote = connection.ops.quote_name
        return ", ".join(quote(c) for c in self.columns)

    def _upsert(self, cursor, changed, among, conflict, conflict_where, compare, touch, returning) -> list[tuple]:
        """``INSERT ... ON CONFLICT DO UPDATE`` of the staged rows in (or not in) ``changed``."""
        if among and not changed:
            return []
        quote = connection.ops.quote_name
        rows, params = self._rows(changed, among=among)
        assignments = [*compare, *([touch] if touch else [])]
        sets = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in assignments)
        old = ", ".join(f"t.{quote(c)}" for c in compare)
        new = ", ".join(f"EXCLUDED.{quote(c)}" for c in compare)
        extra = "".join(f", t.{quote(c)}" for c in returning)
        where = f" WHERE {conflict_where}" if conflict_where else ""
        action = f"DO UPDATE SET {sets} WHERE ROW({old}) IS DISTINCT FROM ROW({new})" if compare else "DO NOTHING"
        cursor.execute(
            f"INSERT INTO {self.target} AS t ({self._column_list()}) {rows} "  # noqa: S608 - quoted identifiers
            f"ON CONFLICT ({', '.join(quote(c) for c in conflict)}){where} {action} "
            f"RETURNING (t.xmax = 0){extra}",
            params,
        )
        return cursor.fetchall()
