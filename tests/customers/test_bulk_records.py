"""The bulk field specs: the fast path and the DRF record serializers agree on every input
(accepted with the same value, or rejected with the same field, code and message)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import phonenumbers
import pytest
from rest_framework.exceptions import ValidationError

from customers.bulk_records import FIELDS, RECORD_SERIALIZERS, SLOW, Phone, RecordValidator, _first_error
from customers.phones import e164_valid

TEXT_VALUES = ["abc", "  padded  ", "", "   ", "x" * 64, "x" * 65, 123, 12.5, True, None, "nul\x00", "\ud800", ["a"]]
DATE_VALUES = ["2026-01-31", "2026-02-30", "20260101", "2026-1-1", "", None, dt.date(2026, 5, 1), 20260101, "x"]
MONEY_VALUES = [
    "10",
    "10.5",
    "-3.25",
    "0.001",
    "1e3",
    "",
    None,
    12.5,
    7,
    True,
    "1234567890123456.78",
    "12345678901234567",
    " 5 ",
    "NaN",
    "abc",
    "0",
    "-0",
    "000012.30",
]
INT_VALUES = [0, 3, -1, "4", "04", "4.0", 4.0, True, None, "", 2_147_483_647, 2_147_483_648, "x"]
EMAIL_VALUES = [
    "ana@example.com",
    "Ana.Maria+x@mail.example.co",
    "no-at-sign",
    "a@b",
    "a@-bad.com",
    "a@bad-.com",
    "a..b@example.com",
    "ñ@example.com",
    "a@ex_ample.com",
    "a@localhost",
    "",
    " ana@example.com ",
    "a@example.c0m",
]
PHONE_VALUES = [
    "+573001112233",
    "+5730011122",
    "+571234567",
    "+593991234567",
    "+5930991234567",
    "+14155552671",
    "+447911123456",
    "+34600000000",
    "3001112233",
    "+57 300 111 2233",
    "+0012",
    "+",
    "",
    "+999999999",
    "+5216141234567",
]
CHOICE_VALUES = [
    "cc",
    "nit",
    "CC",
    "",
    None,
    1,
    "passport",
    "person",
    "company",
    "active",
    "married",
    "university",
    "4to8",
    " married",
]
CURRENCY_VALUES = ["COP", "USD", "XXZ", "cop", "", None, "COPX"]


def drf_outcome(resource: str, field: str, value, region: str = "CO"):
    serializer = RECORD_SERIALIZERS[resource](context={"region": region})
    try:
        result = serializer.fields[field].run_validation(value)
    except ValidationError as exc:
        return ("error", _first_error(exc.detail))
    return ("ok", Phone.from_drf(result))


def values_for(spec_name: str) -> list:
    return {
        "Text": TEXT_VALUES,
        "Email": EMAIL_VALUES,
        "Phone": PHONE_VALUES,
        "Currency": CURRENCY_VALUES,
        "Choice": CHOICE_VALUES,
        "Date": DATE_VALUES,
        "Integer": INT_VALUES,
        "Money": MONEY_VALUES,
    }[spec_name]


CASES = [
    (resource, name, value)
    for resource, specs in FIELDS.items()
    for name, spec in specs.items()
    for value in values_for(type(spec).__name__)
]


@pytest.mark.parametrize(("resource", "field", "value"), CASES, ids=[f"{r}.{f}={v!r}"[:60] for r, f, v in CASES])
def test_the_fast_path_accepts_only_what_drf_accepts_with_the_same_value(resource, field, value):
    fast = FIELDS[resource][field].fast(value)
    if fast is SLOW:
        return
    outcome, drf_value = drf_outcome(resource, field, value)
    assert outcome == "ok", (value, drf_value)
    assert drf_value == fast
    assert type(drf_value) is type(fast)
    if isinstance(fast, Decimal):
        assert str(drf_value) == str(fast)


def test_the_fast_path_takes_the_common_well_formed_values():
    specs = FIELDS["customers"]
    assert specs["mobile"].fast("+573001112233") == "+573001112233"
    assert specs["email"].fast("ana@example.com") == "ana@example.com"
    assert specs["birth_date"].fast("1980-01-02") == dt.date(1980, 1, 2)
    assert FIELDS["payments"]["amount_due"].fast("350000") == Decimal("350000.00")


def random_national_numbers(rng: random.Random, region: str, count: int) -> list[str]:
    code = phonenumbers.country_code_for_region(region)
    numbers = []
    for number_type in (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE):
        example = phonenumbers.example_number_for_type(region, number_type)
        if example is None:
            continue
        nsn = phonenumbers.national_significant_number(example)
        for _ in range(count):
            digits = list(nsn)
            for position in rng.sample(range(len(digits)), k=min(3, len(digits))):
                digits[position] = str(rng.randrange(10))
            size = len(digits) + rng.choice((0, 0, 0, -1, 1))
            numbers.append(f"+{code}" + "".join(digits)[:size].ljust(size, "7"))
    return numbers


def library_valid(text: str) -> bool:
    try:
        return phonenumbers.is_valid_number(phonenumbers.parse(text, None))
    except phonenumbers.NumberParseException:
        return False


def test_the_e164_fast_path_agrees_with_phonenumbers_on_random_numbers_of_every_region():
    rng = random.Random(20261123)
    decided = 0
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for text in random_national_numbers(rng, region, 15):
            verdict = e164_valid(text)
            if verdict is None:
                continue
            decided += 1
            assert verdict == library_valid(text), text
            if verdict:
                assert (
                    phonenumbers.format_number(phonenumbers.parse(text, None), phonenumbers.PhoneNumberFormat.E164)
                    == text
                )
    assert decided > 3000  # the fast path really decides most E.164 input


def drf_only(resource: str, records: list, region: str = "CO"):
    serializer = RECORD_SERIALIZERS[resource](context={"region": region})
    accepted, rejected = [], []
    for index, data in enumerate(records):
        try:
            values = serializer.run_validation(data)
        except ValidationError as exc:
            rejected.append((index, *_first_error(exc.detail)))
            continue
        accepted.append((index, {k: Phone.from_drf(v) for k, v in values.items()}))
    return accepted, rejected


def test_record_validator_matches_the_serializer_on_mixed_records():
    base = {
        "external_id": "E1",
        "identification_type": "cc",
        "identification_number": "70000001",
        "first_name": "Ana",
        "last_name": "Pérez",
        "mobile": "+573001112233",
        "email": "ana@example.com",
    }
    records = [
        base,
        base | {"mobile": "300 111 2233"},  # national format: the DRF field decides (region CO)
        base | {"email": "bad", "mobile": "12"},  # two errors: the first in declaration order wins
        {k: v for k, v in base.items() if k != "identification_type"},
        base | {"kind": "company", "birth_date": None, "city": 123},
        "not a dict",
        base | {"birth_date": "2026-02-30"},
        base | {"lifecycle_status": "nope", "unknown_key": 1},
    ]
    validator = RecordValidator("customers", region="CO")
    ours = ([], [])
    for index, data in enumerate(records):
        try:
            ours[0].append((index, validator.validate(data)))
        except Exception as exc:  # noqa: BLE001
            ours[1].append((index, exc.field, exc.code, exc.message))
    assert ours == drf_only("customers", records)
    assert ours[0][1][1]["mobile"] == "+573001112233"
    assert [r[:3] for r in ours[1]] == [
        (2, "mobile", "invalid"),
        (3, "identification_type", "required"),
        (5, None, "invalid"),
        (6, "birth_date", "invalid"),
        (7, "lifecycle_status", "invalid_choice"),
    ]


def reference_search_key(text: str) -> str:
    import unicodedata

    decomposed = unicodedata.normalize("NFKD", text or "")
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).lower().split())


def test_search_key_fast_paths_match_the_reference_definition():
    from customers.models import search_key

    rng = random.Random(7)
    alphabet = "aAñÑéÉüÜçÇøßİıǅﬁ  \t-'" + "".join(chr(c) for c in (0x301, 0x308, 0x1D165, 0x1F600, 0x0E31, 0x05B0))
    samples = ["", "Peña Gómez", "  JOSÉ   maría ", "ＡＢＣ", "Ǆemal", None]
    samples += ["".join(rng.choice(alphabet) for _ in range(rng.randrange(1, 25))) for _ in range(2000)]
    for text in samples:
        assert search_key(text) == reference_search_key(text), repr(text)
    assert search_key("Peña Gómez") == "pena gomez"
