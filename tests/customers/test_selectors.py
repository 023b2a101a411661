"""customers.selectors: visibility per role, search, single-object access and the 360."""

from __future__ import annotations

import pytest

from customers import selectors
from tests import factories as f
from vector_crm.errors import NotFound
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def book(org_a):
    """Tenant A's customers by who owns them and where (see tests/api/test_visibility.py)."""
    north, south = org_a.branches
    with tenant_context(org_a.tenant.pk):
        yield {
            "own": f.CustomerFactory(owner=org_a["advisor"].user, branch=north),
            "teammate": f.CustomerFactory(owner=org_a.extra["teammate"].user, branch=north),
            "unassigned_n": f.CustomerFactory(owner=None, branch=north),
            "unassigned_s": f.CustomerFactory(owner=None, branch=south),
            "south": f.CustomerFactory(owner=org_a.extra["south_advisor"].user, branch=south),
        }


def _seen(book, queryset, through=lambda obj: obj.pk) -> set[str]:
    by_id = {customer.pk: name for name, customer in book.items()}
    return {by_id[through(obj)] for obj in queryset}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        (Role.ADVISOR, {"own", "unassigned_n"}),
        (Role.SUPERVISOR, {"own", "teammate"}),
        (Role.BRANCH_MANAGER, {"own", "teammate", "unassigned_n"}),
        (Role.TENANT_ADMIN, {"own", "teammate", "unassigned_n", "unassigned_s", "south"}),
        (Role.ANALYST, {"own", "teammate", "unassigned_n", "unassigned_s", "south"}),
    ],
)
def test_visible_customers_per_role(role, expected, org_a, book):
    assert _seen(book, selectors.visible_customers(org_a[role])) == expected


def test_api_credential_sees_the_whole_tenant_and_nothing_else(org_a, org_b, book):
    with tenant_context(org_b.tenant.pk):
        f.CustomerFactory()
    assert _seen(book, selectors.visible_customers(None)) == set(book)


def test_branch_manager_without_branch_sees_nothing(org_a, book):
    manager = org_a[Role.BRANCH_MANAGER]
    manager.branch = None
    assert list(selectors.visible_customers(manager)) == []


def test_dependent_lists_follow_customer_visibility(org_a, book):
    for customer in book.values():
        holding = f.HoldingFactory(customer=customer)
        f.PaymentFactory(holding=holding, customer=customer)
        f.MonthlyAccountSummaryFactory(holding=holding, customer=customer)
        f.InteractionFactory(customer=customer)
    advisor = org_a[Role.ADVISOR]
    customer_of = lambda obj: obj.customer_id  # noqa: E731
    for queryset in (
        selectors.holding_list(advisor),
        selectors.payment_list(advisor),
        selectors.monthly_summary_list(advisor),
        selectors.interaction_list(advisor),
    ):
        assert _seen(book, queryset, customer_of) == {"own", "unassigned_n"}


def test_access_customer_is_not_found_outside_scope_or_tenant(org_a, org_b, book):
    assert selectors.access_customer(org_a[Role.ADVISOR], book["own"].pk) == book["own"]
    with pytest.raises(NotFound):
        selectors.access_customer(org_a[Role.ADVISOR], book["south"].pk)
    with tenant_context(org_b.tenant.pk), pytest.raises(NotFound):
        selectors.access_customer(None, book["own"].pk)


def test_access_holding_and_branch(org_a, org_b, book):
    holding = f.HoldingFactory(customer=book["south"])
    assert selectors.access_holding(org_a[Role.TENANT_ADMIN], holding.pk) == holding
    with pytest.raises(NotFound):
        selectors.access_holding(org_a[Role.ADVISOR], holding.pk)
    with tenant_context(org_b.tenant.pk), pytest.raises(NotFound) as other:
        selectors.access_branch(org_a.branches[0].pk)
    assert other.value.field == "branch"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("maria jose", {"maria"}),
        ("MARÍA JOSÉ G", {"maria"}),
        ("ma", {"maria", "mario"}),
        ("gomez", set()),  # the start of the full name only
        ("1020", {"maria"}),  # identification number prefix, four digits or more
        ("102", set()),
        ("+57 310 555 1234", {"mario"}),  # mobile, by its last digits
        ("3105551234", {"mario"}),
    ],
)
def test_search_filter(text, expected, org_a):
    with tenant_context(org_a.tenant.pk):
        people = {
            "maria": f.CustomerFactory(
                first_name="María José", last_name="Gómez", identification_number="1020304050", mobile="+573001110000"
            ),
            "mario": f.CustomerFactory(
                first_name="Mario", last_name="Ruiz", identification_number="79000111", mobile="+573105551234"
            ),
        }
        by_id = {c.pk: name for name, c in people.items()}
        found = {by_id[pk] for pk in selectors.customer_list(None, search=text).values_list("pk", flat=True)}
    assert found == expected


def test_customer_list_filters_and_order(org_a, book):
    north = org_a.branches[0]
    listed = list(selectors.customer_list(org_a[Role.TENANT_ADMIN], branch_id=north.pk))
    assert [c.pk for c in listed] == sorted((book[n].pk for n in ("own", "teammate", "unassigned_n")), reverse=True)
    owned = selectors.customer_list(None, owner_id=org_a["advisor"].user_id)
    assert [c.pk for c in owned] == [book["own"].pk]


def test_tenant_members_are_active_members_of_the_current_tenant(org_a, org_b):
    teammate = org_a.extra["teammate"]
    with tenant_context(org_a.tenant.pk):
        type(teammate).objects.filter(pk=teammate.pk).update(is_active=False)
        members = set(selectors.tenant_members().values_list("username", flat=True))
    assert "a_advisor" in members
    assert "a_teammate" not in members
    assert not any(name.startswith("b_") for name in members)


def test_customer_360_in_a_fixed_number_of_queries(org_a, django_assert_num_queries):
    with tenant_context(org_a.tenant.pk):
        customer = f.CustomerFactory()
        loan = f.ProductFactory(family="loan")
        savings = f.ProductFactory(family="savings")
        f.HoldingFactory(customer=customer, product=loan, balance=300, days_past_due=12)
        f.HoldingFactory(customer=customer, product=savings, balance=1000)
        f.InteractionFactory.create_batch(3, customer=customer)
        f.ChannelConsentFactory(customer=customer)
        with django_assert_num_queries(5):
            view = selectors.customer_360(None, customer.pk)
    assert (view["totals"]["assets"], view["totals"]["liabilities"], view["totals"]["delinquent"]) == (300, 1000, 1)
    assert view["max_days_past_due"] == 12
    assert (len(view["holdings"]), len(view["timeline"]), len(view["consents"])) == (2, 3, 1)
