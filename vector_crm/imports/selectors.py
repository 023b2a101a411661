"""Reads of the file import: the tenant's imports, one import, its error report."""

from __future__ import annotations

from django.db.models import QuerySet

from vector_crm.errors import NotFound
from vector_crm.models import FileImport, FileImportIssue


def import_list() -> QuerySet[FileImport]:
    return FileImport.objects.select_related("job", "created_by").order_by("-created_at", "-id")


def access_import(import_id) -> FileImport:
    """The current tenant's import, or NotFound (also for another tenant's id)."""
    from vector_crm.background import overlay_live_progress

    try:
        import_id = int(import_id)
    except (TypeError, ValueError) as exc:
        raise NotFound() from exc
    file_import = import_list().filter(pk=import_id).first()
    if file_import is None:
        raise NotFound()
    if file_import.job is not None:
        overlay_live_progress(file_import.job)
    return file_import


def import_issues(file_import: FileImport) -> QuerySet[FileImportIssue]:
    """The stored (first ``MAX_STORED_ISSUES``) issues of the import, by row."""
    return FileImportIssue.objects.filter(file_import=file_import).order_by("row", "id")
