"""Who sees which customers inside one tenant, per role, and the same on dependent rows.

The book of tenant A (north branch: the advisor's team; south branch: another advisor):

    own           owner advisor        north
    teammate's    owner teammate       north   (same team as the advisor)
    unassigned_n  no owner             north
    unassigned_s  no owner             south
    south         owner south advisor  south
"""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.api.helpers import assert_problem, ids
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(org_a):
    north, south = org_a.branches
    with tenant_context(org_a.tenant.pk):
        customers = {
            "own": f.CustomerFactory(owner=org_a["advisor"].user, branch=north),
            "teammate": f.CustomerFactory(owner=org_a.extra["teammate"].user, branch=north),
            "unassigned_n": f.CustomerFactory(owner=None, branch=north),
            "unassigned_s": f.CustomerFactory(owner=None, branch=south),
            "south": f.CustomerFactory(owner=org_a.extra["south_advisor"].user, branch=south),
        }
        holdings = {name: f.HoldingFactory(customer=customer) for name, customer in customers.items()}
        interactions = {name: f.InteractionFactory(customer=customer) for name, customer in customers.items()}
    return {"customers": customers, "holdings": holdings, "interactions": interactions}


EVERYTHING = {"own", "teammate", "unassigned_n", "unassigned_s", "south"}
EXPECTED = {
    Role.ADVISOR: {"own", "unassigned_n"},
    "teammate": {"teammate", "unassigned_n"},
    "south_advisor": {"south", "unassigned_s"},
    Role.SUPERVISOR: {"own", "teammate"},
    Role.BRANCH_MANAGER: {"own", "teammate", "unassigned_n"},
    Role.TENANT_ADMIN: EVERYTHING,
    Role.ANALYST: EVERYTHING,
    Role.MARKETING: EVERYTHING,
    Role.COLLECTIONS_AGENT: EVERYTHING,
    Role.COLLECTIONS_MANAGER: EVERYTHING,
}


def _member(org, who):
    return org.extra[who] if who in org.extra else org[who]


def _names(book, kind, response):
    by_id = {obj.pk: name for name, obj in book[kind].items()}
    return {by_id[pk] for pk in ids(response)}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_customer_list_per_role(who, org_a, book, api_for):
    response = api_for(_member(org_a, who)).get("/api/v1/customers/")
    assert response.status_code == 200
    assert _names(book, "customers", response) == EXPECTED[who]


@pytest.mark.parametrize("who", sorted(EXPECTED))
@pytest.mark.parametrize("kind", ["holdings", "interactions"])
def test_dependent_rows_follow_customer_visibility(who, kind, org_a, book, api_for):
    response = api_for(_member(org_a, who)).get(f"/api/v1/{kind}/")
    assert response.status_code == 200
    assert _names(book, kind, response) == EXPECTED[who]


@pytest.mark.parametrize("who", [Role.ADVISOR, Role.SUPERVISOR, Role.BRANCH_MANAGER])
def test_customer_outside_the_portfolio_is_not_found(who, org_a, book, api_for):
    client = api_for(_member(org_a, who))
    outside = book["customers"]["south"]
    assert_problem(client.get(f"/api/v1/customers/{outside.pk}/"), 404)
    assert_problem(client.patch(f"/api/v1/customers/{outside.pk}/", {"city": "Pasto"}), 404)
    assert_problem(client.get(f"/api/v1/holdings/{book['holdings']['south'].pk}/"), 404)
    assert_problem(client.get(f"/api/v1/customers/{outside.pk}/interactions/"), 404)


def test_advisor_cannot_log_an_interaction_on_a_customer_outside_the_portfolio(org_a, book, api_for):
    response = api_for(org_a["advisor"]).post(
        "/api/v1/interactions/",
        {
            "customer": book["customers"]["south"].pk,
            "channel": "phone",
            "direction": "outbound",
            "interaction_type": "call",
        },
    )
    assert_problem(response, 400, "customer")


def test_api_key_sees_the_whole_institution(org_a, book, api_key_for):
    response = api_key_for(org_a.tenant).get("/api/v1/customers/")
    assert _names(book, "customers", response) == EVERYTHING


def test_user_with_two_memberships_sees_the_active_tenant_only(org_a, org_b, api_for):
    # given one person who is advisor in A and tenant admin in B, with a customer in each
    user = org_a["tenant_admin"].user
    with tenant_context(org_b.tenant.pk):
        in_b = f.MembershipFactory(tenant=org_b.tenant, user=user, role=Role.TENANT_ADMIN, branch=org_b.branches[0])
        customer_b = f.CustomerFactory()
    with tenant_context(org_a.tenant.pk):
        customer_a = f.CustomerFactory()
    client = api_for(org_a["tenant_admin"])
    # when the session acts in A, then only A's customer is listed and B's is not found
    assert ids(client.get("/api/v1/customers/")) == [customer_a.pk]
    assert_problem(client.get(f"/api/v1/customers/{customer_b.pk}/"), 404)
    # when the session switches to B, then the data switches with it
    session = client.session
    from vector_crm.middleware import SESSION_TENANT_KEY

    session[SESSION_TENANT_KEY] = in_b.tenant_id
    session.save()
    assert ids(client.get("/api/v1/customers/")) == [customer_b.pk]
    assert_problem(client.get(f"/api/v1/customers/{customer_a.pk}/"), 404)
    # and a write lands in B
    created = client.post("/api/v1/branches/", {"code": "Q-1", "name": "Quito Centro"}).json()
    with tenant_context(org_b.tenant.pk):
        assert f.BranchFactory._meta.model.objects.filter(pk=created["id"]).exists()


def test_session_pointing_at_a_tenant_without_membership_falls_back(org_a, org_b, api_for):
    # given A's advisor whose session claims tenant B (where they have no membership)
    with tenant_context(org_b.tenant.pk):
        customer_b = f.CustomerFactory()
    client = api_for(org_a["advisor"])
    session = client.session
    from vector_crm.middleware import SESSION_TENANT_KEY

    session[SESSION_TENANT_KEY] = org_b.tenant.pk
    session.save()
    # then the request acts in A, and B's customer stays unknown
    assert_problem(client.get(f"/api/v1/customers/{customer_b.pk}/"), 404)
    assert client.get("/api/v1/customers/").status_code == 200
