"""Loader of the public UCI "Bank Marketing" sample (``bank.csv``) into a tenant, through
the bulk contract of the customer app (``customers.bulk.validate_records`` /
``upsert_records``) — the same path as ``/api/v1/bulk/*`` and the file import, never
direct ORM writes. Used by ``manage.py load_bank_marketing`` and the real-data test.

How each row (1-based line number ``n`` after the header) becomes data:

* customer: ``external_id`` ``BANK-<n:05d>``; identification ``cc`` number ``7<n:08d>``
  (nine digits, unique, deterministic); first name = the ``job`` column, last name
  ``Cliente <n>``; ``birth_date`` = 30 June of (``as_of`` year − ``age``) so the age on
  ``as_of`` (default 2026-11-15) is exactly the file's age; status active; ``marital`` as
  ``civil_status`` and ``education`` as ``education`` with the vocabularies of the
  ``bank_marketing`` import preset (``customers.import_presets``: tertiary is university,
  unknown is "Sin dato").
* accounts: a savings account ``BANK-<n>-AH`` with the file's ``balance`` (EUR, may be
  negative), plus a mortgage ``BANK-<n>-HIP`` when ``housing`` is yes and a consumer loan
  ``BANK-<n>-CON`` when ``loan`` is yes (balance 0: the file has no loan amounts).
* the window's twelve monthly summaries of the savings account: ``average_balance`` =
  ``balance``, ``transactions`` = ``campaign`` (contacts in the campaign, the only
  activity count the file has), ``revenue`` = 0.2 % of the positive balance a month
  (a 2.4 % yearly deposit spread), fees 0.

The products (``BANK-AH``, ``BANK-HIP``, ``BANK-CON``) are created through
``customers.services.product_create`` when missing. Loading twice changes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from pathlib import Path

from customers import bulk, services
from customers.choices import ProductFamily
from customers.import_presets import BANK_MARKETING_CIVIL_STATUS, BANK_MARKETING_EDUCATION
from customers.models import Product
from segmentation.features import window_months

AS_OF = dt.date(2026, 11, 15)
PRODUCTS = {"BANK-AH": ProductFamily.SAVINGS, "BANK-HIP": ProductFamily.MORTGAGE, "BANK-CON": ProductFamily.LOAN}
MONTHLY_SPREAD = Decimal("0.002")
BATCH = 5_000


def default_path() -> Path | None:
    """``shared/data/bank_marketing/bank.csv`` beside the checkout (or beside its parent,
    for a git worktree under ``wt/``); None when absent."""
    from django.conf import settings

    for root in (Path(settings.BASE_DIR).parent, Path(settings.BASE_DIR).parent.parent):
        candidate = root / "shared" / "data" / "bank_marketing" / "bank.csv"
        if candidate.exists():
            return candidate
    return None


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter=";"))


def _customer(n: int, row: dict[str, str], as_of: dt.date) -> dict:
    return {
        "external_id": f"BANK-{n:05d}",
        "identification_type": "cc",
        "identification_number": f"7{n:08d}",
        "first_name": row["job"].replace("-", " ").replace(".", "").title() or "Cliente",
        "last_name": f"Cliente {n}",
        "birth_date": dt.date(as_of.year - int(row["age"]), 6, 30).isoformat(),
        "lifecycle_status": "active",
        "civil_status": BANK_MARKETING_CIVIL_STATUS.get(row["marital"], ""),
        "education": BANK_MARKETING_EDUCATION.get(row["education"], ""),
    }


def _holdings(n: int, row: dict[str, str], currency: str) -> list[dict]:
    base = {"customer_external_id": f"BANK-{n:05d}", "currency": currency, "opened_on": "2020-01-15"}
    result = [{**base, "account_number": f"BANK-{n}-AH", "product_code": "BANK-AH", "balance": row["balance"]}]
    if row["housing"] == "yes":
        result.append({**base, "account_number": f"BANK-{n}-HIP", "product_code": "BANK-HIP", "balance": "0"})
    if row["loan"] == "yes":
        result.append({**base, "account_number": f"BANK-{n}-CON", "product_code": "BANK-CON", "balance": "0"})
    return result


def _summaries(n: int, row: dict[str, str], months: list[dt.date]) -> list[dict]:
    balance = Decimal(row["balance"])
    revenue = (max(balance, Decimal(0)) * MONTHLY_SPREAD).quantize(Decimal("0.01"))
    return [
        {
            "account_number": f"BANK-{n}-AH",
            "month": month.isoformat(),
            "average_balance": str(balance),
            "transactions": int(row["campaign"]),
            "fees": "0",
            "revenue": str(revenue),
        }
        for month in months
    ]


def _ensure_products(currency: str) -> None:
    existing = set(Product.objects.filter(code__in=PRODUCTS).values_list("code", flat=True))
    for code, family in PRODUCTS.items():
        if code not in existing:
            services.product_create(data={"code": code, "name": code, "family": family, "currency": currency})


def _upsert(resource: str, records: list[dict], counts: dict) -> None:
    for start in range(0, len(records), BATCH):
        raw = records[start : start + BATCH]
        valid, rejected = bulk.validate_records(resource, raw)
        result = bulk.upsert_records(resource, records=valid, rejected=rejected, atomic=True, total=len(raw))
        if not result.applied:
            first = sorted(result.rejected, key=lambda e: e.index)[0]
            raise ValueError(f"{resource} record {start + first.index}: {first.field} {first.code}: {first.message}")
        counts[resource] = counts.get(resource, 0) + result.created + result.updated + result.unchanged


def load_bank_marketing(path: Path, *, currency: str, as_of: dt.date = AS_OF, limit: int | None = None) -> dict:
    """Load ``path`` into the current tenant; returns the records applied per resource."""
    rows = read_rows(path)[:limit]
    months = window_months(as_of, 12)
    _ensure_products(currency)
    counts: dict[str, int] = {}
    numbered = list(enumerate(rows, start=1))
    _upsert("customers", [_customer(n, row, as_of) for n, row in numbered], counts)
    _upsert("holdings", [h for n, row in numbered for h in _holdings(n, row, currency)], counts)
    _upsert("monthly_summaries", [s for n, row in numbered for s in _summaries(n, row, months)], counts)
    return counts
