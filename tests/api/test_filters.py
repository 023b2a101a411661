"""Customer filters and search on the API list (the same FilterSet serves the HTML list),
plus the filters of the dependent endpoints and cursor pagination."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Customer
from tests import factories as f
from tests.api.helpers import ids
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(org_a):
    north, south = org_a.branches
    advisor = org_a["advisor"].user
    with tenant_context(org_a.tenant.pk):
        rows = {
            "pena": f.CustomerFactory(
                first_name="José",
                last_name="Peña Ruiz",
                city="Bogotá",
                branch=north,
                owner=advisor,
                income_band="2to4",
                identification_number="79111222",
                mobile="+573101234567",
            ),
            "perez": f.CustomerFactory(
                first_name="Pedro",
                last_name="Pérez",
                city="Medellín",
                branch=south,
                owner=None,
                income_band="4to8",
                lifecycle_status="prospect",
                identification_number="80333444",
                mobile="+573159876543",
            ),
            "andes": f.CustomerFactory(
                kind="company",
                identification_type="nit",
                identification_number="9001234568",
                first_name="",
                last_name="",
                legal_name="Andes Logística S.A.S.",
                city="bogotá",
                branch=north,
                owner=advisor,
                lifecycle_status="delinquent",
                mobile="+573205550000",
            ),
        }
    # created on three different days
    with platform_context():
        for days, obj in zip((30, 10, 1), rows.values(), strict=True):
            Customer.unscoped.filter(pk=obj.pk).update(created_at=timezone.now() - dt.timedelta(days=days))
    return rows


def _names(people, response) -> set[str]:
    assert response.status_code == 200, response.content
    by_id = {obj.pk: name for name, obj in people.items()}
    return {by_id[pk] for pk in ids(response)}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, {"pena", "perez", "andes"}),
        ({"lifecycle_status": "prospect"}, {"perez"}),
        ({"kind": "company"}, {"andes"}),
        ({"city": "bogotá"}, {"pena", "andes"}),  # stored as "Bogotá" and "bogotá"
        ({"income_band": "4to8"}, {"perez"}),
        ({"unassigned": "true"}, {"perez"}),
        ({"q": "jose pena"}, {"pena"}),  # accent-insensitive prefix of the display name
        ({"q": "JOSÉ PEÑA R"}, {"pena"}),
        ({"q": "Pe"}, {"perez"}),
        ({"q": "andes log"}, {"andes"}),
        ({"q": "8033"}, {"perez"}),  # identification number prefix
        ({"q": "315 987 6543"}, {"perez"}),  # mobile
        ({"q": "pena"}, set()),  # a prefix of the whole name, not any word of it
        ({"kind": "person", "city": "bogotá"}, {"pena"}),
    ],
)
def test_customer_filters(params, expected, people, client_as, org_a):
    response = client_as(org_a, "user").get("/api/v1/customers/", params)
    assert _names(people, response) == expected


def test_filter_by_branch_and_owner(people, client_as, org_a):
    client = client_as(org_a, "user")
    assert _names(people, client.get("/api/v1/customers/", {"branch": org_a.branches[0].pk})) == {"pena", "andes"}
    assert _names(people, client.get("/api/v1/customers/", {"owner": org_a["advisor"].user_id})) == {"pena", "andes"}


def test_filter_by_created_range(people, client_as, org_a):
    today = timezone.localdate()
    params = {
        "created_after": (today - dt.timedelta(days=15)).isoformat(),
        "created_before": (today - dt.timedelta(days=5)).isoformat(),
    }
    assert _names(people, client_as(org_a, "user").get("/api/v1/customers/", params)) == {"perez"}


def test_search_respects_visibility(people, api_for, org_a):
    # the advisor does not see the south branch's unassigned Pérez
    assert _names(people, api_for(org_a["advisor"]).get("/api/v1/customers/", {"q": "pe"})) == set()
    assert _names(people, api_for(org_a["tenant_admin"]).get("/api/v1/customers/", {"q": "pe"})) == {"perez"}


def test_cursor_pagination_walks_every_customer_once(org_a, client_as):
    with tenant_context(org_a.tenant.pk):
        created = {c.pk for c in f.CustomerFactory.create_batch(7)}
    client = client_as(org_a, "api_key")
    seen: list[int] = []
    url, params = "/api/v1/customers/", {"page_size": 3}
    while url:
        page = client.get(url, params).json()
        seen += [item["id"] for item in page["results"]]
        url, params = page["next"], None
    assert seen == sorted(created, reverse=True)


def test_holding_filters(org_a, client_as):
    with tenant_context(org_a.tenant.pk):
        loan = f.ProductFactory(family="loan")
        savings = f.ProductFactory(family="savings")
        late = f.HoldingFactory(product=loan, days_past_due=45)
        current = f.HoldingFactory(product=savings, customer=late.customer)
        other = f.HoldingFactory(product=savings)
    client = client_as(org_a, "user")
    assert ids(client.get("/api/v1/holdings/", {"category": "asset"})) == [late.pk]
    assert ids(client.get("/api/v1/holdings/", {"days_past_due_min": 30})) == [late.pk]
    assert ids(client.get("/api/v1/holdings/", {"customer": late.customer_id})) == [current.pk, late.pk]
    assert ids(client.get("/api/v1/holdings/", {"product": savings.pk})) == [other.pk, current.pk]


def test_payment_and_interaction_filters(org_a, client_as):
    with tenant_context(org_a.tenant.pk):
        paid = f.PaymentFactory()
        unpaid = f.PaymentFactory(paid_on=None, amount_paid=0)
        call = f.InteractionFactory(channel="phone")
        mail = f.InteractionFactory(channel="email", interaction_type="email", related_kind="case", related_id=7)
    client = client_as(org_a, "user")
    assert ids(client.get("/api/v1/payments/", {"paid": "false"})) == [unpaid.pk]
    assert ids(client.get("/api/v1/payments/", {"paid": "true"})) == [paid.pk]
    assert ids(client.get("/api/v1/interactions/", {"channel": "phone"})) == [call.pk]
    assert ids(client.get("/api/v1/interactions/", {"related_kind": "case", "related_id": 7})) == [mail.pk]
