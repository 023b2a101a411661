"""Row-level security on VALOR's tenant tables (PostgreSQL only)."""

from django.db import migrations

from vector_crm.db import enable_rls

TENANT_TABLES = [
    "segmentation_valueconfig",
    "segmentation_surveyresponse",
    "segmentation_scoringrun",
    "segmentation_segment",
    "segmentation_customerscore",
    "segmentation_segmentmembership",
]


class Migration(migrations.Migration):
    dependencies = [("segmentation", "0001_initial")]

    operations = [enable_rls(table) for table in TENANT_TABLES]
