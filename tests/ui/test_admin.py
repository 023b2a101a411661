"""The tenant-aware Django admin: who gets in, what they see, what they may change."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.models import Customer
from tests import factories as f
from tests.ui.helpers import page_text
from vector_crm.audit import audit_entries_for
from vector_crm.models import ApiCredential, Membership, User
from vector_crm.roles import Role
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db


def staff(membership):
    membership.user.is_staff = True
    membership.user.save(update_fields=["is_staff"])
    return membership


@pytest.fixture
def admin_a(org_a, client_for):
    return client_for(staff(org_a[Role.TENANT_ADMIN]))


def change_url(obj):
    return reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])


def test_tenant_admin_sees_only_their_institutions_customers(admin_a, book_a, book_b):
    response = admin_a.get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 200
    text = page_text(response)
    assert "María José Peña Rojas" in text and "Sofía Sureña" in text
    assert "Pedro Pacífico" not in text


def test_another_tenants_object_is_not_reachable(admin_a, book_b):
    response = admin_a.get(change_url(book_b["pedro"]))
    # the admin answers "does not exist" (redirect to the index), never the object
    assert response.status_code == 302
    assert "Pedro" not in admin_a.get(response["Location"]).content.decode()


def test_staff_without_admin_access_is_refused(org_a, client_for, book_a):
    advisor = client_for(staff(org_a[Role.ADVISOR]))
    assert advisor.get(reverse("admin:customers_customer_changelist")).status_code == 403
    index = advisor.get(reverse("admin:index"))
    assert reverse("admin:customers_customer_changelist") not in index.content.decode()


def test_non_staff_admin_role_cannot_enter(org_a, client_for):
    response = client_for(org_a[Role.TENANT_ADMIN]).get(reverse("admin:customers_customer_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_foreign_key_choices_are_limited_to_the_tenant(admin_a, org_a, org_b, book_a):
    html = admin_a.get(reverse("admin:customers_customer_add")).content.decode()
    assert "a Norte" in html and "b Norte" not in html
    assert "a_advisor" in html and "b_advisor" not in html


def test_owner_list_filter_offers_only_members(admin_a, org_a, org_b, book_a):
    html = admin_a.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "a_teammate" in html and "b_teammate" not in html


def test_adding_a_customer_sets_the_tenant_and_goes_through_the_service(admin_a, org_a, org_b):
    data = {
        "kind": "person",
        "identification_type": "cc",
        "identification_number": "1.020.304.050",
        "first_name": "Andrea",
        "last_name": "Admin",
        "lifecycle_status": "prospect",
        "branch": org_a.branches[0].pk,
        "owner": org_a[Role.ADVISOR].user.pk,
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    response = admin_a.post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 302, page_text(response)
    with tenant_context(org_a.tenant.pk):
        customer = Customer.objects.get(first_name="Andrea")
        assert customer.identification_number == "1020304050"  # normalised by the model's clean
        assert audit_entries_for(customer).get().actor == org_a[Role.TENANT_ADMIN].user
    assert customer.tenant_id == org_a.tenant.pk


def test_a_foreign_branch_id_is_rejected(admin_a, org_a, org_b):
    data = {
        "kind": "person",
        "identification_type": "cc",
        "identification_number": "1020304051",
        "first_name": "Intruso",
        "last_name": "Rama",
        "lifecycle_status": "prospect",
        "branch": org_b.branches[0].pk,
        "consents-TOTAL_FORMS": "0",
        "consents-INITIAL_FORMS": "0",
    }
    response = admin_a.post(reverse("admin:customers_customer_add"), data)
    assert response.status_code == 200
    assert "Escoja una opción válida" in page_text(response)
    with platform_context():
        assert not Customer.unscoped.filter(first_name="Intruso").exists()


def test_audit_log_is_read_only(admin_a, book_a):
    changelist = admin_a.get(reverse("admin:vector_crm_auditlogentry_changelist"))
    assert changelist.status_code == 200
    assert "María José Peña Rojas" in page_text(changelist)
    assert admin_a.get(reverse("admin:vector_crm_auditlogentry_add")).status_code == 403


def test_api_credential_secret_is_shown_once(admin_a, org_a):
    response = admin_a.post(
        reverse("admin:vector_crm_apicredential_add"), {"name": "core-nocturno", "scopes": ["customers:write"]}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = response.context["api_key"]
    assert key in response.content.decode()
    with tenant_context(org_a.tenant.pk):
        credential = ApiCredential.objects.get(name="core-nocturno")
    prefix, secret = key.split(".")
    assert credential.prefix == prefix and credential.check_secret(secret)
    assert credential.scopes == ["customers:write"] and credential.created_by == org_a[Role.TENANT_ADMIN].user
    # afterwards only the prefix is ever shown
    assert secret not in admin_a.get(change_url(credential)).content.decode()
    assert secret not in admin_a.get(reverse("admin:vector_crm_apicredential_changelist")).content.decode()


def test_api_credentials_are_revoked_not_deleted(admin_a, org_a):
    credential = f.ApiCredentialFactory(tenant=org_a.tenant)
    response = admin_a.post(
        reverse("admin:vector_crm_apicredential_changelist"),
        {"action": "revoke", "_selected_action": [credential.pk]},
    )
    assert response.status_code == 302
    with tenant_context(org_a.tenant.pk):
        credential.refresh_from_db()
    assert credential.revoked_at is not None
    assert admin_a.get(reverse("admin:vector_crm_apicredential_delete", args=[credential.pk])).status_code == 403


def test_user_admin_lists_only_members_and_protects_shared_users(admin_a, org_a, org_b, two_tenant_user):
    text = page_text(admin_a.get(reverse("admin:vector_crm_user_changelist")))
    assert "a_advisor" in text and "b_advisor" not in text
    # a user who also belongs to institution B cannot be edited from A
    assert "consultor" in text
    form = admin_a.get(change_url(two_tenant_user)).content.decode()
    assert 'name="username"' not in form
    assert admin_a.get(reverse("admin:auth_user_password_change", args=[two_tenant_user.pk])).status_code in (403, 404)


def test_tenant_admin_cannot_grant_superuser(admin_a, org_a):
    advisor = org_a[Role.ADVISOR].user
    form = admin_a.get(change_url(advisor)).content.decode()
    assert 'name="username"' in form
    assert 'name="is_superuser"' not in form


def test_adding_a_user_makes_them_a_member(admin_a, org_a):
    response = admin_a.post(
        reverse("admin:vector_crm_user_add"),
        {
            "username": "nueva_asesora",
            "password1": "una-Clave-larga-2026",
            "password2": "una-Clave-larga-2026",
            "usable_password": "true",
            "memberships-TOTAL_FORMS": "1",
            "memberships-INITIAL_FORMS": "0",
            "memberships-0-role": Role.SUPERVISOR,
            "memberships-0-branch": org_a.branches[1].pk,
            "memberships-0-is_active": "on",
        },
    )
    assert response.status_code == 302, page_text(response)
    user = User.objects.get(username="nueva_asesora")
    with tenant_context(org_a.tenant.pk):
        membership = Membership.objects.get(user=user)
    assert (membership.role, membership.branch_id) == (Role.SUPERVISOR, org_a.branches[1].pk)


def test_superuser_without_membership_manages_institutions_only(client):
    root = User.objects.create_superuser("root", "root@example.com", "x-Root-Pass-1")
    client.force_login(root)
    index = client.get(reverse("admin:index")).content.decode()
    assert reverse("admin:vector_crm_tenant_changelist") in index
    assert reverse("admin:customers_customer_changelist") not in index
    assert client.get(reverse("admin:customers_customer_changelist")).status_code == 403
