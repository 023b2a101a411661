"""Value migration between two scoring runs: exact figures on a hand-made pair of runs, the
default and chosen runs, bad run choices, member visibility and tenant isolation (selector,
API and page)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from segmentation import selectors
from tests import factories as f
from tests.api.helpers import assert_problem
from tests.ui.helpers import page_text
from vector_crm.errors import DomainError
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

D = Decimal

# customer: (tier, value, key account) in the earlier run, the same in the later run;
# None = not scored by that run. c1, c3 and c7 belong to the advisor's portfolio.
PLAN = {
    "c1": (("A", "1000.00", True), ("A", "1200.00", True)),
    "c2": (("A", "800.00", True), ("B", "500.00", False)),
    "c3": (("B", "300.00", False), ("A", "900.00", True)),
    "c4": (("B", "250.50", False), ("B", "250.50", False)),
    "c5": (("C", "50.00", False), ("B", "150.25", False)),
    "c6": (("C", "40.00", False), None),
    "c7": (None, ("C", "20.00", False)),
}
ADVISORS = {"c1", "c3", "c7"}


@pytest.fixture
def runs(org_a, org_b):
    """Tenant A: an old run, the hand-made pair (earlier, later) and a failed run after
    them; tenant B: a run of its own with a score that must never show."""
    tenant = org_a.tenant
    with tenant_context(tenant.pk):
        old = f.ScoringRunFactory(tenant=tenant, as_of=dt.date(2026, 9, 15))
        earlier = f.ScoringRunFactory(tenant=tenant, as_of=dt.date(2026, 10, 15))
        later = f.ScoringRunFactory(tenant=tenant, as_of=dt.date(2026, 11, 15))
        failed = f.ScoringRunFactory(tenant=tenant, as_of=dt.date(2026, 11, 20), status="failed")
        customers = {}
        for name, snapshots in PLAN.items():
            mine = name in ADVISORS
            customer = f.CustomerFactory(
                tenant=tenant,
                first_name="Cliente",
                last_name=name.upper(),
                owner=org_a[Role.ADVISOR].user if mine else None,
                branch=org_a.branches[0] if mine else org_a.branches[1],
            )
            customers[name] = customer
            for run, snapshot in zip((earlier, later), snapshots, strict=True):
                if snapshot is None:
                    continue
                tier, value, key = snapshot
                f.CustomerScoreFactory(
                    tenant=tenant, run=run, customer=customer, tier=tier, current_value=D(value), key_account=key
                )
            # the old and failed runs score everyone alike: they must not leak into the pair
            for run in (old, failed):
                f.CustomerScoreFactory(tenant=tenant, run=run, customer=customer, tier="C", current_value=D("1"))
    with tenant_context(org_b.tenant.pk):
        other = f.ScoringRunFactory(tenant=org_b.tenant)
        f.CustomerScoreFactory(tenant=org_b.tenant, run=other, tier="A", current_value=D("999999.00"))
    return {"old": old, "earlier": earlier, "later": later, "failed": failed, "other": other, "customers": customers}


def _cells(report) -> dict:
    return {
        (c["from_tier"], c["to_tier"]): (c["customers"], c["value_before"], c["value_after"], c["change"])
        for c in report["cells"]
    }


def test_the_matrix_gains_losses_and_key_accounts_equal_the_hand_made_figures(runs, org_a):
    with tenant_context(org_a.tenant.pk):
        before, after = selectors.migration_runs()
        report = selectors.value_migration(before, after, org_a[Role.TENANT_ADMIN])
    c = runs["customers"]
    # the default pair is the latest two succeeded runs (the failed one is skipped)
    assert (before, after) == (runs["earlier"], runs["later"])
    assert _cells(report) == {
        ("A", "A"): (1, D("1000.00"), D("1200.00"), D("200.00")),
        ("A", "B"): (1, D("800.00"), D("500.00"), D("-300.00")),
        ("B", "A"): (1, D("300.00"), D("900.00"), D("600.00")),
        ("B", "B"): (1, D("250.50"), D("250.50"), D("0.00")),
        ("C", "B"): (1, D("50.00"), D("150.25"), D("100.25")),
        ("C", ""): (1, D("40.00"), D("0.00"), D("-40.00")),
        ("", "C"): (1, D("0.00"), D("20.00"), D("20.00")),
    }
    assert report["totals"] == {
        "customers": 7,
        "value_before": D("2440.50"),
        "value_after": D("3020.75"),
        "change": D("580.25"),
        "key_entered": 1,
        "key_left": 1,
    }
    assert [(m["customer_id"], m["change"]) for m in report["gains"]] == [
        (c["c3"].pk, D("600.00")),
        (c["c1"].pk, D("200.00")),
        (c["c5"].pk, D("100.25")),
        (c["c7"].pk, D("20.00")),
    ]
    assert [(m["customer_id"], m["change"]) for m in report["losses"]] == [
        (c["c2"].pk, D("-300.00")),
        (c["c6"].pk, D("-40.00")),
    ]
    assert [m["customer_id"] for m in report["key_accounts_entered"]] == [c["c3"].pk]
    assert [m["customer_id"] for m in report["key_accounts_left"]] == [c["c2"].pk]
    assert report["gains"][0]["customer"].display_name == "Cliente C3"


def test_top_limits_the_lists_and_the_matrix_is_one_query(runs, org_a, django_assert_max_num_queries):
    with tenant_context(org_a.tenant.pk):
        before, after = runs["earlier"], runs["later"]
        # matrix (1) + per list: its rows and their customers (2 x 4)
        with django_assert_max_num_queries(9):
            report = selectors.value_migration(before, after, org_a[Role.TENANT_ADMIN], top=2)
    assert [m["customer_id"] for m in report["gains"]] == [runs["customers"]["c3"].pk, runs["customers"]["c1"].pk]
    assert report["totals"]["customers"] == 7  # the matrix is never truncated


def test_chosen_runs_and_the_reverse_direction(runs, org_a):
    with tenant_context(org_a.tenant.pk):
        before, after = selectors.migration_runs(runs["earlier"].pk, runs["later"].pk)
        report = selectors.value_migration(before, after, None)
        older = selectors.migration_runs(runs["earlier"].pk)
    # compared backwards, every change flips sign and new/gone swap places
    assert report["totals"]["change"] == D("-580.25")
    assert _cells(report)[("", "C")] == (1, D("0.00"), D("40.00"), D("40.00"))
    assert _cells(report)[("C", "")] == (1, D("20.00"), D("0.00"), D("-20.00"))
    # "against" defaults to the succeeded run before the chosen one
    assert older == (runs["old"], runs["earlier"])


@pytest.mark.parametrize(
    ("after", "before", "field"),
    [
        ("failed", None, "to"),
        ("later", "failed", "from"),
        ("later", "later", "from"),
        ("later", "other", "from"),
        ("old", None, "from"),
        ("later", "abc", "from"),
    ],
)
def test_bad_run_choices_name_the_field(runs, org_a, after, before, field):
    def pk(name):
        return runs[name].pk if name in runs else name

    with tenant_context(org_a.tenant.pk), pytest.raises(DomainError) as raised:
        selectors.migration_runs(pk(after), pk(before))
    assert raised.value.field == field


def test_an_advisor_sees_only_the_migration_of_their_portfolio(runs, org_a):
    with tenant_context(org_a.tenant.pk):
        report = selectors.value_migration(runs["earlier"], runs["later"], org_a[Role.ADVISOR])
    c = runs["customers"]
    assert _cells(report) == {
        ("A", "A"): (1, D("1000.00"), D("1200.00"), D("200.00")),
        ("B", "A"): (1, D("300.00"), D("900.00"), D("600.00")),
        ("", "C"): (1, D("0.00"), D("20.00"), D("20.00")),
    }
    assert [m["customer_id"] for m in report["gains"]] == [c["c3"].pk, c["c1"].pk, c["c7"].pk]
    assert report["losses"] == [] and report["key_accounts_left"] == []
    assert report["totals"]["key_entered"] == 1


def test_fewer_than_two_runs_is_no_report(org_a):
    with tenant_context(org_a.tenant.pk):
        assert selectors.migration_runs() is None
        f.ScoringRunFactory(tenant=org_a.tenant)
        assert selectors.migration_runs() is None


# --- API -------------------------------------------------------------------------------------


def _url(run) -> str:
    return f"/api/v1/scoring-runs/{run.pk}/migration/"


def test_api_reports_the_migration_against_the_previous_run(runs, org_a, api_for):
    response = api_for(org_a[Role.ANALYST]).get(_url(runs["later"]))
    assert response.status_code == 200, response.content
    body = response.json()
    c = runs["customers"]
    assert (body["run"], body["against"]) == (runs["later"].pk, runs["earlier"].pk)
    assert (body["run_as_of"], body["against_as_of"]) == ("2026-11-15", "2026-10-15")
    cells = {
        (x["from_tier"], x["to_tier"]): (x["customers"], x["value_before"], x["value_after"]) for x in body["cells"]
    }
    assert cells[(None, "C")] == (1, "0.00", "20.00")
    assert cells[("C", None)] == (1, "40.00", "0.00")
    assert cells[("B", "A")] == (1, "300.00", "900.00")
    assert body["totals"] == {
        "customers": 7,
        "value_before": "2440.50",
        "value_after": "3020.75",
        "change": "580.25",
        "key_entered": 1,
        "key_left": 1,
    }
    assert body["gains"][0] == {
        "customer": c["c3"].pk,
        "customer_name": "Cliente C3",
        "from_tier": "B",
        "to_tier": "A",
        "value_before": "300.00",
        "value_after": "900.00",
        "change": "600.00",
    }
    assert [m["customer"] for m in body["losses"]] == [c["c2"].pk, c["c6"].pk]
    assert body["losses"][1]["to_tier"] is None
    assert [m["customer"] for m in body["key_accounts_entered"]] == [c["c3"].pk]


def test_api_against_and_top(runs, org_a, api_for):
    client = api_for(org_a[Role.TENANT_ADMIN])
    response = client.get(_url(runs["later"]), {"against": runs["old"].pk, "top": 1})
    body = response.json()
    assert response.status_code == 200
    assert body["against"] == runs["old"].pk
    # against the old run everyone was C worth 1.00 (c7 included)
    assert body["totals"]["value_before"] == "7.00"
    assert len(body["gains"]) == 1
    assert_problem(client.get(_url(runs["later"]), {"top": 0}), 400, "top")
    assert_problem(client.get(_url(runs["later"]), {"against": runs["failed"].pk}), 400, "against")
    assert_problem(client.get(_url(runs["later"]), {"against": runs["later"].pk}), 400, "against")
    assert_problem(client.get(_url(runs["failed"])), 400, "id")
    assert_problem(client.get(_url(runs["old"])), 400, "against")


def test_api_isolation_between_tenants(runs, org_a, org_b, api_for):
    # tenant B cannot read A's run, nor compare its own run against one of A's
    assert_problem(api_for(org_b[Role.TENANT_ADMIN]).get(_url(runs["later"])), 404)
    response = api_for(org_b[Role.TENANT_ADMIN]).get(_url(runs["other"]), {"against": runs["earlier"].pk})
    assert_problem(response, 400, "against")
    # and A's report never counts B's customers
    body = api_for(org_a[Role.TENANT_ADMIN]).get(_url(runs["later"])).json()
    assert body["totals"]["customers"] == 7


def test_api_advisor_visibility_and_api_key(runs, org_a, api_for, api_key_for):
    body = api_for(org_a[Role.ADVISOR]).get(_url(runs["later"])).json()
    assert body["totals"]["customers"] == 3
    assert {m["customer"] for m in body["gains"]} == {runs["customers"][n].pk for n in ADVISORS}
    # an API key acts for the whole institution, with the segments read scope
    key = api_key_for(org_a.tenant, scopes=["segments:read"])
    assert key.get(_url(runs["later"])).json()["totals"]["customers"] == 7
    assert_problem(api_key_for(org_a.tenant, scopes=["customers:read"]).get(_url(runs["later"])), 403)


# --- page ------------------------------------------------------------------------------------


def test_page_shows_the_matrix_and_movers(runs, org_a, client_for):
    response = client_for(org_a[Role.MARKETING]).get(reverse("segmentation:migration"))
    assert response.status_code == 200
    html = response.content.decode()
    cell = re.search(r'data-testid="migration-cell-B-A".*?</td>', html, re.S).group(0)
    assert "1" in cell and "600,00" in cell
    assert re.search(r'data-testid="migration-total-customers">\s*7\s*<', html)
    gains = re.search(r'data-testid="migration-gains".*?</table>', html, re.S).group(0)
    assert gains.index("Cliente C3") < gains.index("Cliente C1") < gains.index("Cliente C5")
    assert "Cliente C3" in re.search(r'data-testid="key-accounts-entered".*?</table>', html, re.S).group(0)
    assert "Cliente C2" in re.search(r'data-testid="key-accounts-left".*?</table>', html, re.S).group(0)
    # the runs page and the VALOR home link here
    for name in ("segmentation:index", "segmentation:run_list"):
        page = client_for(org_a[Role.MARKETING]).get(reverse(name)).content.decode()
        assert f'href="{reverse("segmentation:migration")}"' in page


def test_page_chosen_runs_bad_choice_and_advisor_scope(runs, org_a, client_for):
    url = reverse("segmentation:migration")
    chosen = client_for(org_a[Role.TENANT_ADMIN]).get(url, {"from": runs["old"].pk, "to": runs["earlier"].pk})
    assert chosen.status_code == 200
    assert 'data-testid="migration-cell-C-A"' in chosen.content.decode()
    bad = client_for(org_a[Role.TENANT_ADMIN]).get(url, {"from": runs["later"].pk, "to": runs["later"].pk})
    assert bad.status_code == 400
    assert "Elija dos cálculos distintos." in page_text(bad)
    advisor = client_for(org_a[Role.ADVISOR]).get(url).content.decode()
    assert "Cliente C3" in advisor and "Cliente C2" not in advisor


def test_page_without_two_runs_says_so(org_a, client_for):
    response = client_for(org_a[Role.MARKETING]).get(reverse("segmentation:migration"))
    assert response.status_code == 200
    assert "Se necesitan dos cálculos terminados" in page_text(response)


def test_the_schema_documents_the_migration_endpoint(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    operation = schema["paths"]["/api/v1/scoring-runs/{id}/migration/"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"id", "against", "top"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    fields = set(schema["components"]["schemas"][body]["properties"])
    assert {"cells", "totals", "gains", "losses", "key_accounts_entered", "key_accounts_left"} <= fields


def test_page_in_english(runs, org_a, client_for):
    client = client_for(org_a[Role.MARKETING])
    client.post(reverse("set_language"), {"language": "en", "next": reverse("segmentation:migration")})
    text = page_text(client.get(reverse("segmentation:migration")))
    assert "Value migration" in text and "Tier migration matrix" in text and "Biggest value gains (top 10)" in text
