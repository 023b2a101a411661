"""Bulk upsert endpoints (``/api/v1/bulk/...``): per-record rejection, atomic batches,
re-sends, referential rules, tenant isolation and Idempotency-Key replays."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from customers.models import Customer, Holding, MonthlyAccountSummary, Payment
from tests import factories as f
from tests.api.helpers import assert_problem, row_count
from vector_crm.models import Job, OutboxEvent, WebhookDelivery
from vector_crm.outbox import _json_safe, model_payload
from vector_crm.tenancy import platform_context, tenant_context

CUSTOMERS_URL = "/api/v1/bulk/customers/"
HOLDINGS_URL = "/api/v1/bulk/holdings/"
SUMMARIES_URL = "/api/v1/bulk/monthly-summaries/"
PAYMENTS_URL = "/api/v1/bulk/payments/"
BAD_INDEXES = {17: "identification_number", 404: "email", 999: "last_name"}


def customer_record(n: int, prefix: str = "CB") -> dict:
    return {
        "external_id": f"{prefix}{n:06d}",
        "identification_type": "cc",
        "identification_number": str(70_000_000 + n),
        "first_name": "Ana",
        "last_name": f"Pérez {n}",
        "mobile": "+573001112233",
        "email": f"ana{n}@example.com",
        "city": "Bogotá",
    }


def batch_with_three_bad(size: int = 1_000) -> list[dict]:
    records = [customer_record(n) for n in range(size)]
    records[17]["identification_number"] = "12AB"
    records[404]["email"] = "not-an-email"
    records[999]["last_name"] = ""
    return records


def customer_rows(tenant) -> list[dict]:
    """Every customer row of ``tenant``, read from outside (evaluated inside the context)."""
    with platform_context():
        return list(Customer.unscoped.filter(tenant=tenant).order_by("pk").values())


@pytest.fixture
def key_client(api_key_for):
    def make(tenant, scopes=("customers:write", "holdings:write", "payments:write")):
        return api_key_for(tenant, scopes=list(scopes))

    return make


def test_three_bad_records_out_of_1000_are_reported_and_997_applied(org_a, key_client):
    client = key_client(org_a.tenant)
    # when a batch of 1,000 with three bad records is posted
    response = client.post(CUSTOMERS_URL, {"records": batch_with_three_bad()}, format="json")
    # then exactly those three are rejected by index and field, and the rest are created
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (997, 0, 0)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == sorted(BAD_INDEXES.items())
    assert all(r["code"] and r["message"] for r in body["rejected"])
    assert row_count(Customer, org_a.tenant) == 997
    with platform_context():
        job = Job.unscoped.get(tenant=org_a.tenant, kind="bulk.customers")
    assert job.counts == {"created": 997, "updated": 0, "unchanged": 0, "rejected": 3}


def test_atomic_batch_with_bad_records_writes_nothing(org_a, key_client):
    client = key_client(org_a.tenant)
    response = client.post(CUSTOMERS_URL + "?atomic=true", {"records": batch_with_three_bad()}, format="json")
    body = assert_problem(response, 400, "records[404].email")
    assert [e["index"] for e in body["errors"]] == sorted(BAD_INDEXES)
    assert row_count(Customer, org_a.tenant) == 0


def test_resending_the_same_batch_changes_nothing(org_a, key_client):
    client = key_client(org_a.tenant)
    records = batch_with_three_bad()
    client.post(CUSTOMERS_URL, {"records": records}, format="json")
    # when the same feed arrives again
    response = client.post(CUSTOMERS_URL, {"records": records}, format="json")
    # then every valid record is unchanged and no row is duplicated
    body = response.json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 0, 997)
    assert row_count(Customer, org_a.tenant) == 997


def test_changed_records_are_updated_in_place(org_a, key_client):
    client = key_client(org_a.tenant)
    records = [customer_record(n) for n in range(5)]
    client.post(CUSTOMERS_URL, {"records": records}, format="json")
    records[2]["city"] = "Cali"
    body = client.post(CUSTOMERS_URL, {"records": records}, format="json").json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 4)
    assert {r["external_id"]: r["city"] for r in customer_rows(org_a.tenant)}["CB000002"] == "Cali"


def test_identification_of_another_customer_is_rejected(org_a, key_client):
    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    clash = customer_record(1) | {"external_id": "OTHER"}
    body = client.post(CUSTOMERS_URL, {"records": [clash]}, format="json").json()
    assert body["rejected"][0]["field"] == "identification_number"
    assert body["rejected"][0]["code"] == "unique"
    assert row_count(Customer, org_a.tenant) == 1


def test_another_tenants_external_ids_are_invisible(org_a, org_b, key_client):
    records = [customer_record(n) for n in range(10)]
    key_client(org_a.tenant).post(CUSTOMERS_URL, {"records": records}, format="json")
    a_rows = customer_rows(org_a.tenant)
    # when tenant B sends the same external ids (and identifications)
    body = key_client(org_b.tenant).post(CUSTOMERS_URL, {"records": records}, format="json").json()
    # then B gets its own rows and A's are untouched
    assert (body["created"], body["updated"], body["unchanged"], body["rejected"]) == (10, 0, 0, [])
    assert row_count(Customer, org_b.tenant) == 10
    assert customer_rows(org_a.tenant) == a_rows


def test_idempotency_key_retry_returns_the_identical_response(org_a, key_client):
    client = key_client(org_a.tenant)
    payload = {"records": [customer_record(n) for n in range(20)]}
    first = client.post(CUSTOMERS_URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="feed-2026-11-23")
    retry = client.post(CUSTOMERS_URL, payload, format="json", HTTP_IDEMPOTENCY_KEY="feed-2026-11-23")
    assert first.status_code == retry.status_code == 200
    assert retry.content == first.content
    assert retry["Idempotent-Replayed"] == "true"
    assert row_count(Customer, org_a.tenant) == 20


def test_more_than_10000_records_is_a_400_naming_records(org_a, key_client):
    client = key_client(org_a.tenant)
    response = client.post(CUSTOMERS_URL, {"records": [{}] * 10_001}, format="json")
    assert_problem(response, 400, "records")
    assert row_count(Customer, org_a.tenant) == 0


def test_scopes_decide_which_bulk_endpoints_a_key_may_use(org_a, key_client):
    holdings_only = key_client(org_a.tenant, scopes=("holdings:write",))
    assert holdings_only.post(CUSTOMERS_URL, {"records": []}, format="json").status_code == 403
    assert holdings_only.post(PAYMENTS_URL, {"records": []}, format="json").status_code == 403
    assert holdings_only.post(HOLDINGS_URL, {"records": []}, format="json").status_code == 200


def holding_record(n: int, customer_external_id: str, product_code: str) -> dict:
    return {
        "account_number": f"ACC{n:08d}",
        "customer_external_id": customer_external_id,
        "product_code": product_code,
        "currency": "COP",
        "opened_on": "2024-03-01",
        "balance": "2500000.00",
    }


@pytest.fixture
def product_a(org_a):
    with tenant_context(org_a.tenant.pk):
        return f.ProductFactory(tenant=org_a.tenant, currency="COP")


def test_holdings_for_an_unknown_customer_are_rejected_records(org_a, key_client, product_a):
    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    records = [
        holding_record(1, "CB000001", product_a.code),
        holding_record(2, "NOBODY", product_a.code),
        holding_record(3, "CB000001", "NO-SUCH-PRODUCT"),
        holding_record(4, "CB000001", product_a.code) | {"currency": "XXZ"},
    ]
    body = client.post(HOLDINGS_URL, {"records": records}, format="json").json()
    assert body["created"] == 1
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [
        (1, "customer_external_id"),
        (2, "product_code"),
        (3, "currency"),
    ]
    assert row_count(Holding, org_a.tenant) == 1
    again = client.post(HOLDINGS_URL, {"records": records[:1]}, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)


def test_tenant_b_cannot_attach_accounts_to_tenant_a_customers(org_a, org_b, key_client, product_a):
    key_client(org_a.tenant).post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    body = (
        key_client(org_b.tenant)
        .post(HOLDINGS_URL, {"records": [holding_record(1, "CB000001", product_a.code)]}, format="json")
        .json()
    )
    assert body["created"] == 0
    assert body["rejected"][0]["field"] == "customer_external_id"


def test_monthly_summaries_and_payments_upsert_by_account(org_a, key_client, product_a):
    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    client.post(HOLDINGS_URL, {"records": [holding_record(1, "CB000001", product_a.code)]}, format="json")
    summaries = [
        {"account_number": "ACC00000001", "month": "2026-01-01", "average_balance": "10.00", "transactions": 3},
        {"account_number": "ACC00000001", "month": "2026-02-15"},
        {"account_number": "ACC99999999", "month": "2026-02-01"},
    ]
    body = client.post(SUMMARIES_URL, {"records": summaries}, format="json").json()
    assert body["created"] == 1
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "month"), (2, "account_number")]
    summaries[0]["transactions"] = 4
    body = client.post(SUMMARIES_URL, {"records": summaries[:1]}, format="json").json()
    assert (body["created"], body["updated"]) == (0, 1)
    assert row_count(MonthlyAccountSummary, org_a.tenant) == 1

    payments = [{"account_number": "ACC00000001", "due_date": "2026-11-05", "amount_due": "350000.00"}]
    assert client.post(PAYMENTS_URL, {"records": payments}, format="json").json()["created"] == 1
    payments[0]["paid_on"] = "2026-11-07"
    body = client.post(PAYMENTS_URL, {"records": payments}, format="json").json()
    assert (body["created"], body["updated"]) == (0, 1)
    with platform_context():
        payment = Payment.unscoped.select_related("customer").get(tenant=org_a.tenant)
    assert str(payment.paid_on) == "2026-11-07"
    assert payment.customer.external_id == "CB000001"


# --- who may bulk-write -------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["advisor", "supervisor", "branch_manager"])
def test_members_who_do_not_see_the_whole_institution_get_403(org_a, api_for, role):
    # an advisor may create and change customers one by one, but a feed ignores portfolios
    response = api_for(org_a[role]).post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    body = assert_problem(response, 403)
    assert "institution" in body["detail"]
    assert row_count(Customer, org_a.tenant) == 0


def test_a_tenant_admin_session_may_bulk_write(org_a, api_for):
    response = api_for(org_a["tenant_admin"]).post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 1


def test_the_service_refuses_an_advisor_membership_too(org_a):
    from customers.bulk import customers_bulk_upsert
    from vector_crm.errors import PermissionDeniedError

    with tenant_context(org_a.tenant.pk), pytest.raises(PermissionDeniedError):
        customers_bulk_upsert(membership=org_a["advisor"], records=[], rejected=[], atomic=False, total=0)


# --- events -------------------------------------------------------------------------------------


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


def test_bulk_writes_events_for_created_and_updated_customers_only(org_a, key_client, endpoint_a):
    client = key_client(org_a.tenant)
    records = [customer_record(n) for n in range(3)]
    client.post(CUSTOMERS_URL, {"records": records}, format="json")
    created = outbox(org_a.tenant)
    assert [e.type for e in created] == ["customer.created"] * 3
    with platform_context():
        customers = {c.external_id: c for c in Customer.unscoped.filter(tenant=org_a.tenant)}
    first = customers["CB000000"]
    # the bulk payload has the shape of a single customer's event
    assert created[0].aggregate_type == "customers.customer"
    assert created[0].aggregate_id == str(first.pk)
    assert created[0].payload == _json_safe(model_payload(first))
    assert [(d.endpoint_id, d.event_id, d.status) for d in deliveries(org_a.tenant)] == [
        (endpoint_a.pk, e.pk, "pending") for e in created
    ]
    # when the same feed comes back with one change
    records[1]["city"] = "Cali"
    client.post(CUSTOMERS_URL, {"records": records}, format="json")
    # then exactly one update event is added (none for the unchanged two)
    events = outbox(org_a.tenant)
    assert [e.type for e in events[3:]] == ["customer.updated"]
    update = events[3].payload
    assert (update["id"], update["city"]) == (customers["CB000001"].pk, "Cali")
    assert update["changed"] == sorted(customer_record(0).keys() | {"kind"})
    assert len(deliveries(org_a.tenant)) == 4


def test_no_events_are_written_when_no_endpoint_subscribes(org_a, key_client):
    with tenant_context(org_a.tenant.pk):
        f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["customer.updated"])
        f.WebhookEndpointFactory(tenant=org_a.tenant, event_types=["customer.created"], is_active=False)
    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(n) for n in range(4)]}, format="json")
    # nobody active wants customer.created: nothing is written for the four new customers
    assert outbox(org_a.tenant) == []
    body = client.post(CUSTOMERS_URL, {"records": [customer_record(0) | {"city": "Pasto"}]}, format="json").json()
    assert body["updated"] == 1
    assert [e.type for e in outbox(org_a.tenant)] == ["customer.updated"]


def test_an_atomic_batch_that_fails_writes_no_events(org_a, key_client, endpoint_a):
    key_client(org_a.tenant).post(CUSTOMERS_URL + "?atomic=true", {"records": batch_with_three_bad()}, format="json")
    assert outbox(org_a.tenant) == []
    assert deliveries(org_a.tenant) == []


# --- the write path: partial records, escaping, identification ---------------------------------


def test_fields_a_record_does_not_name_keep_their_stored_value(org_a, key_client):
    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(n) for n in range(3)]}, format="json")
    before = {r["external_id"]: r for r in customer_rows(org_a.tenant)}
    partial = {k: v for k, v in customer_record(1).items() if k not in ("city", "email")} | {"first_name": "Eva"}
    body = client.post(CUSTOMERS_URL, {"records": [customer_record(0), partial]}, format="json").json()
    assert (body["created"], body["updated"], body["unchanged"]) == (0, 1, 1)
    stored = {r["external_id"]: r for r in customer_rows(org_a.tenant)}
    assert (stored["CB000001"]["first_name"], stored["CB000001"]["city"]) == ("Eva", "Bogotá")
    assert stored["CB000001"]["email"] == "ana1@example.com"
    assert stored["CB000001"]["search_name"] == "eva perez 1"
    assert stored["CB000001"]["updated_at"] > before["CB000001"]["updated_at"]
    assert stored["CB000000"] == before["CB000000"]  # unchanged: not even touched


def test_text_with_tabs_newlines_and_backslashes_round_trips(org_a, key_client):
    client = key_client(org_a.tenant)
    tricky = customer_record(1) | {"address": "Calle 5 \\ 7\tpiso\n2", "last_name": "O'Neil \\N"}
    body = client.post(CUSTOMERS_URL, {"records": [tricky]}, format="json").json()
    assert body["created"] == 1
    stored = customer_rows(org_a.tenant)[0]
    assert (stored["address"], stored["last_name"]) == ("Calle 5 \\ 7\tpiso\n2", "O'Neil \\N")
    again = client.post(CUSTOMERS_URL, {"records": [tricky]}, format="json").json()
    assert again["unchanged"] == 1


def test_identification_of_a_customer_without_external_id_is_reported_not_a_500(org_a, key_client):
    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory(tenant=org_a.tenant, identification_type="cc", identification_number="70000007")
    records = [customer_record(7), customer_record(8)]
    body = key_client(org_a.tenant).post(CUSTOMERS_URL, {"records": records}, format="json").json()
    assert body["created"] == 1
    assert [(r["index"], r["field"], r["code"]) for r in body["rejected"]] == [(0, "identification_number", "unique")]


def test_payments_are_unique_per_account_and_due_date(org_a, key_client, product_a):
    from django.core.exceptions import ValidationError

    from customers.services import payment_record

    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    client.post(HOLDINGS_URL, {"records": [holding_record(1, "CB000001", product_a.code)]}, format="json")
    payments = [
        {"account_number": "ACC00000001", "due_date": "2026-10-05", "amount_due": "100.00"},
        {"account_number": "ACC00000001", "due_date": "2026-11-05", "amount_due": "100.00"},
        {"account_number": "ACC00000001", "due_date": "2026-11-05", "amount_due": "200.00"},
    ]
    body = client.post(PAYMENTS_URL, {"records": payments}, format="json").json()
    assert (body["created"], [(r["index"], r["code"]) for r in body["rejected"]]) == (2, [(2, "duplicate")])
    again = client.post(PAYMENTS_URL, {"records": payments[:2]}, format="json").json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 2)
    with tenant_context(org_a.tenant.pk):
        holding = Holding.objects.get()
        with pytest.raises(ValidationError):
            payment_record(data={"holding": holding, "due_date": dt.date(2026, 10, 5), "amount_due": Decimal("1")})
    assert row_count(Payment, org_a.tenant) == 2


def test_an_identification_taken_by_a_concurrent_batch_is_reported_not_a_500(org_a, key_client, monkeypatch):
    from customers import bulk

    client = key_client(org_a.tenant)
    client.post(CUSTOMERS_URL, {"records": [customer_record(1)]}, format="json")
    real = bulk._identification_holders
    calls = []

    def stale_first(candidates):
        # the first check misses the holder, as when another batch commits it right after
        calls.append(len(candidates))
        return {} if len(calls) == 1 else real(candidates)

    monkeypatch.setattr(bulk, "_identification_holders", stale_first)
    records = [customer_record(1) | {"external_id": "OTHER"}, customer_record(2)]
    response = client.post(CUSTOMERS_URL, {"records": records}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["created"], [(r["index"], r["code"]) for r in body["rejected"]]) == (1, [(0, "unique")])
    assert calls == [2, 2]
    assert sorted(r["external_id"] for r in customer_rows(org_a.tenant)) == ["CB000001", "CB000002"]
