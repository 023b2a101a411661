"""Survey responses as a bulk resource (``survey_responses``) and an importable file.

Registered with ``customers.bulk.register_resource``, so ``validate_records`` /
``upsert_records`` — the contract the API and the file import share — accept it like the
core-banking feeds: per-record errors by index and field, ``atomic`` all-or-nothing; and
with ``vector_crm.imports.registry.register_importable``, so a CSV/XLSX of answers goes
through the same upload, mapping, dry run and import job as customers and accounts.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

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
    from customers.imports import bulk_sink, single_batch_builder
    from segmentation.services import survey_responses_bulk_upsert
    from vector_crm.imports.registry import Importable, Target, register_importable

    bulk.register_resource(
        RESOURCE,
        service=survey_responses_bulk_upsert,
        fields=SURVEY_RESPONSE_FIELDS,
        serializer_name="SurveyResponseBulkRecordSerializer",
        doc="One answer: a customer (by core-banking id) rates one attribute on one date.",
    )
    targets = (
        Target("customer_external_id", _("Id del cliente en el core"), required=True, aliases=("id_cliente",)),
        Target("responded_on", _("Fecha de la respuesta"), kind="date", required=True, aliases=("fecha",)),
        Target("attribute", _("Atributo evaluado"), required=True, aliases=("atributo",)),
        Target("satisfaction", _("Satisfacción (1-5)"), kind="integer", required=True, aliases=("satisfaccion",)),
        Target("importance", _("Importancia (1-5)"), kind="integer", required=True, aliases=("importancia",)),
    )
    register_importable(
        Importable(
            RESOURCE,
            _("Respuestas de encuestas"),
            targets,
            (bulk_sink(RESOURCE, "surveys.change"),),
            single_batch_builder(RESOURCE, targets),
            description=_("Una calificación por fila: cliente, fecha, atributo, satisfacción e importancia."),
        )
    )
