"""A tenant admin imports a spreadsheet in real Chromium: upload, the suggested mapping, the
dry-run report, then "only the valid rows" (jobs run eagerly, in the live server)."""

from __future__ import annotations

import re

import pytest

from customers.models import Customer
from tests.e2e.test_customer_journey import sign_in
from vector_crm.celery import app
from vector_crm.tenancy import tenant_context

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CSV = (
    "id_cliente;tipo_documento;documento;nombres;apellidos;fecha_nacimiento\r\n"
    "E-1;cc;10203040;Ana;Pérez;31/03/1985\r\n"
    "E-2;cc;50607080;Luis;Gómez;31/02/1990\r\n"
    "E-3;cc;90807060;Eva;Ruiz;1990-07-01\r\n"
)


@pytest.fixture
def eager_jobs(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


def test_tenant_admin_imports_only_the_valid_rows(page, org_a, eager_jobs):
    from playwright.sync_api import expect

    sign_in(page, "a_tenant_admin")
    page.get_by_test_id("nav-imports").click()
    upload = page.get_by_test_id("import-upload")
    upload.get_by_label("Qué contiene el archivo").select_option("customers")
    upload.get_by_label("Archivo CSV o XLSX").set_input_files(
        {"name": "clientes.csv", "mimeType": "text/csv", "buffer": CSV.encode("cp1252")}
    )
    upload.get_by_role("button", name="Cargar").click()
    page.wait_for_url(re.compile(r"/imports/\d+/$"))

    # the mapping is suggested from the headers
    mapping = page.get_by_test_id("import-mapping")
    expect(mapping.locator("tr[data-target=identification_number] select")).to_have_value("documento")
    mapping.get_by_role("button", name="Guardar columnas").click()
    page.get_by_test_id("dry-run").click()

    # the dry run names row 3, its column, value and reason, and nothing is written
    expect(page.get_by_test_id("import-status")).to_have_text("Validado")
    issues = page.get_by_test_id("import-issues")
    expect(issues).to_contain_text("fecha_nacimiento")
    expect(issues).to_contain_text("31/02/1990")
    expect(issues.locator("tbody tr")).to_have_count(1)
    with tenant_context(org_a.tenant.pk):
        assert not Customer.objects.filter(external_id__startswith="E-").exists()

    run = page.get_by_test_id("import-run")
    run.get_by_test_id("only-valid").check()
    run.get_by_role("button", name="Importar ahora").click()
    expect(page.get_by_test_id("import-status")).to_have_text("Importado")
    expect(page.locator("tr[data-sink=customers]")).to_contain_text("2")
    with tenant_context(org_a.tenant.pk):
        names = sorted(Customer.objects.filter(external_id__startswith="E-").values_list("last_name", flat=True))
    assert names == ["Pérez", "Ruiz"]
    assert page.external_requests == []
