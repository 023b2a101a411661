"""The PostgreSQL write path of the bulk upserts: COPY text rendering (pure), and the stage
table + upsert under row-level security as the non-owner role."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection

from customers import bulk, bulk_pg
from customers.bulk_pg import Constant, Stage, copy_text
from customers.models import Customer
from vector_crm.db import session_settings
from vector_crm.tenancy import platform_context, tenant_context


def test_copy_text_renders_nulls_escapes_dates_decimals_and_constants():
    columns = [
        [0, 1],
        ["a\tb", "c\\d\ne"],
        [None, dt.date(2026, 1, 2)],
        [Decimal("10.50"), True],
        Constant(""),
        Constant(None),
    ]
    assert copy_text(columns, 2) == "0\ta\\tb\t\\N\t10.50\t\t\\N\n1\tc\\\\d\\ne\t2026-01-02\tt\t\t\\N\n"
    assert copy_text([Constant("x")], 0) == ""


def test_copy_text_of_many_rows_is_rendered_piece_by_piece_as_in_one_pass():
    # pieces of 1,000 rows; an escape needed only in the third piece's column
    count = 2_345
    names = [f"name {n}" if n != 2_100 else "tab\there" for n in range(count)]
    columns = [list(range(count)), names, Constant("x")]
    expected = "".join(f"{n}\t{names[n].replace(chr(9), chr(92) + 't')}\tx\n" for n in range(count))
    assert copy_text(columns, count) == expected


def record(n: int) -> dict:
    return {
        "external_id": f"PG{n}",
        "identification_type": "cc",
        "identification_number": str(80_000_000 + n),
        "first_name": "Ana",
        "last_name": f"Ríos {n}",
    }


def upsert(tenant, records):
    with tenant_context(tenant.pk):
        valid, rejected = bulk.validate_records("customers", records, region="CO")
        return bulk.upsert_records("customers", records=valid, rejected=rejected, atomic=False, total=len(records))


def test_two_tenants_in_one_connection_each_get_their_own_rows(pg_only, tenant_a, tenant_b):
    assert bulk.use_copy()
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user")
        assert cursor.fetchone()[0] is False  # the runtime role is subject to RLS
    first = upsert(tenant_a, [record(1), record(2)])
    second = upsert(tenant_b, [record(1)])
    again = upsert(tenant_a, [record(1), record(2) | {"first_name": "Eva"}])
    assert (first.created, second.created) == (2, 1)
    assert (again.created, again.updated, again.unchanged) == (0, 1, 1)
    with platform_context():
        rows = sorted(Customer.unscoped.values_list("tenant_id", "external_id", "first_name"))
    assert rows == [
        (tenant_a.pk, "PG1", "Ana"),
        (tenant_a.pk, "PG2", "Eva"),
        (tenant_b.pk, "PG1", "Ana"),
    ]


def test_upserts_in_one_outer_transaction_see_each_other(pg_only, tenant_a):
    from django.db import transaction

    # the file import sends several chunks inside one transaction
    with transaction.atomic():
        upsert(tenant_a, [record(1)])
        result = upsert(tenant_a, [record(1), record(3)])
    assert (result.created, result.unchanged) == (1, 1)


@pytest.mark.parametrize("atomic", [True, False])
def test_rejected_records_never_reach_the_stage(db, tenant_a, atomic):
    records = [record(1), record(2) | {"identification_number": "12AB"}]
    with tenant_context(tenant_a.pk):
        valid, rejected = bulk.validate_records("customers", records, region="CO")
        result = bulk.upsert_records("customers", records=valid, rejected=rejected, atomic=atomic, total=2)
        assert Customer.objects.count() == (0 if atomic else 1)
    assert [(e.index, e.field) for e in result.rejected] == [(1, "identification_number")]


def test_one_batch_of_new_changed_and_identical_rows(pg_only, tenant_a):
    upsert(tenant_a, [record(1), record(2)])
    with tenant_context(tenant_a.pk):
        before = dict(Customer.objects.values_list("external_id", "updated_at"))
    result = upsert(tenant_a, [record(3), record(1), record(2) | {"first_name": "Eva"}, record(4)])
    assert (result.created, result.updated, result.unchanged) == (2, 1, 1)
    with tenant_context(tenant_a.pk):
        rows = {c.external_id: c for c in Customer.objects.all()}
    assert sorted(rows) == ["PG1", "PG2", "PG3", "PG4"]
    assert rows["PG2"].first_name == "Eva" and rows["PG2"].updated_at > before["PG2"]
    assert rows["PG1"].updated_at == before["PG1"]  # identical: not touched
    assert rows["PG3"].pk < rows["PG4"].pk  # new rows keep the batch's order


def test_a_key_inserted_after_the_probe_is_updated_not_a_crash(pg_only, tenant_a, monkeypatch):
    """The plain INSERT of new keys meets a row a concurrent batch committed after the
    probe looked (simulated by a probe that saw nothing): the savepoint takes it back and
    the ON CONFLICT path answers as if the probe had seen the row."""
    upsert(tenant_a, [record(1)])
    monkeypatch.setattr(bulk_pg.Stage, "probe", lambda self, cursor, **kwargs: [])
    result = upsert(tenant_a, [record(1) | {"first_name": "Eva"}, record(2)])
    assert (result.created, result.updated, result.unchanged) == (1, 1, 0)
    with tenant_context(tenant_a.pk):
        assert dict(Customer.objects.values_list("external_id", "first_name")) == {"PG1": "Eva", "PG2": "Ana"}


def staged(tenant, records: list[dict]) -> tuple[Stage, object]:
    """A customers stage and the batch of ``records`` (the named columns, defaults else)."""
    stage = Stage(Customer)
    defaults = bulk_pg.default_row(Customer, tenant_id=tenant.pk, now=dt.datetime.now(dt.UTC))
    attnames = [field.attname for field in bulk_pg.columns_of(Customer)]
    named = set(records[0]) | {"search_name"}
    rows = [r | {"search_name": f"{r['first_name']} {r['last_name']}".lower()} for r in records]
    columns = [[row[a] for row in rows] if a in named else Constant(defaults[a]) for a in attnames]
    return stage, stage.batch([list(range(len(rows))), *columns], len(rows))


def test_insert_all_writes_a_batch_of_new_keys_and_nothing_of_one_with_a_stored_key(pg_only, tenant_a):
    from django.db import transaction

    upsert(tenant_a, [record(5)])
    with tenant_context(tenant_a.pk), transaction.atomic(), connection.cursor() as cursor:
        raw = cursor.cursor
        stage, batch = staged(tenant_a, [record(1), record(2)])
        stage.load(raw, batch, prelude=session_settings())
        assert stage.insert_all(raw, returning=["external_id"]) == [(True, "PG1"), (True, "PG2")]
        # the stored key comes after two new ones: those are rolled back with it
        stage, batch = staged(tenant_a, [record(3), record(4), record(5) | {"first_name": "Eva"}])
        stage.load(raw, batch)
        assert stage.insert_all(raw, then="SET CONSTRAINTS ALL IMMEDIATE") is None
        # and so is an identification another customer holds, under a new key
        stage, batch = staged(tenant_a, [record(6) | {"identification_number": str(80_000_005)}])
        stage.load(raw, batch)
        assert stage.insert_all(raw) is None
        raw.execute("SELECT 1")  # the transaction is usable: no failed statement left open
    with tenant_context(tenant_a.pk):
        assert dict(Customer.objects.values_list("external_id", "first_name")) == {
            "PG1": "Ana",
            "PG2": "Ana",
            "PG5": "Ana",
        }
