"""POST /api/v1/customers/reassign/: portfolio moves, audited with the old and new owner."""

from __future__ import annotations

import pytest

from customers.models import Customer
from tests import factories as f
from tests.api.helpers import assert_problem, audit_count, row
from vector_crm.audit import audit_entries_for
from vector_crm.models import AuditLogEntry
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/reassign/"


@pytest.fixture
def portfolio(org_a):
    """Three customers of the advisor and one of the south advisor."""
    with tenant_context(org_a.tenant.pk):
        mine = f.CustomerFactory.create_batch(3, owner=org_a["advisor"].user, branch=org_a.branches[0])
        south = f.CustomerFactory(owner=org_a.extra["south_advisor"].user, branch=org_a.branches[1])
    return {"advisor": mine, "south": south}


def _owner(customer) -> int | None:
    return row(Customer, customer.pk)["owner_id"]


def _moves(org, customer) -> list[AuditLogEntry]:
    with tenant_context(org.tenant.pk):
        return list(audit_entries_for(customer).filter(action=AuditLogEntry.Action.UPDATE))


def test_supervisor_moves_chosen_customers_with_an_audit_entry_each(org_a, portfolio, api_for):
    supervisor, advisor, teammate = org_a["supervisor"], org_a["advisor"], org_a.extra["teammate"]
    first, second, third = portfolio["advisor"]
    # when the supervisor moves two of the advisor's customers to the teammate
    response = api_for(supervisor).post(URL, {"customer_ids": [first.pk, second.pk], "to_owner": teammate.user_id})
    # then they move, the third stays, and each move is audited by the supervisor
    assert response.status_code == 200, response.content
    assert response.json() == {"moved": 2}
    assert [_owner(c) for c in (first, second, third)] == [teammate.user_id, teammate.user_id, advisor.user_id]
    for customer in (first, second):
        [entry] = _moves(org_a, customer)
        assert entry.changes["owner"] == [str(advisor.user_id), str(teammate.user_id)]
        assert entry.actor_id == supervisor.user_id
    assert _moves(org_a, third) == []


def test_whole_portfolio_by_current_owner_and_to_another_branch(org_a, portfolio, api_for):
    manager, advisor, south_advisor = org_a["branch_manager"], org_a["advisor"], org_a.extra["south_advisor"]
    # when the branch manager moves all of the advisor's customers to the south advisor and branch
    response = api_for(manager).post(
        URL,
        {
            "from_owner": advisor.user_id,
            "to_owner": south_advisor.user_id,
            "branch": org_a.branches[1].pk,
        },
    )
    assert response.json() == {"moved": 3}
    for customer in portfolio["advisor"]:
        stored = row(Customer, customer.pk)
        assert (stored["owner_id"], stored["branch_id"]) == (south_advisor.user_id, org_a.branches[1].pk)
        assert _moves(org_a, customer)[0].changes["branch"] == [str(org_a.branches[0].pk), str(org_a.branches[1].pk)]
    assert _owner(portfolio["south"]) == south_advisor.user_id


def test_moving_to_the_current_owner_moves_nothing(org_a, portfolio, api_for):
    customer = portfolio["advisor"][0]
    audits = audit_count(org_a.tenant)
    response = api_for(org_a["tenant_admin"]).post(
        URL, {"customer_ids": [customer.pk], "to_owner": org_a["advisor"].user_id}
    )
    assert response.json() == {"moved": 0}
    assert audit_count(org_a.tenant) == audits


def test_api_key_moves_with_the_credential_on_the_audit_entry(org_a, portfolio, api_key_for):
    client = api_key_for(org_a.tenant, scopes=["customers:write"])
    customer = portfolio["south"]
    response = client.post(URL, {"customer_ids": [customer.pk], "to_owner": org_a["advisor"].user_id})
    assert response.json() == {"moved": 1}
    [entry] = _moves(org_a, customer)
    assert (entry.actor_id, entry.api_credential_id) == (None, client.credential.pk)


@pytest.mark.parametrize(
    "role", [Role.ADVISOR, Role.MARKETING, Role.ANALYST, Role.COLLECTIONS_AGENT, Role.COLLECTIONS_MANAGER]
)
def test_roles_without_reassign_right_are_refused(role, org_a, portfolio, api_for):
    customer = portfolio["advisor"][0]
    audits = audit_count(org_a.tenant)
    response = api_for(org_a[role]).post(
        URL, {"customer_ids": [customer.pk], "to_owner": org_a.extra["teammate"].user_id}
    )
    assert_problem(response, 403)
    assert _owner(customer) == org_a["advisor"].user_id
    assert audit_count(org_a.tenant) == audits


def test_customers_outside_the_supervisors_team_are_unknown(org_a, portfolio, api_for):
    mine, south = portfolio["advisor"][0], portfolio["south"]
    response = api_for(org_a["supervisor"]).post(
        URL, {"customer_ids": [mine.pk, south.pk], "to_owner": org_a.extra["teammate"].user_id}
    )
    problem = assert_problem(response, 400, "customer_ids")
    assert str(south.pk) in problem["errors"][0]["message"]
    # all or nothing: the visible one did not move either
    assert (_owner(mine), _owner(south)) == (org_a["advisor"].user_id, org_a.extra["south_advisor"].user_id)


def test_target_owner_must_be_a_member_of_the_tenant(org_a, org_b, portfolio, api_for):
    customer = portfolio["advisor"][0]
    response = api_for(org_a["tenant_admin"]).post(
        URL, {"customer_ids": [customer.pk], "to_owner": org_b["advisor"].user_id}
    )
    assert_problem(response, 400, "to_owner")
    assert _owner(customer) == org_a["advisor"].user_id


def test_inactive_member_cannot_receive_a_portfolio(org_a, portfolio, api_for):
    teammate = org_a.extra["teammate"]
    with tenant_context(org_a.tenant.pk):
        type(teammate).objects.filter(pk=teammate.pk).update(is_active=False)
    response = api_for(org_a["tenant_admin"]).post(
        URL, {"customer_ids": [portfolio["advisor"][0].pk], "to_owner": teammate.user_id}
    )
    assert_problem(response, 400, "to_owner")


def test_which_customers_must_be_said(org_a, api_for):
    response = api_for(org_a["tenant_admin"]).post(URL, {"to_owner": org_a["advisor"].user_id})
    assert_problem(response, 400, "customer_ids")


@pytest.mark.parametrize("field", ["customer_ids", "to_owner"])
def test_ids_beyond_the_64_bit_range_are_a_field_error(org_a, portfolio, api_for, field):
    huge = 2**64 + 7
    body = {"customer_ids": [portfolio["advisor"][0].pk], "to_owner": org_a.extra["teammate"].user_id}
    body[field] = [huge] if field == "customer_ids" else huge
    response = api_for(org_a["tenant_admin"]).post(URL, body, format="json")
    assert_problem(response, 400, field)
    assert _owner(portfolio["advisor"][0]) == org_a["advisor"].user_id
