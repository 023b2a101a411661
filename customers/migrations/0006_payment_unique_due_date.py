"""One payment per account and due date (the bulk payments feed upserts on this key).

The unique constraint's index replaces ``payment_tenant_holding_idx`` (same columns). A
database that already holds two instalments of one account on one date stops here with a
message saying how to find them, rather than deleting anything.
"""

from django.db import migrations, models

from vector_crm.tenancy import platform_context

_DUPLICATES_SQL = (
    "SELECT tenant_id, holding_id, due_date, count(*) FROM customers_payment "
    "GROUP BY tenant_id, holding_id, due_date HAVING count(*) > 1"
)


def refuse_duplicates(apps, schema_editor):
    # Platform mode: the RLS policy is forced on the owner too, and must not hide rows here.
    with platform_context(), schema_editor.connection.cursor() as cursor:
        cursor.execute(_DUPLICATES_SQL + " LIMIT 5")
        found = cursor.fetchall()
    if found:
        raise RuntimeError(
            "customers_payment has several rows for one (tenant, holding, due_date), e.g. "
            f"{found}. Merge them (find all with: {_DUPLICATES_SQL}) and migrate again."
        )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_tenant_newest_first_indexes"),
        ("vector_crm", "0004_webhooks"),
    ]

    operations = [
        migrations.RunPython(refuse_duplicates, migrations.RunPython.noop, elidable=True),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(fields=("tenant", "holding", "due_date"), name="payment_unique_due_date"),
        ),
        migrations.RemoveIndex(
            model_name="payment",
            name="payment_tenant_holding_idx",
        ),
    ]
