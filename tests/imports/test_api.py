"""``/api/v1/imports/``: the same flow for systems (API key) and people (session)."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from customers.models import Customer
from tests.imports.conftest import get_import, run_job
from tests.imports.test_import import customers_csv
from vector_crm.imports.jobs import import_dry_run, import_run
from vector_crm.models import FileImport
from vector_crm.roles import ALL_SCOPES
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db


def upload(client, content: bytes, importable="customers", name="c.csv"):
    return client.post(
        "/api/v1/imports/", {"file": SimpleUploadedFile(name, content), "importable": importable}, format="multipart"
    )


def test_full_flow_with_an_api_key(org_a, api_key_for):
    client = api_key_for(org_a.tenant, scopes=list(ALL_SCOPES))
    # when a file with one bad row is uploaded, mapped and dry-run
    created = upload(client, customers_csv(12, bad={4: "31/13/1990"}).encode())
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["status"], body["delimiter"], body["headers"][0]) == ("uploaded", ";", "id_cliente")
    pk = body["id"]
    mapped = client.post(f"/api/v1/imports/{pk}/mapping/", {"mapping": body["mapping"]}, format="json")
    assert mapped.status_code == 200 and mapped.json()["status"] == "mapped"
    queued = client.post(f"/api/v1/imports/{pk}/dry-run/")
    assert queued.status_code == 202 and queued.json()["status"] == "validating"
    run_job(import_dry_run, get_import(org_a, pk))
    # then the report lists the row, column, value and reason
    status = client.get(f"/api/v1/imports/{pk}/").json()
    assert (status["status"], status["total_rows"], status["issue_count"], status["valid_rows"]) == (
        "validated",
        12,
        1,
        11,
    )
    report = client.get(f"/api/v1/imports/{pk}/issues/").json()
    assert report["results"] == [
        {
            "row": 6,
            "column": "fecha_nacimiento",
            "value": "31/13/1990",
            "reason": "No es una fecha válida (use AAAA-MM-DD o DD/MM/AAAA).",
        }
    ]
    # and running without only_valid is refused while only_valid imports the 11 rows
    refused = client.post(f"/api/v1/imports/{pk}/run/", {}, format="json")
    assert refused.status_code == 400
    assert refused.json()["errors"][0]["field"] == "only_valid"
    accepted = client.post(f"/api/v1/imports/{pk}/run/", {"only_valid": True}, format="json")
    assert accepted.status_code == 202 and accepted.json()["status"] == "importing"
    run_job(import_run, get_import(org_a, pk))
    done = client.get(f"/api/v1/imports/{pk}/").json()
    assert done["status"] == "done"
    assert done["counts"] == {"customers": {"created": 11, "updated": 0, "unchanged": 0}}
    assert done["job"]["status"] == "succeeded"
    with tenant_context(org_a.tenant.pk):
        assert Customer.objects.filter(external_id__startswith="C-").count() == 11


def test_issues_are_paginated(org_a, api_for):
    client = api_for(org_a["tenant_admin"])
    pk = upload(client, customers_csv(30, bad={i: "x" for i in range(30)}).encode()).json()["id"]
    client.post(f"/api/v1/imports/{pk}/mapping/", {"mapping": get_import(org_a, pk).mapping}, format="json")
    client.post(f"/api/v1/imports/{pk}/dry-run/")
    run_job(import_dry_run, get_import(org_a, pk))
    first = client.get(f"/api/v1/imports/{pk}/issues/?page_size=20").json()
    second = client.get(first["next"]).json()
    rows = [i["row"] for i in first["results"] + second["results"]]
    assert rows == list(range(2, 32)) and second["next"] is None


def test_garbage_is_a_problem_naming_the_file_and_stores_nothing(org_a, api_key_for):
    client = api_key_for(org_a.tenant, scopes=list(ALL_SCOPES))
    response = upload(client, bytes(range(256)) * 10)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == "file"
    with tenant_context(org_a.tenant.pk):
        assert not FileImport.objects.exists()


def test_wrong_mapping_is_a_problem_naming_the_mapping(org_a, api_for):
    client = api_for(org_a["tenant_admin"])
    pk = upload(client, customers_csv(2).encode()).json()["id"]
    response = client.post(f"/api/v1/imports/{pk}/mapping/", {"mapping": {"external_id": "nope"}}, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == "mapping" and "«nope»" in error["message"]


def test_a_key_needs_the_imports_scope_and_the_records_scopes(org_a, api_key_for):
    without_imports = api_key_for(org_a.tenant, scopes=["customers:write"])
    assert upload(without_imports, customers_csv(2).encode()).status_code == 403
    without_customers = api_key_for(org_a.tenant, scopes=["imports:write"])
    assert upload(without_customers, customers_csv(2).encode()).status_code == 403
    both = api_key_for(org_a.tenant, scopes=["imports:write", "customers:write"])
    assert upload(both, customers_csv(2).encode()).status_code == 201


def test_another_tenants_import_is_404_on_every_action(org_a, org_b, api_for):
    pk = upload(api_for(org_a["tenant_admin"]), customers_csv(2).encode()).json()["id"]
    other = api_for(org_b["tenant_admin"])
    assert other.get(f"/api/v1/imports/{pk}/").status_code == 404
    assert other.get(f"/api/v1/imports/{pk}/issues/").status_code == 404
    for action in ("mapping", "dry-run", "run"):
        assert other.post(f"/api/v1/imports/{pk}/{action}/", {"mapping": {}}, format="json").status_code == 404
    assert get_import(org_a, pk).status == "uploaded"
