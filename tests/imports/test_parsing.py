"""The pure reader: detection of format, encoding and separator, streaming chunks, and the
locale rules for numbers and dates. No database."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pandas as pd
import pytest
from openpyxl import Workbook

from vector_crm.imports import parsing
from vector_crm.imports.parsing import FileProblem, inspect_file, iter_chunks


def write(tmp_path, data: bytes, name="f.csv"):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows_of(path, info, chunk_rows=1000):
    chunks = list(iter_chunks(path, info, chunk_rows=chunk_rows))
    return chunks, [list(r) for c in chunks for r in c.frame.itertuples(index=False)]


@pytest.mark.parametrize(
    ("data", "encoding", "delimiter"),
    [
        ("a;b\r\n1;Peña\r\n".encode(), "utf-8", ";"),
        (b"\xef\xbb\xbfa,b\n1,Pe\xc3\xb1a\n", "utf-8-sig", ","),
        ("a\tb\n1\tPeña\n".encode("cp1252"), "cp1252", "\t"),
        ("a;b\n1;Peña\n".encode("latin-1"), "cp1252", ";"),
    ],
)
def test_encoding_and_separator_are_detected(tmp_path, data, encoding, delimiter):
    path = write(tmp_path, data)
    info = inspect_file(path)
    assert (info.format, info.encoding, info.delimiter, info.headers) == ("csv", encoding, delimiter, ["a", "b"])
    assert info.sample == [["1", "Peña"]]


def test_quoted_fields_keep_separators_newlines_and_quotes(tmp_path):
    data = 'id;nota;ciudad\r\n1;"uno; dos\r\ntres";"Bogotá"\r\n2;"dice ""hola""";Cali\r\n'.encode()
    path = write(tmp_path, data)
    info = inspect_file(path)
    chunks, rows = rows_of(path, info)
    assert rows == [["1", "uno; dos\r\ntres", "Bogotá"], ["2", 'dice "hola"', "Cali"]]
    # the second record is spreadsheet row 3 even though it starts on line 4
    assert list(chunks[0].frame.index) == [2, 3]


def test_rows_with_another_number_of_fields_are_set_aside(tmp_path):
    path = write(tmp_path, b"a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12,,\n\n13,14,15\n")
    info = inspect_file(path)
    chunks, rows = rows_of(path, info)
    assert rows == [["1", "2", "3"], ["10", "11", "12"], ["13", "14", "15"]]
    assert chunks[0].width_errors == [(3, 2), (4, 4)]
    assert list(chunks[0].frame.index) == [2, 5, 6]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "empty"),
        (b"\xef\xbb\xbf \r\n\r\n", "empty"),
        (bytes(range(256)) * 10, "binary"),
        (b"id;documento\r\n", "no_rows"),
        (b"id;;documento\n1;2;3\n", "blank_header"),
        (b"id;ID\n1;2\n", "duplicate_header"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "legacy_xls"),
        (b"PK\x03\x04 not really a zip", "bad_xlsx"),
    ],
)
def test_unreadable_files_raise_a_named_problem(tmp_path, data, code):
    with pytest.raises(FileProblem) as caught:
        inspect_file(write(tmp_path, data))
    assert caught.value.code == code


def test_xlsx_cells_become_text_in_the_tenant_decimal_separator(tmp_path):
    book = Workbook()
    sheet = book.active
    sheet.append(["id", "saldo", "apertura", "nombre"])
    sheet.append([1, 1234.5, dt.datetime(2024, 3, 31), " Ana "])
    sheet.append([2, 1.234, dt.date(2023, 1, 2), None])
    sheet.append([None, None, None, None])
    path = tmp_path / "f.xlsx"
    book.save(path)
    info = inspect_file(path, decimal_separator=",")
    assert (info.format, info.headers) == ("xlsx", ["id", "saldo", "apertura", "nombre"])
    _chunks, rows = rows_of(path, info)
    assert rows == [["1", "1234,5", "2024-03-31", "Ana"], ["2", "1,234", "2023-01-02", ""]]
    values, bad = parsing.normalize_decimal(pd.Series(["1234,5", "1,234"]), ",")
    assert values.tolist() == ["1234.5", "1.234"] and not bad.any()


def test_chunks_are_bounded_and_memory_does_not_grow_with_the_file(tmp_path):
    def peak_for(rows: int) -> tuple[int, list[int]]:
        path = tmp_path / f"{rows}.csv"
        with path.open("w", encoding="utf-8") as handle:
            handle.write("id;nombre;saldo\n")
            for i in range(rows):
                handle.write(f"{i};Cliente número {i};{i * 3},50\n")
        info = inspect_file(path)
        tracemalloc.start()
        sizes = [len(chunk.frame) for chunk in iter_chunks(path, info, chunk_rows=500)]
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, sizes

    small_peak, small_sizes = peak_for(2_000)
    big_peak, big_sizes = peak_for(20_000)
    assert small_sizes == [500] * 4
    assert big_sizes == [500] * 40
    # ten times the rows, about the same peak: one chunk in memory at a time
    assert big_peak < small_peak * 2


@pytest.mark.parametrize(
    ("raw", "expected", "bad"),
    [
        ("1.234.567,89", "1234567.89", False),
        ("1234567,89", "1234567.89", False),
        ("1234.5", "1234.5", False),
        ("-2.500", "-2500", False),
        ("$ 1.000", "1000", False),
        ("1.234", "1234", False),
        ("", "", False),
        ("12,34,5", "", True),
        ("abc", "", True),
        ("1.23.4", "", True),
    ],
)
def test_decimals_in_a_comma_locale(raw, expected, bad):
    values, mask = parsing.normalize_decimal(pd.Series([raw]), ",")
    assert (values[0], bool(mask[0])) == (expected, bad)


@pytest.mark.parametrize(
    ("raw", "expected", "bad"),
    [("1,234,567.89", "1234567.89", False), ("1234.5", "1234.5", False), ("1.234,5", "", True)],
)
def test_decimals_in_a_dot_locale(raw, expected, bad):
    values, mask = parsing.normalize_decimal(pd.Series([raw]), ".")
    assert (values[0], bool(mask[0])) == (expected, bad)


def test_integers_and_dates():
    ints, bad_ints = parsing.normalize_integer(pd.Series(["30", "1.000", "2,5", "x", ""]), ",")
    assert ints.tolist() == ["30", "1000", "", "", ""]
    assert bad_ints.tolist() == [False, False, True, True, False]
    dates, bad_dates = parsing.normalize_date(
        pd.Series(["2024-03-31", "31/03/2024", "31-03-2024", "31.03.2024", "2024/03/31", "31/02/2024", "mañana", ""])
    )
    assert dates.tolist() == ["2024-03-31"] * 5 + ["", "", ""]
    assert bad_dates.tolist() == [False] * 5 + [True, True, False]


def test_header_key_ignores_case_accents_and_punctuation():
    assert parsing.header_key(" Número de Documento ") == "numero_de_documento"


EDGE_SPACES = (" ", "\t", "\x0b", "\x1c", "\x1f", "\x85", "\u00a0", "\u2003", "\u3000", "\u2028")


@pytest.mark.parametrize("space", EDGE_SPACES)
@pytest.mark.parametrize("where", ["start", "end"])
def test_text_is_stripped_like_str_strip_wherever_the_space_sits(space, where):
    """A space anywhere in the column (here the middle of a long one), ASCII or not, is
    stripped as str.strip() strips it."""
    items = [f"Pérez {n}" for n in range(5000)] + ["", "a\x00 b", "x"]
    items[2500] = space + items[2500] if where == "start" else items[2500] + space
    values, bad = parsing.normalize_text(pd.Series(items, dtype=object))
    assert values.tolist() == [v.strip() for v in items]
    assert not bad.any()


def test_text_without_edge_spaces_is_kept_and_odd_values_take_the_general_path():
    items = ["a b", "c\u00a0d", "e\x00 f", "", "Peña", "\u200b"]  # a zero-width space is not str.isspace()
    values = parsing.normalize_text(pd.Series(items, dtype=object))[0].tolist()
    assert values == items
    assert all(v is item for v, item in zip(values, items, strict=True))  # the very strings
    assert parsing.normalize_text(pd.Series(["a ", 1], dtype=object))[0].tolist() == ["a", "1"]

    class Code(str):
        pass

    kept = parsing.normalize_text(pd.Series([Code("x"), "y"], dtype=object))[0].tolist()
    assert [type(v) for v in kept] == [Code, str]
    assert parsing.normalize_text(pd.Series([], dtype=object))[0].tolist() == []


def test_plain_blocks_read_as_the_csv_module_reads_them(tmp_path, monkeypatch):
    """Blocks of plain lines are split without the csv module; blocks with anything else
    (quoted delimiters and newlines, stray quotes, blank rows, other widths, a lone CR)
    go through it. Every chunk equals the one the csv module alone gives."""
    import random

    rng = random.Random(9)
    odd_lines = [
        '"a;b";x;y\r\n',
        '"multi\r\nline";x;y\r\n',
        '"multi\nline";x;y\r\n',
        'ab"c;x;y\r\n',
        '"ab"c;x;y\r\n',
        '"a""b";x;y\r\n',
        ";;\r\n",
        '"";"";""\r\n',
        " ;\t;\r\n",
        "\r\n",
        "only;two\r\n",
        "four;x;y;z\r\n",
        "four;x;y;\r\n",
        "lone;cr;x\rnext;x;y\r\n",
        ' "a";x;y\r\n',
    ]
    lines = []
    for n in range(3000):
        if rng.random() < 0.01:
            lines.append(rng.choice(odd_lines))
        else:
            lines.append(f'{n};"Pérez {n}";\u00a0{n % 7}\r\n' if n % 3 else f"{n};Ana;x\r\n")
    data = ("id;name;v\r\n" + "".join(lines)).rstrip("\r\n")
    path = write(tmp_path, data.encode())
    info = inspect_file(path)
    for chunk_rows in (1, 7, 64, 1000, 5000):
        fast = list(iter_chunks(path, info, chunk_rows=chunk_rows))
        with monkeypatch.context() as patch:
            patch.setattr(parsing, "_plain_block", lambda *args: None)
            general = list(iter_chunks(path, info, chunk_rows=chunk_rows))
        assert len(fast) == len(general)
        for got, expected in zip(fast, general, strict=True):
            pd.testing.assert_frame_equal(got.frame, expected.frame)
            assert got.width_errors == expected.width_errors
    assert sum(len(c.frame) for c in fast) > 2900


def test_a_plain_block_of_several_pieces_reads_as_the_csv_module_reads_it(tmp_path, monkeypatch):
    """A block is matched and split in pieces of 1,000 lines (see ``imports.pieces``): the
    columns of a 2,500-line block (quoted cells, CRLF, no newline after the last line) are
    the csv module's, and a line the pattern refuses in the last piece sends the whole
    block to the csv module."""
    lines = [f'{n};"Pérez {n}";{n % 7}\r\n' if n % 2 else f"{n};Ana;x\r\n" for n in range(2500)]
    block = parsing._plain_block
    for odd, data in (
        (False, "id;name;v\r\n" + "".join(lines).rstrip("\r\n")),
        (True, "id;name;v\r\n" + "".join(lines[:2400]) + 'ab"c;x;y\r\n' + "".join(lines[2401:])),
    ):
        path = write(tmp_path, data.encode())
        info = inspect_file(path)
        answers: list = []

        def recorded(*args, answers=answers):
            answers.append(block(*args))
            return answers[-1]

        with monkeypatch.context() as patch:
            patch.setattr(parsing, "_plain_block", recorded)
            fast = list(iter_chunks(path, info, chunk_rows=5000))
        with monkeypatch.context() as patch:
            patch.setattr(parsing, "_plain_block", lambda *args: None)
            general = list(iter_chunks(path, info, chunk_rows=5000))
        assert [columns is None for columns in answers] == [odd]
        assert len(fast) == len(general) == 1
        pd.testing.assert_frame_equal(fast[0].frame, general[0].frame)
        assert len(fast[0].frame) == 2500
