"""Fixtures of the file-import tests: files written on the fly and a synchronous runner."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from vector_crm.imports import services
from vector_crm.imports.jobs import import_dry_run, import_run
from vector_crm.models import FileImport
from vector_crm.tenancy import tenant_context

DATA = Path(settings.BASE_DIR).parent.parent / "shared" / "data"
if not DATA.exists():
    DATA = Path("/work/shared/data")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Two orgs have two dozen users; the production hasher would spend seconds per test.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def upload(name: str, content: bytes | str, encoding: str = "utf-8") -> SimpleUploadedFile:
    data = content.encode(encoding) if isinstance(content, str) else content
    return SimpleUploadedFile(name, data)


def run_job(task, file_import: FileImport, **params):
    """Run the queued job of ``file_import`` in-process, as the worker would."""
    with tenant_context(file_import.tenant_id):  # on PostgreSQL, RLS hides rows outside it
        file_import.refresh_from_db()
    try:
        task.run(file_import.tenant_id, file_import.job_id, import_id=file_import.pk, **params)
    except Exception:  # noqa: BLE001, S110 - the Job row and the import record the failure
        pass
    return refreshed(file_import)


def refreshed(file_import: FileImport) -> FileImport:
    """The import re-read inside its tenant (on PostgreSQL, RLS hides rows outside it)."""
    with tenant_context(file_import.tenant_id):
        file_import.refresh_from_db()
    return file_import


def get_import(org, pk: int) -> FileImport:
    with tenant_context(org.tenant.pk):
        return FileImport.objects.get(pk=pk)


class Importer:
    """Drive an import through the services as a tenant admin of ``org``."""

    def __init__(self, org):
        self.org = org
        self.membership = org["tenant_admin"]
        self.user = self.membership.user

    def upload(self, name, content, *, importable="customers", preset="", encoding="utf-8") -> FileImport:
        with tenant_context(self.org.tenant.pk):
            return services.import_upload(
                actor=self.user,
                principal=self.membership,
                upload=upload(name, content, encoding),
                importable=importable,
                preset=preset,
            )

    def map(self, file_import, mapping=None, constants=None):
        with tenant_context(self.org.tenant.pk):
            return services.import_set_mapping(
                actor=self.user,
                principal=self.membership,
                file_import=file_import,
                mapping=file_import.mapping if mapping is None else mapping,
                constants=constants,
            )

    def dry_run(self, file_import, chunk_rows=None):
        with tenant_context(self.org.tenant.pk):
            services.import_start_dry_run(
                actor=self.user, principal=self.membership, file_import=file_import, chunk_rows=chunk_rows
            )
            return run_job(import_dry_run, file_import, **({"chunk_rows": chunk_rows} if chunk_rows else {}))

    def run(self, file_import, only_valid=False, chunk_rows=None):
        with tenant_context(self.org.tenant.pk):
            services.import_start(
                actor=self.user,
                principal=self.membership,
                file_import=file_import,
                only_valid=only_valid,
                chunk_rows=chunk_rows,
            )
            return run_job(import_run, file_import, **({"chunk_rows": chunk_rows} if chunk_rows else {}))

    def full(self, name, content, **kwargs) -> FileImport:
        file_import = self.upload(name, content, **kwargs)
        self.map(file_import)
        return self.dry_run(file_import)


@pytest.fixture
def importer(org_a):
    return Importer(org_a)
