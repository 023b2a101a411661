"""``manage.py import_complaints <tenant-slug> <file.csv>``: CFPB-layout complaints as cases."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from cases.complaints import ImportRejected, complaints_import
from vector_crm.models import Tenant
from vector_crm.tenancy import platform_context, tenant_context


class Command(BaseCommand):
    help = "Import a CSV in the CFPB Consumer Complaint Database layout as complaints (PQRS) of a tenant."

    def add_arguments(self, parser):
        parser.add_argument("tenant", help="tenant slug")
        parser.add_argument("path", help="CSV file")

    def handle(self, *args, tenant: str, path: str, **options):
        with platform_context():
            found = Tenant.objects.filter(slug=tenant).first()
        if found is None:
            raise CommandError(f"No tenant with slug {tenant!r}.")
        with tenant_context(found.pk):
            try:
                result = complaints_import(source=path)
            except ImportRejected as exc:
                for error in exc.errors[:50]:
                    self.stderr.write(f"line {error.line}, {error.column}: {error.message}")
                raise CommandError(f"{len(exc.errors)} row error(s); nothing was imported.") from exc
        self.stdout.write(
            f"{result.rows} rows: {result.created} complaints created, {result.skipped_existing} already imported"
        )
