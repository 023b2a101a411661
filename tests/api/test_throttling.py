"""Rate limits per API credential: 429 problem with Retry-After past the tenant's rate."""

from __future__ import annotations

import pytest

from tests.api.helpers import assert_problem
from vector_crm.api.throttling import CredentialRateThrottle, tenant_rate_per_minute

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/"


@pytest.fixture
def low_rate(tenant_a):
    # given: Banco Andino allows 3 requests a minute per credential
    tenant_a.settings = {**tenant_a.settings, "api_rate_per_minute": 3}
    tenant_a.save(update_fields=["settings"])
    return 3


@pytest.fixture
def frozen_clock(monkeypatch):
    """All requests fall at second 20 of one minute window."""
    monkeypatch.setattr(CredentialRateThrottle, "timer", staticmethod(lambda: 1_800_000_000.0 + 20))


def test_request_past_the_tenant_rate_gets_429_with_retry_after(api_key_for, tenant_a, low_rate, frozen_clock):
    client = api_key_for(tenant_a, scopes=["customers:read"])
    # when: the credential sends its 3 allowed requests and one more
    statuses = [client.get(URL).status_code for _ in range(low_rate)]
    response = client.get(URL)
    # then: the first 3 pass and the 4th is refused until the next minute
    assert statuses == [200, 200, 200]
    body = assert_problem(response, 429)
    assert body["type"].endswith("/throttled")
    assert response["Retry-After"] == "40"


def test_another_credential_of_the_tenant_is_not_affected(api_key_for, tenant_a, low_rate, frozen_clock):
    noisy = api_key_for(tenant_a, scopes=["customers:read"])
    quiet = api_key_for(tenant_a, scopes=["customers:read"])
    for _ in range(low_rate + 2):
        noisy.get(URL)
    assert noisy.get(URL).status_code == 429
    assert quiet.get(URL).status_code == 200


def test_the_next_minute_window_allows_requests_again(api_key_for, tenant_a, low_rate, monkeypatch):
    clock = {"now": 1_800_000_000.0 + 59}
    monkeypatch.setattr(CredentialRateThrottle, "timer", staticmethod(lambda: clock["now"]))
    client = api_key_for(tenant_a, scopes=["customers:read"])
    for _ in range(low_rate):
        client.get(URL)
    response = client.get(URL)
    assert response.status_code == 429
    assert response["Retry-After"] == "1"
    clock["now"] += 2
    assert client.get(URL).status_code == 200


def test_sessions_are_limited_per_user(api_for, org_a, low_rate, frozen_clock):
    admin = api_for(org_a["tenant_admin"])
    analyst = api_for(org_a["analyst"])
    for _ in range(low_rate):
        assert admin.get(URL).status_code == 200
    assert_problem(admin.get(URL), 429)
    assert analyst.get(URL).status_code == 200


def test_other_tenants_keep_the_default_rate(api_key_for, tenant_a, tenant_b, low_rate, frozen_clock, settings):
    settings.VECTOR_API_RATE_PER_MINUTE = 5
    client = api_key_for(tenant_b, scopes=["customers:read"])
    statuses = [client.get(URL).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]


@pytest.mark.parametrize(
    ("tenant_settings", "expected"),
    [
        ({}, 1200),
        ({"api_rate_per_minute": 30}, 30),
        ({"api_rate_per_minute": "x"}, 1200),
        ({"api_rate_per_minute": 0}, 1200),
    ],
)
def test_tenant_rate_falls_back_to_the_default(settings, tenant_settings, expected):
    settings.VECTOR_API_RATE_PER_MINUTE = 1200

    class Tenant:
        pass

    tenant = Tenant()
    tenant.settings = tenant_settings
    assert tenant_rate_per_minute(tenant) == expected
