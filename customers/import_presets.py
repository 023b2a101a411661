"""Presets that import two public data sets as customers with accounts and payment history
through the ordinary file import ("portfolio"):

* ``bank_marketing`` — UCI Bank Marketing ``bank.csv`` (CC BY 4.0, ``;``-separated): one
  customer per row with a savings account holding the row's ``balance`` (euros), its
  ``marital`` status as ``civil_status`` (married, single, divorced; the file's "divorced"
  also covers widowed) and its ``education`` (primary, secondary, tertiary as university,
  unknown as "Sin dato"). The campaign columns (contacts, outcome) are not customer data
  and are ignored.
* ``credit_default_taiwan`` — UCI "default of credit card clients" ``train.csv``
  (CC BY 4.0): one customer per ``ID`` with a credit card (limit ``LIMIT_BAL``, balance the
  September 2005 bill ``BILL_AMT1``, days past due ``PAY_0`` x 30) and six monthly
  instalments, April to September 2005: due on the 5th, amount due the month's bill
  (``BILL_AMTk``, negative credit balances as 0), paid ``PAY_AMTk`` on the due date when
  above zero.

Neither file names its customers or has national ids, so the preset derives them,
deterministically, from the row: ``n`` is the data row number (the first data row is 1)
for bank.csv and the file's ``ID`` for the Taiwan file.

* external id: ``BM-<n:06d>`` / ``TW-<ID:06d>``; account: ``BM-AH-<n:06d>`` / ``TW-TC-<ID:06d>``;
* names: first name "Cliente", last name the external id;
* identification, valid for the tenant's country and in disjoint ranges per data set:
  Colombia: cédula de ciudadanía ``1100000000 + n`` / ``1200000000 + ID`` (10 digits);
  Ecuador: cédula ``17`` + ``(1000000 + n)`` / ``(2000000 + ID)`` on 7 digits + the
  Registro Civil check digit (province 17, Pichincha); elsewhere passport ``BM<n:08d>`` /
  ``TW<ID:08d>``.

Re-importing the same file updates the same rows (the keys do not change).
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
from django.utils.translation import gettext_lazy as _

from customers import identification, services
from customers.choices import ProductFamily
from customers.imports import PAYMENT_GROUPS
from customers.models import Product
from vector_crm.imports.registry import ImportContext, Preset, register_preset

BANK_MARKETING_ID_BASE = {"co": 1_100_000_000, "ec": 1_000_000}
TAIWAN_ID_BASE = {"co": 1_200_000_000, "ec": 2_000_000}
# Taiwan file: BILL_AMT1/PAY_AMT1 are September 2005 ... BILL_AMT6/PAY_AMT6 April 2005.
TAIWAN_DUE_DATES = {k: f"2005-{10 - k:02d}-05" for k in range(1, PAYMENT_GROUPS + 1)}


def ec_cedula(sequence: int) -> str:
    """A valid Ecuadorian cédula of province 17 for ``sequence`` (< 6,000,000)."""
    body = f"17{sequence:07d}"
    total = 0
    for index, char in enumerate(body):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    number = body + str((10 - total % 10) % 10)
    assert identification.ec_cedula_valid(number)  # noqa: S101 - a broken derivation must never import
    return number


def identification_for(country: str, numbers: pd.Series, bases: dict[str, int], prefix: str):
    """(type, number) columns for the sequence ``numbers`` in the tenant's ``country``."""
    country = (country or "").lower()
    if country == "co":
        return "cc", (numbers + bases["co"]).astype(str)
    if country == "ec":
        return "ci_ec", (numbers + bases["ec"]).map(ec_cedula)
    return "passport", numbers.map(lambda n: f"{prefix}{n:08d}")


def _identity(numbers: pd.Series, ctx: ImportContext, *, prefix: str, account: str, bases) -> dict[str, pd.Series]:
    external = numbers.map(lambda n: f"{prefix}-{n:06d}")
    kind, number = identification_for(ctx.country, numbers, bases, prefix)
    return {
        "external_id": external,
        "identification_type": pd.Series(kind, index=numbers.index, dtype=object),
        "identification_number": number,
        "last_name": external,
        "account_number": numbers.map(lambda n: f"{prefix}-{account}-{n:06d}"),
    }


# bank.csv's profile vocabularies -> the customer model's choices ("" = absent).
BANK_MARKETING_CIVIL_STATUS = {"married": "married", "single": "single", "divorced": "divorced"}
BANK_MARKETING_EDUCATION = {
    "primary": "primary",
    "secondary": "secondary",
    "tertiary": "university",
    "unknown": "unknown",
}


def _vocabulary(values: pd.Series, mapping: dict[str, str]) -> pd.Series:
    """The file's words as model choices; a word outside ``mapping`` is passed through so
    the import reports it as an invalid choice of that row, rather than dropping it."""
    words = values.astype(str).str.strip().str.lower()
    return words.map(mapping).fillna(values.astype(str).str.strip()).where(words != "", "")


def derive_bank_marketing(frame: pd.DataFrame, ctx: ImportContext) -> dict[str, pd.Series]:
    numbers = pd.Series(frame.index - 1, index=frame.index)  # data row number, from 1
    derived = _identity(numbers, ctx, prefix="BM", account="AH", bases=BANK_MARKETING_ID_BASE)
    if "marital" in frame.columns:
        derived["civil_status"] = _vocabulary(frame["marital"], BANK_MARKETING_CIVIL_STATUS)
    if "education" in frame.columns:
        derived["education"] = _vocabulary(frame["education"], BANK_MARKETING_EDUCATION)
    return derived


def _whole(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values.astype(str).str.strip(), errors="coerce")


def derive_taiwan(frame: pd.DataFrame, ctx: ImportContext) -> dict[str, pd.Series]:
    ids = _whole(frame["ID"]).fillna(0).astype("int64")
    derived = _identity(ids, ctx, prefix="TW", account="TC", bases=TAIWAN_ID_BASE)
    delay = _whole(frame["PAY_0"]).fillna(0).clip(lower=0).astype("int64")
    derived["days_past_due"] = (delay * 30).astype(str)
    for k in range(1, PAYMENT_GROUPS + 1):
        bill = _whole(frame[f"BILL_AMT{k}"])
        paid = _whole(frame[f"PAY_AMT{k}"])
        derived[f"amount_due_{k}"] = bill.clip(lower=0).map(lambda v: "" if pd.isna(v) else f"{v:.2f}")
        derived[f"paid_on_{k}"] = pd.Series("", index=frame.index, dtype=object).where(~(paid > 0), TAIWAN_DUE_DATES[k])
    return derived


def ensure_product(code: str, name: str, family: str, currency: str) -> Callable:
    """A ``prepare`` hook creating the catalogue product the preset's accounts use."""

    def prepare(ctx: ImportContext, *, actor=None, membership=None) -> None:
        if not Product.objects.filter(code=code).exists():
            services.product_create(
                actor=actor,
                membership=membership,
                data={"code": code, "name": name, "family": family, "currency": currency},
            )

    return prepare


BANK_MARKETING = Preset(
    "bank_marketing",
    _("UCI Bank Marketing (bank.csv)"),
    mapping={"balance": "balance"},
    constants={
        "first_name": "Cliente",
        "product_code": "BM-AHORRO",
        "currency": "EUR",
        "opened_on": "2008-05-01",
    },
    derive=derive_bank_marketing,
    derived=(
        "external_id",
        "identification_type",
        "identification_number",
        "last_name",
        "account_number",
        "civil_status",
        "education",
    ),
    prepare=ensure_product("BM-AHORRO", "Cuenta de ahorros (Bank Marketing)", ProductFamily.SAVINGS, "EUR"),
    description=_("Clientes de un banco portugués con su cuenta de ahorros y saldo."),
)

TAIWAN = Preset(
    "credit_default_taiwan",
    _("UCI Default of credit card clients (Taiwan)"),
    mapping={
        "credit_limit": "LIMIT_BAL",
        "balance": "BILL_AMT1",
        **{f"amount_paid_{k}": f"PAY_AMT{k}" for k in range(1, PAYMENT_GROUPS + 1)},
    },
    constants={
        "first_name": "Cliente",
        "product_code": "TW-TC",
        "currency": "TWD",
        "opened_on": "2005-01-01",
        **{f"due_date_{k}": TAIWAN_DUE_DATES[k] for k in range(1, PAYMENT_GROUPS + 1)},
    },
    derive=derive_taiwan,
    derived=(
        "external_id",
        "identification_type",
        "identification_number",
        "last_name",
        "account_number",
        "days_past_due",
        *(f"amount_due_{k}" for k in range(1, PAYMENT_GROUPS + 1)),
        *(f"paid_on_{k}" for k in range(1, PAYMENT_GROUPS + 1)),
    ),
    prepare=ensure_product("TW-TC", "Tarjeta de crédito (Taiwán)", ProductFamily.CREDIT_CARD, "TWD"),
    description=_("Tarjetahabientes con cupo, saldo y seis meses de cuotas y pagos."),
)


def register() -> None:
    register_preset("portfolio", BANK_MARKETING)
    register_preset("portfolio", TAIWAN)
