"""``migrate`` as the schema owner when DATABASE_OWNER_URL is set (the app role owns nothing)."""

from django.core.management.commands.migrate import Command as DjangoMigrate

from vector_crm.db import owner_connection


class Command(DjangoMigrate):
    def handle(self, *args, **options):
        with owner_connection(options["database"]):
            return super().handle(*args, **options)
