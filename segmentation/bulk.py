"""Survey responses as an importable bulk resource (``survey_responses``).

Registered into the customer app's bulk registry (``customers.bulk.SERVICES`` and the
record serializers of ``customers.api.bulk``), so ``validate_records`` /
``upsert_records`` — the contract the API and the file import share — accept it like
the core-banking feeds: per-record errors by index and field, ``atomic`` all-or-nothing.
"""

from __future__ import annotations

from rest_framework import serializers

from segmentation.choices import SurveyAttribute

RESOURCE = "survey_responses"


class SurveyResponseBulkRecordSerializer(serializers.Serializer):
    """One answer: a customer (by core-banking id) rates one attribute on one date."""

    customer_external_id = serializers.CharField(max_length=64)
    responded_on = serializers.DateField()
    attribute = serializers.ChoiceField(choices=SurveyAttribute.choices)
    satisfaction = serializers.IntegerField(min_value=1, max_value=5)
    importance = serializers.IntegerField(min_value=1, max_value=5)


def register() -> None:
    from customers import bulk
    from customers.api import bulk as api_bulk
    from segmentation.services import survey_responses_bulk_upsert

    bulk.SERVICES[RESOURCE] = survey_responses_bulk_upsert
    api_bulk.RECORD_SERIALIZERS[RESOURCE] = SurveyResponseBulkRecordSerializer
