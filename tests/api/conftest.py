"""Fixtures of the API tests: a client per kind of principal (person or system)."""

from __future__ import annotations

import pytest

from vector_crm.roles import ALL_SCOPES

PRINCIPALS = ("user", "api_key")


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Two orgs have two dozen users; the production hasher would spend seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client_as(api_for, api_key_for):
    """``client_as(org, principal)``: the org's tenant admin (a person with every right and
    the whole book in view) or an API key of the org with every scope."""

    def make(org, principal: str):
        if principal == "user":
            return api_for(org["tenant_admin"])
        return api_key_for(org.tenant, scopes=list(ALL_SCOPES))

    return make
