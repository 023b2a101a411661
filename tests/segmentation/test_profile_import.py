"""Profile fields (civil status, education, children, ...) reach the customer model through
every bulk path: the bank.csv import preset, the VALOR loader and the bulk API, and rule
segments can select on them. Expected figures come from the file, read here with csv."""

from __future__ import annotations

import csv
from collections import Counter

import pytest
from django.db.models import Count

from customers.models import Customer
from segmentation import selectors
from segmentation.datasets import load_bank_marketing
from tests.api.helpers import assert_problem, row_count
from tests.imports.conftest import DATA, Importer
from vector_crm.models import FileImportIssue, ImportStatus
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

BANK = DATA / "bank_marketing" / "bank.csv"
CIVIL = {"married": "married", "single": "single", "divorced": "divorced"}
EDUCATION = {"primary": "primary", "secondary": "secondary", "tertiary": "university", "unknown": "unknown"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def file_rows() -> list[dict]:
    with BANK.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def profile_counts(prefix: str) -> tuple[dict, dict, dict]:
    customers = Customer.objects.filter(external_id__startswith=prefix)
    civil = dict(customers.values_list("civil_status").annotate(n=Count("id")).values_list("civil_status", "n"))
    education = dict(customers.values_list("education").annotate(n=Count("id")).values_list("education", "n"))
    pairs = Counter(
        {
            (row["civil_status"], row["education"]): row["n"]
            for row in customers.values("civil_status", "education").annotate(n=Count("id"))
        }
    )
    return civil, education, pairs


def expected_counts(rows: list[dict]) -> tuple[dict, dict, Counter]:
    return (
        dict(Counter(CIVIL[r["marital"]] for r in rows)),
        dict(Counter(EDUCATION[r["education"]] for r in rows)),
        Counter((CIVIL[r["marital"]], EDUCATION[r["education"]]) for r in rows),
    )


@pytest.mark.skipif(not BANK.exists(), reason="shared/data/bank_marketing/bank.csv is not present")
def test_bank_csv_import_keeps_civil_status_and_education(org_a):
    rows = file_rows()
    # given the file's own vocabulary is what the preset maps
    assert {r["marital"] for r in rows} <= set(CIVIL) and {r["education"] for r in rows} <= set(EDUCATION)
    # when bank.csv goes through the product's file import with the preset
    importer = Importer(org_a)
    file_import = importer.upload(BANK.name, BANK.read_bytes(), importable="portfolio", preset="bank_marketing")
    importer.map(file_import)
    done = importer.run(file_import)
    assert (done.status, done.issue_count) == (ImportStatus.DONE, 0)
    # then the customers per civil status, per education and per pair are the file's
    with tenant_context(org_a.tenant.pk):
        assert profile_counts("BM-") == expected_counts(rows)
        tenth = Customer.objects.get(external_id="BM-000010")
        assert (tenth.civil_status, tenth.education) == (CIVIL[rows[9]["marital"]], EDUCATION[rows[9]["education"]])
        # and rule segments select on them: the live count equals the file's
        rule = [
            {"field": "education", "op": "eq", "value": "university"},
            {"field": "civil_status", "op": "eq", "value": "single"},
        ]
        assert selectors.rule_count(rule) == sum(
            1 for r in rows if r["education"] == "tertiary" and r["marital"] == "single"
        )


@pytest.mark.skipif(not BANK.exists(), reason="shared/data/bank_marketing/bank.csv is not present")
def test_a_bad_education_word_is_reported_on_its_row_and_nothing_is_written(org_a):
    rows = file_rows()[:5]
    header = ";".join(f'"{name}"' for name in rows[0])
    lines = [header] + [";".join(f'"{v}"' for v in r.values()) for r in rows]
    lines[3] = lines[3].replace(f'"{rows[2]["education"]}"', '"doctorate"', 1)
    importer = Importer(org_a)
    file_import = importer.upload("bank.csv", "\n".join(lines) + "\n", importable="portfolio", preset="bank_marketing")
    importer.map(file_import)
    checked = importer.dry_run(file_import)
    assert checked.issue_count == 1
    with tenant_context(org_a.tenant.pk):
        issue = FileImportIssue.objects.get(file_import=checked)
    # the file's third data row is row 4 (the header is row 1)
    assert (issue.row, issue.value) == (4, "doctorate")
    assert "doctorate" in issue.reason
    assert row_count(Customer, org_a.tenant) == 0


@pytest.mark.skipif(not BANK.exists(), reason="shared/data/bank_marketing/bank.csv is not present")
def test_the_valor_loader_keeps_them_too(org_a):
    rows = file_rows()[:300]
    with tenant_context(org_a.tenant.pk):
        load_bank_marketing(BANK, currency="EUR", limit=300)
        assert profile_counts("BANK-") == expected_counts(rows)


def test_the_bulk_api_takes_profile_fields_and_names_a_bad_one(org_a, api_key_for):
    client = api_key_for(org_a.tenant, scopes=["customers:write"])
    base = {"identification_type": "cc", "first_name": "Ana", "last_name": "Pérez"}
    records = [
        base
        | {
            "external_id": "P1",
            "identification_number": "70000001",
            "civil_status": "cohabiting",
            "children": 2,
            "education": "postgraduate",
            "occupation": "Ingeniera",
            "income_band": "4to8",
            "stratum": 4,
        },
        base
        | {
            "external_id": "P2",
            "identification_number": "900123456",
            "kind": "company",
            "legal_name": "Ferretería El Tornillo S.A.S.",
            "economic_sector": "commerce",
            "equity": "250000000.00",
            "employees": 35,
        },
    ]
    response = client.post("/api/v1/bulk/customers/", {"records": records}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    with tenant_context(org_a.tenant.pk):
        person = Customer.objects.get(external_id="P1")
        company = Customer.objects.get(external_id="P2")
    assert (person.civil_status, person.children, person.education, person.occupation) == (
        "cohabiting",
        2,
        "postgraduate",
        "Ingeniera",
    )
    assert (person.income_band, person.stratum) == ("4to8", 4)
    assert (company.economic_sector, str(company.equity), company.employees) == ("commerce", "250000000.00", 35)
    # a blank choice clears the field; a wrong one is a rejected record naming the field
    cleared = client.post(
        "/api/v1/bulk/customers/", {"records": [records[0] | {"education": ""}]}, format="json"
    ).json()
    assert cleared["updated"] == 1
    with tenant_context(org_a.tenant.pk):
        assert Customer.objects.get(external_id="P1").education == ""
    bad = [records[0] | {"stratum": 9}, records[1] | {"civil_status": "casado"}]
    response = client.post("/api/v1/bulk/customers/?atomic=true", {"records": bad}, format="json")
    body = assert_problem(response, 400, "records[0].stratum")
    assert [(e["index"], e["field"]) for e in body["errors"]] == [
        (0, "records[0].stratum"),
        (1, "records[1].civil_status"),
    ]
    with tenant_context(org_a.tenant.pk):
        assert Customer.objects.get(external_id="P1").stratum == 4
