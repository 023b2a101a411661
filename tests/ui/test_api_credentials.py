"""API credentials in the browser: tenant admins create (key shown once), list and revoke."""

from __future__ import annotations

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests import factories as f
from tests.ui.helpers import page_text
from vector_crm.audit import audit_entries_for
from vector_crm.models import ApiCredential
from vector_crm.roles import Role
from vector_crm.tenancy import platform_context, tenant_context

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api_credential_list")


def revoked_at(credential):
    """Read from outside any tenant, as the test looks (RLS hides rows otherwise)."""
    with platform_context():
        return ApiCredential.unscoped.get(pk=credential.pk).revoked_at


def api_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {key}")
    return client


def test_admin_creates_a_key_sees_it_once_and_it_works_with_its_scopes(client_for, org_a):
    admin = org_a[Role.TENANT_ADMIN]
    browser = client_for(admin)
    # when: the admin creates a read-only customers key
    response = browser.post(LIST_URL, {"name": "Core nocturno", "scopes": ["customers:read"]})
    # then: the response page shows the full key, uncached; only its hash is stored
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    key = response.context["api_key"]
    prefix, _dot, secret = key.partition(".")
    assert key in response.content.decode()
    with tenant_context(org_a.tenant.pk):
        credential = ApiCredential.objects.get(name="Core nocturno")
        assert [entry.action for entry in audit_entries_for(credential)] == [0]  # created
    assert credential.prefix == prefix
    assert credential.scopes == ["customers:read"]
    assert credential.created_by == admin.user
    assert secret not in credential.secret_hash and credential.check_secret(secret)
    # and: the list shows the prefix, never the secret
    listing = browser.get(LIST_URL)
    assert prefix in listing.content.decode() and secret not in listing.content.decode()
    assert "Core nocturno" in page_text(listing)
    # and: the key reads customers, and may not write them
    client = api_client(key)
    assert client.get("/api/v1/customers/").status_code == 200
    assert client.post("/api/v1/customers/", {}, format="json").status_code == 403


def test_revoked_key_gets_401(client_for, org_a):
    browser = client_for(org_a[Role.TENANT_ADMIN])
    key = browser.post(LIST_URL, {"name": "Cargue", "scopes": ["customers:write"]}).context["api_key"]
    with tenant_context(org_a.tenant.pk):
        credential = ApiCredential.objects.get(name="Cargue")
    assert api_client(key).get("/api/v1/customers/").status_code == 200
    # when: the admin revokes it
    response = browser.post(reverse("api_credential_revoke", args=[credential.pk]))
    # then: back to the list, the key marked revoked and refused by the API
    assert response.status_code == 302 and response["Location"] == LIST_URL
    assert revoked_at(credential) is not None
    assert "Revocada" in page_text(browser.get(LIST_URL))
    assert api_client(key).get("/api/v1/customers/").status_code == 401
    with tenant_context(org_a.tenant.pk):
        assert len(audit_entries_for(credential)) == 2


def test_list_shows_the_tenants_credentials_only(client_for, org_a, org_b):
    with tenant_context(org_a.tenant.pk):
        mine = f.ApiCredentialFactory(tenant=org_a.tenant, name="Core Andino")
    with tenant_context(org_b.tenant.pk):
        f.ApiCredentialFactory(tenant=org_b.tenant, name="Core Pacífico")
    response = client_for(org_a[Role.TENANT_ADMIN]).get(LIST_URL)
    text = page_text(response)
    assert response.status_code == 200
    assert "Core Andino" in text and mine.prefix in text and "customers:write" in text
    assert "Core Pacífico" not in text


@pytest.mark.parametrize("role", [r for r in Role.values if r != Role.TENANT_ADMIN])
def test_other_roles_are_refused(client_for, org_a, role):
    with tenant_context(org_a.tenant.pk):
        credential = f.ApiCredentialFactory(tenant=org_a.tenant)
    browser = client_for(org_a[role])
    assert browser.get(LIST_URL).status_code == 403
    assert browser.post(LIST_URL, {"name": "x", "scopes": ["customers:read"]}).status_code == 403
    assert browser.post(reverse("api_credential_revoke", args=[credential.pk])).status_code == 403
    assert revoked_at(credential) is None
    with platform_context():
        assert ApiCredential.unscoped.count() == 1


def test_navigation_links_the_page_for_admins_only(client_for, org_a):
    assert 'data-testid="nav-api-credentials"' in client_for(org_a[Role.TENANT_ADMIN]).get("/").content.decode()
    assert 'data-testid="nav-api-credentials"' not in client_for(org_a[Role.ANALYST]).get("/").content.decode()


def test_another_tenants_credential_is_404(client_for, org_a, org_b):
    with tenant_context(org_b.tenant.pk):
        foreign = f.ApiCredentialFactory(tenant=org_b.tenant)
    response = client_for(org_a[Role.TENANT_ADMIN]).post(reverse("api_credential_revoke", args=[foreign.pk]))
    assert response.status_code == 404
    assert revoked_at(foreign) is None


def test_revoke_needs_post(client_for, org_a):
    with tenant_context(org_a.tenant.pk):
        credential = f.ApiCredentialFactory(tenant=org_a.tenant)
    assert (
        client_for(org_a[Role.TENANT_ADMIN]).get(reverse("api_credential_revoke", args=[credential.pk])).status_code
        == 405
    )


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": "Core", "scopes": ["customers:delete"]}, "scopes", "customers:delete"),
        ({"name": "Core", "scopes": []}, "scopes", "Elija al menos un alcance."),
        ({"name": "", "scopes": ["customers:read"]}, "name", "Este campo es requerido."),
    ],
)
def test_invalid_input_is_a_form_error_naming_the_field(client_for, org_a, data, field, message):
    response = client_for(org_a[Role.TENANT_ADMIN]).post(LIST_URL, data)
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field]
    assert message in " ".join(errors[field])
    assert f'data-field="{field}"' in response.content.decode()
    assert "api_key" not in response.context
    with platform_context():
        assert ApiCredential.unscoped.count() == 0


def test_service_refuses_unknown_scopes_naming_the_field(org_a):
    from vector_crm.errors import DomainError, ErrorCode
    from vector_crm.services import api_credential_create

    admin = org_a[Role.TENANT_ADMIN]
    with tenant_context(org_a.tenant.pk), pytest.raises(DomainError) as caught:
        api_credential_create(actor=admin.user, membership=admin, name="Core", scopes=["everything:write"])
    assert caught.value.field == "scopes"
    assert caught.value.code == ErrorCode.INVALID_SCOPE
    assert "everything:write" in caught.value.message


def test_page_is_translated_to_english(client_for, org_a):
    browser = client_for(org_a[Role.TENANT_ADMIN])
    browser.post(reverse("set_language"), {"language": "en", "next": LIST_URL})
    text = page_text(browser.get(LIST_URL))
    assert "API keys" in text and "New key" in text and "Create key" in text
    assert "Claves de API" not in text
    created = page_text(browser.post(LIST_URL, {"name": "Core", "scopes": ["customers:read"]}))
    assert "Copy this key now" in created
