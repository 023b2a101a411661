"""CASOS pages: intake (standalone and from the 360), case page, my cases, the
escalation board with bulk reassignment, SLA policy admin, and the 360 panel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cases.models import Case, SlaPolicy
from tests.cases.factories import CaseFactory
from tests.ui.helpers import page_text
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def test_intake_from_the_360_opens_a_case_for_the_customer(org_a, types_a, customer_a, client_for):
    client = client_for(org_a["advisor"])
    page = client.get(reverse("customers:detail", args=[customer_a.pk]))
    assert f"/cases/new/?customer={customer_a.pk}" in page.content.decode()
    form = client.get(reverse("cases:new"), {"customer": customer_a.pk})
    assert form.status_code == 200
    response = client.post(
        reverse("cases:new"),
        {
            "case_type": types_a["pqrs"].pk,
            "subject": "Cobro doble",
            "channel": "phone",
            "priority": "high",
            "customer": customer_a.pk,
        },
    )
    with tenant_context(org_a.tenant.pk):
        case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("cases:detail", args=[case.pk])
    assert (case.customer_id, case.priority, case.created_by_id) == (customer_a.pk, "high", org_a["advisor"].user_id)
    detail = page_text(client.get(response["Location"]))
    assert "Cobro doble" in detail and "Relojes de ANS" in detail and "Primera respuesta" in detail
    assert "Cobro doble" in page_text(client.get(reverse("customers:detail", args=[customer_a.pk])))


def test_intake_errors_name_the_field_and_write_nothing(org_a, types_a, client_for):
    response = client_for(org_a["advisor"]).post(
        reverse("cases:new"),
        {
            "case_type": types_a["excepcion"].pk,
            "subject": "Sobregiro",
            "channel": "branch",
            "priority": "medium",
            "exception_type": "overdraft",
        },
    )
    assert response.status_code == 400
    assert "Obligatorio en una excepción." in page_text(response)
    with tenant_context(org_a.tenant.pk):
        assert not Case.objects.exists()


def test_case_page_transition_and_invalid_move(open_case, org_a, client_for):
    case = open_case()
    client = client_for(org_a["advisor"])
    assert client.post(reverse("cases:transition", args=[case.pk]), {"to_status": "acknowledged"}).status_code == 302
    refused = client.post(reverse("cases:transition", args=[case.pk]), {"to_status": "closed"})
    assert refused.status_code == 400
    assert "No se puede pasar de «Recibido» a «Cerrado»." in page_text(refused)
    client.post(reverse("cases:comment", args=[case.pk]), {"body": "Cliente enviará soporte"})
    text = page_text(client.get(reverse("cases:detail", args=[case.pk])))
    assert "Cliente enviará soporte" in text and "Recibido" in text


def test_my_cases_lists_only_mine(open_case, org_a, client_for):
    mine = open_case(subject="El mío", assignee=org_a["advisor"].user)
    open_case(subject="De otro", assignee=org_a.extra["teammate"].user)
    text = page_text(client_for(org_a["advisor"]).get(reverse("cases:index"), {"mine": "1"}))
    assert mine.subject in text and "De otro" not in text


def test_board_shows_breached_and_at_risk_by_team_and_bulk_reassigns(org_a, client_for):
    now = timezone.now()
    with tenant_context(org_a.tenant.pk):
        breached = CaseFactory(
            tenant=org_a.tenant, team=org_a.team, subject="Vencido", resolution_due_at=now - dt.timedelta(hours=1)
        )
        at_risk = CaseFactory(
            tenant=org_a.tenant,
            team=org_a.team,
            subject="En riesgo",
            warn_at=now - dt.timedelta(minutes=5),
            resolution_due_at=now + dt.timedelta(hours=2),
        )
        CaseFactory(
            tenant=org_a.tenant,
            subject="Tranquilo",
            warn_at=now + dt.timedelta(hours=5),
            resolution_due_at=now + dt.timedelta(hours=8),
        )
    client = client_for(org_a["supervisor"])
    text = page_text(client.get(reverse("cases:board")))
    assert "Vencido" in text and "En riesgo" in text and "Tranquilo" not in text
    assert f"{org_a.team.name} 1 1" in text
    assert client_for(org_a["advisor"]).get(reverse("cases:board")).status_code == 403
    target = org_a.extra["teammate"].user
    refused = client.post(reverse("cases:board"), {"case_ids": [breached.pk]}, follow=True)
    assert "Elija a quién o a qué cola reasignar." in page_text(refused)
    response = client.post(reverse("cases:board"), {"case_ids": [breached.pk, at_risk.pk], "assignee": target.pk})
    assert response.status_code == 302
    with tenant_context(org_a.tenant.pk):
        assert set(Case.objects.filter(assignee=target).values_list("pk", flat=True)) == {breached.pk, at_risk.pk}


def test_board_renders_in_a_fixed_number_of_queries(org_a, client_for, django_assert_max_num_queries):
    now = timezone.now()
    with tenant_context(org_a.tenant.pk):
        for n in range(40):
            CaseFactory(
                tenant=org_a.tenant,
                team=org_a.team,
                assignee=org_a["advisor"].user,
                resolution_due_at=now - dt.timedelta(minutes=n + 1),
            )
    client = client_for(org_a["supervisor"])
    client.get(reverse("cases:board"))
    with django_assert_max_num_queries(12):
        assert client.get(reverse("cases:board")).status_code == 200


def test_policy_admin_for_tenant_admins_only(org_a, types_a, client_for):
    admin = client_for(org_a["tenant_admin"])
    assert "PQRS" in page_text(admin.get(reverse("cases:policies")))
    response = admin.post(
        reverse("cases:policies"),
        {
            "case_type": types_a["pqrs"].pk,
            "priority": "high",
            "tier": "oro",
            "first_response_minutes": 30,
            "resolution_minutes": 600,
            "warning_percent": 80,
            "escalation_minutes": "[0, 120]",
        },
    )
    assert response.status_code == 302
    with tenant_context(org_a.tenant.pk):
        policy = SlaPolicy.objects.get(tier="oro")
    assert (policy.resolution_minutes, policy.escalation_minutes) == (600, [0, 120])
    assert client_for(org_a["supervisor"]).get(reverse("cases:policies")).status_code == 403


def test_security_case_page_is_404_for_an_advisor(open_case, org_a, client_for):
    case = open_case(membership=org_a["supervisor"], code="seguridad", subject="Fraude")
    assert client_for(org_a["advisor"]).get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert "Fraude" not in page_text(client_for(org_a["advisor"]).get(reverse("cases:index")))
    assert client_for(org_a["supervisor"]).get(reverse("cases:detail", args=[case.pk])).status_code == 200


def test_other_tenants_case_is_404(open_case, org_b, client_for):
    case = open_case()
    assert client_for(org_b["tenant_admin"]).get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert (
        client_for(org_b["tenant_admin"])
        .post(reverse("cases:transition", args=[case.pk]), {"to_status": "acknowledged"})
        .status_code
        == 404
    )


def test_the_english_catalogue_translates_the_cases_ui():
    from django.utils import translation

    with translation.override("en"):
        assert translation.gettext("Tablero de escalamiento") == "Escalation board"
        assert (
            translation.gettext("No se puede pasar de «%(a)s» a «%(b)s».")
            == "A case cannot move from “%(a)s” to “%(b)s”."
        )


def test_tenant_admin_sees_case_types_policies_and_own_cases_in_the_django_admin(open_case, org_a, org_b, client_for):
    admin_member = org_a["tenant_admin"]
    admin_member.user.is_staff = True
    admin_member.user.save(update_fields=["is_staff"])
    mine = open_case(subject="Caso propio")
    client = client_for(admin_member)
    for name in ("casetype", "slapolicy", "businesscalendar"):
        assert client.get(reverse(f"admin:cases_{name}_changelist")).status_code == 200
    with tenant_context(org_b.tenant.pk):
        theirs = CaseFactory(tenant=org_b.tenant, subject="Caso ajeno")
    listing = page_text(client.get(reverse("admin:cases_case_changelist")))
    assert "Caso propio" in listing
    assert "Caso ajeno" not in listing
    assert client.get(reverse("admin:cases_case_change", args=[theirs.pk])).status_code in (302, 404)
    assert client.get(reverse("admin:cases_case_change", args=[mine.pk])).status_code == 200


def test_escalation_notifications_are_listed_for_their_user_and_marked_read(org_a, client_for):
    from cases.sweep import sla_sweep_tenant
    from vector_crm.models import Notification

    past = timezone.now() - dt.timedelta(hours=1)
    with tenant_context(org_a.tenant.pk):
        case = CaseFactory(
            tenant=org_a.tenant,
            team=org_a.team,
            subject="Vencido",
            next_deadline_at=past,
            resolution_due_at=past,
            escalation_offsets=[0],
        )
    sla_sweep_tenant(org_a.tenant.pk)
    supervisor = client_for(org_a["supervisor"])
    text = page_text(supervisor.get(reverse("notification_list")))
    assert f"{case.reference} escalado" in text
    assert f"{case.reference} escalado" not in page_text(client_for(org_a["advisor"]).get(reverse("notification_list")))
    assert supervisor.post(reverse("notification_list")).status_code == 302
    with tenant_context(org_a.tenant.pk):
        assert not Notification.objects.filter(user=org_a["supervisor"].user, read_at=None).exists()
