"""Optimistic concurrency on single objects: reads and updates carry a strong ETag, and a
write whose ``If-Match`` is stale gets 412 and changes nothing."""

from __future__ import annotations

import pytest

from tests.api.conftest import PRINCIPALS
from tests.api.endpoints import DELETABLE_ENDPOINTS, ENDPOINTS, UPDATABLE_ENDPOINTS, build
from tests.api.helpers import assert_problem, audit_count, row

pytestmark = pytest.mark.django_db

RETRIEVABLE_ENDPOINTS = [e for e in ENDPOINTS if "retrieve" in e.actions]


@pytest.mark.parametrize("endpoint", RETRIEVABLE_ENDPOINTS, ids=str)
def test_detail_carries_a_strong_etag_that_is_stable(endpoint, org_a, client_as):
    client = client_as(org_a, "api_key")
    obj = build(org_a, endpoint.make)
    first = client.get(endpoint.detail_url(obj.pk))
    second = client.get(endpoint.detail_url(obj.pk))
    assert first.status_code == 200
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert second["ETag"] == etag


def test_list_carries_no_etag(org_a, client_as):
    assert "ETag" not in client_as(org_a, "api_key").get("/api/v1/customers/")


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("endpoint", UPDATABLE_ENDPOINTS, ids=str)
def test_matching_if_match_updates_and_the_new_etag_is_what_get_returns(endpoint, principal, org_a, client_as):
    # given the client read the object
    client = client_as(org_a, principal)
    obj = build(org_a, endpoint.make)
    url = endpoint.detail_url(obj.pk)
    etag = client.get(url)["ETag"]

    # when it updates with that ETag as precondition
    response = client.patch(url, endpoint.patch_body, format="json", HTTP_IF_MATCH=etag)

    # then the update happened and its ETag is the one a fresh read gives
    assert response.status_code == 200, response.content
    assert response["ETag"] != etag
    assert client.get(url)["ETag"] == response["ETag"]


@pytest.mark.parametrize("method", ["patch", "put"])
@pytest.mark.parametrize("endpoint", UPDATABLE_ENDPOINTS, ids=str)
def test_stale_if_match_is_412_and_changes_nothing(endpoint, method, org_a, client_as):
    # given the client read the object, then someone else changed it
    client = client_as(org_a, "api_key")
    obj = build(org_a, endpoint.make)
    url = endpoint.detail_url(obj.pk)
    read = client.get(url)
    stale = read["ETag"]
    assert client.patch(url, endpoint.patch_body, format="json").status_code == 200
    before, audits = row(endpoint.model, obj.pk), audit_count(org_a.tenant)

    # when the client writes with its stale ETag
    body = endpoint.patch_body if method == "patch" else {**read.json(), **endpoint.patch_body}
    response = getattr(client, method)(url, body, format="json", HTTP_IF_MATCH=stale)

    # then it is told to re-read, and the row and the audit trail are untouched
    problem = assert_problem(response, 412)
    assert problem["type"].endswith("/precondition-failed")
    assert row(endpoint.model, obj.pk) == before
    assert audit_count(org_a.tenant) == audits


@pytest.mark.parametrize("endpoint", DELETABLE_ENDPOINTS, ids=str)
def test_delete_with_stale_if_match_is_412_and_with_current_deletes(endpoint, org_a, client_as):
    client = client_as(org_a, "user")
    obj = build(org_a, endpoint.make)
    url = endpoint.detail_url(obj.pk)

    assert_problem(client.delete(url, HTTP_IF_MATCH='"0000"'), 412)
    assert row(endpoint.model, obj.pk) is not None

    response = client.delete(url, HTTP_IF_MATCH=client.get(url)["ETag"])
    assert response.status_code == 204, response.content


def test_without_if_match_or_with_star_the_write_proceeds(org_a, client_as):
    client = client_as(org_a, "api_key")
    endpoint = UPDATABLE_ENDPOINTS[0]
    obj = build(org_a, endpoint.make)
    url = endpoint.detail_url(obj.pk)
    assert client.patch(url, {"city": "Cali"}, format="json").status_code == 200
    assert client.patch(url, {"city": "Pasto"}, format="json", HTTP_IF_MATCH="*").status_code == 200
    assert row(endpoint.model, obj.pk)["city"] == "Pasto"


def test_any_of_several_tags_may_match_and_weak_tags_never_do(org_a, client_as):
    client = client_as(org_a, "api_key")
    endpoint = UPDATABLE_ENDPOINTS[0]
    obj = build(org_a, endpoint.make)
    url = endpoint.detail_url(obj.pk)
    etag = client.get(url)["ETag"]

    assert_problem(client.patch(url, {"city": "Cali"}, format="json", HTTP_IF_MATCH=f"W/{etag}"), 412)
    response = client.patch(url, {"city": "Cali"}, format="json", HTTP_IF_MATCH=f'"other", {etag}')
    assert response.status_code == 200


def test_stale_if_match_on_another_tenants_object_is_still_404(org_a, org_b, client_as):
    obj = build(org_a, UPDATABLE_ENDPOINTS[0].make)
    response = client_as(org_b, "api_key").patch(
        UPDATABLE_ENDPOINTS[0].detail_url(obj.pk), {"city": "Cali"}, format="json", HTTP_IF_MATCH='"x"'
    )
    assert_problem(response, 404)


def _patch_in_thread(client, url, body, etag, results, name):
    from django.db import connection

    try:
        results[name] = client.patch(url, body, format="json", HTTP_IF_MATCH=etag)
    finally:
        connection.close()


def _wait_until(condition, timeout: float = 30.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return False


def _backends_waiting_for_a_lock() -> int:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("endpoint", UPDATABLE_ENDPOINTS, ids=str)
def test_two_concurrent_updates_with_the_same_if_match_give_one_success_and_one_412(
    endpoint, pg_only, org_a, api_key_for, monkeypatch
):
    import threading

    from django.db import transaction

    from vector_crm.api.urls import router
    from vector_crm.roles import ALL_SCOPES

    # given an object and its current ETag, read by two clients of the same bank
    viewset = next(viewset for _prefix, viewset, basename in router.registry if basename == endpoint.basename)
    obj = build(org_a, endpoint.make)
    url = endpoint.detail_url(obj.pk)
    first_client = api_key_for(org_a.tenant, scopes=list(ALL_SCOPES))
    second_client = api_key_for(org_a.tenant, scopes=list(ALL_SCOPES))
    etag = first_client.get(url)["ETag"]
    audits = audit_count(org_a.tenant)

    # and a hook that holds the first writer's transaction open after its service wrote
    first_wrote, release = threading.Event(), threading.Event()
    real_perform_update = viewset.perform_update
    writes: list[int] = []

    def held_perform_update(self, serializer):
        with transaction.atomic():  # the service's own transaction, whichever is outermost
            real_perform_update(self, serializer)
            writes.append(serializer.instance.pk)
            if len(writes) == 1:
                first_wrote.set()
                release.wait(timeout=30)

    monkeypatch.setattr(viewset, "perform_update", held_perform_update)
    results: dict = {}
    first = threading.Thread(
        target=_patch_in_thread, args=(first_client, url, endpoint.patch_body, etag, results, "first")
    )
    second = threading.Thread(
        target=_patch_in_thread, args=(second_client, url, endpoint.patch_body, etag, results, "second")
    )

    # when the first update is inside its transaction and the second arrives with the same ETag
    first.start()
    assert first_wrote.wait(timeout=30)
    second.start()
    # the second waits on the row lock (or, without one, would already have finished)
    assert _wait_until(lambda: _backends_waiting_for_a_lock() >= 1 or not second.is_alive())
    release.set()
    first.join(timeout=30)
    second.join(timeout=30)

    # then the first wins and the second is told its ETag is stale; only one write happened
    assert results["first"].status_code == 200, results["first"].content
    assert_problem(results["second"], 412)
    assert writes == [obj.pk]
    stored = row(endpoint.model, obj.pk)
    assert {name: str(stored[name]) for name in endpoint.patch_body} == endpoint.patch_body
    assert audit_count(org_a.tenant) == audits + 1
    assert first_client.get(url)["ETag"] == results["first"]["ETag"]
