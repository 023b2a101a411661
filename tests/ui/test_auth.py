"""Signing in and out, the institution switcher, languages and the no-membership page."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from tests import factories as f
from tests.ui.helpers import page_text
from vector_crm.middleware import SESSION_TENANT_KEY
from vector_crm.roles import Role

pytestmark = pytest.mark.django_db

PASSWORD = "pass-Word-123"  # tests/factories.UserFactory


def test_login_page_is_self_contained(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Iniciar sesión" in page_text(response)
    assert "/static/vendor/htmx/htmx.min.js" in html
    # no CDN or any other external resource
    assert not re.search(r'(src|href)="(https?:)?//', html)


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("customers:list"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_login_lands_on_home_in_the_member_institution(client, org_a, book_a):
    response = client.post(reverse("login"), {"username": "a_advisor", "password": PASSWORD}, follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("home")
    text = page_text(response)
    assert "Banco Andino" in text
    assert "Asesor" in text
    assert "Su cartera de clientes" in text


def test_wrong_password_is_refused_with_a_message(client, org_a):
    response = client.post(reverse("login"), {"username": "a_advisor", "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert "Por favor, introduzca un nombre de usuario y clave correctos" in page_text(response)


def test_repeated_failures_lock_the_account(client, org_a, settings):
    # given axes enabled with a limit of 3 failures
    settings.AXES_ENABLED = True
    settings.AXES_FAILURE_LIMIT = 3
    for _attempt in range(3):
        client.post(reverse("login"), {"username": "a_advisor", "password": "wrong"})
    # when the right password arrives after the limit, then the login stays locked
    response = client.post(reverse("login"), {"username": "a_advisor", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_logout_ends_the_session(client_for, org_a):
    client = client_for(org_a[Role.ADVISOR])
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_user_without_membership_sees_the_no_membership_page(client):
    user = f.UserFactory(username="nadie")
    client.force_login(user)
    response = client.get(reverse("home"), follow=True)
    assert response.redirect_chain[-1][0] == reverse("no_membership")
    assert response.status_code == 403
    assert "no tiene una membresía activa" in page_text(response)


def test_inactive_membership_counts_as_none(client, org_a):
    membership = org_a[Role.ADVISOR]
    membership.is_active = False
    with_tenant = membership.tenant_id
    from vector_crm.tenancy import tenant_context

    with tenant_context(with_tenant):
        membership.save(update_fields=["is_active"])
    client.force_login(membership.user)
    assert client.get(reverse("customers:list"))["Location"] == reverse("no_membership")


def test_switcher_only_for_users_with_several_institutions(client_for, org_a, org_b, two_tenant_user):
    single = client_for(org_a[Role.ADVISOR]).get(reverse("home"))
    assert 'name="tenant_id"' not in single.content.decode()

    client = client_for(org_a.members[Role.TENANT_ADMIN])
    client.force_login(two_tenant_user)
    html = client.get(reverse("home")).content.decode()
    assert 'name="tenant_id"' in html
    assert "Banco Andino" in html and "Cooperativa del Pacífico" in html


def test_switching_institution_shows_only_its_customers(client, org_a, org_b, book_a, book_b, two_tenant_user):
    client.force_login(two_tenant_user)
    before = page_text(client.get(reverse("customers:list")))
    assert "María José Peña Rojas" in before  # first institution by name: Banco Andino
    assert "Pedro Pacífico" not in before

    response = client.post(reverse("tenant_switch"), {"tenant_id": org_b.tenant.pk})
    assert response.status_code == 302
    assert response["Location"] == reverse("home")

    after = client.get(reverse("customers:list"))
    text = page_text(after)
    assert "Pedro Pacífico" in text
    assert "María José Peña Rojas" not in text
    assert "Cooperativa del Pacífico" in text
    assert client.session[SESSION_TENANT_KEY] == org_b.tenant.pk


def test_switching_to_a_foreign_institution_is_a_404(client_for, org_a, org_b):
    client = client_for(org_a[Role.ADVISOR])
    response = client.post(reverse("tenant_switch"), {"tenant_id": org_b.tenant.pk})
    assert response.status_code == 404
    assert client.session[SESSION_TENANT_KEY] == org_a.tenant.pk
    assert client.post(reverse("tenant_switch"), {"tenant_id": "x"}).status_code == 404


def test_switch_needs_post(client_for, org_a):
    client = client_for(org_a[Role.ADVISOR])
    assert client.get(reverse("tenant_switch")).status_code == 405


def test_language_switch_to_english_changes_labels(client_for, org_a, book_a):
    client = client_for(org_a[Role.ADVISOR])
    spanish = page_text(client.get(reverse("customers:list")))
    assert "Buscar" in spanish and "En mora" in spanish

    response = client.post(reverse("set_language"), {"language": "en", "next": reverse("customers:list")})
    assert response.status_code == 302
    english = client.get(reverse("customers:list"))
    text = page_text(english)
    assert english["Content-Language"] == "en"
    assert "Customers" in text and "Search" in text
    assert "Delinquent" in text  # a lifecycle choice label, translated
    assert "En mora" not in text
    detail = page_text(client.get(reverse("customers:detail", args=[book_a["maria"].pk])))
    assert "Days past due" in detail
    assert "Promise to pay" in detail


def test_tenant_language_is_the_default(client_for, org_a):
    response = client_for(org_a[Role.ADVISOR]).get(reverse("home"))
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in response.content.decode()
