"""An advisor's day in real Chromium: sign in, find a customer with the live search, open
the 360, log a call and see it on the timeline; a job's progress bar updating by itself."""

from __future__ import annotations

import re

import pytest

from customers.models import Interaction
from tests import factories as f
from tests.ui.books import build_book_a
from vector_crm.models import Job, JobStatus
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PASSWORD = "pass-Word-123"  # tests/factories.UserFactory


def sign_in(page, username: str) -> None:
    page.goto("/login/")
    page.get_by_label("Usuario").fill(username)
    page.get_by_label("Contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Entrar").click()
    page.wait_for_url(re.compile(r"/$"))


def test_advisor_finds_a_customer_and_logs_an_interaction(page, org_a):
    from playwright.sync_api import expect

    book = build_book_a(org_a)
    sign_in(page, "a_advisor")
    expect(page.get_by_test_id("home-scope")).to_contain_text("Su cartera de clientes")
    expect(page.get_by_test_id("current-tenant")).to_contain_text("Banco Andino")

    # the live search narrows the list without reloading the page
    page.get_by_role("link", name="Clientes", exact=True).click()
    expect(page.get_by_test_id("customer-table")).to_contain_text("Carlos Gómez")
    page.evaluate("window.__samePage = true")
    page.get_by_label("Buscar").press_sequentially("maría", delay=40)
    table = page.get_by_test_id("customer-table")
    expect(table).not_to_contain_text("Carlos Gómez")
    expect(table).to_contain_text("María José Peña Rojas")
    assert page.evaluate("window.__samePage") is True
    expect(page).to_have_url(re.compile(r"/customers/\?q=mar%C3%ADa&"))  # pushed: back/forward and reload work

    # the customer 360
    table.get_by_role("link", name="María José Peña Rojas").click()
    expect(page.get_by_test_id("customer-name")).to_have_text("María José Peña Rojas")
    expect(page.get_by_test_id("holding-TC-0001")).to_contain_text("$5.000.000,00")
    expect(page.get_by_test_id("holding-TC-0001").get_by_test_id("dpd")).to_have_class(re.compile("dpd--late"))
    expect(page.get_by_test_id("max-dpd")).to_have_text("45 días de mora")

    # log a visit; htmx swaps the timeline panel in place
    page.evaluate("window.__samePage = true")
    form = page.get_by_test_id("interaction-form")
    form.get_by_label("Tipo de interacción").select_option("visit")
    form.get_by_label("Canal").select_option("branch")
    form.get_by_label("Sentido").select_option("inbound")
    form.get_by_label("Resultado").select_option("interested")
    form.get_by_label("Notas").fill("Vino a la agencia; interesada en un CDT a 180 días")
    form.get_by_role("button", name="Registrar interacción").click()
    expect(page.get_by_text("Interacción registrada.")).to_be_visible()
    first = page.get_by_test_id("timeline").locator("li").first
    expect(first).to_contain_text("Visita")
    expect(first).to_contain_text("Interesado")
    expect(first).to_contain_text("Vino a la agencia; interesada en un CDT a 180 días")
    assert page.evaluate("window.__samePage") is True
    # the form is blank again for the next touchpoint
    expect(page.get_by_test_id("interaction-form").get_by_label("Notas")).to_have_value("")

    with tenant_context(org_a.tenant.pk):
        logged = Interaction.objects.filter(customer=book["maria"]).order_by("-id").first()
        assert (logged.interaction_type, logged.channel, logged.user_id) == (
            "visit",
            "branch",
            org_a[Role.ADVISOR].user_id,
        )

    # it is still there after a reload
    page.reload()
    expect(page.get_by_test_id("timeline")).to_contain_text("Vino a la agencia; interesada en un CDT a 180 días")
    assert page.external_requests == []


def test_invalid_interaction_keeps_the_form_with_its_errors(page, org_a):
    from playwright.sync_api import expect

    book = build_book_a(org_a)
    sign_in(page, "a_advisor")
    page.goto(f"/customers/{book['carlos'].pk}/")
    form = page.get_by_test_id("interaction-form")
    form.get_by_label("Fecha y hora").fill("2099-01-01T10:00")
    form.get_by_label("Notas").fill("fecha imposible")
    form.get_by_role("button", name="Registrar interacción").click()
    expect(page.get_by_text("La fecha no puede estar en el futuro.")).to_be_visible()
    expect(page.get_by_test_id("interaction-form").get_by_label("Notas")).to_have_value("fecha imposible")
    expect(page.get_by_test_id("timeline-empty")).to_be_visible()


def test_job_progress_updates_until_the_job_finishes(page, org_a):
    from playwright.sync_api import expect

    with tenant_context(org_a.tenant.pk):
        job = f.JobFactory(kind="customers.import", status=JobStatus.RUNNING, total=200, done=50)
    sign_in(page, "a_analyst")
    page.goto("/jobs/")
    progress = page.locator(f"#job-progress-{job.pk}")
    expect(progress).to_contain_text("25 %")

    with tenant_context(org_a.tenant.pk):
        Job.objects.filter(pk=job.pk).update(done=150)
    expect(page.locator(f"#job-progress-{job.pk}")).to_contain_text("75 %")

    with tenant_context(org_a.tenant.pk):
        Job.objects.filter(pk=job.pk).update(done=200, status=JobStatus.SUCCEEDED)
    finished = page.locator(f"#job-progress-{job.pk}")
    expect(finished).to_contain_text("Terminado")
    expect(finished).to_contain_text("100 %")
    expect(finished).not_to_have_attribute("hx-trigger", re.compile(".*"))


def test_switching_to_english(page, org_a):
    from playwright.sync_api import expect

    build_book_a(org_a)
    sign_in(page, "a_advisor")
    page.goto("/customers/")
    page.get_by_role("button", name="EN").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")
    expect(page.get_by_test_id("customer-table")).to_contain_text("Delinquent")
