"""The browser flow: upload, mapping, dry run with the error report, import with progress."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Customer
from tests.imports.conftest import refreshed, run_job
from vector_crm.imports.jobs import import_dry_run, import_run
from vector_crm.models import FileImport, ImportStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

GOOD = "id_cliente;tipo_documento;documento;nombres;apellidos;fecha_nacimiento\r\n"
GOOD += "C-1;cc;10203040;Ana;Pérez;31/03/1985\r\nC-2;cc;50607080;Luis;Gómez;1990-07-01\r\n"
BAD = GOOD + "C-3;cc;11223344;Eva;Ruiz;31/02/1990\r\n"


def _upload(client, content: str, kind="customers", name="clientes.csv"):
    return client.post("/imports/", {"kind": kind, "file": SimpleUploadedFile(name, content.encode())})


def _only_import(org):
    with tenant_context(org.tenant.pk):
        return FileImport.objects.get()


def _customers(org) -> set[str]:
    with tenant_context(org.tenant.pk):
        return set(Customer.objects.filter(external_id__startswith="C-").values_list("external_id", flat=True))


def test_upload_suggests_the_mapping_from_the_headers(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    # when a file is uploaded
    response = _upload(client, GOOD)
    # then the import page offers the mapping with every header matched
    imp = _only_import(org_a)
    assert response.status_code == 302 and response["Location"] == f"/imports/{imp.pk}/"
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="import-mapping"' in page
    assert '<option value="documento" selected>' in page
    assert imp.mapping == {
        "external_id": "id_cliente",
        "identification_type": "tipo_documento",
        "identification_number": "documento",
        "first_name": "nombres",
        "last_name": "apellidos",
        "birth_date": "fecha_nacimiento",
    }
    assert (imp.delimiter, imp.encoding, imp.status) == (";", "utf-8", ImportStatus.UPLOADED)


def test_missing_required_column_is_explained_and_nothing_changes(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    _upload(client, GOOD)
    imp = _only_import(org_a)
    # when the user unmaps the document number
    response = client.post(
        f"/imports/{imp.pk}/mapping/",
        {"map__external_id": "id_cliente", "map__identification_type": "tipo_documento", "map__first_name": "nombres"},
    )
    # then the page says which required field is missing
    assert response.status_code == 422
    assert "Falta asignar una columna a «Número de documento» (obligatorio)." in response.content.decode()
    refreshed(imp)
    assert imp.status == ImportStatus.UPLOADED


def test_dry_run_shows_the_row_report_and_import_only_valid_rows(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    _upload(client, BAD)
    imp = _only_import(org_a)
    client.post(f"/imports/{imp.pk}/mapping/", {f"map__{k}": v for k, v in imp.mapping.items()})
    # when the dry run runs
    assert client.post(f"/imports/{imp.pk}/dry-run/").status_code == 302
    run_job(import_dry_run, imp)
    page = client.get(f"/imports/{imp.pk}/").content.decode()
    # then the report names row 4 (header = row 1), the column, the value and the reason; nothing is written
    assert '<td class="num">4</td><td>fecha_nacimiento</td><td><code>31/02/1990</code></td>' in page
    assert "No es una fecha válida" in page
    assert _customers(org_a) == set()
    # and importing without choosing "only valid rows" is refused
    response = client.post(f"/imports/{imp.pk}/run/")
    assert response.status_code == 422
    assert "elija importar solo las filas válidas" in response.content.decode()
    # when the user imports only the valid rows
    assert client.post(f"/imports/{imp.pk}/run/", {"only_valid": "1"}).status_code == 302
    refreshed(imp)
    assert imp.status == ImportStatus.IMPORTING
    busy = client.get(f"/imports/{imp.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert f'hx-get="/jobs/{imp.job_id}/progress/"' in busy and 'hx-trigger="every 2s"' in busy
    run_job(import_run, imp)
    # then exactly the two valid customers exist
    assert imp.status == ImportStatus.DONE
    assert _customers(org_a) == {"C-1", "C-2"}
    report = client.get(f"/imports/{imp.pk}/report.csv")
    lines = b"".join(report.streaming_content).decode("utf-8-sig").splitlines()
    assert lines[0] == "fila;columna;valor;motivo" and lines[1].startswith("4;fecha_nacimiento;31/02/1990;")


def test_garbage_upload_is_refused_with_a_reason(org_a, client_for):
    client = client_for(org_a["tenant_admin"])
    response = client.post(
        "/imports/", {"kind": "customers", "file": SimpleUploadedFile("x.csv", bytes(range(256)) * 40)}
    )
    assert response.status_code == 422
    assert "parece binario" in response.content.decode()
    with tenant_context(org_a.tenant.pk):
        assert not FileImport.objects.exists()


@pytest.mark.parametrize("role", ["advisor", "supervisor", "analyst", "marketing"])
def test_roles_without_the_import_capability_get_403_and_no_link(role, org_a, client_for):
    client = client_for(org_a[role])
    assert client.get("/imports/").status_code == 403
    assert _upload(client, GOOD).status_code == 403
    assert 'data-testid="nav-imports"' not in client.get("/").content.decode()


def test_tenant_admin_sees_the_link(org_a, client_for):
    assert 'data-testid="nav-imports"' in client_for(org_a["tenant_admin"]).get("/").content.decode()


def test_another_tenants_import_is_404(org_a, org_b, client_for):
    _upload(client_for(org_a["tenant_admin"]), GOOD)
    imp = _only_import(org_a)
    other = client_for(org_b["tenant_admin"])
    for url in (f"/imports/{imp.pk}/", f"/imports/{imp.pk}/report.csv"):
        assert other.get(url).status_code == 404
    for url in (f"/imports/{imp.pk}/mapping/", f"/imports/{imp.pk}/dry-run/", f"/imports/{imp.pk}/run/"):
        assert other.post(url).status_code == 404
    refreshed(imp)
    assert imp.status == ImportStatus.UPLOADED


def test_tenant_admin_edits_the_import_size_limit_in_the_admin(org_a, client_for):
    membership = org_a["tenant_admin"]
    membership.user.is_staff = True
    membership.user.save(update_fields=["is_staff"])
    client = client_for(membership)
    url = f"/admin/vector_crm/tenant/{org_a.tenant.pk}/change/"
    page = client.get(url)
    assert page.status_code == 200 and 'name="import_max_bytes"' in page.content.decode()
    form = {
        "name": org_a.tenant.name,
        "timezone": org_a.tenant.timezone,
        "locale": org_a.tenant.locale,
        "holiday_country": org_a.tenant.holiday_country,
        "settings": "{}",
        "import_max_bytes": "5242880",
    }
    assert client.post(url, form).status_code == 302
    org_a.tenant.refresh_from_db()
    assert org_a.tenant.import_max_bytes == 5 * 1024 * 1024
