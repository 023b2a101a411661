"""Tenancy by construction: scoped managers fail closed, RLS holds on raw SQL."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection

from customers.models import Customer
from tests import factories as f
from vector_crm.audit import audit_entries_for
from vector_crm.models import AuditLogEntry
from vector_crm.tenancy import TenantModel, TenantNotSet, platform_context, tenant_context

pytestmark = pytest.mark.django_db


def tenant_models():
    return [m for m in apps.get_models() if issubclass(m, TenantModel) or m is AuditLogEntry]


def test_query_without_tenant_raises(tenant_a):
    # given a customer in tenant A
    with tenant_context(tenant_a.pk):
        f.CustomerFactory()
    # when any tenant model is queried with no tenant set, then it raises
    for model in tenant_models():
        with pytest.raises(TenantNotSet):
            list(model.objects.all()[:1])


def test_scoped_manager_sees_only_current_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a.pk):
        mine = f.CustomerFactory()
    with tenant_context(tenant_b.pk):
        theirs = f.CustomerFactory()
        assert list(Customer.objects.values_list("pk", flat=True)) == [theirs.pk]
        assert not Customer.objects.filter(pk=mine.pk).exists()
    with tenant_context(tenant_a.pk):
        assert list(Customer.objects.values_list("pk", flat=True)) == [mine.pk]
    # the loud escape sees both
    with platform_context():
        assert set(Customer.unscoped.values_list("pk", flat=True)) == {mine.pk, theirs.pk}


def test_save_refuses_to_write_into_another_tenant(tenant_a, tenant_b):
    with tenant_context(tenant_a.pk):
        customer = f.CustomerFactory()
    customer.first_name = "Intruso"
    with tenant_context(tenant_b.pk), pytest.raises(TenantNotSet):
        customer.save()


def test_every_tenant_model_has_tenant_first_indexes():
    """DESIGN.md: every index and unique constraint on a tenant table leads with tenant_id."""
    for model in tenant_models():
        meta = model._meta
        for index in meta.indexes:
            assert index.fields[0] == "tenant", f"{model.__name__}.{index.name}"
        for constraint in meta.constraints:
            fields = getattr(constraint, "fields", None)
            if fields:
                assert fields[0] == "tenant", f"{model.__name__}.{constraint.name}"


def test_every_tenant_table_has_an_rls_policy(pg_only):
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_policies WHERE policyname = 'tenant_isolation'")
        protected = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT relname FROM pg_class WHERE relrowsecurity AND relforcerowsecurity")
        forced = {row[0] for row in cursor.fetchall()}
    for model in tenant_models():
        assert model._meta.db_table in protected, model._meta.db_table
        assert model._meta.db_table in forced, model._meta.db_table


def test_app_role_is_not_table_owner(pg_only):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableowner = current_user, (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)"
            " FROM pg_tables WHERE tablename = 'customers_customer'"
        )
        is_owner, is_privileged = cursor.fetchone()
    assert (is_owner, is_privileged) == (False, False)


def test_raw_sql_in_tenant_b_sees_none_of_tenant_a(pg_only, tenant_a, tenant_b):
    # given customers in both tenants
    with tenant_context(tenant_a.pk):
        f.CustomerFactory.create_batch(3)
    with tenant_context(tenant_b.pk):
        own = f.CustomerFactory()
        # when raw SQL with no tenant filter runs inside tenant B
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, tenant_id FROM customers_customer")
            rows = cursor.fetchall()
            cursor.execute("SELECT count(*) FROM customers_holding WHERE tenant_id = %s", [tenant_a.pk])
            holdings_of_a = cursor.fetchone()[0]
    # then RLS returns tenant B's row only
    assert rows == [(own.pk, tenant_b.pk)]
    assert holdings_of_a == 0


def test_raw_sql_with_no_tenant_sees_nothing_and_cannot_insert(pg_only, tenant_a):
    with tenant_context(tenant_a.pk):
        f.CustomerFactory()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM customers_customer")
        assert cursor.fetchone()[0] == 0
    from django.db import DatabaseError, transaction

    with tenant_context(tenant_a.pk), pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE customers_customer SET tenant_id = %s", [tenant_a.pk + 1000])


def test_audit_entry_on_write_with_before_and_after(org_a):
    from customers import services

    advisor = org_a["advisor"]
    with tenant_context(org_a.tenant.pk):
        customer = services.customer_create(
            actor=advisor.user,
            membership=advisor,
            data={
                "identification_type": "cc",
                "identification_number": "52123456",
                "first_name": "Ana",
                "last_name": "Pérez",
                "mobile": "+573001112233",
            },
        )
        services.customer_update(
            actor=advisor.user, membership=advisor, customer=customer, data={"first_name": "Ana María"}
        )
        entries = list(audit_entries_for(customer).order_by("timestamp", "pk"))
    assert [e.action for e in entries] == [AuditLogEntry.Action.CREATE, AuditLogEntry.Action.UPDATE]
    assert entries[1].changes["first_name"] == ["Ana", "Ana María"]
    assert entries[1].actor_id == advisor.user.pk
    assert entries[1].tenant_id == org_a.tenant.pk


def test_audit_entries_are_append_only(org_a):
    from django.core.exceptions import ValidationError

    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory()
        entry = AuditLogEntry.objects.first()
        entry.object_repr = "tampered"
        with pytest.raises(ValidationError):
            entry.save()
        with pytest.raises(ValidationError):
            entry.delete()


def test_app_role_cannot_update_audit_rows_in_sql(pg_only, org_a):
    from django.db import DatabaseError, transaction

    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory()
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("UPDATE vector_crm_auditlogentry SET object_repr = 'x'")
