"""``manage.py load_bank_marketing --tenant <slug> [--file bank.csv] [--score]``.

Loads the public UCI Bank Marketing sample through the bulk contract (see
``segmentation.datasets`` for how rows become customers, accounts and summaries), and
with ``--score`` runs a scoring run in-process right after.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from segmentation import datasets, services
from segmentation.jobs import score_customers
from vector_crm.models import Tenant
from vector_crm.tenancy import platform_context, tenant_context


class Command(BaseCommand):
    help = "Load the UCI Bank Marketing sample into a tenant through the bulk upsert contract."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="Tenant slug.")
        parser.add_argument("--file", help="Path of bank.csv (default: shared/data/bank_marketing/bank.csv).")
        parser.add_argument("--as-of", default=datasets.AS_OF.isoformat(), help="Date ages and months refer to.")
        parser.add_argument("--score", action="store_true", help="Run a scoring run afterwards (in-process).")

    def handle(self, *args, **options):
        path = Path(options["file"]) if options["file"] else datasets.default_path()
        if path is None or not path.exists():
            raise CommandError(f"{path or 'bank.csv'} does not exist; pass --file.")
        with platform_context():
            # Finding the tenant by slug is a platform lookup.
            tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"No tenant with slug {options['tenant']!r}.")
        as_of = dt.date.fromisoformat(options["as_of"])
        with tenant_context(tenant.pk):
            counts = datasets.load_bank_marketing(path, currency=tenant.currency, as_of=as_of)
            for resource, count in counts.items():
                self.stdout.write(f"{resource}: {count}")
            if options["score"]:
                run = services.scoring_run_start(as_of=as_of, enqueue=False)
                result = score_customers(tenant.pk, run.job_id, run_id=run.pk)
                self.stdout.write(f"scoring run {run.pk}: tiers {result['tiers']}, clusters {result['clusters']}")
