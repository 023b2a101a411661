"""The import pipeline through its services and jobs: what is written, what is reported,
and that nothing is ever half written."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.core.cache import cache
from openpyxl import Workbook

from customers.models import Customer, Holding, Payment
from tests import factories as f
from tests.imports.conftest import run_job
from vector_crm.background import JobReporter, live_progress_key
from vector_crm.errors import DomainError, PermissionDeniedError
from vector_crm.imports import engine
from vector_crm.imports.jobs import import_run
from vector_crm.models import FileImport, FileImportIssue, ImportStatus, Job, JobStatus
from vector_crm.selectors import access_job
from vector_crm.tenancy import tenant_context

pytestmark = pytest.mark.django_db

HEADER = "id_cliente;tipo_documento;documento;nombres;apellidos;fecha_nacimiento"


def customers_csv(n: int, *, start: int = 0, bad: dict[int, str] | None = None) -> str:
    """``n`` valid customer rows; ``bad[i]`` replaces row i's birth date."""
    lines = [HEADER]
    for i in range(start, start + n):
        birth = (bad or {}).get(i, f"{1 + i % 28:02d}/0{1 + i % 9}/1980")
        lines.append(f"C-{i:05d};cc;{10_000_000 + i};Nombre {i};Apellido;{birth}")
    return "\r\n".join(lines) + "\r\n"


def customer_ids(org) -> list[str]:
    with tenant_context(org.tenant.pk):
        return sorted(Customer.objects.filter(external_id__startswith="C-").values_list("external_id", flat=True))


def issues(file_import) -> list[tuple]:
    with tenant_context(file_import.tenant_id):
        return list(
            FileImportIssue.objects.filter(file_import=file_import).values_list("row", "column", "value", "reason")
        )


def test_valid_file_dry_run_writes_nothing_then_imports_every_row(importer, org_a):
    file_import = importer.full("c.csv", customers_csv(25))
    assert (file_import.status, file_import.total_rows, file_import.issue_count) == (ImportStatus.VALIDATED, 25, 0)
    assert file_import.options["estimated_rows"] == 25
    assert file_import.counts == {"customers": {"created": 25, "updated": 0, "unchanged": 0}}
    assert customer_ids(org_a) == []
    done = importer.run(file_import)
    assert done.status == ImportStatus.DONE
    assert customer_ids(org_a) == [f"C-{i:05d}" for i in range(25)]
    with tenant_context(org_a.tenant.pk):
        ana = Customer.objects.get(external_id="C-00003")
        job = Job.objects.get(pk=done.job_id)
    assert (ana.first_name, ana.identification_number, ana.birth_date.isoformat()) == (
        "Nombre 3",
        "10000003",
        "1980-04-04",
    )
    assert (job.status, job.kind, job.done) == (JobStatus.SUCCEEDED, "imports.run", 25)


def test_reimporting_the_same_file_changes_nothing(importer, org_a):
    importer.run(importer.full("c.csv", customers_csv(10)))
    again = importer.run(importer.full("c.csv", customers_csv(10)))
    assert again.counts == {"customers": {"created": 0, "updated": 0, "unchanged": 10}}
    assert len(customer_ids(org_a)) == 10


def test_bad_dates_and_numbers_are_reported_by_row_and_column_and_nothing_is_written(importer, org_a):
    content = (
        "cuenta;id_cliente;producto;moneda;fecha_apertura;saldo;dias_mora\r\n"
        "A-1;C-1;AH;COP;2024-01-31;1.234.567,89;0\r\n"
        "A-2;C-1;AH;COP;2024-02-30;100;0\r\n"
        "A-3;C-1;AH;COP;01/02/2024;diez;0\r\n"
        "A-4;C-1;AH;COP;01/02/2024;5;1,5\r\n"
        "A-5;C-1;AH;ZZZ;01/02/2024;5;3\r\n"
    )
    with tenant_context(org_a.tenant.pk):
        f.CustomerFactory(external_id="C-1")
        f.ProductFactory(code="AH", currency="COP")
    file_import = importer.full("cuentas.csv", content, importable="holdings")
    found = issues(file_import)
    assert [(row, column, value) for row, column, value, _r in found] == [
        (3, "fecha_apertura", "2024-02-30"),
        (4, "saldo", "diez"),
        (5, "dias_mora", "1,5"),
        (6, "moneda", "ZZZ"),
    ]
    assert found[1][3] == "No es un número válido (escriba 1.234,56 o 1234.56)."
    assert "ZZZ" in found[3][3]
    assert (file_import.total_rows, file_import.valid_rows, file_import.invalid_rows) == (5, 1, 4)
    # the import without "only valid rows" is refused, and a forced run writes nothing
    with pytest.raises(DomainError) as refused, tenant_context(org_a.tenant.pk):
        importer.run(file_import)
    assert refused.value.field == "only_valid"
    with tenant_context(org_a.tenant.pk):
        assert not Holding.objects.exists()
    done = importer.run(file_import, only_valid=True)
    with tenant_context(org_a.tenant.pk):
        holding = Holding.objects.get()
    assert (done.status, holding.account_number, holding.balance) == (ImportStatus.DONE, "A-1", Decimal("1234567.89"))


def test_import_without_dry_run_refuses_a_file_with_errors_and_writes_nothing(importer, org_a):
    file_import = importer.upload("c.csv", customers_csv(30, bad={17: "ayer"}))
    importer.map(file_import)
    failed = importer.run(file_import, chunk_rows=10)
    assert failed.status == ImportStatus.FAILED
    assert failed.error.startswith("1 filas tienen errores: no se importó nada.")
    assert issues(failed) == [(19, "fecha_nacimiento", "ayer", "No es una fecha válida (use AAAA-MM-DD o DD/MM/AAAA).")]
    assert customer_ids(org_a) == []
    with tenant_context(org_a.tenant.pk):
        assert Job.objects.get(pk=failed.job_id).status == JobStatus.FAILED


def test_a_crash_mid_import_leaves_no_rows(importer, org_a, monkeypatch):
    file_import = importer.upload("c.csv", customers_csv(30))
    importer.map(file_import)
    real = engine.process_chunk
    calls = []

    def crash_on_third_chunk(chunk, *args):
        calls.append(len(chunk.frame))
        if len(calls) == 3:
            raise RuntimeError("disk full")
        return real(chunk, *args)

    monkeypatch.setattr(engine, "process_chunk", crash_on_third_chunk)
    failed = importer.run(file_import, chunk_rows=10)
    assert calls == [10, 10, 10]
    assert (failed.status, failed.error) == (ImportStatus.FAILED, "disk full")
    assert customer_ids(org_a) == []


def test_only_valid_rows_never_half_writes_a_row_of_several_records(importer, org_a):
    content = (
        "id_cliente;tipo_documento;documento;nombres;apellidos;cuenta;producto;moneda;apertura;saldo\r\n"
        "C-1;cc;10000001;Ana;Paz;A-1;AH;COP;2024-01-01;10\r\n"
        "C-2;cc;10000002;Luis;Paz;A-2;NOPE;COP;2024-01-01;20\r\n"
        "C-3;cc;10000003;Eva;Paz;A-3;AH;COP;2024-01-01;30\r\n"
    )
    with tenant_context(org_a.tenant.pk):
        f.ProductFactory(code="AH", currency="COP")
    file_import = importer.upload("p.csv", content, importable="portfolio")
    mapping = {**file_import.mapping, "opened_on": "apertura"}
    importer.map(file_import, mapping=mapping)
    checked = importer.dry_run(file_import)
    assert [(r, c, v) for r, c, v, _m in issues(checked)] == [(3, "producto", "NOPE")]
    assert checked.counts["customers"]["created"] == 2
    importer.run(checked, only_valid=True)
    # then row 3's customer is not written although the customer record itself was valid
    assert customer_ids(org_a) == ["C-1", "C-3"]
    with tenant_context(org_a.tenant.pk):
        assert sorted(Holding.objects.values_list("account_number", flat=True)) == ["A-1", "A-3"]


def test_portfolio_rows_carry_payments(importer, org_a):
    content = (
        "id_cliente;tipo_documento;documento;nombres;apellidos;cuenta;producto;moneda;fecha_apertura;"
        "venc1;cuota1;pago1;venc2;cuota2\r\n"
        "C-1;cc;10000001;Ana;Paz;A-1;TC;COP;2024-01-01;05/02/2024;1.500,00;1.500,00;05/03/2024;1.200\r\n"
    )
    with tenant_context(org_a.tenant.pk):
        f.ProductFactory(code="TC", currency="COP")
    file_import = importer.upload("p.csv", content, importable="portfolio")
    mapping = {
        **file_import.mapping,
        "due_date_1": "venc1",
        "amount_due_1": "cuota1",
        "amount_paid_1": "pago1",
        "due_date_2": "venc2",
        "amount_due_2": "cuota2",
    }
    importer.map(file_import, mapping=mapping, constants={"paid_on_1": "06/02/2024"})
    done = importer.run(file_import)
    assert done.counts["payments"] == {"created": 2, "updated": 0, "unchanged": 0}
    with tenant_context(org_a.tenant.pk):
        payments = list(
            Payment.objects.order_by("due_date").values_list("due_date", "amount_due", "amount_paid", "paid_on")
        )
    assert [(str(d), a, p, str(o)) for d, a, p, o in payments] == [
        ("2024-02-05", Decimal("1500.00"), Decimal("1500.00"), "2024-02-06"),
        ("2024-03-05", Decimal("1200.00"), Decimal("0.00"), "None"),
    ]


def test_inconsistent_column_counts_are_row_errors(importer, org_a):
    content = customers_csv(3) + "C-9;cc;10000009;Solo;Tres\r\nC-8;cc;10000008;Uno;Dos;01/01/1990;extra\r\n"
    file_import = importer.full("c.csv", content)
    assert [(r, c, m) for r, c, _v, m in issues(file_import)] == [
        (5, "", "La fila tiene 5 columnas; el encabezado tiene 6."),
        (6, "", "La fila tiene 7 columnas; el encabezado tiene 6."),
    ]
    assert (file_import.total_rows, file_import.invalid_rows) == (5, 2)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "El archivo está vacío."),
        (bytes(range(256)) * 20, "parece binario"),
        (HEADER.encode() + b"\r\n", "solo tiene encabezados"),
    ],
)
def test_unreadable_uploads_are_refused_and_leave_nothing(importer, org_a, settings, content, message):
    with pytest.raises(DomainError) as refused:
        importer.upload("c.csv", content)
    assert refused.value.field == "file" and message in refused.value.message
    with tenant_context(org_a.tenant.pk):
        assert not FileImport.objects.exists()
    assert not list((settings.MEDIA_ROOT / "imports" / str(org_a.tenant.pk)).iterdir())


def test_file_over_the_tenants_limit_is_refused(importer, org_a, settings):
    org_a.tenant.import_max_bytes = 1_000
    org_a.tenant.save(update_fields=["import_max_bytes"])
    content = customers_csv(40)
    assert len(content) > 1_000
    with pytest.raises(DomainError) as refused:
        importer.upload("c.csv", content)
    assert "límite de la entidad (1 KB)" in refused.value.message
    with tenant_context(org_a.tenant.pk):
        assert not FileImport.objects.exists()
    folder = settings.MEDIA_ROOT / "imports" / str(org_a.tenant.pk)
    assert not folder.exists() or not list(folder.iterdir())


def test_wrong_columns_are_explained(importer):
    file_import = importer.upload("c.csv", customers_csv(2))
    with pytest.raises(DomainError) as refused:
        importer.map(file_import, mapping={"external_id": "id_cliente", "first_name": "nombre_completo", "bogus": "x"})
    assert refused.value.message == (
        "La columna «nombre_completo» asignada a «Nombres» no está en el archivo. "
        "«bogus» no es un campo de este tipo de datos. "
        "Falta asignar una columna a «Tipo de documento» (obligatorio). "
        "Falta asignar una columna a «Número de documento» (obligatorio)."
    )


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-8-sig"])
def test_latin1_and_bom_files_keep_their_accents(importer, org_a, encoding):
    content = "id_cliente,tipo_documento,documento,nombres,apellidos\nC-1,cc,10000001,José,Muñoz\n"
    importer.run(importer.full("c.csv", content, encoding=encoding))
    with tenant_context(org_a.tenant.pk):
        assert Customer.objects.get(external_id="C-1").last_name == "Muñoz"


def test_xlsx_file_imports_like_a_csv(importer, org_a):
    book = Workbook()
    sheet = book.active
    sheet.append(["id_cliente", "tipo_documento", "documento", "nombres", "apellidos", "fecha_nacimiento"])
    sheet.append(["C-1", "cc", 10000001, "Ana", "Paz", "1980-05-06"])
    buffer = io.BytesIO()
    book.save(buffer)
    file_import = importer.full("c.xlsx", buffer.getvalue())
    assert (file_import.file_format, file_import.issue_count, file_import.options["estimated_rows"]) == ("xlsx", 0, 1)
    importer.run(file_import)
    with tenant_context(org_a.tenant.pk):
        assert Customer.objects.get(external_id="C-1").identification_number == "10000001"


def test_issue_storage_is_bounded_and_the_csv_report_has_them_all(importer, monkeypatch):
    monkeypatch.setattr(engine, "MAX_STORED_ISSUES", 5)
    monkeypatch.setattr(engine.IssueReport.__init__, "__defaults__", (5,))
    file_import = importer.full("c.csv", customers_csv(40, bad={i: "x" for i in range(0, 40, 2)}))
    assert (file_import.issue_count, len(issues(file_import))) == (20, 5)
    with engine.report_path(file_import).open(encoding="utf-8-sig") as handle:
        report = list(csv.reader(handle, delimiter=";"))
    assert len(report) == 21
    assert report[1] == ["2", "fecha_nacimiento", "x", "No es una fecha válida (use AAAA-MM-DD o DD/MM/AAAA)."]


def test_large_file_streams_in_chunks(importer, org_a, monkeypatch):
    seen = []
    real = engine.process_chunk

    def spy(chunk, *args):
        seen.append(len(chunk.frame))
        return real(chunk, *args)

    monkeypatch.setattr(engine, "process_chunk", spy)
    file_import = importer.upload("c.csv", customers_csv(230))
    importer.map(file_import)
    done = importer.run(file_import, chunk_rows=50)
    assert seen == [50, 50, 50, 50, 30]
    assert (done.status, done.total_rows, len(customer_ids(org_a))) == (ImportStatus.DONE, 230, 230)


def test_progress_inside_the_transaction_is_visible_through_the_cache(org_a):
    with tenant_context(org_a.tenant.pk):
        job = f.JobFactory(status=JobStatus.RUNNING, total=100)
        reporter = JobReporter(job)
        reporter.progress(40, rows=40)
        assert cache.get(live_progress_key(job.pk))["done"] == 40
        Job.objects.filter(pk=job.pk).update(done=0)  # as another connection sees it before commit
        assert access_job(job.pk).percent == 40


def test_the_import_job_runs_once(importer, org_a):
    file_import = importer.upload("c.csv", customers_csv(5))
    importer.map(file_import)
    done = importer.run(file_import)
    with tenant_context(org_a.tenant.pk):
        Customer.objects.filter(external_id="C-00001").delete()
    again = run_job(import_run, done)
    assert again.status == ImportStatus.DONE
    assert len(customer_ids(org_a)) == 4  # the finished Job was not run a second time


def test_members_without_the_capability_cannot_import(org_a):
    from tests.imports.conftest import Importer

    importer = Importer(org_a)
    importer.membership = org_a["branch_manager"]
    with pytest.raises(PermissionDeniedError):
        importer.upload("c.csv", customers_csv(2))


def test_the_write_pipeline_switches_threads_often_while_it_writes_and_then_restores_it():
    import sys

    from vector_crm.imports.engine import WritePipeline

    before = sys.getswitchinterval()
    pipeline = WritePipeline()
    seen = []
    pipeline.submit(sys.getswitchinterval, seen.append)
    pipeline.submit(lambda: "second", seen.append)
    pipeline.close(failed=False)
    assert seen == [WritePipeline.SWITCH_INTERVAL, "second"]
    assert sys.getswitchinterval() == before
