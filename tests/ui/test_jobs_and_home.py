"""Job progress fragment and jobs page; the home page per role; stage navigation."""

from __future__ import annotations

import pytest
from django.urls import reverse

from customers.choices import InteractionType
from tests import factories as f
from tests.ui.helpers import element_html, fragment_text, page_text
from vector_crm.models import JobStatus
from vector_crm.roles import Role
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def progress_url(job):
    return reverse("job_progress", args=[job.pk])


def test_running_job_fragment_polls_itself(client_for, org_a):
    with tenant_context(org_a.tenant.pk):
        job = f.JobFactory(
            kind="customers.import",
            status=JobStatus.RUNNING,
            total=1000,
            done=400,
            counts={"created": 380, "errors": 20},
        )
    response = client_for(org_a[Role.ADVISOR]).get(progress_url(job))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html
    assert f'hx-get="{progress_url(job)}" hx-trigger="every 1s" hx-swap="outerHTML"' in html
    assert 'aria-valuenow="40"' in html and "width: 40%" in html
    text = page_text(response)
    assert "En ejecución 40 %" in text
    assert "400 de 1.000" in text
    assert "created: 380" in text and "errors: 20" in text


def test_finished_job_fragment_stops_polling(client_for, org_a):
    with tenant_context(org_a.tenant.pk):
        job = f.JobFactory(status=JobStatus.SUCCEEDED, total=10, done=10)
    response = client_for(org_a[Role.ADVISOR]).get(progress_url(job))
    html = response.content.decode()
    assert "hx-trigger" not in html
    assert "Terminado 100 %" in page_text(response)


def test_failed_job_shows_the_error_without_traceback(client_for, org_a):
    with tenant_context(org_a.tenant.pk):
        job = f.JobFactory(
            status=JobStatus.FAILED,
            total=10,
            done=3,
            error="Archivo con columnas inválidas\nTraceback (most recent call last):\n  File x",
        )
    text = page_text(client_for(org_a[Role.ADVISOR]).get(progress_url(job)))
    assert "Fallido 30 %" in text
    assert "Archivo con columnas inválidas" in text
    assert "Traceback" not in text


def test_another_tenants_job_is_a_404(client_for, org_a, org_b):
    with tenant_context(org_b.tenant.pk):
        theirs = f.JobFactory(kind="secret.job", status=JobStatus.RUNNING)
    response = client_for(org_a[Role.ADVISOR]).get(progress_url(theirs))
    assert response.status_code == 404
    assert "secret.job" not in response.content.decode()


def test_jobs_page_lists_only_this_tenants_jobs(client_for, org_a, org_b):
    with tenant_context(org_a.tenant.pk):
        f.JobFactory(kind="segmentation.score", status=JobStatus.QUEUED, created_by=org_a[Role.ANALYST].user)
    with tenant_context(org_b.tenant.pk):
        f.JobFactory(kind="other.tenant.job")
    response = client_for(org_a[Role.ANALYST]).get(reverse("job_list"))
    text = page_text(response)
    assert "segmentation.score" in text and "a_analyst" in text and "En cola" in text
    assert "other.tenant.job" not in text


def test_advisor_home_summarises_their_own_portfolio(client_for, org_a, book_a):
    response = client_for(org_a[Role.ADVISOR]).get(reverse("home"))
    text = page_text(response)
    assert "Su cartera de clientes · Banco Andino" in text
    # María, Carlos and the company are theirs; the unassigned customer is not counted
    assert 'data-testid="stat-customers">3<' in response.content.decode()
    assert 'data-testid="stat-delinquent">1<' in response.content.decode()
    assert "María José Peña Rojas Tarjeta Visa Andina TC-0001 45 $1.200.000,00 10/05/2026" in text
    assert "Promesa de pago" in text  # their latest interaction
    assert "Pasivo USD 1 US$10.000,00" in text


def test_admin_home_shows_institution_figures(client_for, org_a, book_a):
    with tenant_context(org_a.tenant.pk):
        f.JobFactory(kind="customers.refresh_delinquency", status=JobStatus.RUNNING, total=4, done=1)
    response = client_for(org_a[Role.TENANT_ADMIN]).get(reverse("home"))
    text = page_text(response)
    assert "Cifras de la entidad" in text
    assert 'data-testid="stat-customers">6<' in response.content.decode()
    assert "Asesor 3" in text  # the advisor, the teammate and the south advisor
    assert "Agencias 2" in text
    assert "customers.refresh_delinquency" in text and "25 %" in text


def test_collections_home_ranks_delinquent_accounts(client_for, org_a, book_a):
    with tenant_context(org_a.tenant.pk):
        f.HoldingFactory(customer=book_a["south"], account_number="TC-9", days_past_due=120)
        f.InteractionFactory(
            customer=book_a["south"],
            user=org_a[Role.COLLECTIONS_AGENT].user,
            interaction_type=InteractionType.COLLECTION,
        )
    text = page_text(client_for(org_a[Role.COLLECTIONS_AGENT]).get(reverse("home")))
    assert "Cuentas con más días de mora" in text
    assert text.index("TC-9 120") < text.index("TC-0001 45")
    assert "Sofía Sureña" in text and "Gestión de cobro" in text


def test_navigation_links_every_stage_to_a_working_page(client_for, org_a):
    client = client_for(org_a[Role.ADVISOR])
    home = client.get(reverse("home")).content.decode()
    # Valor has shipped its UI: the nav links to it
    assert f'href="{reverse("segmentation:index")}"' in home
    valor = client.get(reverse("segmentation:index"))
    assert valor.status_code == 200
    assert "Valor" in page_text(valor)
    for stage, label in [
        ("eventos", "Eventos"),
        ("casos", "Casos"),
        ("tareas", "Tareas"),
        ("oportunidades", "Oportunidades"),
        ("resultados", "Resultados"),
        ("cobranza", "Cobranza"),
    ]:
        shipped = SHIPPED_STAGES.get(stage)
        url = reverse(shipped) if shipped else reverse("coming_soon", args=[stage])
        assert f'href="{url}"' in home
        page = client.get(url)
        assert page.status_code == 200
        assert label in page_text(page)
        if not shipped:
            assert "llegará en una próxima versión" in page_text(page)
    assert client.get(reverse("coming_soon", args=["nada"])).status_code == 404


# Stages whose app ships its UI: the nav links to the app's index instead of "coming soon".
SHIPPED_STAGES = {"casos": "cases:index"}


def test_header_shows_institution_and_role(client_for, org_a):
    response = client_for(org_a[Role.BRANCH_MANAGER]).get(reverse("home"))
    header = fragment_text(element_html(response, "current-tenant"))
    assert header.startswith("Banco Andino Gerente de agencia · a Norte")


def test_admin_link_only_for_staff_with_admin_access(client_for, org_a):
    admin = org_a[Role.TENANT_ADMIN]
    assert reverse("admin:index") not in client_for(admin).get(reverse("home")).content.decode()
    admin.user.is_staff = True
    admin.user.save(update_fields=["is_staff"])
    assert reverse("admin:index") in client_for(admin).get(reverse("home")).content.decode()
    advisor = org_a[Role.ADVISOR]
    advisor.user.is_staff = True
    advisor.user.save(update_fields=["is_staff"])
    assert reverse("admin:index") not in client_for(advisor).get(reverse("home")).content.decode()
