"""Every write of the file import: upload, column mapping, dry run and import requests.

Keyword-only, transactional and audited like every service. ``principal`` is the acting
membership (browser) or API credential (REST): both answer ``has(capability)``. The work
itself runs in the jobs (``vector_crm.imports.jobs``), queued when the transaction commits.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from vector_crm.audit import audited
from vector_crm.background import job_enqueue
from vector_crm.errors import DomainError, PermissionDeniedError
from vector_crm.imports import engine, parsing
from vector_crm.imports.registry import Importable, get_importable
from vector_crm.models import ApiCredential, FileImport, ImportStatus, Tenant
from vector_crm.tenancy import require_tenant_id

ALLOWED_SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx")


def _require(principal, importable: Importable | None = None) -> None:
    needed = ("imports.run", *(importable.capabilities if importable else ()))
    if principal is None or not all(principal.has(c) for c in needed):
        raise PermissionDeniedError()


def _importable(key: str) -> Importable:
    importable = get_importable(key or "")
    if importable is None:
        raise DomainError(_("Elija qué datos contiene el archivo."), field="importable")
    return importable


def human_size(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


def _store_upload(upload, tenant: Tenant) -> tuple[str, int]:
    """Copy the upload under the tenant's imports folder, refusing it past the size limit."""
    suffix = Path(upload.name or "").suffix.lower()
    if suffix not in ALLOWED_SUFFIXES:
        raise DomainError(_("Suba un archivo .csv o .xlsx."), field="file")
    limit = tenant.import_max_bytes
    too_big = DomainError(
        _("El archivo pesa más que el límite de la entidad (%(limit)s).") % {"limit": human_size(limit)}, field="file"
    )
    if upload.size is not None and upload.size > limit:
        raise too_big
    stored_name = f"{uuid.uuid4().hex}{suffix}"
    path = engine.imports_dir(tenant.pk) / stored_name
    written = 0
    with path.open("wb") as handle:
        for block in upload.chunks():
            written += len(block)
            if written > limit:
                handle.close()
                path.unlink(missing_ok=True)
                raise too_big
            handle.write(block)
    return stored_name, written


def _estimate_rows(path: Path, info: parsing.FileInfo) -> int:
    """Data rows, estimated by counting line breaks (for the progress bar only)."""
    if info.format != "csv":
        from openpyxl import load_workbook

        workbook = load_workbook(path, read_only=True)
        try:
            return max((workbook.worksheets[0].max_row or 1) - 1, 0)
        finally:
            workbook.close()
    lines = 0
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            lines += block.count(b"\n")
    return max(lines - 1, 1)


def suggest_mapping(importable: Importable, headers: list[str]) -> dict[str, str]:
    """Target -> header, matching names, labels and aliases without case or accents."""
    by_key = {parsing.header_key(h): h for h in headers}
    mapping: dict[str, str] = {}
    for target in importable.targets:
        for candidate in (target.name, str(target.label), *target.aliases):
            header = by_key.get(parsing.header_key(candidate))
            if header is not None and header not in mapping.values():
                mapping[target.name] = header
                break
    return mapping


@audited
def import_upload(
    *, actor=None, principal, upload, importable: str, preset: str = "", credential: ApiCredential | None = None
) -> FileImport:
    """Store and inspect an uploaded file; suggest a mapping (the preset's, or from headers).

    A file that cannot be imported at all (empty, binary, over the size limit, header only,
    broken header) raises ``DomainError`` on ``file`` and leaves nothing behind."""
    kind = _importable(importable)
    _require(principal, kind)
    if preset and preset not in kind.presets:
        raise DomainError(_("Plantilla desconocida para este tipo de datos."), field="preset")
    tenant = Tenant.objects.get(pk=require_tenant_id())
    stored_name, size = _store_upload(upload, tenant)
    path = engine.imports_dir(tenant.pk) / stored_name
    try:
        info = parsing.inspect_file(path, decimal_separator=engine.decimal_separator(tenant))
    except parsing.FileProblem as problem:
        path.unlink(missing_ok=True)
        raise DomainError(engine.file_problem_message(problem), field="file") from problem
    chosen = kind.presets.get(preset)
    mapping = dict(chosen.mapping) if chosen else suggest_mapping(kind, info.headers)
    file_import = FileImport.objects.create(
        importable=kind.key,
        preset=preset,
        original_name=Path(upload.name).name[:255],
        stored_name=stored_name,
        size=size,
        file_format=info.format,
        encoding=info.encoding,
        delimiter=info.delimiter,
        headers=info.headers,
        sample=info.sample,
        mapping=mapping,
        options={"estimated_rows": _estimate_rows(path, info)},
        created_by=actor if credential is None else None,
        api_credential=credential,
    )
    return file_import


def mapping_problems(importable: Importable, file_import: FileImport, mapping, constants, preset) -> list[str]:
    """Why a mapping cannot be used, one sentence each (empty: it can)."""
    headers = set(file_import.headers)
    derived = set(preset.derived) if preset else set()
    problems = []
    for target, column in mapping.items():
        if importable.target(target) is None:
            problems.append(_("«%(target)s» no es un campo de este tipo de datos.") % {"target": target})
        elif column not in headers:
            problems.append(
                _("La columna «%(column)s» asignada a «%(label)s» no está en el archivo.")
                % {"column": column, "label": importable.target(target).label}
            )
    for target in constants:
        if importable.target(target) is None:
            problems.append(_("«%(target)s» no es un campo de este tipo de datos.") % {"target": target})
    for target in importable.targets:
        covered = target.name in mapping or target.name in derived or str(constants.get(target.name, "")).strip()
        if target.required and not covered:
            problems.append(_("Falta asignar una columna a «%(label)s» (obligatorio).") % {"label": target.label})
    return problems


def _clean_mapping(mapping: dict[str, Any] | None) -> dict[str, str]:
    return {str(k): str(v) for k, v in (mapping or {}).items() if v not in (None, "")}


@audited
def import_set_mapping(
    *,
    actor=None,
    principal,
    file_import: FileImport,
    mapping: dict[str, Any] | None,
    constants: dict[str, Any] | None = None,
    preset: str | None = None,
) -> FileImport:
    """Confirm which column feeds each target (plus fixed values); required targets must
    be covered and every named column must exist. Resets an earlier dry run."""
    kind = _importable(file_import.importable)
    _require(principal, kind)
    _require_idle(file_import)
    if preset is not None and preset and preset not in kind.presets:
        raise DomainError(_("Plantilla desconocida para este tipo de datos."), field="preset")
    chosen_key = file_import.preset if preset is None else preset
    chosen = kind.presets.get(chosen_key) if chosen_key else None
    mapping = _clean_mapping(mapping)
    constants = _clean_mapping(constants)
    problems = mapping_problems(
        kind, file_import, mapping, {**(chosen.constants if chosen else {}), **constants}, chosen
    )
    if problems:
        raise DomainError(" ".join(problems), field="mapping")
    file_import.preset = chosen_key or ""
    file_import.mapping = mapping
    file_import.constants = constants
    file_import.status = ImportStatus.MAPPED
    file_import.issue_count = file_import.invalid_rows = file_import.valid_rows = 0
    file_import.save(
        update_fields=[
            "preset",
            "mapping",
            "constants",
            "status",
            "issue_count",
            "invalid_rows",
            "valid_rows",
            "updated_at",
        ]
    )
    return file_import


def _require_idle(file_import: FileImport) -> None:
    if file_import.is_busy:
        raise DomainError(_("La importación está en curso; espere a que termine."), field="status")
    if file_import.status == ImportStatus.DONE:
        raise DomainError(_("Este archivo ya se importó."), field="status")


def _require_startable(principal, file_import: FileImport) -> None:
    """Rights, not already running or done, and a confirmed mapping."""
    _require(principal, _importable(file_import.importable))
    _require_idle(file_import)
    if file_import.status == ImportStatus.UPLOADED:
        raise DomainError(_("Confirme primero la asignación de columnas."), field="mapping")


def _enqueue(file_import: FileImport, task, *, kind: str, actor, status: str, chunk_rows: int | None) -> FileImport:
    params: dict[str, Any] = {"import_id": file_import.pk}
    if chunk_rows:
        params["chunk_rows"] = chunk_rows
    job = job_enqueue(task, tenant_id=file_import.tenant_id, kind=kind, created_by=actor, params=params)
    file_import.job = job
    file_import.status = status
    file_import.error = ""
    file_import.save(update_fields=["job", "status", "error", "options", "updated_at"])
    return file_import


@audited
def import_start_dry_run(
    *, actor=None, principal, file_import: FileImport, chunk_rows: int | None = None
) -> FileImport:
    """Queue the dry run: every row validated, nothing written, the error report stored."""
    from vector_crm.imports.jobs import import_dry_run

    _require_startable(principal, file_import)
    return _enqueue(
        file_import,
        import_dry_run,
        kind="imports.dry_run",
        actor=actor,
        status=ImportStatus.VALIDATING,
        chunk_rows=chunk_rows,
    )


@audited
def import_start(
    *, actor=None, principal, file_import: FileImport, only_valid: bool = False, chunk_rows: int | None = None
) -> FileImport:
    """Queue the import. A dry run that found errors blocks it unless ``only_valid``."""
    from vector_crm.imports.jobs import import_run

    _require_startable(principal, file_import)
    if file_import.status == ImportStatus.VALIDATED and file_import.issue_count and not only_valid:
        raise DomainError(
            _("La validación encontró errores: corrija el archivo o elija importar solo las filas válidas."),
            field="only_valid",
        )
    file_import.options = {**file_import.options, "only_valid": bool(only_valid)}
    return _enqueue(
        file_import, import_run, kind="imports.run", actor=actor, status=ImportStatus.IMPORTING, chunk_rows=chunk_rows
    )
