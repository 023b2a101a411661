"""``Idempotency-Key`` on API writes: a retry replays the first response and changes
nothing; a reused key with another request is refused; keys are per tenant and principal,
expire after 24 hours and are purged by the hourly job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers.api.views import CustomerViewSet
from customers.models import Customer
from tests import factories as f
from tests.api.conftest import PRINCIPALS
from tests.api.endpoints import UPDATABLE_ENDPOINTS, WRITABLE_ENDPOINTS, build, customer_body
from tests.api.helpers import assert_problem, audit_count, row, row_count
from vector_crm.celery import app
from vector_crm.idempotency import KEY_TTL, idempotency_purge_expired, request_fingerprint
from vector_crm.jobs import purge_expired_idempotency_keys
from vector_crm.models import IdempotencyRecord, IdempotencyStatus
from vector_crm.tenancy import platform_context

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


def records(tenant) -> list[IdempotencyRecord]:
    with platform_context():
        return list(IdempotencyRecord.unscoped.filter(tenant=tenant).order_by("pk"))


def post(client, body, key, url=URL):
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", WRITABLE_ENDPOINTS, ids=str)
def test_retried_post_replays_the_first_response_and_writes_once(endpoint, principal, org_a, client_as):
    # given a create that succeeded with a key
    client = client_as(org_a, principal)
    body = build(org_a, endpoint.create_body)
    first = post(client, body, "feed-2026-11-23", endpoint.list_url())
    assert first.status_code in (200, 201), first.content
    rows, audits = row_count(endpoint.model, org_a.tenant), audit_count(org_a.tenant)

    # when the client retries it with the same key and body
    again = post(client, body, "feed-2026-11-23", endpoint.list_url())

    # then it gets the same status and bytes, and nothing new was written
    assert (again.status_code, again.content) == (first.status_code, first.content)
    assert again["Content-Type"] == first["Content-Type"]
    assert again["Idempotent-Replayed"] == "true"
    assert row_count(endpoint.model, org_a.tenant) == rows
    assert audit_count(org_a.tenant) == audits
    [record] = records(org_a.tenant)
    assert record.status == IdempotencyStatus.COMPLETED
    assert record.response_status == first.status_code


@pytest.mark.parametrize("endpoint", UPDATABLE_ENDPOINTS, ids=str)
def test_retried_patch_replays_and_changes_nothing(endpoint, org_a, client_as):
    client = client_as(org_a, "api_key")
    obj = build(org_a, endpoint.make)
    first = client.patch(endpoint.detail_url(obj.pk), endpoint.patch_body, format="json", HTTP_IDEMPOTENCY_KEY="p1")
    assert first.status_code == 200, first.content
    audits, after_first = audit_count(org_a.tenant), row(endpoint.model, obj.pk)

    again = client.patch(endpoint.detail_url(obj.pk), endpoint.patch_body, format="json", HTTP_IDEMPOTENCY_KEY="p1")

    assert (again.status_code, again.content, again["ETag"]) == (first.status_code, first.content, first["ETag"])
    assert audit_count(org_a.tenant) == audits
    assert row(endpoint.model, obj.pk) == after_first


def test_location_header_of_a_201_is_replayed(org_a, client_as):
    client = client_as(org_a, "user")
    body = customer_body(org_a)
    first = post(client, body, "k")
    again = post(client, body, "k")
    assert again.status_code == 201
    assert {k: again.get(k) for k in ("Location", "ETag")} == {k: first.get(k) for k in ("Location", "ETag")}


def test_same_key_with_another_body_is_422_and_writes_nothing(org_a, client_as):
    client = client_as(org_a, "api_key")
    first = post(client, customer_body(org_a), "k-1")
    assert first.status_code == 201
    customers = row_count(Customer, org_a.tenant)

    other = post(client, customer_body(org_a), "k-1")  # another identification number

    body = assert_problem(other, 422)
    assert body["type"].endswith("/idempotency-key-reused")
    assert row_count(Customer, org_a.tenant) == customers


def test_same_key_on_another_path_is_422(org_a, client_as):
    client = client_as(org_a, "api_key")
    assert post(client, customer_body(org_a), "k-2").status_code == 201
    other = post(client, {"code": "Z1", "name": "Agencia Z"}, "k-2", "/api/v1/branches/")
    assert_problem(other, 422)


def test_key_in_progress_is_409_and_the_request_does_not_run(org_a, client_as):
    # given another request with this key is still running (its reservation is committed)
    client = client_as(org_a, "api_key")
    body = customer_body(org_a)
    f.IdempotencyRecordFactory(
        tenant=org_a.tenant,
        principal=f"api:{client.credential.pk}",
        key="busy",
        method="POST",
        path=URL,
        fingerprint=request_fingerprint(client._encode_data(body, "json")[0]),
    )
    customers = row_count(Customer, org_a.tenant)

    # when the same request arrives, then it is told to retry later and nothing is written
    response = post(client, body, "busy")
    problem = assert_problem(response, 409)
    assert problem["type"].endswith("/idempotency-key-in-use")
    assert row_count(Customer, org_a.tenant) == customers


def test_expired_key_is_treated_as_new(org_a, client_as):
    # given a completed key of yesterday for the same request
    client = client_as(org_a, "api_key")
    body = customer_body(org_a)
    stale = f.IdempotencyRecordFactory(
        tenant=org_a.tenant,
        principal=f"api:{client.credential.pk}",
        key="old",
        method="POST",
        path=URL,
        fingerprint="f" * 64,
        status=IdempotencyStatus.COMPLETED,
        response_status=201,
        response_body='{"id": 1}',
        expires_at=timezone.now() - dt.timedelta(seconds=1),
    )

    response = post(client, body, "old")

    assert response.status_code == 201, response.content
    assert "Idempotent-Replayed" not in response
    assert row(Customer, response.json()["id"]) is not None
    [record] = records(org_a.tenant)
    assert record.pk != stale.pk
    assert record.expires_at > timezone.now() + KEY_TTL - dt.timedelta(minutes=5)


def test_keys_are_per_credential_and_per_tenant(org_a, org_b, client_as, api_for):
    # given one key used by a credential of A
    first_a = client_as(org_a, "api_key")
    assert post(first_a, customer_body(org_a), "shared").status_code == 201

    # when another credential of A, a person of A and a credential of B use the same key
    responses = [
        post(client_as(org_a, "api_key"), customer_body(org_a), "shared"),
        post(api_for(org_a["tenant_admin"]), customer_body(org_a), "shared"),
        post(client_as(org_b, "api_key"), customer_body(org_b), "shared"),
    ]

    # then each is a request of its own
    assert [r.status_code for r in responses] == [201, 201, 201]
    assert all("Idempotent-Replayed" not in r for r in responses)
    assert len(records(org_a.tenant)) == 3
    assert len(records(org_b.tenant)) == 1


def test_server_error_releases_the_key(org_a, client_as, monkeypatch):
    client = client_as(org_a, "api_key")
    client.raise_request_exception = False
    body = customer_body(org_a)

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(CustomerViewSet, "create_service", staticmethod(boom))
    assert post(client, body, "retry-me").status_code == 500
    assert records(org_a.tenant) == []

    monkeypatch.undo()
    assert post(client, body, "retry-me").status_code == 201


def test_client_error_is_stored_and_replayed(org_a, client_as):
    client = client_as(org_a, "api_key")
    body = {**customer_body(org_a), "email": "not-an-email"}
    first = post(client, body, "bad")
    again = post(client, body, "bad")
    assert_problem(first, 400, "email")
    assert (again.status_code, again.content, again["Idempotent-Replayed"]) == (400, first.content, "true")


def test_without_a_key_nothing_is_stored(org_a, client_as):
    client = client_as(org_a, "api_key")
    assert client.post(URL, customer_body(org_a), format="json").status_code == 201
    assert records(org_a.tenant) == []


def test_overlong_key_is_a_validation_problem(org_a, client_as):
    response = post(client_as(org_a, "api_key"), customer_body(org_a), "x" * 256)
    assert_problem(response, 400, "Idempotency-Key")
    assert row_count(Customer, org_a.tenant) == 0


def test_refused_request_reserves_no_key(org_a, client_as, api_key_for):
    client = api_key_for(org_a.tenant, scopes=["customers:read"])
    assert_problem(post(client, customer_body(org_a), "k"), 403)
    assert records(org_a.tenant) == []


def test_purge_deletes_only_expired_keys_of_every_tenant_and_runs_twice(org_a, org_b):
    past = timezone.now() - dt.timedelta(minutes=1)
    expired = [
        f.IdempotencyRecordFactory(tenant=org_a.tenant, expires_at=past),
        f.IdempotencyRecordFactory(tenant=org_b.tenant, expires_at=past),
    ]
    live = f.IdempotencyRecordFactory(tenant=org_a.tenant)

    assert purge_expired_idempotency_keys.apply().get() == 2
    assert purge_expired_idempotency_keys.apply().get() == 0

    assert [r.pk for r in records(org_a.tenant)] == [live.pk]
    assert records(org_b.tenant) == []
    assert all(row(IdempotencyRecord, r.pk) is None for r in expired)


def test_purge_works_in_bounded_batches(org_a):
    past = timezone.now() - dt.timedelta(minutes=1)
    for _ in range(3):
        f.IdempotencyRecordFactory(tenant=org_a.tenant, expires_at=past)
    assert idempotency_purge_expired(batch_size=2) == 2
    assert idempotency_purge_expired(batch_size=2) == 1


def test_purge_is_scheduled_hourly():
    entry = app.conf.beat_schedule["platform-purge-expired-idempotency-keys"]
    assert entry["task"] == purge_expired_idempotency_keys.name
    assert entry["schedule"].hour == set(range(24))
    assert len(entry["schedule"].minute) == 1
