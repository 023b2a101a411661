"""Importing the CFPB complaints sample as complaints: counts by product and issue equal
the file's, row errors are reported with nothing written, a re-import adds nothing."""

from __future__ import annotations

import csv
import io
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count

from cases.complaints import ImportRejected, complaints_import
from cases.models import Case, CaseEvent
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

SAMPLE = Path("/work/shared/data/cfpb_complaints/complaints_sample.csv")
if not SAMPLE.exists():  # the checkout's sibling shared folder
    SAMPLE = Path(__file__).resolve().parents[3] / "shared" / "data" / "cfpb_complaints" / "complaints_sample.csv"


def _file_counts():
    with SAMPLE.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return (
        len(rows),
        Counter(r["Product"] for r in rows),
        Counter((r["Product"], r["Issue"]) for r in rows),
        Counter(r["Company response to consumer"].startswith("Closed") for r in rows),
    )


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared data set not available")
def test_the_cfpb_sample_imports_with_the_files_counts(org_a, capsys):
    total, by_product, by_issue, closed = _file_counts()
    call_command("import_complaints", org_a.tenant.slug, str(SAMPLE))
    assert f"{total} rows: {total} complaints created, 0 already imported" in capsys.readouterr().out
    with tenant_context(org_a.tenant.pk):
        cases = Case.objects.filter(kind="complaint")
        assert cases.count() == total == 6623
        assert dict(cases.values_list("category").annotate(n=Count("id")).order_by()) == dict(by_product)
        db_issues = cases.values_list("category", "subcategory").annotate(n=Count("id")).order_by()
        assert {(p, i): n for p, i, n in db_issues} == dict(by_issue)
        assert cases.filter(status="closed").count() == closed[True]
        assert cases.filter(status="in_progress").count() == closed[False]
        assert CaseEvent.objects.filter(kind="created").count() == total
        sample = cases.get(external_id="cfpb-3384392")
        assert (sample.channel, sample.category, sample.subcategory) == (
            "web",
            "Debt collection",
            "Attempts to collect debt not owed",
        )
        assert sample.description.startswith("transworld systems inc.")
        # in-progress complaints have their clocks; closed ones none
        assert not cases.filter(status="closed", next_deadline_at__isnull=False).exists()
        assert not cases.filter(status="in_progress", resolution_due_at__isnull=True).exists()
    # a second import adds nothing
    with tenant_context(org_a.tenant.pk):
        again = complaints_import(source=str(SAMPLE))
        assert (again.created, again.skipped_existing) == (0, total)
        assert Case.objects.count() == total


def test_row_errors_name_line_and_column_and_nothing_is_written(org_a):
    content = (
        "Date received,Product,Issue,Consumer complaint narrative,Submitted via,Company response to consumer,Complaint ID\n"
        "2020-01-02,Mortgage,Trouble during payment process,,Web,Closed with explanation,1\n"
        "2020-13-02,Mortgage,Trouble,,Web,Closed,2\n"
        '2020-01-03,,Trouble,"multi\nline",Pigeon,In progress,2\n'
    )
    with tenant_context(org_a.tenant.pk), pytest.raises(ImportRejected) as rejected:
        complaints_import(source=io.StringIO(content))
    assert [e.as_dict() for e in rejected.value.errors] == [
        {"line": 3, "column": "Date received", "message": "not a date (YYYY-MM-DD)"},
        {"line": 4, "column": "Complaint ID", "message": "repeated in the file"},
        {"line": 4, "column": "Product", "message": "required"},
        {"line": 4, "column": "Submitted via", "message": "one of email, fax, phone, postal mail, referral, web"},
    ]
    with tenant_context(org_a.tenant.pk):
        assert not Case.objects.exists()


def test_a_missing_column_is_reported(org_a):
    with tenant_context(org_a.tenant.pk), pytest.raises(ImportRejected) as rejected:
        complaints_import(source=io.StringIO("Product,Issue\nMortgage,Late fee\n"))
    assert {e.column for e in rejected.value.errors} >= {"Date received", "Complaint ID"}


@pytest.mark.skipif(not SAMPLE.exists(), reason="shared data set not available")
def test_the_cfpb_sample_imports_through_the_file_import(org_a):
    """The user's path: upload, suggested mapping, dry run, import job."""
    from tests.imports.conftest import Importer
    from vector_crm.models import ImportStatus

    total, by_product, by_issue, closed = _file_counts()
    importer = Importer(org_a)
    file_import = importer.upload("complaints_sample.csv", SAMPLE.read_bytes(), importable="complaints")
    importer.map(file_import)
    file_import = importer.dry_run(file_import)
    assert (file_import.status, file_import.total_rows, file_import.issue_count) == (ImportStatus.VALIDATED, total, 0)
    with tenant_context(org_a.tenant.pk):
        assert Case.objects.count() == 0
    done = importer.run(file_import)
    assert done.status == ImportStatus.DONE, done.error
    with tenant_context(org_a.tenant.pk):
        cases = Case.objects.all()
        assert cases.count() == total
        assert Counter(dict(cases.values_list("category").annotate(n=Count("id")))) == by_product
        pairs = cases.values_list("category", "subcategory").annotate(n=Count("id"))
        assert Counter({(p, i): n for p, i, n in pairs}) == by_issue
        assert cases.filter(status="closed").count() == closed[True]
    # a second import of the same file adds nothing
    again = importer.upload("complaints_sample.csv", SAMPLE.read_bytes(), importable="complaints")
    importer.map(again)
    again = importer.run(importer.dry_run(again))
    assert again.counts["complaints"]["unchanged"] == total
    with tenant_context(org_a.tenant.pk):
        assert Case.objects.count() == total
