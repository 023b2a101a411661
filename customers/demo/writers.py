"""Writers that put a generated ``Table`` into the database and fill in its ``id`` column.

* ``CopyWriter`` (PostgreSQL): reserves ids from the table's sequence, renders the rows in
  COPY text format and streams them with ``copy_expert``. PostgreSQL refuses ``COPY FROM``
  into a table whose row-level security applies to the role ("COPY FROM not supported
  with row-level security"), even when every row would pass. So, unless the role is
  exempt from RLS (superuser or BYPASSRLS), the rows are copied into a temporary table
  the app role owns and moved with ``INSERT ... SELECT``, which the policy's WITH CHECK
  does inspect. The raw cursor does not go through the RLS execute-wrapper, so
  ``apply_session_settings`` sets ``app.tenant_id`` first.
* ``OrmWriter`` (any database): ``bulk_create`` in batches, so it works on SQLite too.

Neither sends model signals, so no audit entries are written (by design, see DESIGN.md:
bulk loads are audited as a job, not per row). Both must run inside ``tenant_context``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import time
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import numpy as np
from django.db import connections, models

from customers.demo.generate import NULL_FIXED, NULL_INT, Table
from vector_crm.db import apply_session_settings

_NULL = "\\N"
_STRING = np.dtypes.StringDType()


def _columns_for(table: Table, *, include_id: bool = True) -> list[tuple[models.Field, np.ndarray]]:
    """Every concrete field with its values; fields the generator does not know about (a
    column added to the model later) get their default, or NULL when they allow it."""
    n = len(table)
    result = []
    for model_field in table.model._meta.concrete_fields:
        if model_field.primary_key and not include_id:
            continue
        values = table.columns.get(model_field.attname)
        if values is None:
            if model_field.has_default():
                values = np.full(n, model_field.get_default(), dtype=object)
            elif model_field.null:
                values = np.full(n, None, dtype=object)
            else:
                raise ValueError(f"{table.model.__name__}.{model_field.name} has no generated values and no default")
        result.append((model_field, values))
    return result


# --- COPY text format ---------------------------------------------------------------------


def _fixed_text(values: np.ndarray, places: int) -> np.ndarray:
    magnitude = np.abs(values)
    scale = 10**places
    whole = (magnitude // scale).astype(_STRING)
    text = np.strings.add(np.where(values < 0, "-", "").astype(_STRING), whole)
    if places:
        fraction = np.strings.zfill((magnitude % scale).astype(_STRING), places)
        text = np.strings.add(np.strings.add(text, "."), fraction)
    return text


def column_text(model_field: models.Field, values: np.ndarray) -> list[str]:
    """One column rendered for COPY's text format (``\\N`` is NULL)."""
    kind = values.dtype.kind
    if kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        null = np.isnat(values)
        if unit == "D":
            text = np.datetime_as_string(values).astype(_STRING)
        else:
            text = np.strings.add(np.datetime_as_string(values, unit="s").astype(_STRING), "+00:00")
    elif kind == "b":
        null = np.zeros(len(values), dtype=bool)
        text = np.where(values, "t", "f").astype(_STRING)
    elif kind in "iu":
        if isinstance(model_field, models.DecimalField):
            null = values == NULL_FIXED
            text = _fixed_text(np.where(null, 0, values), model_field.decimal_places)
        else:
            null = (values == NULL_INT) if model_field.null else np.zeros(len(values), dtype=bool)
            text = values.astype(_STRING)
    elif kind == "f":
        null = np.isnan(values)
        text = np.where(null, 0, values).astype(_STRING)
    else:
        null = np.array([v is None for v in values], dtype=bool) if model_field.null else None
        rendered = [v if isinstance(v, str) else str(v) for v in values.tolist()]
        if null is not None and null.any():
            rendered = [_NULL if is_null else v for v, is_null in zip(rendered, null.tolist(), strict=True)]
        return rendered
    if null.any():
        text = np.where(null, _NULL, text)
    return text.tolist()


def copy_text(table: Table, *, include_id: bool = True) -> tuple[list[str], str]:
    """(column names, the rows as COPY text); without ``include_id`` the primary key is
    left to the column's default."""
    columns = _columns_for(table, include_id=include_id)
    rendered = [column_text(model_field, values) for model_field, values in columns]
    body = "\n".join(map("\t".join, zip(*rendered, strict=True)))
    return [model_field.column for model_field, _values in columns], body + "\n" if body else ""


class CopyWriter:
    """COPY into PostgreSQL as the current connection's role, in the current tenant."""

    def __init__(self, using: str = "default") -> None:
        self.connection = connections[using]
        if self.connection.vendor != "postgresql":
            raise ValueError("CopyWriter needs PostgreSQL")
        self._subject_to_rls: bool | None = None
        self.seconds: Counter = Counter()  # render / copy / insert, for the report

    def reserve_ids(self, model: type[models.Model], count: int) -> np.ndarray:
        """``count`` fresh primary keys from the table's own sequence (no gaps assumed)."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [model._meta.db_table, count],
            )
            return np.fromiter((row[0] for row in cursor.fetchall()), dtype=np.int64, count=count)

    def subject_to_rls(self) -> bool:
        """False for a superuser or BYPASSRLS role (the owner in a dev set-up), which may COPY directly."""
        if self._subject_to_rls is None:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
            self._subject_to_rls = not (row and row[0])
        return self._subject_to_rls

    def insert(self, table: Table, *, returning_ids: bool = True) -> None:
        """Write ``table``; with ``returning_ids`` (rows other tables will reference) its
        ``id`` column is filled from the sequence first, else PostgreSQL numbers the rows
        itself (no round trip for millions of leaf rows such as monthly summaries)."""
        if not len(table):
            table.columns["id"] = np.zeros(0, dtype=np.int64)
            return
        started = time.perf_counter()
        if returning_ids:
            table.columns["id"] = self.reserve_ids(table.model, len(table))
        else:
            table.columns.pop("id", None)
        names, body = copy_text(table, include_id=returning_ids)
        quote = self.connection.ops.quote_name
        target = quote(table.model._meta.db_table)
        column_list = ", ".join(quote(n) for n in names)
        staged = self.subject_to_rls()
        self.connection.ensure_connection()
        copied = time.perf_counter()
        self.seconds["render"] += copied - started
        with self.connection.connection.cursor() as cursor:
            apply_session_settings(cursor, self.connection)
            if not staged:
                cursor.copy_expert(f"COPY {target} ({column_list}) FROM STDIN", io.StringIO(body), size=1 << 20)
                self.seconds["copy"] += time.perf_counter() - copied
                return
            stage = quote(f"seed_stage_{table.model._meta.db_table}{'' if returning_ids else '_noid'}")
            # Temporary and owned by the app role: no RLS, no indexes, no WAL.
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS SELECT {column_list} FROM {target} WITH NO DATA"  # noqa: S608
            )
            cursor.copy_expert(f"COPY {stage} ({column_list}) FROM STDIN", io.StringIO(body), size=1 << 20)
            inserted = time.perf_counter()
            self.seconds["copy"] += inserted - copied
            cursor.execute(f"INSERT INTO {target} ({column_list}) SELECT {column_list} FROM {stage}")  # noqa: S608
            self.seconds["insert"] += time.perf_counter() - inserted
            cursor.execute(f"TRUNCATE {stage}")


# --- bulk-load window (PostgreSQL, table owner) ---------------------------------------------


@contextlib.contextmanager
def secondary_indexes_deferred(model_list, seconds: Counter, using: str = "default") -> Iterator[None]:
    """Drop the secondary indexes, unique and foreign-key constraints of ``model_list``'s
    tables for the block and rebuild them afterwards (one sorted build per index and one
    join per foreign key instead of millions of per-row index insertions and deferred
    trigger events at commit). The primary keys and CHECK constraints stay.

    Must run inside a transaction as the tables' owner: the drops, the load and the
    rebuild commit together or not at all (a failed rebuild, such as a duplicate under a
    unique constraint or a dangling foreign key, rolls the whole load back), and the
    tables are locked against other sessions until then. ``seconds`` gets ``drop`` and
    ``rebuild`` timings.
    """
    connection = connections[using]
    if connection.vendor != "postgresql" or not connection.in_atomic_block:
        raise ValueError("secondary_indexes_deferred needs PostgreSQL and an open transaction")
    tables = [model._meta.db_table for model in model_list]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid), c.contype "
            "FROM pg_constraint c WHERE c.conrelid = ANY(%s::regclass[]) AND c.contype IN ('f', 'u') "
            "ORDER BY c.contype DESC, c.conname",
            [tables],
        )
        constraints = cursor.fetchall()  # unique ones first: foreign keys may rely on them
        cursor.execute(
            "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
            "ORDER BY 1",
            [tables],
        )
        indexes = cursor.fetchall()
        for table, name, _definition, _kind in reversed(constraints):
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {name}")
    seconds["drop"] += time.perf_counter() - started
    yield
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for _name, definition in indexes:
            cursor.execute(definition)
        for table, name, definition, _kind in constraints:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")
    seconds["rebuild"] += time.perf_counter() - started


# --- ORM ------------------------------------------------------------------------------------


def python_values(model_field: models.Field, values: np.ndarray) -> list:
    """One column as the Python values the ORM expects (aware datetimes, Decimals, None)."""
    kind = values.dtype.kind
    if kind == "M":
        unit = np.datetime_data(values.dtype)[0]
        converted = values.astype("datetime64[D]" if unit == "D" else "datetime64[us]").astype(object).tolist()
        if unit != "D":
            converted = [v.replace(tzinfo=dt.UTC) if v is not None else None for v in converted]
        return converted
    if kind in "iu":
        if isinstance(model_field, models.DecimalField):
            places = model_field.decimal_places
            return [None if v == NULL_FIXED else Decimal(v).scaleb(-places) for v in values.tolist()]
        if model_field.null:
            return [None if v == NULL_INT else v for v in values.tolist()]
        return values.tolist()
    return values.tolist()


class OrmWriter:
    """``bulk_create`` in batches; reads the new primary keys back from the objects."""

    def __init__(self, batch_size: int = 1000) -> None:
        self.batch_size = batch_size

    def insert(self, table: Table, *, returning_ids: bool = True) -> None:
        model = table.model
        fields = [f for f in model._meta.concrete_fields if f.attname in table.columns and not f.primary_key]
        values = [python_values(f, table.columns[f.attname]) for f in fields]
        names = [f.attname for f in fields]
        objects = [model(**dict(zip(names, row, strict=True))) for row in zip(*values, strict=True)]
        model.objects.bulk_create(objects, batch_size=self.batch_size)
        table.columns["id"] = np.array([obj.pk for obj in objects], dtype=np.int64)
        # bulk_create stamps auto_now_add fields with "now"; keep the generated history.
        stamped = [f for f in fields if getattr(f, "auto_now_add", False)]
        if stamped and objects:
            for f, column in zip(fields, values, strict=True):
                if f in stamped:
                    for obj, value in zip(objects, column, strict=True):
                        setattr(obj, f.attname, value)
            model.objects.bulk_update(objects, [f.name for f in stamped], batch_size=self.batch_size)
