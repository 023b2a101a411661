"""PostgreSQL row-level security plumbing and database roles.

Three parts:

* ``enable_rls(table)`` - a migration operation that turns on (and forces) row-level
  security on a tenant table with one policy checking ``app.tenant_id``. It is a no-op on
  SQLite, where the scoped managers are the only guard.
* ``install_rls_session_sync`` - a connection execute-wrapper that keeps the session
  settings ``app.tenant_id`` / ``app.rls_bypass`` equal to the tenancy context variables,
  so a raw SQL query, a forgotten filter or a buggy join still sees one tenant only.
* ``owner_connection`` - runs a block (migrations, test database creation) as the owner
  role from ``DATABASE_OWNER_URL`` while the application itself connects as a role that
  owns nothing and is subject to the policies.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from django.conf import settings
from django.db import connections, migrations

from vector_crm.tenancy import get_current_tenant_id, in_platform_mode

TENANT_SETTING = "app.tenant_id"
BYPASS_SETTING = "app.rls_bypass"

_POLICY_SQL = """
ALTER TABLE {table} ENABLE ROW LEVEL SECURITY;
ALTER TABLE {table} FORCE ROW LEVEL SECURITY;
DROP POLICY IF EXISTS tenant_isolation ON {table};
CREATE POLICY tenant_isolation ON {table}
    USING (
        {column} = NULLIF(current_setting('app.tenant_id', true), '')::bigint
        OR current_setting('app.rls_bypass', true) = 'on'
    )
    WITH CHECK (
        {column} = NULLIF(current_setting('app.tenant_id', true), '')::bigint
        OR current_setting('app.rls_bypass', true) = 'on'
    );
"""

_DROP_POLICY_SQL = """
DROP POLICY IF EXISTS tenant_isolation ON {table};
ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY;
ALTER TABLE {table} DISABLE ROW LEVEL SECURITY;
"""


def _run_on_postgres(sql_template: str, table: str, column: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quoted = schema_editor.quote_name(table)
        schema_editor.execute(sql_template.format(table=quoted, column=schema_editor.quote_name(column)))

    return run


def enable_rls(table: str, column: str = "tenant_id") -> migrations.RunPython:
    """Migration operation: the tenant isolation policy on ``table`` (PostgreSQL only)."""
    return migrations.RunPython(
        _run_on_postgres(_POLICY_SQL, table, column),
        _run_on_postgres(_DROP_POLICY_SQL, table, column),
        elidable=False,
    )


def _desired_settings() -> tuple[str, str]:
    tenant_id = get_current_tenant_id()
    return ("" if tenant_id is None else str(tenant_id), "on" if in_platform_mode() else "off")


def session_settings() -> tuple[str, list[str]]:
    """The statement (SQL and parameters) that sets the RLS session settings from the
    context, for a raw cursor to run before COPY, alone or ahead of other statements."""
    return (
        "SELECT set_config('app.tenant_id', %s, false), set_config('app.rls_bypass', %s, false)",
        list(_desired_settings()),
    )


def apply_session_settings(cursor, connection) -> None:
    """Set the RLS session settings on ``cursor`` from the context (use before raw COPY)."""
    sql, params = session_settings()
    cursor.execute(sql, params)
    connection._vector_rls_state = tuple(params)


_TRANSACTION_CONTROL = ("SAVEPOINT", "ROLLBACK", "RELEASE", "COMMIT", "BEGIN")


def _rls_execute_wrapper(execute, sql, params, many, context):
    connection = context["connection"]
    if isinstance(sql, str) and sql.lstrip()[:10].upper().startswith(_TRANSACTION_CONTROL):
        return execute(sql, params, many, context)
    # A rolled-back transaction or savepoint also rolls back set_config, so inside an
    # atomic block the cached state cannot be trusted; outside one it can.
    if connection.in_atomic_block or getattr(connection, "_vector_rls_state", None) != _desired_settings():
        with connection.connection.cursor() as raw_cursor:
            apply_session_settings(raw_cursor, connection)
    return execute(sql, params, many, context)


def install_rls_session_sync(sender, connection, **kwargs) -> None:
    """``connection_created`` receiver: attach the RLS wrapper to PostgreSQL connections."""
    if connection.vendor != "postgresql":
        return
    connection._vector_rls_state = None
    if _rls_execute_wrapper not in connection.execute_wrappers:
        connection.execute_wrappers.append(_rls_execute_wrapper)


def app_role() -> str | None:
    """The runtime role that the owner grants data privileges to, when the two differ."""
    return getattr(settings, "DATABASE_APP_ROLE", None)


# Tables the runtime role may only append to: the audit trail is not editable from the app.
APPEND_ONLY_TABLES = ("vector_crm_auditlogentry",)


def grant_app_role(using: str = "default") -> None:
    """Give the runtime role data access (not ownership) to every table of the schema."""
    role = app_role()
    connection = connections[using]
    if role is None or connection.vendor != "postgresql":
        return
    quoted = connection.ops.quote_name(role)
    with connection.cursor() as cursor:
        cursor.execute(f"GRANT USAGE ON SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {quoted}")
        cursor.execute(f"GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {quoted}")
        for table in APPEND_ONLY_TABLES:
            cursor.execute("SELECT 1 FROM information_schema.tables WHERE table_name = %s", [table])
            if cursor.fetchone():
                cursor.execute(f"REVOKE UPDATE, DELETE ON {table} FROM {quoted}")


@contextlib.contextmanager
def owner_connection(using: str = "default") -> Iterator[None]:
    """Run the block with ``using`` connected as the schema owner (DATABASE_OWNER_URL).

    Used by ``migrate`` and the test database set-up; a no-op when no owner is configured.
    """
    owner = getattr(settings, "DATABASE_OWNER", None)
    connection = connections[using]
    if not owner or connection.vendor != "postgresql":
        yield
        return
    saved = {key: connection.settings_dict.get(key) for key in ("USER", "PASSWORD")}
    connection.close()
    connection.settings_dict.update(USER=owner["USER"], PASSWORD=owner.get("PASSWORD", ""))
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)


def insert_rows(model, rows: list[dict], *, returning_ids: bool = False, batch_size: int = 1000) -> list[int]:
    """Insert plain rows (``{attname: value}``, JSON columns as Python values) in bulk.

    For set-based jobs: on PostgreSQL one multi-row ``INSERT`` per batch, through the RLS
    wrapper, without building model instances (which costs more than the insert itself);
    elsewhere ``bulk_create``. Sends no signals, so no audit entries. Returns the new ids
    when ``returning_ids`` (in row order).
    """
    import json

    from django.db import connection, models

    if not rows:
        return []
    if connection.vendor != "postgresql":
        created = model._default_manager.bulk_create([model(**row) for row in rows], batch_size=batch_size)
        return [obj.pk for obj in created] if returning_ids else []
    columns = list(rows[0])
    json_columns = {
        f.attname for f in model._meta.concrete_fields if isinstance(f, models.JSONField) and f.attname in columns
    }
    quote = connection.ops.quote_name
    head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(c) for c in columns)}) VALUES "  # noqa: S608 (identifiers quoted, values bound)
    placeholder = "(" + ", ".join(["%s"] * len(columns)) + ")"
    ids: list[int] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            params = [json.dumps(row[c]) if c in json_columns else row[c] for row in batch for c in columns]
            sql = head + ", ".join([placeholder] * len(batch)) + (" RETURNING id" if returning_ids else "")
            cursor.execute(sql, params)
            if returning_ids:
                ids.extend(r[0] for r in cursor.fetchall())
    return ids


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a batch is handled: its tens of thousands of
    short-lived dicts would otherwise trigger repeated full collections (a third of the
    request time when profiled). Reference counting still frees them as usual."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
