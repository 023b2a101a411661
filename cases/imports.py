"""Complaints (PQRS) as an importable file of ``vector_crm.imports``.

The file import's upload, column mapping, dry run and background job feed
``cases.complaints``: rows are checked with ``validate_complaints`` (row errors by target
field) and written with ``complaints_write`` in the import's transaction. The targets carry
the CFPB Consumer Complaint Database headers as aliases, so that layout maps itself; any
other complaint register maps its own columns in the mapping step. Re-importing skips the
complaints already there (same complaint id), counted as unchanged.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pandas as pd
from django.utils.translation import gettext_lazy as _

from cases import complaints
from customers.bulk import BulkError, BulkResult, Record
from vector_crm.errors import PermissionDeniedError
from vector_crm.imports.registry import (
    Batch,
    Importable,
    ImportContext,
    Sink,
    Target,
    records_from_frame,
    register_importable,
)

RESOURCE = "complaints"
# target -> the CFPB column ``cases.complaints`` reads
COLUMNS = {
    "complaint_id": "Complaint ID",
    "received_on": "Date received",
    "product": "Product",
    "sub_product": "Sub-product",
    "issue": "Issue",
    "narrative": "Consumer complaint narrative",
    "channel": "Submitted via",
    "company_response": "Company response to consumer",
}
TARGET_OF = {column: target for target, column in COLUMNS.items()}
TARGETS = (
    Target("complaint_id", _("Número de la queja"), required=True, aliases=("Complaint ID", "radicado")),
    Target("received_on", _("Fecha de recibo"), kind="date", required=True, aliases=("Date received", "fecha")),
    Target("product", _("Producto"), required=True, aliases=("Product", "producto")),
    Target("sub_product", _("Subproducto"), aliases=("Sub-product", "subproducto")),
    Target("issue", _("Motivo"), required=True, aliases=("Issue", "motivo")),
    Target("narrative", _("Relato del cliente"), aliases=("Consumer complaint narrative", "relato")),
    Target("channel", _("Canal de entrada"), required=True, aliases=("Submitted via", "canal")),
    Target("company_response", _("Respuesta de la entidad"), aliases=("Company response to consumer", "respuesta")),
)


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The records as the CFPB-layout frame ``cases.complaints`` works on (absent = "")."""
    frame = pd.DataFrame.from_records(rows, columns=list(COLUMNS)).fillna("")
    return frame.rename(columns=COLUMNS)


def validate(raw: Iterable[dict[str, Any]], *, region: str | None = None) -> tuple[list[Record], list[BulkError]]:
    """Row checks of ``validate_complaints``; each rejected record names its first bad field."""
    rows = list(raw)
    _clean, errors = complaints.validate_complaints(_frame(rows))
    rejected: dict[int, BulkError] = {}
    for error in errors:
        index = error.line - complaints.FIRST_LINE
        rejected.setdefault(index, BulkError(index, TARGET_OF.get(error.column), "invalid", error.message))
    records = [(index, row) for index, row in enumerate(rows) if index not in rejected]
    return records, list(rejected.values())


def upsert(
    *, records: list[Record], rejected: list[BulkError], atomic: bool, total: int, actor=None, membership=None
) -> BulkResult:
    """Write the valid complaints (none when ``atomic`` and any was rejected)."""
    if membership is not None and not membership.has("cases.create"):
        raise PermissionDeniedError()
    result = BulkResult(rejected=list(rejected), applied=not (atomic and rejected))
    if result.applied and records:
        frame, errors = complaints.validate_complaints(_frame([row for _index, row in records]))
        assert not errors, "validate() let a bad record through"  # noqa: S101 - an invariant of the sink
        written = complaints.complaints_write(frame=frame)
        result.created, result.unchanged = written.created, written.skipped_existing
    return result


def _build(frame: pd.DataFrame, ctx: ImportContext) -> list[Batch]:
    present = [name for name in COLUMNS if name in frame.columns]
    return [Batch(RESOURCE, frame.index.tolist(), records_from_frame(frame, present))]


def register() -> None:
    register_importable(
        Importable(
            RESOURCE,
            _("Quejas y reclamos (PQRS)"),
            TARGETS,
            (Sink(RESOURCE, validate, upsert, ("cases.create",)),),
            _build,
            description=_("Una queja por fila; el formato de la base de quejas de la CFPB se reconoce solo."),
        )
    )
