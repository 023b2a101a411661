"""Row-level security on the CASOS tenant tables (PostgreSQL only)."""

from django.db import migrations

from vector_crm.db import enable_rls

TENANT_TABLES = [
    "cases_casetype",
    "cases_slapolicy",
    "cases_businesscalendar",
    "cases_case",
    "cases_caseevent",
    "cases_escalation",
    "cases_casemilestone",
    "cases_caseattachment",
]


class Migration(migrations.Migration):
    dependencies = [("cases", "0001_initial")]

    operations = [enable_rls(table) for table in TENANT_TABLES]
