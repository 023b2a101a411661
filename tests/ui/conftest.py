"""Fixtures for the browser UI tests: a small realistic book of customers in each tenant."""

from __future__ import annotations

import pytest

from tests import factories as f
from tests.ui.books import Book, build_book_a, build_book_b
from vector_crm.roles import Role


@pytest.fixture
def book_a(org_a) -> Book:
    return build_book_a(org_a)


@pytest.fixture
def book_b(org_b) -> Book:
    return build_book_b(org_b)


@pytest.fixture
def two_tenant_user(org_a, org_b):
    """A user who administers both institutions (the institution switcher appears)."""
    user = f.UserFactory(username="consultor", first_name="Camila")
    f.MembershipFactory(tenant=org_a.tenant, user=user, role=Role.TENANT_ADMIN, branch=org_a.branches[0])
    f.MembershipFactory(tenant=org_b.tenant, user=user, role=Role.TENANT_ADMIN, branch=org_b.branches[0])
    return user


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Fixture users are many; a fast hasher keeps set-up in milliseconds (login still
    goes through the real authentication backends)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
