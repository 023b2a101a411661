"""What a customers import writes besides rows: domain events (as the bulk API emits them),
and which rows it refuses because the file repeats a key, whatever chunks the rows fall
in. Run on SQLite (the record path) and on PostgreSQL (the column-wise ChunkWriter): the
same expectations hold for both."""

from __future__ import annotations

import pandas as pd
import pytest

from customers.models import Customer
from tests import factories as f
from tests.imports.test_import import HEADER, customer_ids, customers_csv, issues
from vector_crm.imports.seen import SeenKeys
from vector_crm.models import ImportStatus, OutboxEvent, WebhookDelivery
from vector_crm.outbox import _json_safe, model_payload
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db

REPEATED = "Repetido en el archivo: la fila %d ya trae este valor."


def outbox(tenant) -> list[OutboxEvent]:
    with platform_context():
        return list(OutboxEvent.unscoped.filter(tenant=tenant).order_by("pk"))


def deliveries(tenant) -> list[WebhookDelivery]:
    with platform_context():
        return list(WebhookDelivery.unscoped.filter(tenant=tenant).order_by("pk"))


@pytest.fixture
def endpoint_a(org_a):
    with tenant_context(org_a.tenant.pk):
        return f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["customer.created", "customer.updated"])


def with_lines(content: str, replace: dict[int, str]) -> str:
    """``content`` with data row ``i`` (0-based) replaced."""
    lines = content.split("\r\n")
    for index, line in replace.items():
        lines[index + 1] = line
    return "\r\n".join(lines)


# --- events ------------------------------------------------------------------------------------


def test_an_import_emits_one_event_per_created_customer_and_per_changed_one(importer, org_a, endpoint_a):
    # given an endpoint subscribed to customer events, a dry run emits nothing
    file_import = importer.full("c.csv", customers_csv(12))
    assert outbox(org_a.tenant) == []
    # when the file is imported in chunks of 5
    importer.run(file_import, chunk_rows=5)
    # then each of the 12 customers has its customer.created event, shaped as the bulk API's
    created = outbox(org_a.tenant)
    assert [e.type for e in created] == ["customer.created"] * 12
    with tenant_context(org_a.tenant.pk):
        customers = {c.pk: c for c in Customer.objects.all()}
    assert sorted(int(e.aggregate_id) for e in created) == sorted(customers)
    sample = created[4]
    assert sample.aggregate_type == "customers.customer"
    assert sample.payload == _json_safe(model_payload(customers[int(sample.aggregate_id)]))
    assert [(d.endpoint_id, d.event_id) for d in deliveries(org_a.tenant)] == [(endpoint_a.pk, e.pk) for e in created]
    # when the same file comes back with one customer's birth date changed
    changed = with_lines(customers_csv(12), {7: "C-00007;cc;10000007;Nombre 7;Apellido;15/05/1975"})
    again = importer.run(importer.full("c.csv", changed), chunk_rows=5)
    # then exactly one customer.updated event is added, for that customer, naming what the file sends
    assert again.counts == {"customers": {"created": 0, "updated": 1, "unchanged": 11}}
    events = outbox(org_a.tenant)[12:]
    assert [e.type for e in events] == ["customer.updated"]
    assert (events[0].payload["external_id"], events[0].payload["birth_date"]) == ("C-00007", "1975-05-15")
    assert events[0].payload["changed"] == sorted(
        ["birth_date", "external_id", "first_name", "identification_number", "identification_type", "kind"]
        + ["last_name"]
    )


def test_an_import_writes_no_events_when_no_endpoint_subscribes(importer, org_a):
    with tenant_context(org_a.tenant.pk):
        f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["customer.updated"])
    importer.run(importer.full("c.csv", customers_csv(4)))
    assert len(customer_ids(org_a)) == 4
    assert outbox(org_a.tenant) == []


def test_a_refused_import_writes_no_events(importer, org_a, endpoint_a):
    file_import = importer.upload("c.csv", customers_csv(12, bad={9: "ayer"}))
    importer.map(file_import)
    failed = importer.run(file_import, chunk_rows=5)
    assert failed.status == ImportStatus.FAILED
    assert (customer_ids(org_a), outbox(org_a.tenant), deliveries(org_a.tenant)) == ([], [], [])


# --- keys repeated within the file ----------------------------------------------------------------


def test_an_external_id_repeated_in_a_later_chunk_is_a_duplicate_row_error(importer, org_a):
    # given row 8 (chunk 2 of 5-row chunks) repeats row 3's external id with another person
    content = with_lines(customers_csv(12), {6: "C-00001;cc;20000006;Otra;Persona;01/01/1990"})
    file_import = importer.upload("c.csv", content)
    importer.map(file_import)
    checked = importer.dry_run(file_import, chunk_rows=5)
    # then the dry run reports the later row, naming the column, the value and the first row
    assert issues(checked) == [(8, "id_cliente", "C-00001", REPEATED % 3)]
    assert (checked.valid_rows, checked.invalid_rows) == (11, 1)
    assert checked.counts == {"customers": {"created": 11, "updated": 0, "unchanged": 0}}
    # and the import without "only valid rows" writes nothing
    unchecked = importer.upload("c.csv", content)
    importer.map(unchecked)
    failed = importer.run(unchecked, chunk_rows=5)
    assert (failed.status, customer_ids(org_a)) == (ImportStatus.FAILED, [])
    assert issues(failed) == [(8, "id_cliente", "C-00001", REPEATED % 3)]
    # with "only valid rows", row 3 is written and row 8 did not overwrite it
    done = importer.run(checked, only_valid=True, chunk_rows=5)
    assert done.counts == {"customers": {"created": 11, "updated": 0, "unchanged": 0}}
    with tenant_context(org_a.tenant.pk):
        kept = Customer.objects.get(external_id="C-00001")
    assert (kept.first_name, kept.identification_number) == ("Nombre 1", "10000001")
    assert len(customer_ids(org_a)) == 11


def test_a_key_repeated_three_times_in_one_chunk_points_at_its_first_row(importer):
    content = with_lines(
        customers_csv(6),
        {2: "C-00000;cc;20000002;Ana;Uno;01/01/1990", 4: "C-00000;cc;20000004;Ana;Dos;01/01/1990"},
    )
    checked = importer.full("c.csv", content)
    assert issues(checked) == [(4, "id_cliente", "C-00000", REPEATED % 2), (6, "id_cliente", "C-00000", REPEATED % 2)]


def test_an_identification_repeated_across_chunks_is_refused_in_the_dry_run_and_the_import(importer, org_a):
    # given row 9 (chunk 2) carries row 2's identification under another external id
    content = with_lines(customers_csv(10), {7: "C-99999;cc;10000000;Otra;Persona;01/01/1990"})
    file_import = importer.upload("c.csv", content)
    importer.map(file_import)
    checked = importer.dry_run(file_import, chunk_rows=5)
    expected = [(9, "documento", "10000000", "Another customer already has this identification.")]
    assert issues(checked) == expected
    done = importer.run(checked, only_valid=True, chunk_rows=5)
    assert issues(done) == expected
    assert "C-99999" not in customer_ids(org_a) and len(customer_ids(org_a)) == 9


def test_the_dry_run_reports_clashes_with_existing_customers_and_counts_exactly(importer, org_a):
    # given C-00000 exists as in the file, C-00001 exists with another birth date, and an
    # existing customer (not in the file) holds row 4's identification
    with tenant_context(org_a.tenant.pk):
        first = importer.run(importer.full("c.csv", customers_csv(2)))
        assert first.status == ImportStatus.DONE
        Customer.objects.filter(external_id="C-00001").update(first_name="Antes")
        f.CustomerFactory(external_id="X-1", identification_type="cc", identification_number="10000002")
    file_import = importer.upload("c.csv", customers_csv(5))
    importer.map(file_import)
    checked = importer.dry_run(file_import, chunk_rows=2)
    assert issues(checked) == [(4, "documento", "10000002", "Another customer already has this identification.")]
    assert checked.counts == {"customers": {"created": 2, "updated": 1, "unchanged": 1}}
    with tenant_context(org_a.tenant.pk):
        assert Customer.objects.get(external_id="C-00001").first_name == "Antes"
    # and the import of the valid rows does exactly that
    done = importer.run(checked, only_valid=True, chunk_rows=2)
    assert done.counts == checked.counts
    assert issues(done) == issues(checked)


def test_a_new_key_whose_identification_is_held_is_reported_and_its_chunk_written(importer, org_a):
    # every external id is new (the PostgreSQL writer tries the chunk as one plain INSERT),
    # but an existing customer holds row 3's identification
    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory(external_id="X-1", identification_type="cc", identification_number="10000001")
    clash = [(3, "documento", "10000001", "Another customer already has this identification.")]
    unchecked = importer.upload("c.csv", customers_csv(3))
    importer.map(unchecked)
    failed = importer.run(unchecked)
    assert (failed.status, issues(failed), customer_ids(org_a)) == (ImportStatus.FAILED, clash, [])
    checked = importer.full("c.csv", customers_csv(3))
    assert issues(checked) == clash
    done = importer.run(checked, only_valid=True)
    assert done.counts == {"customers": {"created": 2, "updated": 0, "unchanged": 0}}
    assert customer_ids(org_a) == ["C-00000", "C-00002"]


def test_chunks_are_tried_as_all_new_until_one_is_mixed_and_again_after_an_all_new_one(
    pg_only, importer, org_a, monkeypatch
):
    from customers import bulk_pg

    tried = []
    insert_all = bulk_pg.Stage.insert_all

    def spy(self, cursor, **kwargs):
        written = insert_all(self, cursor, **kwargs)
        tried.append(None if written is None else len(written))
        return written

    monkeypatch.setattr(bulk_pg.Stage, "insert_all", spy)
    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory(external_id="C-00004", identification_type="cc", identification_number="10000004")
    # chunks of two: [0 1] [2 3] new, [4 5] mixed, [6 7] new (found by the probes), [8 9] new
    file_import = importer.upload("c.csv", customers_csv(10))
    importer.map(file_import)
    done = importer.run(file_import, chunk_rows=2)
    assert done.counts == {"customers": {"created": 9, "updated": 1, "unchanged": 0}}
    assert tried == [2, 2, None, 2]
    assert customer_ids(org_a) == [f"C-{n:05d}" for n in range(10)]


def test_national_phones_and_bad_emails_get_the_bulk_apis_answers(importer, org_a):
    content = (
        HEADER + ";celular;correo\r\n"
        "C-1;cc;10000001;Ana;Paz;01/01/1990;3001234567;ana@example.com\r\n"
        "C-2;cc;10000002;Luis;Paz;01/01/1990;+573001234568;no-es-correo\r\n"
        "C-3;cc;10000003;Eva;Paz;01/01/1990;+573001234569;\r\n"
    )
    checked = importer.full("c.csv", content)
    assert [(row, column, value) for row, column, value, _r in issues(checked)] == [(3, "correo", "no-es-correo")]
    importer.run(checked, only_valid=True)
    with tenant_context(org_a.tenant.pk):
        stored = dict(Customer.objects.values_list("external_id", "mobile"))
        email = Customer.objects.get(external_id="C-3").email
    assert {k: str(v) for k, v in stored.items()} == {"C-1": "+573001234567", "C-3": "+573001234569"}
    assert email == ""


# --- SeenKeys ------------------------------------------------------------------------------------------


def test_seen_keys_remember_the_first_row_of_each_key_across_calls():
    seen = SeenKeys()
    first = seen.first_rows(pd.Series(["a", "b", "a"], index=[2, 3, 4]))
    assert first.tolist() == [0, 0, 2]
    second = seen.first_rows(pd.Series(["c", "b", "a", "c"], index=[5, 6, 7, 8]))
    assert second.tolist() == [0, 3, 2, 5]
    assert len(seen) == 3


def test_seen_keys_stay_sorted_with_each_first_row_over_many_chunks():
    """New keys are merged into the sorted ones: the arrays equal a stable sort of all the
    first rows, and every answer names the first row of its key."""
    import numpy as np

    rng = np.random.default_rng(4)
    seen, first_row, start = SeenKeys(), {}, 2
    for _chunk in range(25):
        size = int(rng.integers(0, 400))
        keys = pd.Series([f"k{n}" for n in rng.integers(0, 3000, size)], index=range(start, start + size))
        start += size
        answers = seen.first_rows(keys)
        for row, key in keys.items():
            assert answers[row] == first_row.get(key, 0)
            first_row.setdefault(key, row)
        assert np.all(np.diff(seen.hashes.astype(np.float64)) >= 0)
        assert sorted(seen.rows.tolist()) == sorted(first_row.values())
    assert len(seen) == len(first_row)


def test_a_chunk_whose_every_row_failed_its_types_is_reported_not_crashed(importer, org_a):
    checked = importer.full("c.csv", customers_csv(4, bad={i: "x" for i in range(4)}))
    assert (checked.status, checked.issue_count, checked.invalid_rows) == (ImportStatus.VALIDATED, 4, 4)
    assert checked.counts == {}


def test_uniform_date_columns_read_as_the_general_path_reads_them(monkeypatch):
    from vector_crm.imports import parsing

    rng = __import__("random").Random(3)
    columns = [
        [f"{rng.randint(0, 39):02d}/{rng.randint(0, 14):02d}/{rng.randint(1700, 2200)}" for _ in range(2000)],
        [f"{rng.randint(1700, 2200)}-{rng.randint(0, 14):02d}-{rng.randint(0, 39):02d}" for _ in range(2000)],
        ["29/02/2024", "29/02/2023", "31/04/2020"],
    ]
    fast = [parsing.normalize_date(pd.Series(c, index=range(2, 2 + len(c)))) for c in columns]
    assert all(parsing._uniform_dates(pd.Series(c)) is not None for c in columns)
    monkeypatch.setattr(parsing, "_uniform_dates", lambda values: None)
    general = [parsing.normalize_date(pd.Series(c, index=range(2, 2 + len(c)))) for c in columns]
    for (values, bad), (expected_values, expected_bad) in zip(fast, general, strict=True):
        assert values.tolist() == expected_values.tolist()
        assert bad.tolist() == expected_bad.tolist()
    assert fast[2][0].tolist() == ["2024-02-29", "", ""]
