"""Fixtures of the CASOS tests: the four seeded case types in tenant A, a Monday-Friday
08:00-17:00 Bogotá calendar with Colombian holidays, and a helper to open cases."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from cases import services, sla
from cases.models import CaseType, SlaPolicy
from tests import factories as f
from tests.platform.test_worker import broker, celery_env, start_celery  # noqa: F401 (real-worker fixtures)
from vector_crm.tenancy import tenant_context

BOGOTA = ZoneInfo("America/Bogota")
CALENDAR = sla.BusinessCalendar(timezone="America/Bogota", country="CO")
# Friday 9 January 2026, 17:30 in Bogotá; Monday 12 January is a public holiday.
FRIDAY_1730 = dt.datetime(2026, 1, 9, 17, 30, tzinfo=BOGOTA)


@pytest.fixture
def types_a(org_a):
    """``{code: CaseType}`` of tenant A, with an 8-hour resolution policy on "solicitud"."""
    with tenant_context(org_a.tenant.pk):
        services.case_types_ensure_defaults()
        types = {t.code: t for t in CaseType.objects.all()}
        SlaPolicy.objects.filter(case_type=types["solicitud"]).update(
            first_response_minutes=60, resolution_minutes=480, warning_percent=75, escalation_minutes=[0, 240]
        )
    return types


@pytest.fixture
def open_case(org_a, types_a):
    """``open_case(membership=None, code="solicitud", opened_at=FRIDAY_1730, **data)``."""

    def make(membership=None, code="solicitud", opened_at=FRIDAY_1730, **data):
        membership = membership or org_a["advisor"]
        body = {"case_type": types_a[code], "subject": "Cambio de dirección", "channel": "branch", **data}
        with tenant_context(org_a.tenant.pk):
            return services.case_open(
                actor=membership.user, membership=membership, data=body, opened_at=opened_at, calendar=CALENDAR
            )

    return make


@pytest.fixture
def customer_a(org_a):
    with tenant_context(org_a.tenant.pk):
        return f.CustomerFactory(tenant=org_a.tenant, branch=org_a.branches[0], owner=org_a["advisor"].user)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Two orgs have two dozen users; the production hasher would spend seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
