"""``manage.py seed_demo``: demo institutions, or a large bench book with ``--customers``.

Default (small, realistic, idempotent; works on SQLite):

    python manage.py seed_demo            # Banco Andino (CO) + Cooperativa del Pacífico (EC)
    python manage.py seed_demo --reset    # wipe both demo institutions' data first

Fast path (vectorised generation; COPY on PostgreSQL, bulk_create elsewhere):

    python manage.py seed_demo --customers 1000000 --tenants 10 [--holdings-per-customer 2]
        [--months 12] [--interactions-per-customer 3] [--consents] [--reset] [--bulk-load]

Every user gets the demo password printed at the end (demo data only).
"""

from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from customers.demo import seed
from vector_crm.roles import Role


class Command(BaseCommand):
    help = "Load demo institutions with realistic data, or a large benchmark book (--customers)."

    def add_arguments(self, parser):
        parser.add_argument("--reset", action="store_true", help="Wipe the demo (or bench) tenants' data first.")
        parser.add_argument("--seed", type=int, default=42, help="Random seed (the data are deterministic).")
        parser.add_argument(
            "--per-institution",
            type=int,
            default=seed.DEMO_BOOK.customers,
            help="Demo mode: customers per demo institution (default %(default)s).",
        )
        bench = parser.add_argument_group("fast path (bench tenants)")
        bench.add_argument("--customers", type=int, help="Total customers to generate across the bench tenants.")
        bench.add_argument("--tenants", type=int, default=10, help="Bench tenants (default %(default)s).")
        bench.add_argument("--holdings-per-customer", type=float, default=2.0, help="Average accounts per customer.")
        bench.add_argument("--months", type=int, default=0, help="Months of summaries and payments per holding.")
        bench.add_argument("--interactions-per-customer", type=float, default=0.0, help="Average timeline entries.")
        bench.add_argument("--consents", action="store_true", help="Also record channel consents.")
        bench.add_argument("--chunk-size", type=int, default=50_000, help="Customers generated per chunk.")
        bench.add_argument(
            "--method",
            choices=["auto", "copy", "orm"],
            default="auto",
            help="auto: COPY on PostgreSQL, bulk_create elsewhere.",
        )
        bench.add_argument("--jobs", type=int, default=2, help="Tenants loaded at once (PostgreSQL; default 2).")
        bench.add_argument(
            "--bulk-load",
            action="store_true",
            help="PostgreSQL, as the owner (DATABASE_OWNER_URL): drop the book tables' secondary indexes and "
            "constraints during the load and rebuild them before the commit (benchmark databases).",
        )
        parser.add_argument("--no-analyze", action="store_true", help="Skip VACUUM ANALYZE after the load.")
        parser.add_argument("--report", help="Write counts and timings as JSON to this file.")

    def handle(self, *args, **options):
        progress = self._progress(options["verbosity"])
        try:
            if options["customers"] is not None:
                report = self._bench(options, progress)
            else:
                report = seed.seed_demo(
                    book=seed.BookSpec(**{**seed.DEMO_BOOK.__dict__, "customers": options["per_institution"]}),
                    seed=options["seed"],
                    reset=options["reset"],
                    analyze=not options["no_analyze"],
                    progress=progress,
                )
        except seed.SeedError as error:
            raise CommandError(str(error)) from error
        self._print_report(report, bench=options["customers"] is not None)
        if options["report"]:
            payload = {**report.as_dict(), "database": connection.vendor}
            Path(options["report"]).write_text(json.dumps(payload, indent=2))

    def _bench(self, options, progress):
        if options["method"] == "copy" and connection.vendor != "postgresql":
            raise CommandError("--method copy needs PostgreSQL.")
        base = seed.BookSpec(
            customers=options["customers"],
            holdings_per_customer=options["holdings_per_customer"],
            months=options["months"],
            interactions_per_customer=options["interactions_per_customer"],
            consents=options["consents"],
            chunk_size=options["chunk_size"],
        )
        return seed.seed_bench(
            customers=options["customers"],
            tenants=options["tenants"],
            base=base,
            seed=options["seed"],
            reset=options["reset"],
            method=options["method"],
            jobs=options["jobs"],
            bulk_load=options["bulk_load"],
            analyze=not options["no_analyze"],
            progress=progress,
        )

    def _progress(self, verbosity: int):
        def write(message: str) -> None:
            if verbosity >= 1:
                self.stdout.write(message)

        return write

    def _print_report(self, report: seed.SeedReport, *, bench: bool) -> None:
        for line in report.skipped + report.notes:
            self.stdout.write(f"- {line}")
        if report.rows:
            self.stdout.write("Rows written:")
            for label, count in sorted(report.rows.items()):
                self.stdout.write(f"  {label:<36} {count:>12,}")
        timings = ", ".join(f"{key} {value:.1f} s" for key, value in sorted(report.seconds.items()))
        self.stdout.write(f"Timings: {timings}")
        roles = dict(Role.choices)
        headers = ("Username", "Password", "Institution", "Role", "Branch", "Team")
        rows = [
            (
                s.username,
                seed.DEMO_PASSWORD,
                s.institution,
                f"{roles.get(s.role, s.role)}{' (staff)' if s.is_staff else ''}",
                s.branch,
                s.team,
            )
            for s in report.staff
        ]
        widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
        line = "  ".join("-" * w for w in widths)
        self.stdout.write("")
        self.stdout.write(
            "Demo users" + (" (bench: admins and analysts; advisors are <tenant>.asesorN)" if bench else "")
        )
        self.stdout.write("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)))
        self.stdout.write(line)
        for row in rows:
            self.stdout.write("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)))
        self.stdout.write(self.style.SUCCESS(f"Done. Password for every demo user: {seed.DEMO_PASSWORD}"))
