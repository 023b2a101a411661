"""Celery tasks of the file import: the dry run and the import (thin: they call the engine).

Both are idempotent at the Job level (``tenant_job``: a finished Job is not run again), and
an import writes in one transaction, so a worker that dies mid-import leaves nothing and
the redelivered message runs it again from the start.
"""

from __future__ import annotations

from vector_crm.background import tenant_job
from vector_crm.imports import engine
from vector_crm.models import FileImport, ImportStatus


def _run(import_id: int, *, dry_run: bool, reporter, chunk_rows: int | None) -> dict:
    file_import = FileImport.objects.select_related("api_credential").get(pk=import_id)
    try:
        totals = engine.execute(
            file_import, dry_run=dry_run, reporter=reporter, chunk_rows=chunk_rows or engine.CHUNK_ROWS
        )
    except engine.ImportRefused:
        raise
    except Exception as exc:
        if FileImport.objects.filter(
            pk=import_id, status__in=[ImportStatus.VALIDATING, ImportStatus.IMPORTING]
        ).exists():
            engine.mark_failed(file_import, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        raise
    return {
        "rows": totals.rows,
        "invalid_rows": totals.invalid_rows,
        "counts": totals.counts,
        "seconds": totals.seconds,
    }


@tenant_job("vector_crm.imports.dry_run")
def import_dry_run(*, reporter, import_id: int, chunk_rows: int | None = None) -> dict:
    """Validate every row (writes rolled back) and store the row-level error report."""
    return _run(import_id, dry_run=True, reporter=reporter, chunk_rows=chunk_rows)


@tenant_job("vector_crm.imports.run")
def import_run(*, reporter, import_id: int, chunk_rows: int | None = None) -> dict:
    """Import the file in one transaction (all rows, or only the valid ones if chosen)."""
    return _run(import_id, dry_run=False, reporter=reporter, chunk_rows=chunk_rows)
