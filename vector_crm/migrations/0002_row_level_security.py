"""Row-level security on the platform's tenant tables (PostgreSQL only)."""

from django.db import migrations

from vector_crm.db import enable_rls

TENANT_TABLES = [
    "vector_crm_team",
    "vector_crm_membership",
    "vector_crm_apicredential",
    "vector_crm_job",
    "vector_crm_auditlogentry",
]


class Migration(migrations.Migration):
    dependencies = [("vector_crm", "0001_initial")]

    operations = [enable_rls(table) for table in TENANT_TABLES]
