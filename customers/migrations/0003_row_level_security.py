"""Row-level security on the customer model's tenant tables (PostgreSQL only)."""

from django.db import migrations

from vector_crm.db import enable_rls

TENANT_TABLES = [
    "customers_branch",
    "customers_product",
    "customers_customer",
    "customers_channelconsent",
    "customers_holding",
    "customers_monthlyaccountsummary",
    "customers_payment",
    "customers_interaction",
]


class Migration(migrations.Migration):
    dependencies = [("customers", "0002_initial")]

    operations = [enable_rls(table) for table in TENANT_TABLES]
