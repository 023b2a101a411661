"""Shared fixtures: two institutions, each with branches, a team and one user per role.

Tenant A is a Colombian bank, tenant B an Ecuadorian credit union. ``org_a``/``org_b``
expose ``members[role]`` (Membership), ``branches`` and ``team``; ``client_for`` and
``api_for`` give a logged-in browser/API client acting in the membership's tenant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from tests import factories as f
from vector_crm.db import owner_connection
from vector_crm.middleware import SESSION_TENANT_KEY
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

IS_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.fixture(scope="session")
def django_db_setup(
    request, django_test_environment, django_db_blocker, django_db_keepdb, django_db_modify_db_settings
):
    """Create and migrate the test database as the schema owner; tests then connect as
    the application role (DATABASE_URL), which owns nothing and is subject to RLS."""
    from django.test.utils import setup_databases, teardown_databases

    with django_db_blocker.unblock(), owner_connection():
        db_cfg = setup_databases(verbosity=request.config.option.verbose, interactive=False, keepdb=django_db_keepdb)
    yield
    if not django_db_keepdb:
        with django_db_blocker.unblock(), owner_connection():
            teardown_databases(db_cfg, verbosity=request.config.option.verbose)


@pytest.fixture(autouse=True)
def _no_axes_lockouts(settings):
    settings.AXES_ENABLED = False


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache: API rate counters (keyed by credential and
    user ids, which the database reuses across tests) never carry over."""
    from django.core.cache import cache

    cache.clear()


@dataclass
class Org:
    tenant: object
    branches: list
    team: object
    members: dict = field(default_factory=dict)
    extra: dict = field(default_factory=dict)

    def __getitem__(self, role: str):
        return self.members[role]


def build_org(tenant, prefix: str) -> Org:
    with tenant_context(tenant.pk):
        north = f.BranchFactory(tenant=tenant, code=f"{prefix}-N", name=f"{prefix} Norte")
        south = f.BranchFactory(tenant=tenant, code=f"{prefix}-S", name=f"{prefix} Sur")
        team = f.TeamFactory(tenant=tenant, name=f"{prefix} Equipo Norte", branch=north)
        org = Org(tenant=tenant, branches=[north, south], team=team)
        for role in Role.values:
            user = f.UserFactory(username=f"{prefix}_{role}")
            org.members[role] = f.MembershipFactory(
                tenant=tenant,
                user=user,
                role=role,
                branch=north,
                team=team if role in (Role.ADVISOR, Role.SUPERVISOR) else None,
            )
        # A second advisor in the same team and one in another branch, for visibility tests.
        org.extra["teammate"] = f.MembershipFactory(
            tenant=tenant, user=f.UserFactory(username=f"{prefix}_teammate"), role=Role.ADVISOR, branch=north, team=team
        )
        org.extra["south_advisor"] = f.MembershipFactory(
            tenant=tenant, user=f.UserFactory(username=f"{prefix}_south"), role=Role.ADVISOR, branch=south
        )
    return org


@pytest.fixture
def tenant_a(db):
    return f.TenantFactory(
        name="Banco Andino",
        slug="banco-andino",
        country="CO",
        currency="COP",
        timezone="America/Bogota",
        locale="es-CO",
        holiday_country="CO",
    )


@pytest.fixture
def tenant_b(db):
    return f.TenantFactory(
        name="Cooperativa del Pacífico",
        slug="coop-pacifico",
        country="EC",
        currency="USD",
        timezone="America/Guayaquil",
        locale="es-EC",
        holiday_country="EC",
    )


@pytest.fixture
def org_a(tenant_a) -> Org:
    return build_org(tenant_a, "a")


@pytest.fixture
def org_b(tenant_b) -> Org:
    return build_org(tenant_b, "b")


@pytest.fixture
def in_tenant_a(tenant_a):
    with tenant_context(tenant_a.pk):
        yield tenant_a


def _login(client, membership):
    client.force_login(membership.user)
    session = client.session
    session[SESSION_TENANT_KEY] = membership.tenant_id
    session.save()
    return client


@pytest.fixture
def client_for(client):
    """``client_for(membership)``: the Django test client logged in, acting in its tenant."""
    from django.test import Client

    def make(membership):
        return _login(Client(), membership)

    return make


@pytest.fixture
def api_for():
    """``api_for(membership)``: a DRF client with a session in the membership's tenant."""

    def make(membership):
        return _login(APIClient(), membership)

    return make


@pytest.fixture
def api_key_for():
    """``api_key_for(tenant, scopes=None)``: a DRF client authenticated by an API key."""

    def make(tenant, scopes=None):
        kwargs = {"tenant": tenant}
        if scopes is not None:
            kwargs["scopes"] = scopes
        credential = f.ApiCredentialFactory(**kwargs)
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Api-Key {credential.raw_key}")
        client.credential = credential
        return client

    return make


@pytest.fixture
def pg_only():
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL-only check (row-level security)")
