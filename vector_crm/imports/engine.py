"""The import pipeline: stream a stored file in chunks, type its columns, build records,
validate them, write them through the importable's sinks, and keep the error report.

``execute`` is what the dry-run and import jobs call. One call is one transaction: a dry
run always rolls back (so its report includes the referential checks the writes make;
an importable's ``ChunkWriter`` instead checks read-only and writes nothing at all),
an import rolls back when any row failed and the user did not choose "only valid rows".
Each chunk is written inside a savepoint; a chunk whose writes reject a row is rolled
back and written again without that row's records, so a row is written whole or not at
all. Progress reaches pollers through ``JobReporter`` (the cache while inside the
transaction). Memory is bounded by the chunk size: rows are never all in memory, nor are
the issues (the first ``MAX_STORED_ISSUES`` are kept; every one goes to the CSV report).
"""

from __future__ import annotations

import contextvars
import csv
import sys
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from babel.numbers import get_decimal_symbol
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from vector_crm.db import paused_gc
from vector_crm.errors import DomainError, PermissionDeniedError
from vector_crm.imports import parsing
from vector_crm.imports.registry import Batch, Importable, ImportContext, Preset, get_importable
from vector_crm.imports.seen import SeenKeys, composite
from vector_crm.models import FileImport, FileImportIssue, ImportStatus, Membership, Tenant
from vector_crm.templatetags.vector_ui import babel_locale

CHUNK_ROWS = 10_000
MAX_STORED_ISSUES = 1_000
VALUE_MAX = 255


class ImportRefused(DomainError):
    """The import found rows with errors and the user did not choose "only valid rows"."""


# --- files -------------------------------------------------------------------------------


def imports_dir(tenant_id: int) -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / str(int(tenant_id))
    path.mkdir(parents=True, exist_ok=True)
    return path


def stored_path(file_import: FileImport) -> Path:
    return imports_dir(file_import.tenant_id) / file_import.stored_name


def report_path(file_import: FileImport) -> Path:
    return imports_dir(file_import.tenant_id) / f"{file_import.stored_name}.errores.csv"


def decimal_separator(tenant: Tenant) -> str:
    return get_decimal_symbol(babel_locale(tenant.locale))


def file_problem_message(problem: parsing.FileProblem) -> str:
    """The user's-language explanation of a whole-file problem."""
    messages = {
        "empty": _("El archivo está vacío."),
        "binary": _("El archivo no es texto CSV ni una hoja XLSX (parece binario)."),
        "legacy_xls": _("Los libros .xls antiguos no se admiten: guárdelo como .xlsx o CSV."),
        "bad_xlsx": _("El archivo XLSX está dañado o no es un libro de Excel."),
        "no_header": _("El archivo no tiene fila de encabezados."),
        "no_rows": _("El archivo solo tiene encabezados: no hay filas de datos."),
        "blank_header": _("La columna %(column)s no tiene nombre en el encabezado."),
        "duplicate_header": _("La columna «%(column)s» está repetida en el encabezado."),
        "encoding": _("El archivo mezcla codificaciones: no se pudo leer como %(encoding)s."),
        "malformed_csv": _("El CSV está mal formado: %(detail)s"),
    }
    return messages.get(problem.code, problem.code) % problem.params


# --- the plan ------------------------------------------------------------------------------


@dataclass
class Plan:
    """Everything a chunk needs: the importable, where each target comes from, the locale."""

    importable: Importable
    preset: Preset | None
    mapping: dict[str, str]
    constants: dict[str, str]
    ctx: ImportContext
    decimal_separator: str
    region: str
    actor: Any = None
    membership: Membership | None = None
    dry_run: bool = False
    state: dict[str, Any] = field(default_factory=dict)  # per run, shared by its chunks

    def source_of(self, target: str) -> str:
        """The column (or a marker for a constant or derived value) a target comes from."""
        if target in self.mapping:
            return self.mapping[target]
        if self.preset and target in self.preset.derived:
            return _("(calculado)")
        return _("(valor fijo)")


def build_plan(
    file_import: FileImport, *, actor=None, membership: Membership | None = None, dry_run: bool = False
) -> Plan:
    importable = get_importable(file_import.importable)
    if importable is None:
        raise DomainError(
            _("Tipo de datos desconocido: %(key)s.") % {"key": file_import.importable}, field="importable"
        )
    preset = importable.presets.get(file_import.preset) if file_import.preset else None
    tenant = Tenant.objects.get(pk=file_import.tenant_id)
    constants = {**(preset.constants if preset else {}), **file_import.constants}
    ctx = ImportContext(
        tenant_id=tenant.pk, country=tenant.country, currency=tenant.currency, options=dict(file_import.options)
    )
    return Plan(
        importable=importable,
        preset=preset,
        mapping=dict(file_import.mapping),
        constants=constants,
        ctx=ctx,
        decimal_separator=decimal_separator(tenant),
        region=tenant.country,
        actor=actor,
        membership=membership,
        dry_run=dry_run,
    )


# --- issues --------------------------------------------------------------------------------


class IssueReport:
    """Every issue to a CSV file; the first ``limit`` also kept for the database."""

    HEADER = ("fila", "columna", "valor", "motivo")

    def __init__(self, path: Path, limit: int = MAX_STORED_ISSUES):
        self.limit = limit
        self.kept: list[tuple[int, str, str, str]] = []
        self.count = 0
        self._handle = path.open("w", encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._handle, delimiter=";")
        self._writer.writerow(self.HEADER)

    def add(self, row: int, column: str, value: Any, reason: str) -> None:
        issue = (int(row), str(column), str("" if value is None else value)[:VALUE_MAX], str(reason))
        self.count += 1
        if len(self.kept) < self.limit:
            self.kept.append(issue)
        self._writer.writerow(issue)

    def add_many(self, rows: Iterable[int], column: str, values: Iterable[Any], reason: str) -> None:
        for row, value in zip(rows, values, strict=True):
            self.add(row, column, value, reason)

    def close(self) -> None:
        self._handle.close()


# --- one chunk -----------------------------------------------------------------------------

_KIND_REASONS = {
    parsing.KIND_DECIMAL: lambda sep: (
        _("No es un número válido (escriba %(example)s o 1234.56).")
        % {"example": "1.234,56" if sep == "," else "1,234.56"}
    ),
    parsing.KIND_INTEGER: lambda sep: _("No es un número entero válido."),
    parsing.KIND_DATE: lambda sep: _("No es una fecha válida (use AAAA-MM-DD o DD/MM/AAAA)."),
}


def _raw_target_values(frame: pd.DataFrame, plan: Plan, derived: dict) -> dict[str, tuple[pd.Series, bool]]:
    """Each target that has a source: (raw strings, canonical?)."""
    sources: dict[str, tuple[pd.Series, bool]] = {}
    for target in plan.importable.targets:
        if target.name in plan.mapping:
            sources[target.name] = (frame[plan.mapping[target.name]], False)
        elif target.name in derived:
            sources[target.name] = (derived[target.name], True)
        elif target.name in plan.constants:
            sources[target.name] = (pd.Series(plan.constants[target.name], index=frame.index, dtype=object), False)
    return sources


def typed_frame(frame: pd.DataFrame, plan: Plan, issues: IssueReport) -> tuple[pd.DataFrame, set[int]]:
    """One canonical-string column per target with a source; the rows with unreadable values."""
    derived = plan.preset.derive(frame, plan.ctx) if plan.preset and plan.preset.derive else {}
    columns: dict[str, pd.Series] = {}
    bad_any = pd.Series(False, index=frame.index)
    for name, (raw, canonical) in _raw_target_values(frame, plan, derived).items():
        kind = plan.importable.target(name).kind
        values, bad = parsing.normalize_column(raw, kind, plan.decimal_separator, canonical=canonical)
        if bad.any():
            issues.add_many(
                frame.index[bad], plan.source_of(name), raw[bad], _KIND_REASONS[kind](plan.decimal_separator)
            )
            bad_any |= bad
        columns[name] = values
    return pd.DataFrame(columns, index=frame.index), set(frame.index[bad_any].tolist())


@dataclass
class _Pending:
    """Validated records of one sink, each with its file row and field -> target map."""

    records: list[dict] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    fields: list[dict[str, str]] = field(default_factory=list)


def _issue_for(plan: Plan, frame: pd.DataFrame, typed: pd.DataFrame, row: int, target: str | None, message: str):
    """(column, value) of a record error: the user's column and what the file held."""
    if not target:
        return "", ""
    source = plan.source_of(target)
    if target in plan.mapping:
        return source, frame.at[row, plan.mapping[target]]
    if target in typed.columns:
        return source, typed.at[row, target]
    return target, ""


def _validate_batches(batches: list[Batch], plan: Plan, frame, typed, issues: IssueReport, bad: set[int]):
    pending: dict[str, _Pending] = {sink.name: _Pending() for sink in plan.importable.sinks}
    for batch in batches:
        sink = plan.importable.sink(batch.sink)
        valid, rejected = sink.validate(batch.records, region=plan.region)
        for error in rejected:
            row = batch.rows[error.index]
            target = batch.fields.get(error.field, error.field) if error.field else None
            column, value = _issue_for(plan, frame, typed, row, target, error.message)
            issues.add(row, column, value, error.message)
            bad.add(row)
        into = pending[batch.sink]
        for index, data in valid:
            into.records.append(data)
            into.rows.append(batch.rows[index])
            into.fields.append(batch.fields)
    return pending


def _write_once(pending: dict[str, _Pending], plan: Plan, bad: set[int]) -> tuple[dict, list]:
    """Upsert every sink without the bad rows; returns counts and the rejections."""
    counts: dict[str, dict[str, int]] = {}
    for sink in plan.importable.sinks:
        todo = pending[sink.name]
        keep = [i for i, row in enumerate(todo.rows) if row not in bad]
        records = [(k, todo.records[i]) for k, i in enumerate(keep)]
        if not records:
            continue
        result = sink.upsert(
            records=records,
            rejected=[],
            actor=plan.actor,
            membership=plan.membership,
            atomic=False,
            total=len(records),
        )
        if result.rejected:
            return counts, [(sink.name, keep[error.index], error) for error in result.rejected]
        counts[sink.name] = {"created": result.created, "updated": result.updated, "unchanged": result.unchanged}
    return counts, []


def _write(pending: dict[str, _Pending], plan: Plan, frame, typed, issues: IssueReport, bad: set[int]) -> dict:
    """Write the chunk in a savepoint; a row a sink rejects is reported and the chunk is
    written again without it (so no row is ever half written)."""
    while True:
        savepoint = transaction.savepoint()
        counts, rejections = _write_once(pending, plan, bad)
        if not rejections:
            transaction.savepoint_commit(savepoint)
            return counts
        transaction.savepoint_rollback(savepoint)
        for sink_name, position, error in rejections:
            todo = pending[sink_name]
            row = todo.rows[position]
            target = todo.fields[position].get(error.field, error.field) if error.field else None
            column, value = _issue_for(plan, frame, typed, row, target, error.message)
            issues.add(row, column, value, error.message)
            bad.add(row)


@dataclass
class Totals:
    rows: int = 0
    invalid_rows: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    seconds: dict[str, float] = field(
        default_factory=lambda: {"parse": 0.0, "normalise": 0.0, "validate": 0.0, "write": 0.0}
    )

    def add_counts(self, counts: dict[str, dict[str, int]]) -> None:
        for sink, values in counts.items():
            into = self.counts.setdefault(sink, {"created": 0, "updated": 0, "unchanged": 0})
            for name, value in values.items():
                into[name] += value


def repeated_key_reason(first_row: int) -> str:
    return _("Repetido en el archivo: la fila %(row)d ya trae este valor.") % {"row": first_row}


def _reject_repeated_keys(frame, typed: pd.DataFrame, plan: Plan, issues: IssueReport, bad: set[int]) -> None:
    """Report a row whose key an earlier row of the file (any chunk) already has: the
    later row would otherwise silently update the record the earlier one wrote."""
    for key in plan.importable.unique_keys:
        if not all(name in typed.columns for name in key):
            continue
        filled = ~typed.index.isin(list(bad))
        for name in key:
            filled &= (typed[name] != "").to_numpy()
        candidates = typed[filled]
        seen = plan.state.setdefault(("keys", key), SeenKeys())
        first = seen.first_rows(composite(candidates, key))
        repeated = first[first > 0]
        for row, first_row in repeated.items():
            column, value = _issue_for(plan, frame, typed, row, key[0], "")
            issues.add(row, column, value, repeated_key_reason(int(first_row)))
            bad.add(row)


class WritePipeline:
    """At most one chunk's database work in flight on a background thread while the main
    thread parses and validates the next chunk (PostgreSQL runs on the other core).

    The job gets the caller's context (tenant) and must only use the raw connection it was
    given; its result is applied back on the main thread (``done``) before the next job
    starts, and so is anything that needs the ORM (``when_idle``)."""

    # While the writer thread runs, the interpreter switches threads at least this often
    # (Python's default is 5 ms): the writer waits for the lock after every statement, and
    # PostgreSQL waits with it (about 1 s per 1,000,000 rows at 5 ms; see ``pieces``).
    SWITCH_INTERVAL = 0.0005

    def __init__(self) -> None:
        self._executor: ThreadPoolExecutor | None = None
        self._pending: tuple[Future, Callable[[Any], None]] | None = None
        self._idle: list[Callable[[], None]] = []
        self._switch_interval: float | None = None
        self.waited = 0.0

    def submit(self, job: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self.wait()
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-write")
            self._switch_interval = sys.getswitchinterval()
            sys.setswitchinterval(min(self._switch_interval, self.SWITCH_INTERVAL))
        context = contextvars.copy_context()
        self._pending = (self._executor.submit(context.run, job), done)

    def when_idle(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` now, or right after the job in flight has finished."""
        if self._pending is None:
            callback()
        else:
            self._idle.append(callback)

    def wait(self) -> None:
        """Finish the job in flight (re-raising its error) and apply its result."""
        if self._pending is None:
            return
        future, done = self._pending
        self._pending = None
        started = time.perf_counter()
        result = future.result()
        self.waited += time.perf_counter() - started
        done(result)
        callbacks, self._idle = self._idle, []
        for callback in callbacks:
            callback()

    def close(self, *, failed: bool) -> None:
        """Wait for the job in flight; after a failure its outcome no longer matters (the
        transaction rolls back), but it must not still use the connection."""
        try:
            if failed and self._pending is not None:
                future, _done = self._pending
                self._pending = None
                wait([future])
            else:
                self.wait()
        finally:
            if self._executor is not None:
                self._executor.shutdown(wait=True)
                self._executor = None
            if self._switch_interval is not None:
                sys.setswitchinterval(self._switch_interval)
                self._switch_interval = None


def _apply_outcome(outcome, plan: Plan, frame, typed, issues: IssueReport, bad: set[int], totals: Totals) -> int:
    """Report the rejected rows and add the counts and timings; returns the rows rejected."""
    for row, target, message in outcome.rejected:
        column, value = _issue_for(plan, frame, typed, row, target, message)
        issues.add(row, column, value, message)
        bad.add(row)
    totals.add_counts(outcome.counts)
    for name, seconds in outcome.seconds.items():
        totals.seconds[name] = totals.seconds.get(name, 0.0) + seconds
    if outcome.finish is not None:
        outcome.finish()
    return len(outcome.rejected)


def _write_fast(writer, typed: pd.DataFrame, plan: Plan, frame, issues: IssueReport, bad: set[int], totals) -> None:
    """The importable's set-based ``ChunkWriter``: validate the chunk at once, then its
    database work (``outcome.pending``) overlapped with the next chunk's parsing."""
    outcome = writer.write(
        typed.drop(index=list(bad)) if bad else typed,  # a drop copies even when it drops nothing
        ctx=plan.ctx,
        region=plan.region,
        dry_run=plan.dry_run,
        actor=plan.actor,
        membership=plan.membership,
        state=plan.state,
    )
    _apply_outcome(outcome, plan, frame, typed, issues, bad, totals)
    if outcome.pending is None:
        return

    def done(result) -> None:
        # These rows passed validation and were counted valid with their chunk.
        totals.invalid_rows += _apply_outcome(result, plan, frame, typed, issues, set(), totals)

    plan.state.setdefault("pipeline", WritePipeline()).submit(outcome.pending, done)


def process_chunk(chunk: parsing.Chunk, plan: Plan, issues: IssueReport, totals: Totals) -> None:
    frame = chunk.frame
    width = len(frame.columns)
    for row, found in chunk.width_errors:
        issues.add(
            row,
            "",
            "",
            _("La fila tiene %(found)d columnas; el encabezado tiene %(width)d.")
            % {
                "found": found,
                "width": width,
            },
        )
    started = time.perf_counter()
    typed, bad = typed_frame(frame, plan, issues)
    writer = plan.importable.chunk_writer
    if writer is not None and writer.applies():
        normalised = time.perf_counter()
        _reject_repeated_keys(frame, typed, plan, issues, bad)
        totals.seconds["normalise"] += normalised - started
        _write_fast(writer, typed, plan, frame, issues, bad, totals)
    else:
        _reject_repeated_keys(frame, typed, plan, issues, bad)
        batches = plan.importable.build(typed.drop(index=list(bad)), plan.ctx)
        normalised = time.perf_counter()
        pending = _validate_batches(batches, plan, frame, typed, issues, bad)
        validated = time.perf_counter()
        totals.add_counts(_write(pending, plan, frame, typed, issues, bad))
        totals.seconds["normalise"] += normalised - started
        totals.seconds["validate"] += validated - normalised
        totals.seconds["write"] += time.perf_counter() - validated
    totals.rows += len(frame) + len(chunk.width_errors)
    totals.invalid_rows += len(bad) + len(chunk.width_errors)


# --- the whole file --------------------------------------------------------------------------


def _principal(file_import: FileImport, importable: Importable) -> tuple[Any, Membership | None]:
    """Who the import acts for, re-checked when the job runs (rights may have changed)."""
    needed = ("imports.run", *importable.capabilities)
    if file_import.api_credential_id:
        credential = file_import.api_credential
        if not (credential.is_active and all(credential.has(c) for c in needed)):
            raise PermissionDeniedError()
        return None, None
    membership = Membership.objects.filter(user_id=file_import.created_by_id, is_active=True).first()
    if membership is None or not all(membership.has(c) for c in needed):
        raise PermissionDeniedError()
    return file_import.created_by, membership


def _chunks(file_import: FileImport, plan: Plan, chunk_rows: int):
    info = parsing.FileInfo(
        format=file_import.file_format,
        encoding=file_import.encoding,
        delimiter=file_import.delimiter,
        headers=list(file_import.headers),
    )
    return parsing.iter_chunks(
        stored_path(file_import), info, chunk_rows=chunk_rows, decimal_separator=plan.decimal_separator
    )


def _run_chunks(file_import, plan, issues, totals, reporter, chunk_rows) -> None:
    chunks = _chunks(file_import, plan, chunk_rows)
    pipeline = plan.state.setdefault("pipeline", WritePipeline())
    failed = True
    try:
        while True:
            started = time.perf_counter()
            chunk = next(chunks, None)
            totals.seconds["parse"] += time.perf_counter() - started
            if chunk is None:
                break
            with paused_gc():
                process_chunk(chunk, plan, issues, totals)
            # The progress row is written on the import's connection: not while a write is in flight.
            rows, errors = totals.rows, issues.count
            pipeline.when_idle(lambda rows=rows, errors=errors: reporter.progress(rows, rows=rows, errors=errors))
        failed = False
    finally:
        pipeline.close(failed=failed)
        if pipeline.waited:
            totals.seconds["write_wait"] = totals.seconds.get("write_wait", 0.0) + pipeline.waited


def execute(file_import: FileImport, *, dry_run: bool, reporter, chunk_rows: int = CHUNK_ROWS) -> Totals:
    """Dry-run or import ``file_import`` (see the module docstring); updates its status,
    counts and error report, and raises ``ImportRefused`` when an import wrote nothing
    because rows failed."""
    importable = get_importable(file_import.importable)
    if importable is None:
        raise DomainError(_("Tipo de datos desconocido."), field="importable")
    actor, membership = _principal(file_import, importable)
    plan = build_plan(file_import, actor=actor, membership=membership, dry_run=dry_run)
    only_valid = bool(file_import.options.get("only_valid"))
    FileImportIssue.objects.filter(file_import=file_import).delete()
    reporter.set_total(int(file_import.options.get("estimated_rows", 0)))
    issues = IssueReport(report_path(file_import))
    totals = Totals()
    refused = False
    try:
        with transaction.atomic():
            if plan.preset and plan.preset.prepare:
                plan.preset.prepare(plan.ctx, actor=actor, membership=membership)
            _run_chunks(file_import, plan, issues, totals, reporter, chunk_rows)
            refused = bool(issues.count) and not only_valid
            if dry_run or refused:
                transaction.set_rollback(True)
    except parsing.FileProblem as problem:
        issues.close()
        mark_failed(file_import, file_problem_message(problem))
        raise DomainError(file_problem_message(problem), field="file") from problem
    issues.close()
    _store_outcome(file_import, totals, issues, dry_run=dry_run, refused=refused)
    if refused and not dry_run:
        raise ImportRefused(file_import.error)
    return totals


def mark_failed(file_import: FileImport, message: str) -> None:
    file_import.status = ImportStatus.FAILED
    file_import.error = message
    FileImport.objects.filter(pk=file_import.pk).update(status=file_import.status, error=message)


def _store_outcome(file_import: FileImport, totals: Totals, issues: IssueReport, *, dry_run: bool, refused: bool):
    FileImportIssue.objects.bulk_create(
        [
            FileImportIssue(
                tenant_id=file_import.tenant_id,
                file_import=file_import,
                row=row,
                column=column[:255],
                value=value,
                reason=reason[:500],
            )
            for row, column, value, reason in issues.kept
        ]
    )
    file_import.total_rows = totals.rows
    file_import.invalid_rows = totals.invalid_rows
    file_import.valid_rows = totals.rows - totals.invalid_rows
    file_import.issue_count = issues.count
    # After a dry run: what importing the valid rows would do.
    file_import.counts = {} if refused and not dry_run else totals.counts
    file_import.options = {**file_import.options, "seconds": {k: round(v, 3) for k, v in totals.seconds.items()}}
    if dry_run:
        file_import.status = ImportStatus.VALIDATED
        file_import.error = ""
    elif refused:
        file_import.status = ImportStatus.FAILED
        file_import.error = _(
            "%(rows)d filas tienen errores: no se importó nada. Corrija el archivo o elija importar solo las filas "
            "válidas."
        ) % {"rows": totals.invalid_rows}
    else:
        file_import.status = ImportStatus.DONE
        file_import.error = ""
    FileImport.objects.filter(pk=file_import.pk).update(
        total_rows=file_import.total_rows,
        invalid_rows=file_import.invalid_rows,
        valid_rows=file_import.valid_rows,
        issue_count=file_import.issue_count,
        counts=file_import.counts,
        options=file_import.options,
        status=file_import.status,
        error=file_import.error,
    )
