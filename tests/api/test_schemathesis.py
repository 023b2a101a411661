"""Property-based API tests generated from ``/api/schema/`` (schemathesis).

The schema is fetched from the WSGI application in-process, and every integration
operation (the ones core-banking systems call) is exercised with an API key holding every
scope: a bounded number of generated requests per operation, derandomised with a fixed
seed, so a run is reproducible and CI-sized. The checks: no 5xx, every response's status
code and content type are documented for the operation, and every body matches its
documented schema. Runs on SQLite and on PostgreSQL like the rest of the suite.
"""

from __future__ import annotations

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests import factories as f
from vector_crm.roles import ALL_SCOPES
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

# The integration surface. Adding an API family (the file import) is one line here.
INTEGRATION_PATHS = (
    "/api/v1/customers/",
    "/api/v1/holdings/",
    "/api/v1/monthly-summaries/",
    "/api/v1/payments/",
    "/api/v1/interactions/",
    "/api/v1/bulk/",
    "/api/v1/jobs/",
    "/api/v1/webhooks/",
    "/api/v1/imports/",
)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MAX_EXAMPLES = 8
SEED = 20261123


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Like Django's test client: requests through the WSGI handler must not close the
    connection that holds the test's transaction."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def integration_schema():
    """The served schema, fetched through the WSGI application at collection time (no
    database access: the schema view reads none), limited to the integration paths."""
    from vector_crm.wsgi import application

    loaded = schemathesis.openapi.from_wsgi("/api/schema/?format=json", application)
    prefixes = "|".join(path.rstrip("/") for path in INTEGRATION_PATHS)
    return loaded.include(path_regex=f"^({prefixes})(/|$)")


# Loaded eagerly: schemathesis's fixture-based loader does not support pytest 9 yet.
schema = integration_schema()


@pytest.fixture(autouse=True)
def _no_throttling(settings):
    settings.VECTOR_API_RATE_PER_MINUTE = 1_000_000  # generated requests are not a flood to throttle


@pytest.fixture
def api_key(org_a) -> str:
    """A key with every scope, and a few real rows so detail operations can also succeed."""
    with tenant_context(org_a.tenant.pk):
        credential = f.ApiCredentialFactory(tenant=org_a.tenant, scopes=list(ALL_SCOPES))
        holding = f.HoldingFactory(tenant=org_a.tenant, customer=f.CustomerFactory(tenant=org_a.tenant))
        f.PaymentFactory(tenant=org_a.tenant, holding=holding, customer=holding.customer)
        f.MonthlyAccountSummaryFactory(tenant=org_a.tenant, holding=holding, customer=holding.customer)
        f.InteractionFactory(tenant=org_a.tenant, customer=holding.customer)
        f.JobFactory(tenant=org_a.tenant, kind="customers.import")
        f.WebhookDeliveryFactory(tenant=org_a.tenant)
    return credential.raw_key


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
    phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
)
@hypothesis.seed(SEED)
def test_integration_api_conforms_to_its_schema(case, api_key):
    case.call_and_validate(headers={"Authorization": f"Api-Key {api_key}"}, checks=CHECKS)
