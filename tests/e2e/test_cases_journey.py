"""A complaint's life in real Chromium: an advisor opens it from the customer's 360 with
the triage suggestion on screen, acknowledges it and moves it along (a stale tab's invalid
transition shows the clear error), the case breaches and the in-process sweep escalates
it, the supervisor finds it on the escalation board and bulk-reassigns it, and the
advisor's "my cases" no longer lists it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from cases import jobs, services
from cases.models import Case, Escalation
from cases.sweep import sla_sweep
from tests import factories as f
from tests.cases.test_triage_job import CARD_TEXTS, MORTGAGE_TEXTS, _closed_complaints
from vector_crm.models import Job
from vector_crm.tenancy import tenant_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-Word-123"  # tests/factories.UserFactory
SUBJECT = "Cobro de escrow sin explicación"
NARRATIVE = "The mortgage servicer raised my escrow payment and will not explain the escrow shortage on my home loan"


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(re.compile(r"/$"))


def change_status(page, label: str) -> None:
    form = page.get_by_test_id("transition-form")
    form.get_by_label("Nuevo estado").select_option(label=label)
    form.get_by_role("button", name="Cambiar estado").click()


def test_complaint_from_intake_to_breach_escalation_and_bulk_reassignment(page, browser, live_server, org_a):
    from playwright.sync_api import expect

    # given a customer of the advisor and a triage model trained on the bank's closed complaints
    with tenant_context(org_a.tenant.pk):
        types = {t.code: t for t in services.case_types_ensure_defaults()}
        customer = f.CustomerFactory(
            tenant=org_a.tenant, branch=org_a.branches[0], owner=org_a["advisor"].user, first_name="Lucía"
        )
        job = Job.objects.create(kind=jobs.TRAIN_TRIAGE)
    _closed_complaints(org_a, types, {"Credit card": CARD_TEXTS, "Mortgage": MORTGAGE_TEXTS})
    jobs.train_triage.apply(args=(org_a.tenant.pk, job.pk))

    # the advisor opens the complaint from the customer's 360
    sign_in(page, "a_advisor")
    page.goto(f"/customers/{customer.pk}/")
    page.get_by_test_id("new-case-from-360").click()
    expect(page.get_by_role("heading", name="Nuevo caso")).to_be_visible()
    form = page.get_by_test_id("case-intake")
    form.get_by_label("Tipo de caso").select_option(label="PQRS")
    form.get_by_label("Asunto").fill(SUBJECT)
    form.get_by_label("Descripción").press_sequentially(NARRATIVE[:60], delay=5)
    form.get_by_label("Descripción").fill(NARRATIVE)
    # the classifier's suggestion appears while typing (htmx, no reload)
    suggestion = page.get_by_test_id("triage-suggestion")
    expect(suggestion).to_contain_text("Sugerencia del clasificador: categoría Mortgage")
    expect(suggestion.get_by_test_id("triage-queue")).to_have_text(org_a.team.name)
    expect(suggestion).to_contain_text("entrenado con 32 casos cerrados")
    form.get_by_label("Categoría").fill(suggestion.get_by_test_id("triage-category").inner_text())
    form.get_by_label("Canal de entrada").select_option("phone")
    form.get_by_label("Tipo de PQRS").select_option("claim")
    form.get_by_label("Cola").select_option(label=org_a.team.name)
    form.get_by_role("button", name="Abrir caso").click()

    expect(page.get_by_test_id("case-status")).to_have_text("Nuevo")
    expect(page.get_by_role("heading", name=re.compile(SUBJECT))).to_be_visible()
    with tenant_context(org_a.tenant.pk):
        case = Case.objects.get(subject=SUBJECT)
    assert (case.customer_id, case.category, case.team_id, case.assignee_id) == (
        customer.pk,
        "Mortgage",
        org_a.team.pk,
        None,
    )
    expect(page.get_by_test_id("sla-clocks")).to_contain_text("Primera respuesta")

    # the advisor takes it (it is their customer's complaint)
    page.get_by_role("button", name="Tomar el caso").click()
    expect(page.get_by_test_id("take-case")).to_have_count(0)
    expect(page.get_by_test_id("case-timeline")).to_contain_text("Asignación")

    # a second tab keeps the page as it was while the case was new
    stale = page.context.new_page()
    stale.goto(f"/cases/{case.pk}/")
    expect(stale.get_by_test_id("case-status")).to_have_text("Nuevo")

    # acknowledge, then start working on it
    change_status(page, "Recibido")
    expect(page.get_by_test_id("case-status")).to_have_text("Recibido")
    change_status(page, "En gestión")
    expect(page.get_by_test_id("case-status")).to_have_text("En gestión")
    timeline = page.get_by_test_id("case-timeline")
    expect(timeline).to_contain_text("Recibido")
    expect(timeline).to_contain_text("En gestión")

    # the stale tab offers "Recibido", which is no longer a valid move: a clear error
    change_status(stale, "Recibido")
    expect(stale.locator(".message--error")).to_have_text("No se puede pasar de «En gestión» a «Recibido».")
    expect(stale.get_by_test_id("case-status")).to_have_text("En gestión")
    stale.close()

    # "my cases" lists it
    page.goto("/cases/?mine=1")
    expect(page.get_by_test_id("case-table")).to_contain_text(SUBJECT)

    # the case breaches: its deadlines are moved into the past and the sweep runs in-process
    past = timezone.now() - dt.timedelta(hours=2)
    with tenant_context(org_a.tenant.pk):
        Case.objects.filter(pk=case.pk).update(
            warn_at=past - dt.timedelta(hours=3), resolution_due_at=past, next_deadline_at=past - dt.timedelta(hours=3)
        )
    totals = sla_sweep()
    assert totals["escalations"] >= 1
    with tenant_context(org_a.tenant.pk):
        assert list(Escalation.objects.filter(case=case).values_list("level", flat=True)) == [1]

    # the supervisor sees it on the escalation board, breached, and bulk-reassigns it
    supervisor_context = browser.new_context(base_url=live_server.url, locale="es-CO")
    supervisor_context.set_default_timeout(10_000)
    board = supervisor_context.new_page()
    try:
        sign_in(board, "a_supervisor")
        board.goto("/cases/board/")
        row = board.get_by_test_id("board-cases").locator("tr", has_text=SUBJECT)
        expect(row).to_contain_text("Vencido")
        expect(row).to_contain_text("a_advisor")
        expect(row.locator("td").last).to_have_text("1")  # escalation level
        expect(board.get_by_test_id("board-totals")).to_contain_text(org_a.team.name)
        row.get_by_role("checkbox").check()
        board.get_by_label("Reasignar a").select_option(label="a_teammate")
        board.get_by_role("button", name="Reasignar seleccionados").click()
        # (the board template repeats the page messages; the first is enough)
        expect(board.locator(".message--success").first).to_have_text("1 casos reasignados.")
        expect(board.get_by_test_id("board-cases").locator("tr", has_text=SUBJECT)).to_contain_text("a_teammate")
    finally:
        supervisor_context.close()

    # the advisor's "my cases" no longer lists it
    page.goto("/cases/?mine=1")
    expect(page.get_by_role("heading", name="Mis casos")).to_be_visible()
    expect(page.get_by_test_id("case-table")).not_to_contain_text(SUBJECT)
    with tenant_context(org_a.tenant.pk):
        case.refresh_from_db()
        assert case.assignee_id == org_a.extra["teammate"].user_id
    assert page.external_requests == []
