"""Survey responses as a bulk resource (``survey_responses``).

Registered with ``customers.bulk.register_resource``, so ``validate_records`` /
``upsert_records`` — the contract the API and the file import share — accept it like the
core-banking feeds: per-record errors by index and field, ``atomic`` all-or-nothing.
"""

from __future__ import annotations

from customers.bulk_records import Choice, Date, Integer, Text
from segmentation.choices import SurveyAttribute

RESOURCE = "survey_responses"

SURVEY_RESPONSE_FIELDS = {
    "customer_external_id": Text(64),
    "responded_on": Date(),
    "attribute": Choice(SurveyAttribute.choices),
    "satisfaction": Integer(min_value=1, max_value=5),
    "importance": Integer(min_value=1, max_value=5),
}


def register() -> None:
    from customers import bulk
    from segmentation.services import survey_responses_bulk_upsert

    bulk.register_resource(
        RESOURCE,
        service=survey_responses_bulk_upsert,
        fields=SURVEY_RESPONSE_FIELDS,
        serializer_name="SurveyResponseBulkRecordSerializer",
        doc="One answer: a customer (by core-banking id) rates one attribute on one date.",
    )
