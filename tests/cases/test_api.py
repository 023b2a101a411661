"""CASOS API beyond the shared endpoint classes: transitions, security visibility,
exception authority, comments, attachments and the timeline."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cases.models import Case, CaseMilestone
from tests.api.helpers import assert_problem
from tests.cases.conftest import FRIDAY_1730
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def test_open_a_case_through_the_api_starts_its_clocks(org_a, types_a, customer_a, api_for):
    response = api_for(org_a["advisor"]).post(
        "/api/v1/cases/",
        {
            "case_type": types_a["pqrs"].pk,
            "subject": "Cobro no reconocido",
            "channel": "web",
            "customer": customer_a.pk,
            "pqrs_type": "claim",
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["kind"], body["priority"]) == ("new", "complaint", "medium")
    assert body["resolution_due_at"] and body["response_due_at"]
    # the PQRS "acuse" moment of truth (60 business minutes) warns first, at 75 % of it
    with tenant_context(org_a.tenant.pk):
        milestone = CaseMilestone.objects.get(case_id=body["id"], code="acuse")
    assert milestone.warn_at < milestone.due_at < dt.datetime.fromisoformat(body["response_due_at"])
    assert dt.datetime.fromisoformat(body["next_deadline_at"]) == milestone.warn_at


def test_invalid_transition_is_a_400_naming_status(open_case, org_a, api_for):
    case = open_case()
    client = api_for(org_a["advisor"])
    problem = assert_problem(
        client.post(f"/api/v1/cases/{case.pk}/transition/", {"to_status": "closed"}), 400, "status"
    )
    assert problem["errors"][0]["code"] == "invalid-transition"
    ok = client.post(f"/api/v1/cases/{case.pk}/transition/", {"to_status": "acknowledged", "note": "Recibido"})
    assert ok.status_code == 200 and ok.json()["status"] == "acknowledged"


def test_security_cases_are_404_for_roles_and_keys_without_access(open_case, org_a, customer_a, api_for, api_key_for):
    case = open_case(membership=org_a["supervisor"], code="seguridad", subject="Fraude", customer=customer_a)
    for role in ("advisor", "analyst", "collections_agent"):
        client = api_for(org_a[role])
        assert_problem(client.get(f"/api/v1/cases/{case.pk}/"), 404)
        assert case.pk not in [c["id"] for c in client.get("/api/v1/cases/").json()["results"]]
        assert_problem(client.get(f"/api/v1/cases/{case.pk}/timeline/"), 404)
    key = api_key_for(org_a.tenant, scopes=["cases:write"])
    assert_problem(key.get(f"/api/v1/cases/{case.pk}/"), 404)
    security_key = api_key_for(org_a.tenant, scopes=["cases:read", "security_cases:read"])
    assert security_key.get(f"/api/v1/cases/{case.pk}/").json()["priority"] == "critical"
    assert api_for(org_a["supervisor"]).get(f"/api/v1/cases/{case.pk}/").status_code == 200


def test_an_advisor_cannot_open_a_security_case_type(org_a, types_a, api_for):
    response = api_for(org_a["advisor"]).post(
        "/api/v1/cases/", {"case_type": types_a["seguridad"].pk, "subject": "x", "channel": "web"}
    )
    assert_problem(response, 400, "case_type")


def test_exception_decision_above_authority_is_refused_by_the_api(open_case, org_a, api_for):
    case = open_case(
        code="excepcion",
        subject="Tasa",
        exception_type="preferential_rate",
        amount=Decimal("13"),
        policy_limit=Decimal("10"),
    )
    refused = api_for(org_a["advisor"]).post(
        f"/api/v1/cases/{case.pk}/decide/", {"approve": True, "reason": "Buen cliente"}
    )
    assert assert_problem(refused, 400, "approve")["errors"][0]["code"] == "authority-exceeded"
    approved = api_for(org_a["supervisor"]).post(
        f"/api/v1/cases/{case.pk}/decide/", {"approve": True, "reason": "Buen cliente"}
    )
    assert approved.status_code == 200 and approved.json()["approval_status"] == "approved"


def test_comments_attachments_and_timeline(open_case, org_a, api_for):
    case = open_case()
    client = api_for(org_a["advisor"])
    comment = client.post(
        "/api/v1/case-comments/", {"case": case.pk, "body": "Se pidió el recibo", "is_internal": True}
    )
    assert comment.status_code == 201, comment.content
    upload = client.post(
        f"/api/v1/cases/{case.pk}/attachments/",
        {"file": SimpleUploadedFile("recibo.txt", b"pagado", content_type="text/plain")},
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    assert (upload.json()["name"], upload.json()["size"]) == ("recibo.txt", 6)
    timeline = client.get(f"/api/v1/cases/{case.pk}/timeline/").json()
    assert [e["kind"] for e in timeline["events"]] == ["created", "comment", "attachment"]
    assert client.get("/api/v1/case-comments/", {"case": case.pk}).json()["results"][0]["body"] == "Se pidió el recibo"


def test_advisor_may_take_an_unassigned_case_but_not_reassign(open_case, org_a, api_for):
    case = open_case()
    client = api_for(org_a["advisor"])
    taken = client.post(f"/api/v1/cases/{case.pk}/assign/", {"assignee": org_a["advisor"].user_id})
    assert taken.status_code == 200 and taken.json()["assignee"] == org_a["advisor"].user_id
    moved = client.post(f"/api/v1/cases/{case.pk}/assign/", {"assignee": org_a.extra["teammate"].user_id})
    assert_problem(moved, 403)
    with tenant_context(org_a.tenant.pk):
        assert Case.objects.get(pk=case.pk).assignee_id == org_a["advisor"].user_id


def test_policy_unique_scope_names_the_field(org_a, types_a, api_for):
    client = api_for(org_a["tenant_admin"])
    body = {
        "case_type": types_a["pqrs"].pk,
        "priority": "",
        "tier": "",
        "first_response_minutes": 10,
        "resolution_minutes": 20,
    }
    assert_problem(client.post("/api/v1/sla-policies/", body), 400, "tier")
    assert_problem(api_for(org_a["advisor"]).post("/api/v1/sla-policies/", {**body, "tier": "oro"}), 403)


def test_opened_at_is_server_time(org_a, types_a, api_for):
    response = api_for(org_a["advisor"]).post(
        "/api/v1/cases/",
        {"case_type": types_a["solicitud"].pk, "subject": "x", "channel": "web", "opened_at": FRIDAY_1730.isoformat()},
    )
    assert response.status_code == 201
    assert response.json()["opened_at"] != FRIDAY_1730.isoformat()
