"""``flush`` as the schema owner when DATABASE_OWNER_URL is set.

The runtime role may not TRUNCATE (TRUNCATE ignores row-level security), so emptying the
database - which is also how transactional tests clean up - runs as the owner. On
PostgreSQL it cascades: tables Django does not list (django-auditlog's own log table,
unused because we swap in our entry model) still reference the user table.
"""

from django.core.management.commands.flush import Command as DjangoFlush
from django.db import connections

from vector_crm.db import owner_connection


class Command(DjangoFlush):
    def handle(self, **options):
        if connections[options["database"]].vendor == "postgresql":
            options["allow_cascade"] = True
        with owner_connection(options["database"]):
            return super().handle(**options)
