"""List endpoints cost the same number of queries for 10 rows as for 100 (no N+1)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests import factories as f
from tests.api.conftest import PRINCIPALS
from tests.api.endpoints import ENDPOINTS, build
from tests.cases import factories as cf

pytestmark = pytest.mark.django_db

ROWS = 30
# Session, user and membership (or the one credential lookup), the customer of a timeline,
# and the page itself with its joins.
MAX_QUERIES = 5


def _fill(org):
    """ROWS rows of every model, each with its own customer, owner, branch and product."""
    advisors = [org["advisor"].user, org.extra["teammate"].user, None]
    case_type = cf.CaseTypeFactory()
    f.ScoringRunFactory.create_batch(ROWS, status="failed")
    run = f.ScoringRunFactory()
    for n in range(ROWS):
        customer = f.CustomerFactory(owner=advisors[n % 3], branch=org.branches[n % 2])
        holding = f.HoldingFactory(customer=customer, product=f.ProductFactory())
        f.MonthlyAccountSummaryFactory(holding=holding, customer=customer)
        f.PaymentFactory(holding=holding, customer=customer)
        f.InteractionFactory(customer=customer, user=advisors[n % 3])
        f.InteractionFactory(customer=customer, user=org["supervisor"].user)
        f.BranchFactory()
        f.JobFactory()
        f.WebhookDeliveryFactory()  # with its own endpoint and event
        f.FileImportFactory(job=f.JobFactory(kind="imports.run"))
        case = cf.CaseFactory(customer=customer, case_type=case_type, assignee=advisors[n % 3])
        cf.CaseEventFactory(case=case, kind="comment", actor=advisors[n % 3])
        cf.CaseAttachmentFactory(case=case)
        cf.SlaPolicyFactory(case_type=cf.CaseTypeFactory())
        f.SegmentFactory()
        f.CustomerScoreFactory(run=run, customer=customer)
    f.InteractionFactory.create_batch(ROWS, customer=customer, user=org["advisor"].user)
    return customer


LIST_URLS = [e.list_url() for e in ENDPOINTS] + ["timeline"]


@pytest.mark.parametrize("principal", PRINCIPALS)
@pytest.mark.parametrize("url", LIST_URLS)
def test_list_queries_do_not_grow_with_page_size(url, principal, org_a, client_as, django_assert_max_num_queries):
    last_customer = build(org_a, _fill)
    if url == "timeline":
        url = f"/api/v1/customers/{last_customer.pk}/interactions/"
    client = client_as(org_a, principal)
    client.get(url)  # warm up: session and content types are cached after the first request

    with django_assert_max_num_queries(MAX_QUERIES) as small:
        small_page = client.get(url, {"page_size": 10})
    with CaptureQueriesContext(connection) as large:
        large_page = client.get(url, {"page_size": 100})

    assert small_page.status_code == large_page.status_code == 200
    assert len(small_page.json()["results"]) == 10
    assert len(large_page.json()["results"]) >= ROWS
    assert len(large.captured_queries) == len(small.captured_queries), [q["sql"] for q in large.captured_queries]
