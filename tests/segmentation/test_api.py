"""VALOR API beyond the shared CRUD/isolation classes: rule counts equal the ORM query,
members, runs (start, conflict, progress, result), survey bulk upsert, permissions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Q

from customers.models import Customer
from segmentation.jobs import score_customers
from segmentation.models import ScoringRun, Segment, SurveyResponse
from tests.api.helpers import assert_problem
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

AS_OF = dt.date(2026, 11, 15)


def _admin(org_a, api_for):
    return api_for(org_a[Role.TENANT_ADMIN])


RULES = [
    {"field": "age", "op": "gte", "value": 40},
    {"field": "income_band", "op": "in", "value": ["2to4", "4to8"]},
    {"field": "product_family", "op": "eq", "value": "savings"},
    {"field": "tier", "op": "in", "value": ["A", "B"]},
]


def test_rule_count_preview_equals_the_orm_query(scored, org_a, api_for):
    # when the builder previews rules over profile, products and scores
    response = _admin(org_a, api_for).post("/api/v1/segments/preview/", {"rules": RULES})
    # then the count is that of the equivalent hand-written ORM query
    with tenant_context(org_a.tenant.pk):
        expected = (
            Customer.objects.filter(
                birth_date__lte=dt.date(1986, 11, 15),
                income_band__in=["2to4", "4to8"],
                holdings__product__family="savings",
                holdings__status="active",
                valor_scores__run=ScoringRun.objects.get(),
                valor_scores__tier__in=["A", "B"],
            )
            .distinct()
            .count()
        )
    assert response.status_code == 200
    assert expected > 0
    assert response.json() == {"count": expected}


def test_saved_rule_segment_members_match_the_preview(scored, org_a, api_for):
    client = _admin(org_a, api_for)
    created = client.post("/api/v1/segments/", {"name": "Mayores con ahorro", "rules": RULES[:3]})
    assert created.status_code == 201, created.content
    preview = client.post("/api/v1/segments/preview/", {"rules": RULES[:3]}).json()["count"]
    members = client.get(f"/api/v1/segments/{created.json()['id']}/members/").json()["results"]
    assert len(members) == preview
    priorities = [Decimal(m["priority"]) for m in members]
    assert priorities == sorted(priorities, reverse=True)


def test_learned_segments_have_descriptions_and_members(scored, org_a, api_for):
    client = _admin(org_a, api_for)
    learned = client.get("/api/v1/segments/", {"kind": "learned"}).json()["results"]
    assert len(learned) == 5
    assert all(segment["summary"] for segment in learned)
    total = sum(len(client.get(f"/api/v1/segments/{s['id']}/members/").json()["results"]) for s in learned)
    assert total == 12
    # and a learned segment cannot be edited
    response = client.patch(f"/api/v1/segments/{learned[0]['id']}/", {"name": "Otro"})
    assert_problem(response, 400)


def test_bad_rules_name_the_rule_and_key(org_a, api_for):
    client = _admin(org_a, api_for)
    response = client.post(
        "/api/v1/segments/", {"name": "Malo", "rules": [{"field": "age", "op": "gte", "value": "viejo"}]}
    )
    assert_problem(response, 400)
    assert "rules[0].value" in response.content.decode()
    unknown = client.post("/api/v1/segments/preview/", {"rules": [{"field": "salary", "op": "eq", "value": 1}]})
    assert_problem(unknown, 400)
    assert "rules[0].field" in unknown.content.decode()


def test_other_tenants_segment_members_are_not_found(scored, org_a, org_b, api_for):
    with tenant_context(org_a.tenant.pk):
        segment = Segment.objects.filter(kind="learned").first()
    response = api_for(org_b[Role.TENANT_ADMIN]).get(f"/api/v1/segments/{segment.pk}/members/")
    assert_problem(response, 404)


def test_advisor_sees_only_own_portfolio_in_scores_and_cannot_manage(scored, org_a, api_for):
    client = api_for(org_a[Role.ADVISOR])
    scores = client.get("/api/v1/scores/").json()["results"]
    with tenant_context(org_a.tenant.pk):
        visible = set(
            Customer.objects.filter(
                Q(owner=org_a["advisor"].user) | Q(owner__isnull=True, branch=org_a.branches[0])
            ).values_list("pk", flat=True)
        )
    assert {s["customer"] for s in scores} == visible
    assert len(scores) == 12  # six own + six unassigned of the branch
    assert_problem(client.post("/api/v1/segments/", {"name": "X", "rules": []}), 403)
    assert_problem(client.post("/api/v1/scoring-runs/", {}), 403)


def test_run_start_conflict_progress_and_result(scored, org_a, api_for):
    client = _admin(org_a, api_for)
    started = client.post("/api/v1/scoring-runs/", {"as_of": "2026-11-15"})
    assert started.status_code == 201
    body = started.json()
    assert (body["status"], body["progress"]) == ("queued", 0)
    # a second start while the first is queued is a conflict
    assert_problem(client.post("/api/v1/scoring-runs/", {}), 409)
    # when the worker runs it, the run reports its result
    score_customers(org_a.tenant.pk, body["job"], run_id=body["id"])
    done = client.get(f"/api/v1/scoring-runs/{body['id']}/").json()
    assert (done["status"], done["progress"]) == ("succeeded", 100)
    assert done["result"]["customers"] == 12
    assert sum(done["result"]["tiers"].values()) == 12


def test_survey_responses_bulk_upsert(scored, org_a, api_for):
    client = _admin(org_a, api_for)
    records = [
        {"customer_external_id": "EXT-1", "responded_on": "2026-06-01", "attribute": "advice", "satisfaction": 2, "importance": 5},
        {"customer_external_id": "EXT-2", "responded_on": "2026-06-01", "attribute": "agility", "satisfaction": 6, "importance": 5},
        {"customer_external_id": "NOPE", "responded_on": "2026-06-01", "attribute": "trust", "satisfaction": 3, "importance": 3},
    ]  # fmt: skip
    atomic = client.post("/api/v1/bulk/survey-responses/?atomic=true", {"records": records})
    assert_problem(atomic, 400)
    with tenant_context(org_a.tenant.pk):
        assert SurveyResponse.objects.count() == 0
    response = client.post("/api/v1/bulk/survey-responses/", {"records": records})
    assert response.status_code == 200
    body = response.json()
    assert (body["created"], body["updated"]) == (1, 0)
    assert [(r["index"], r["field"]) for r in body["rejected"]] == [(1, "satisfaction"), (2, "customer_external_id")]
    again = client.post("/api/v1/bulk/survey-responses/", {"records": [{**records[0], "satisfaction": 3}]}).json()
    assert (again["created"], again["updated"]) == (0, 1)
    with tenant_context(org_a.tenant.pk):
        assert list(SurveyResponse.objects.values_list("satisfaction", flat=True)) == [3]


def test_survey_bulk_needs_the_surveys_scope(org_a, api_key_for):
    client = api_key_for(org_a.tenant, scopes=["customers:write"])
    assert_problem(client.post("/api/v1/bulk/survey-responses/", {"records": []}), 403)
