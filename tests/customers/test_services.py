"""customers.services: every write of the shared customer model, called directly as the UI,
API, imports and jobs do. Each runs in one transaction, checks rights and invariants, and
leaves an audit entry only when something was written."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from customers import services
from customers.models import Branch, ChannelConsent, Customer, Holding, MonthlyAccountSummary, Payment, Product
from tests import factories as f
from vector_crm.audit import audit_entries_for
from vector_crm.errors import DomainError, ErrorCode, NotFound, PermissionDeniedError
from vector_crm.models import AuditLogEntry
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def in_a(org_a):
    with tenant_context(org_a.tenant.pk):
        yield org_a


def _person(**extra) -> dict:
    return {
        "identification_type": "cc",
        "identification_number": "52123456",
        "first_name": "Ana",
        "last_name": "Pérez",
        "mobile": "+573001112233",
    } | extra


def _audits() -> int:
    return AuditLogEntry.objects.count()


# --- customers ------------------------------------------------------------------------


def test_customer_create_normalises_and_audits(in_a):
    admin = in_a["tenant_admin"]
    customer = services.customer_create(
        actor=admin.user, membership=admin, data=_person(identification_number=" 52.123.456 ")
    )
    assert (customer.identification_number, customer.search_name, customer.tenant_id) == (
        "52123456",
        "ana perez",
        in_a.tenant.pk,
    )
    [entry] = audit_entries_for(customer)
    assert (entry.action, entry.actor_id) == (AuditLogEntry.Action.CREATE, admin.user_id)


def test_advisor_customer_goes_to_own_portfolio_and_branch(in_a):
    advisor = in_a["advisor"]
    customer = services.customer_create(actor=advisor.user, membership=advisor, data=_person())
    assert (customer.owner_id, customer.branch_id) == (advisor.user_id, advisor.branch_id)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            _person(identification_type="nit", identification_number="9001234567", kind="company", legal_name="X"),
            "identification_number",
        ),
        (_person(identification_type="ci_ec", identification_number="1710034066"), "identification_number"),
        (_person(kind="company", legal_name=""), "legal_name"),
        (_person(kind="company", legal_name="Andes S.A.S."), "identification_type"),
        (_person(last_name=""), "last_name"),
        (_person(email="no-es-correo"), "email"),
        (_person(lifecycle_status="churned"), "churn_reason"),
    ],
)
def test_customer_create_refuses_invalid_data_and_writes_nothing(data, field, in_a):
    admin = in_a["tenant_admin"]
    audits = _audits()
    with pytest.raises(ValidationError) as refused:
        services.customer_create(actor=admin.user, membership=admin, data=data)
    assert field in refused.value.message_dict
    assert (Customer.objects.count(), _audits()) == (0, audits)


def test_duplicate_identification_is_named_and_tenant_local(in_a, org_b):
    services.customer_create(data=_person())
    with pytest.raises(ValidationError) as refused:
        services.customer_create(data=_person(identification_number="52 123 456", first_name="Otra"))
    [error] = refused.value.error_dict["identification_number"]
    assert error.code == "duplicate-identification"
    assert Customer.objects.count() == 1
    with tenant_context(org_b.tenant.pk):
        assert services.customer_create(data=_person()).identification_number == "52123456"


def test_customer_create_rolls_back_when_a_consent_is_invalid(in_a):
    audits = _audits()
    consents = [
        {"channel": "email", "opted_in": True, "source": "web"},
        {"channel": "fax", "opted_in": True, "source": "web"},
    ]
    with pytest.raises(ValidationError):
        services.customer_create(data=_person(consents=consents))
    assert (Customer.objects.count(), ChannelConsent.objects.count(), _audits()) == (0, 0, audits)


def test_customer_create_refuses_unknown_fields_and_foreign_rows(in_a, org_b):
    with pytest.raises(DomainError) as unknown:
        services.customer_create(data=_person(tenant_id=org_b.tenant.pk))
    assert unknown.value.field == "tenant_id"
    with pytest.raises(DomainError) as foreign_branch:
        services.customer_create(data=_person(branch=org_b.branches[0]))
    assert (foreign_branch.value.code, foreign_branch.value.field) == (ErrorCode.CROSS_TENANT_REFERENCE, "branch")
    with pytest.raises(DomainError) as foreign_owner:
        services.customer_create(data=_person(owner=org_b["advisor"].user))
    assert (foreign_owner.value.code, foreign_owner.value.field) == (ErrorCode.INVALID_ASSIGNMENT, "owner")
    assert Customer.objects.count() == 0


def test_customer_create_needs_the_right(in_a):
    marketing = in_a["marketing"]
    with pytest.raises(PermissionDeniedError):
        services.customer_create(actor=marketing.user, membership=marketing, data=_person())
    assert Customer.objects.count() == 0


def test_customer_update_churn_dates_and_clears_reason(in_a):
    customer = f.CustomerFactory()
    services.customer_update(customer=customer, data={"lifecycle_status": "churned", "churn_reason": "non_use"})
    customer.refresh_from_db()
    assert (customer.churn_reason, customer.churned_at) == ("non_use", timezone.localdate())
    services.customer_update(customer=customer, data={"lifecycle_status": "active"})
    customer.refresh_from_db()
    assert (customer.lifecycle_status, customer.churn_reason, customer.churned_at) == ("active", "", None)


def test_customer_update_records_before_and_after(in_a):
    supervisor = in_a["supervisor"]
    customer = f.CustomerFactory(city="Bogotá")
    services.customer_update(actor=supervisor.user, membership=supervisor, customer=customer, data={"city": "Cali"})
    entry = audit_entries_for(customer).order_by("-pk").first()
    assert (entry.changes["city"], entry.actor_id) == (["Bogotá", "Cali"], supervisor.user_id)


def test_advisor_cannot_change_owner_or_branch(in_a):
    advisor = in_a["advisor"]
    customer = f.CustomerFactory(owner=advisor.user)
    for data in ({"owner": in_a.extra["teammate"].user}, {"branch": in_a.branches[1]}):
        with pytest.raises(PermissionDeniedError):
            services.customer_update(actor=advisor.user, membership=advisor, customer=customer, data=data)
    customer.refresh_from_db()
    assert (customer.owner_id, customer.branch_id) == (advisor.user_id, None)


def test_customer_delete(in_a):
    admin = in_a["tenant_admin"]
    kept = f.HoldingFactory().customer
    gone = f.CustomerFactory()
    with pytest.raises(DomainError) as refused:
        services.customer_delete(actor=admin.user, membership=admin, customer=kept)
    assert refused.value.field == "holdings"
    with pytest.raises(PermissionDeniedError):
        services.customer_delete(actor=in_a["advisor"].user, membership=in_a["advisor"], customer=gone)
    services.customer_delete(actor=admin.user, membership=admin, customer=gone)
    assert list(Customer.objects.values_list("pk", flat=True)) == [kept.pk]


# --- portfolio reassignment -----------------------------------------------------------


def test_portfolio_reassign_moves_only_what_the_member_sees(in_a):
    supervisor, advisor, teammate = in_a["supervisor"], in_a["advisor"], in_a.extra["teammate"]
    mine = f.CustomerFactory.create_batch(2, owner=advisor.user)
    south = f.CustomerFactory(owner=in_a.extra["south_advisor"].user)
    moved = services.portfolio_reassign(
        actor=supervisor.user, membership=supervisor, from_owner=advisor.user, to_owner=teammate.user
    )
    assert moved == 2
    assert set(Customer.objects.filter(owner=teammate.user).values_list("pk", flat=True)) == {c.pk for c in mine}
    south.refresh_from_db()
    assert south.owner_id == in_a.extra["south_advisor"].user_id
    entry = audit_entries_for(mine[0]).filter(action=AuditLogEntry.Action.UPDATE).get()
    assert entry.changes["owner"] == [str(advisor.user_id), str(teammate.user_id)]


def test_portfolio_reassign_all_or_nothing_on_unknown_ids(in_a, org_b):
    admin = in_a["tenant_admin"]
    mine = f.CustomerFactory(owner=in_a["advisor"].user)
    with tenant_context(org_b.tenant.pk):
        theirs = f.CustomerFactory()
    with pytest.raises(NotFound) as missing:
        services.portfolio_reassign(
            actor=admin.user, membership=admin, customer_ids=[mine.pk, theirs.pk], to_owner=in_a.extra["teammate"].user
        )
    assert missing.value.field == "customer_ids"
    mine.refresh_from_db()
    assert mine.owner_id == in_a["advisor"].user_id


def test_portfolio_reassign_checks_right_and_target(in_a, org_b):
    customer = f.CustomerFactory(owner=in_a["advisor"].user)
    with pytest.raises(PermissionDeniedError):
        services.portfolio_reassign(
            membership=in_a["advisor"], customer_ids=[customer.pk], to_owner=in_a.extra["teammate"].user
        )
    with pytest.raises(DomainError) as foreign:
        services.portfolio_reassign(customer_ids=[customer.pk], to_owner=org_b["advisor"].user)
    assert foreign.value.field == "to_owner"
    with pytest.raises(DomainError) as unsaid:
        services.portfolio_reassign(to_owner=in_a.extra["teammate"].user)
    assert unsaid.value.field == "customer_ids"


# --- catalogue ------------------------------------------------------------------------


def test_product_category_is_derived_from_family(in_a):
    product = services.product_create(data={"code": "TDC", "name": "Visa", "family": "credit_card", "currency": "COP"})
    assert product.category == "asset"
    services.product_update(product=product, data={"family": "payroll"})
    product.refresh_from_db()
    assert product.category == "service"


def test_product_currency_and_code_are_validated(in_a):
    with pytest.raises(ValidationError) as bad_currency:
        services.product_create(data={"code": "X", "name": "X", "family": "savings", "currency": "ZZZ"})
    assert "currency" in bad_currency.value.message_dict
    services.product_create(data={"code": "AH1", "name": "Ahorro", "family": "savings", "currency": "COP"})
    with pytest.raises(ValidationError) as taken:
        services.product_create(data={"code": "AH1", "name": "Otro", "family": "savings", "currency": "COP"})
    assert [e.code for e in taken.value.error_dict["code"]] == ["unique"]
    assert Product.objects.count() == 1


def test_branch_and_product_are_only_deleted_when_unused(in_a):
    used_branch, free_branch = in_a.branches[0], f.BranchFactory()
    f.CustomerFactory(branch=used_branch)
    holding = f.HoldingFactory()
    free_product = f.ProductFactory()
    with pytest.raises(DomainError) as branch_refused:
        services.branch_delete(branch=used_branch)
    with pytest.raises(DomainError) as product_refused:
        services.product_delete(product=holding.product)
    assert (branch_refused.value.field, product_refused.value.field) == ("customers", "holdings")
    services.branch_delete(branch=free_branch)
    services.product_delete(product=free_product)
    assert not Branch.objects.filter(pk=free_branch.pk).exists()
    assert set(Product.objects.values_list("pk", flat=True)) == {holding.product_id}


def test_catalogue_needs_manage_right(in_a):
    analyst = in_a["analyst"]
    with pytest.raises(PermissionDeniedError):
        services.branch_create(actor=analyst.user, membership=analyst, data={"code": "Z", "name": "Z"})
    with pytest.raises(PermissionDeniedError):
        services.branch_delete(actor=analyst.user, membership=analyst, branch=in_a.branches[1])
    assert Branch.objects.count() == 2


# --- accounts, months, payments ---------------------------------------------------------


def test_holding_create_and_delete(in_a, org_b):
    customer, product = f.CustomerFactory(), f.ProductFactory()
    data = {
        "customer": customer,
        "product": product,
        "account_number": "001-1",
        "currency": "COP",
        "opened_on": dt.date(2025, 1, 2),
    }
    with pytest.raises(ValidationError) as bad_maturity:
        services.holding_create(data=data | {"maturity_date": dt.date(2024, 1, 1)})
    assert "maturity_date" in bad_maturity.value.message_dict
    holding = services.holding_create(data=data)
    with tenant_context(org_b.tenant.pk):
        foreign_product = f.ProductFactory()
    with pytest.raises(DomainError) as foreign:
        services.holding_update(holding=holding, data={"product": foreign_product})
    assert foreign.value.field == "product"
    f.PaymentFactory(holding=holding, customer=customer)
    with pytest.raises(DomainError) as refused:
        services.holding_delete(holding=holding)
    assert refused.value.field == "payments"
    Payment.objects.filter(holding=holding).delete()
    services.holding_delete(holding=holding)
    assert Holding.objects.count() == 0


def test_monthly_summary_record_is_an_upsert(in_a):
    holding = f.HoldingFactory()
    data = {"holding": holding, "month": dt.date(2026, 4, 1), "average_balance": Decimal("10.00"), "transactions": 1}
    first = services.monthly_summary_record(data=dict(data))
    second = services.monthly_summary_record(data=dict(data, transactions=7))
    assert first.pk == second.pk
    stored = MonthlyAccountSummary.objects.get()
    assert (stored.transactions, stored.customer_id) == (7, holding.customer_id)
    with pytest.raises(ValidationError) as mid_month:
        services.monthly_summary_record(data=dict(data, month=dt.date(2026, 4, 15)))
    assert "month" in mid_month.value.message_dict


def test_payment_record_takes_the_customer_from_the_account(in_a):
    holding = f.HoldingFactory()
    payment = services.payment_record(
        data={"holding": holding, "due_date": dt.date(2026, 5, 5), "amount_due": Decimal("100.00")}
    )
    assert (payment.customer_id, payment.days_late) == (holding.customer_id, None)
    services.payment_update(payment=payment, data={"paid_on": dt.date(2026, 5, 9), "amount_paid": Decimal("100.00")})
    payment.refresh_from_db()
    assert payment.days_late == 4
    with pytest.raises(PermissionDeniedError):
        services.payment_delete(membership=in_a["advisor"], payment=payment)
    services.payment_delete(membership=in_a["tenant_admin"], payment=payment)
    assert Payment.objects.count() == 0


# --- interactions and consents ----------------------------------------------------------


def test_interaction_log_defaults_to_the_actor_and_now(in_a):
    agent = in_a["collections_agent"]
    customer = f.CustomerFactory()
    before = timezone.now()
    interaction = services.interaction_log(
        actor=agent.user,
        membership=agent,
        customer=customer,
        data={"channel": "phone", "direction": "outbound", "interaction_type": "collection"},
    )
    assert interaction.user_id == agent.user_id
    assert before <= interaction.occurred_at <= timezone.now()
    with pytest.raises(PermissionDeniedError):
        services.interaction_delete(actor=agent.user, membership=agent, interaction=interaction)
    services.interaction_delete(membership=in_a["tenant_admin"], interaction=interaction)


def test_channel_consent_latest_wins(in_a):
    customer = f.CustomerFactory()
    services.channel_consent_set(customer=customer, channel="sms", opted_in=True, source="web")
    services.channel_consent_set(customer=customer, channel="sms", opted_in=False, source="call")
    consent = ChannelConsent.objects.get(customer=customer)
    assert (consent.opted_in, consent.source) == (False, "call")
