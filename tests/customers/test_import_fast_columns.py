"""The column-wise checks of the PostgreSQL customers import (``customers.import_fast``)
against the plain per-value forms they shortcut. No database."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from rest_framework import serializers

from customers import import_fast
from customers.bulk_records import CUSTOMER_FIELDS


@pytest.mark.parametrize(
    "text",
    ["", "plain", "Peña", "a\x00b", "\x00", "x\ud800y", "\udfff", "Peña\udc80", "😀", "a\u2028b", "\ufffd"],
)
def test_prohibited_characters_are_found_as_the_pattern_finds_them(text):
    assert import_fast.has_prohibited(text) is (re.search(import_fast._PROHIBITED, text) is not None)


def reference_validate_columns(typed: pd.DataFrame):
    """The former loop: every field compared with "" (absent ones as a blank column)."""
    frame = pd.DataFrame(index=typed.index)
    unsure = np.zeros(len(typed), dtype=bool)
    for name, spec in CUSTOMER_FIELDS.items():
        values = typed[name] if name in typed.columns else pd.Series("", index=typed.index, dtype=object)
        blank = (values == "").to_numpy()
        if spec.required and blank.any():
            unsure |= blank
        filled = ~blank
        if filled.any():
            unsure[filled] |= ~import_fast._sure(spec, values[filled])
        if spec.default is not serializers.empty and blank.any():
            values = values.where(~blank, spec.default)
        frame[name] = values
    return frame, unsure


def typed_rows(rows: int) -> pd.DataFrame:
    index = pd.Index(range(2, rows + 2), name="row")
    frame = pd.DataFrame(
        {
            "external_id": [f"E-{n}" for n in range(rows)],
            "identification_type": ["cc"] * rows,
            "identification_number": [str(10_000_000 + n) for n in range(rows)],
            "first_name": ["Ana"] * rows,
            "last_name": [f"Pérez {n}" for n in range(rows)],
            "mobile": [f"+57300{n:07d}" for n in range(rows)],
            "email": [f"c{n}@example.com" for n in range(rows)],
            "city": ["Bogotá"] * rows,
            "birth_date": ["1980-05-06"] * rows,
            "lifecycle_status": ["active"] * rows,
        },
        index=index,
        dtype=object,
    )
    return frame


@pytest.mark.parametrize(
    "change",
    [
        {},
        {"email": ""},  # a blank cell in a present optional column
        {"mobile": "", "city": ""},
        {"external_id": ""},  # a blank required cell
        {"kind": "company"},  # a present column with a default
        {"first_name": "x" * 101},
        {"last_name": "a\x00b"},
        {"last_name": "b\ud800"},
        {"mobile": "+14155552671"},
        {"lifecycle_status": "bogus"},
        {"birth_date": "06/05/1980"},
        {"email": "bad@"},
    ],
)
def test_columns_checked_as_the_former_loop_did(change):
    typed = typed_rows(300)
    if "kind" in change:
        typed["kind"] = "person"
    for name, value in change.items():
        typed.iloc[150, typed.columns.get_loc(name)] = value
    unsure_rows = []
    original = import_fast.RecordValidator

    class Recording:
        def __init__(self, *args, **kwargs):
            self.inner = original(*args, **kwargs)

        def validate(self, record):
            unsure_rows.append(record.get("external_id", ""))
            return self.inner.validate(record)

    expected_frame, expected_unsure = reference_validate_columns(typed)
    import_fast.RecordValidator = Recording
    try:
        frame, rejected = import_fast.validate_fields(typed, "CO")
    finally:
        import_fast.RecordValidator = original
    assert unsure_rows == typed.loc[typed.index[expected_unsure], "external_id"].tolist()
    kept = expected_frame.drop(index=[row for row, _field, _message in rejected])
    if not expected_unsure.any():
        pd.testing.assert_frame_equal(frame, kept)
        assert [type(v) for v in frame["kind"]] == [type(v) for v in kept["kind"]]
    assert list(frame.columns) == list(CUSTOMER_FIELDS)


@pytest.mark.parametrize(
    "odd",
    [
        None,
        ("Ana  María", "Pérez"),  # a double space
        ("Ana\tMaría", "Pérez"),
        ("", "Pérez"),  # an edge space once joined
        ("Ana", "\u00a0Pérez"),
        ("x" * 100, "y" * 100),  # longer than 200 with the space
        ("Zoë", "Ñandú"),
        ("Bob", "😀"),  # beyond the BMP: the general path
        ("ﬁne", "ǅemal"),
    ],
)
def test_search_names_equal_search_key_of_the_display_name(odd):
    from customers.models import search_key

    # 2,200 rows: three pieces (imports.pieces), the odd name in the second, a company in the first
    first = ["Ana"] * 2_200
    last = [f"Pérez Gómez {n}" for n in range(2_200)]
    kind = ["person"] * 2_200
    legal = [""] * 2_200
    if odd is not None:
        first[1_500], last[1_500] = odd
    kind[7], legal[7] = "company", "ACME  S.A.S. "
    frame = pd.DataFrame(
        {"kind": kind, "first_name": first, "last_name": last, "legal_name": legal},
        index=pd.Index(range(2, 2_202), name="row"),
        dtype=object,
    )
    names = [lg if k == "company" else f"{a} {b}".strip() for k, a, b, lg in zip(kind, first, last, legal, strict=True)]
    assert import_fast._search_names(frame).tolist() == [search_key(name)[:200] for name in names]
