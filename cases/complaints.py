"""Importing complaints (PQRS) from a CSV in the CFPB Consumer Complaint Database layout.

Set-based: pandas reads and validates the whole file, every row error is reported with
its line number and column, and only a clean file is written - in chunks of bulk
inserts, all in one transaction, so nothing is half written. Re-importing the same file
adds nothing (``external_id`` = ``cfpb-<Complaint ID>`` is unique per tenant).

This is the ``complaints`` resource the product's file-import registry can adopt: it
needs ``validate_complaints(frame)`` (rows -> records or row errors) and
``complaints_import(...)`` (records -> cases).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from typing import IO, Any

import pandas as pd
from django.utils import timezone

from cases import sla
from cases.choices import CaseChannel, EventKind, PqrsType, Priority, Status
from cases.models import Case, CaseEvent, CaseType
from cases.selectors import tenant_calendar
from cases.services import case_types_ensure_defaults, plan_next_deadline, start_clocks
from vector_crm.audit import audited
from vector_crm.errors import DomainError, PermissionDeniedError
from vector_crm.models import Membership, Tenant
from vector_crm.tenancy import require_tenant_id

REQUIRED_COLUMNS = (
    "Date received",
    "Product",
    "Issue",
    "Consumer complaint narrative",
    "Submitted via",
    "Company response to consumer",
    "Complaint ID",
)
CHANNELS = {
    "web": CaseChannel.WEB,
    "referral": CaseChannel.REFERRAL,
    "phone": CaseChannel.PHONE,
    "postal mail": CaseChannel.MAIL,
    "fax": CaseChannel.FAX,
    "email": CaseChannel.EMAIL,
}
CHUNK = 2000
# The first data row of a CSV is line 2 (line 1 is the header).
FIRST_LINE = 2


@dataclass
class RowError:
    line: int
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "message": self.message}


class ImportRejected(DomainError):
    """The file has row errors; nothing was written."""

    def __init__(self, errors: list[RowError]):
        first = errors[0]
        super().__init__(
            f"{len(errors)} row error(s); line {first.line}, {first.column}: {first.message}", field=first.column
        )
        self.errors = errors


@dataclass
class ImportResult:
    rows: int = 0
    created: int = 0
    skipped_existing: int = 0
    by_status: dict[str, int] = field(default_factory=dict)


def read_complaints(source: str | IO) -> pd.DataFrame:
    """The CSV as strings (multi-line narratives included), blanks as ""."""
    return pd.read_csv(source, dtype=str, keep_default_na=False)


def validate_complaints(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[RowError]]:
    """Vectorised checks: required columns, dates, ids, product, issue, channel."""
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        return frame, [RowError(1, c, "missing column") for c in missing]
    lines = pd.Series(range(FIRST_LINE, FIRST_LINE + len(frame)), index=frame.index)
    errors: list[RowError] = []

    def flag(mask: pd.Series, column: str, message: str) -> None:
        errors.extend(RowError(int(line), column, message) for line in lines[mask])

    received = pd.to_datetime(frame["Date received"], format="%Y-%m-%d", errors="coerce")
    flag(received.isna(), "Date received", "not a date (YYYY-MM-DD)")
    ids = frame["Complaint ID"].str.strip()
    flag(~ids.str.fullmatch(r"\d{1,20}"), "Complaint ID", "not a whole number")
    flag(ids.duplicated(keep="first") & ids.ne(""), "Complaint ID", "repeated in the file")
    flag(frame["Product"].str.strip().eq(""), "Product", "required")
    flag(frame["Issue"].str.strip().eq(""), "Issue", "required")
    channel = frame["Submitted via"].str.strip().str.lower()
    flag(~channel.isin(list(CHANNELS)), "Submitted via", f"one of {', '.join(sorted(CHANNELS))}")
    errors.sort(key=lambda e: (e.line, e.column))
    clean = frame.assign(_received=received, _id=ids, _channel=channel.map(CHANNELS))
    return clean, errors


def _opened_at(day: pd.Timestamp, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    # CFPB gives the day only: the complaint counts as received at 09:00 local time.
    return dt.datetime.combine(day.date(), dt.time(9), tzinfo=tz)


def _case_from_row(row, *, tenant_id: int, case_type: CaseType, tz) -> Case:
    response = row["Company response to consumer"].strip()
    closed = response.lower().startswith("closed")
    opened = _opened_at(row["_received"], tz)
    narrative = row["Consumer complaint narrative"].strip()
    case = Case(
        tenant_id=tenant_id,
        case_type=case_type,
        kind=case_type.kind,
        restricted=case_type.restricted,
        subject=row["Issue"].strip()[:200],
        description=narrative,
        product_label=(row.get("Sub-product", "") or "").strip()[:200],
        channel=row["_channel"],
        category=row["Product"].strip()[:200],
        subcategory=row["Issue"].strip()[:200],
        pqrs_type=PqrsType.CLAIM,
        priority=Priority.MEDIUM,
        status=Status.CLOSED if closed else Status.IN_PROGRESS,
        external_id=f"cfpb-{row['_id']}",
        resolution=response if closed else "",
        opened_at=opened,
        responded_at=opened,
    )
    if closed:
        case.resolved_at = case.closed_at = opened
    return case


@audited
def complaints_import(
    *, actor=None, membership: Membership | None = None, source: str | IO, case_type: CaseType | None = None
) -> ImportResult:
    """Import a CFPB-layout CSV as complaints of ``case_type`` (default: the PQRS type).

    Closed complaints arrive closed with the company's response as resolution (they train
    the triage classifier); the rest arrive in progress with their SLA clocks started at
    the received date. Raises ``ImportRejected`` with every row error, writing nothing.
    """
    if membership is not None and not membership.has("cases.create"):
        raise PermissionDeniedError()
    frame, errors = validate_complaints(read_complaints(source))
    if errors:
        raise ImportRejected(errors)
    return complaints_write(frame=frame, case_type=case_type)


def complaints_write(*, frame: pd.DataFrame, case_type: CaseType | None = None) -> ImportResult:
    """Write the complaints of a frame ``validate_complaints`` passed, in the caller's
    transaction; complaints already imported (same ``Complaint ID``) are skipped."""
    tenant_id = require_tenant_id()
    case_types_ensure_defaults()
    case_type = case_type or CaseType.objects.get(code="pqrs")
    tz = zoneinfo.ZoneInfo(Tenant.objects.get(pk=tenant_id).timezone)
    cal = tenant_calendar(tenant_id)
    existing = set(Case.objects.filter(external_id__startswith="cfpb-").values_list("external_id", flat=True))
    result = ImportResult(rows=len(frame))
    # One transaction (``audited``): a failure in any chunk writes nothing.
    for start in range(0, len(frame), CHUNK):
        chunk = frame.iloc[start : start + CHUNK]
        cases = [
            _case_from_row(row, tenant_id=tenant_id, case_type=case_type, tz=tz)
            for row in chunk.to_dict("records")
            if f"cfpb-{row['_id']}" not in existing
        ]
        result.skipped_existing += len(chunk) - len(cases)
        _start_open_clocks([c for c in cases if c.status != Status.CLOSED], case_type, cal)
        created = Case.objects.bulk_create(cases, batch_size=500)
        _log_creation(created, tenant_id)
        result.created += len(created)
        for case in created:
            result.by_status[case.status] = result.by_status.get(case.status, 0) + 1
    return result


def _start_open_clocks(cases: list[Case], case_type: CaseType, cal: sla.BusinessCalendar) -> None:
    for case in cases:
        case.case_type = case_type
        start_clocks(case, cal, None)
        plan_next_deadline(case, cal)


def _log_creation(cases: list[Case], tenant_id: int) -> None:
    if cases and cases[0].pk is None:  # backends without RETURNING: read the ids back
        ids = dict(Case.objects.filter(external_id__in=[c.external_id for c in cases]).values_list("external_id", "pk"))
        for case in cases:
            case.pk = ids[case.external_id]
    now = timezone.now()
    CaseEvent.objects.bulk_create(
        [
            CaseEvent(
                tenant_id=tenant_id,
                case_id=case.pk,
                kind=EventKind.CREATED,
                to_status=case.status,
                body="CFPB",
                data={"imported": now.isoformat()},
                occurred_at=case.opened_at,
            )
            for case in cases
        ],
        batch_size=1000,
    )
