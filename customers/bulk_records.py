"""The field spec of each bulk resource: one declaration, two validators.

Each resource is a dict of ``Spec`` objects. A spec builds the DRF field (``drf_field``) used
by the record serializers (OpenAPI schema, and the authority on errors) and has a fast
path (``fast``) that turns a well-formed value into exactly what the DRF field returns, or
answers ``SLOW`` when it is not sure. ``RecordValidator`` runs the fast path field by field
and falls back to the bound DRF field for a ``SLOW`` value; when a record has any error, the
whole record goes through the DRF serializer so the reported field, code and message are
the serializer's own. Fast-accepted values therefore never differ from DRF's (checked on a
corpus in tests/customers/test_bulk_records.py); only the common case gets faster.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from customers.api.serializers import TenantPhoneNumberField
from customers.choices import (
    CivilStatus,
    CustomerKind,
    EconomicSector,
    Education,
    HoldingStatus,
    IdentificationType,
    IncomeBand,
    LifecycleStatus,
)
from customers.models import validate_currency
from customers.phones import e164_valid

SLOW = object()  # "the fast path is not sure: ask the DRF field"
_OPTIONAL = {"required": False}
_PROHIBITED_CHARS = re.compile("[\x00\ud800-\udfff]")  # DRF's null and surrogate validators
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{1,10}")
# A strict subset of what Django's EmailValidator accepts: ASCII dot-atom local part, LDH
# labels and an alphabetic TLD.
_SIMPLE_EMAIL = re.compile(
    r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"
)


class Spec:
    """One field: its DRF twin and a fast path for well-formed values."""

    def __init__(self, *, required: bool = True, allow_null: bool = False, default: Any = serializers.empty):
        self.required = required and default is serializers.empty
        self.allow_null = allow_null
        self.default = default

    def drf_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {}
        if self.default is not serializers.empty:
            kwargs["default"] = self.default
        elif not self.required:
            kwargs["required"] = False
        if self.allow_null:
            kwargs["allow_null"] = True
        return kwargs

    def drf_field(self) -> serializers.Field:
        raise NotImplementedError

    def fast(self, value: Any) -> Any:
        if value is None:
            return None if self.allow_null else SLOW
        return self.parse(value)

    def parse(self, value: Any) -> Any:
        return SLOW


class Text(Spec):
    def __init__(self, max_length: int, *, allow_blank: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.max_length = max_length
        self.allow_blank = allow_blank

    def drf_kwargs(self) -> dict[str, Any]:
        kwargs = {**super().drf_kwargs(), "max_length": self.max_length}
        if self.allow_blank:
            kwargs["allow_blank"] = True
        return kwargs

    def drf_field(self) -> serializers.Field:
        return serializers.CharField(**self.drf_kwargs())

    def parse(self, value: Any) -> Any:
        if type(value) is not str:
            return SLOW
        text = value.strip()
        if not text:
            return "" if self.allow_blank else SLOW
        if len(text) > self.max_length or _PROHIBITED_CHARS.search(text):
            return SLOW
        return self.check(text)

    def check(self, text: str) -> Any:
        return text


class Email(Text):
    def __init__(self, **kwargs):
        super().__init__(320, **kwargs)

    def drf_field(self) -> serializers.Field:
        kwargs = self.drf_kwargs()
        kwargs.pop("max_length")
        return serializers.EmailField(**kwargs)

    def check(self, text: str) -> Any:
        return text if _SIMPLE_EMAIL.fullmatch(text) else SLOW


class Phone(Text):
    """A phone number as its E.164 string (what the database stores)."""

    def __init__(self, **kwargs):
        super().__init__(32, **kwargs)

    def drf_field(self) -> serializers.Field:
        kwargs = self.drf_kwargs()
        kwargs.pop("max_length")
        return TenantPhoneNumberField(**kwargs)

    def check(self, text: str) -> Any:
        return text if e164_valid(text) else SLOW

    @staticmethod
    def from_drf(value: Any) -> Any:
        return value.as_e164 if hasattr(value, "as_e164") else value


class Currency(Text):
    def __init__(self, **kwargs):
        super().__init__(3, **kwargs)

    def drf_field(self) -> serializers.Field:
        return serializers.CharField(validators=[validate_currency], **self.drf_kwargs())

    def check(self, text: str) -> Any:
        try:
            validate_currency(text)
        except Exception:  # noqa: BLE001 - the DRF field reports it
            return SLOW
        return text


class Choice(Spec):
    def __init__(self, choices, *, allow_blank: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.choices = choices
        self.values = frozenset(value for value, _label in choices)
        self.allow_blank = allow_blank

    def drf_field(self) -> serializers.Field:
        kwargs = self.drf_kwargs()
        if self.allow_blank:
            kwargs["allow_blank"] = True
        return serializers.ChoiceField(choices=self.choices, **kwargs)

    def parse(self, value: Any) -> Any:
        if type(value) is not str:
            return SLOW
        if value == "" and self.allow_blank:
            return ""
        return value if value in self.values else SLOW


class Date(Spec):
    def drf_field(self) -> serializers.Field:
        return serializers.DateField(**self.drf_kwargs())

    def parse(self, value: Any) -> Any:
        if type(value) is dt.date:
            return value
        if type(value) is not str or not _ISO_DATE.fullmatch(value):
            return SLOW
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return SLOW


class Integer(Spec):
    """A non-negative integer that fits the database's ``integer`` column."""

    def __init__(self, *, min_value: int = 0, max_value: int = 2_147_483_647, **kwargs):
        super().__init__(**kwargs)
        self.min_value, self.max_value = min_value, max_value

    def drf_field(self) -> serializers.Field:
        return serializers.IntegerField(min_value=self.min_value, max_value=self.max_value, **self.drf_kwargs())

    def parse(self, value: Any) -> Any:
        if type(value) is str and _DIGITS.fullmatch(value):
            value = int(value)
        elif type(value) is not int:
            return SLOW
        return value if self.min_value <= value <= self.max_value else SLOW


class Money(Spec):
    """A decimal with ``max_digits``/``places``, as a Decimal quantized to ``places``."""

    def __init__(self, *, max_digits: int = 18, places: int = 2, min_value=None, max_value=None, **kwargs):
        super().__init__(**kwargs)
        self.max_digits, self.places = max_digits, places
        self.min_value, self.max_value = min_value, max_value
        self.quantum = Decimal(1).scaleb(-places)
        self.pattern = re.compile(rf"-?[0-9]{{1,{max_digits - places}}}(?:\.[0-9]{{1,{places}}})?")

    def drf_field(self) -> serializers.Field:
        bounds = {k: v for k, v in (("min_value", self.min_value), ("max_value", self.max_value)) if v is not None}
        return serializers.DecimalField(
            max_digits=self.max_digits, decimal_places=self.places, **self.drf_kwargs(), **bounds
        )

    def parse(self, value: Any) -> Any:
        if type(value) is str:
            text = value
        elif type(value) in (int, float):
            text = str(value)
        else:
            return SLOW
        if not self.pattern.fullmatch(text):
            return SLOW
        try:
            number = Decimal(text).quantize(self.quantum)
        except InvalidOperation:
            return SLOW
        if (self.min_value is not None and number < self.min_value) or (
            self.max_value is not None and number > self.max_value
        ):
            return SLOW
        return number


def _money(**kwargs) -> Money:
    return Money(**kwargs)


# --- the resources ----------------------------------------------------------------------------

CUSTOMER_FIELDS: dict[str, Spec] = {
    "external_id": Text(64),
    "kind": Choice(CustomerKind.choices, default=CustomerKind.PERSON),
    "identification_type": Choice(IdentificationType.choices),
    "identification_number": Text(20),
    "first_name": Text(100, allow_blank=True, **_OPTIONAL),
    "last_name": Text(100, allow_blank=True, **_OPTIONAL),
    "legal_name": Text(200, allow_blank=True, **_OPTIONAL),
    "mobile": Phone(allow_blank=True, **_OPTIONAL),
    "email": Email(allow_blank=True, **_OPTIONAL),
    "address": Text(200, allow_blank=True, **_OPTIONAL),
    "city": Text(80, allow_blank=True, **_OPTIONAL),
    "birth_date": Date(allow_null=True, **_OPTIONAL),
    "lifecycle_status": Choice(LifecycleStatus.choices, **_OPTIONAL),
    # Profile (VALOR's features and rule segments read these); all optional, blank clears.
    "civil_status": Choice(CivilStatus.choices, allow_blank=True, **_OPTIONAL),
    "children": Integer(min_value=0, max_value=30, allow_null=True, **_OPTIONAL),
    "education": Choice(Education.choices, allow_blank=True, **_OPTIONAL),
    "occupation": Text(100, allow_blank=True, **_OPTIONAL),
    "income_band": Choice(IncomeBand.choices, allow_blank=True, **_OPTIONAL),
    "stratum": Integer(min_value=1, max_value=6, allow_null=True, **_OPTIONAL),
    "economic_sector": Choice(EconomicSector.choices, allow_blank=True, **_OPTIONAL),
    "equity": _money(allow_null=True, min_value=0, **_OPTIONAL),
    "employees": Integer(min_value=0, allow_null=True, **_OPTIONAL),
}

HOLDING_FIELDS: dict[str, Spec] = {
    "account_number": Text(40),
    "customer_external_id": Text(64),
    "product_code": Text(30),
    "currency": Currency(),
    "opened_on": Date(),
    "maturity_date": Date(allow_null=True, **_OPTIONAL),
    "balance": _money(**_OPTIONAL),
    "credit_limit": _money(allow_null=True, min_value=0, **_OPTIONAL),
    "interest_rate": Money(max_digits=7, places=4, allow_null=True, min_value=0, max_value=200, **_OPTIONAL),
    "status": Choice(HoldingStatus.choices, **_OPTIONAL),
    "days_past_due": Integer(min_value=0, **_OPTIONAL),
    "next_due_date": Date(allow_null=True, **_OPTIONAL),
    "next_due_amount": _money(allow_null=True, min_value=0, **_OPTIONAL),
}

MONTHLY_SUMMARY_FIELDS: dict[str, Spec] = {
    "account_number": Text(40),
    "month": Date(),
    "average_balance": _money(**_OPTIONAL),
    "transactions": Integer(min_value=0, **_OPTIONAL),
    "fees": _money(**_OPTIONAL),
    "revenue": _money(**_OPTIONAL),
}

PAYMENT_FIELDS: dict[str, Spec] = {
    "account_number": Text(40),
    "due_date": Date(),
    "amount_due": _money(min_value=0),
    "paid_on": Date(allow_null=True, **_OPTIONAL),
    "amount_paid": _money(min_value=0, **_OPTIONAL),
}

FIELDS: dict[str, dict[str, Spec]] = {
    "customers": CUSTOMER_FIELDS,
    "holdings": HOLDING_FIELDS,
    "monthly_summaries": MONTHLY_SUMMARY_FIELDS,
    "payments": PAYMENT_FIELDS,
}


def record_serializer(name: str, fields: dict[str, Spec], doc: str) -> type[serializers.Serializer]:
    """The DRF serializer of one record, built from its spec."""
    attrs: dict[str, Any] = {field: spec.drf_field() for field, spec in fields.items()}
    return type(name, (serializers.Serializer,), {**attrs, "__doc__": doc, "__module__": "customers.api.bulk"})


RECORD_SERIALIZERS: dict[str, type[serializers.Serializer]] = {
    "customers": record_serializer(
        "CustomerBulkRecordSerializer",
        CUSTOMER_FIELDS,
        "One customer of a feed, keyed by its core-banking ``external_id``.",
    ),
    "holdings": record_serializer(
        "HoldingBulkRecordSerializer",
        HOLDING_FIELDS,
        "One account of a feed, keyed by ``account_number``; its customer by ``external_id``.",
    ),
    "monthly_summaries": record_serializer(
        "MonthlySummaryBulkRecordSerializer",
        MONTHLY_SUMMARY_FIELDS,
        "One account-month, keyed by ``account_number`` and ``month`` (first day).",
    ),
    "payments": record_serializer(
        "PaymentBulkRecordSerializer", PAYMENT_FIELDS, "One instalment, keyed by ``account_number`` and ``due_date``."
    ),
}


def _first_error(detail: Any) -> tuple[str | None, str, str]:
    if isinstance(detail, dict):
        name, value = next(iter(detail.items()))
        _field, code, message = _first_error(value)
        return (None if name == "non_field_errors" else name), code, message
    if isinstance(detail, list):
        return _first_error(detail[0])
    return None, getattr(detail, "code", "invalid"), str(detail)


def register_fields(resource: str, fields: dict[str, Spec], *, serializer_name: str, doc: str) -> None:
    """Declare another app's bulk resource: its field specs and the DRF twin built from them."""
    FIELDS[resource] = fields
    RECORD_SERIALIZERS[resource] = record_serializer(serializer_name, fields, doc)


class RecordInvalid(Exception):  # noqa: N818 - carries one record's first error
    def __init__(self, field: str | None, code: str, message: str):
        super().__init__(message)
        self.field, self.code, self.message = field, code, message


class RecordValidator:
    """Validates records of one resource: fast path per field, the DRF serializer as the
    fallback and as the single voice of errors."""

    def __init__(self, resource: str, *, region: str | None = None):
        self.specs = FIELDS[resource]
        self.serializer = RECORD_SERIALIZERS[resource](context={"region": region})
        self.drf_fields = self.serializer.fields  # bound: they see the region in the context
        self.defaults = {name: spec.default for name, spec in self.specs.items() if not spec.required}

    def validate(self, data: Any) -> dict[str, Any]:
        """The python-typed record, or ``RecordInvalid`` with the serializer's first error."""
        if type(data) is not dict:
            return self._slow(data)
        values: dict[str, Any] = {}
        for name, spec in self.specs.items():
            if name not in data:
                if spec.required:
                    return self._slow(data)
                if spec.default is not serializers.empty:
                    values[name] = spec.default
                continue
            value = spec.fast(data[name])
            if value is SLOW:
                try:
                    value = self.drf_fields[name].run_validation(data[name])
                except ValidationError:
                    return self._slow(data)
                if isinstance(spec, Phone):
                    value = Phone.from_drf(value)
            values[name] = value
        return values

    def _slow(self, data: Any) -> dict[str, Any]:
        try:
            values = self.serializer.run_validation(data)
        except ValidationError as exc:
            raise RecordInvalid(*_first_error(exc.detail)) from None
        for name, spec in self.specs.items():
            if isinstance(spec, Phone) and name in values:
                values[name] = Phone.from_drf(values[name])
        return dict(values)


def validate_all(resource: str, raw: Iterable[Any], *, region: str | None = None):
    """``(index, values)`` of the valid records and ``(index, field, code, message)`` of the rest."""
    validator = RecordValidator(resource, region=region)
    valid: list[tuple[int, dict[str, Any]]] = []
    invalid: list[tuple[int, str | None, str, str]] = []
    for index, data in enumerate(raw):
        try:
            valid.append((index, validator.validate(data)))
        except RecordInvalid as exc:
            invalid.append((index, exc.field, exc.code, exc.message))
    return valid, invalid
