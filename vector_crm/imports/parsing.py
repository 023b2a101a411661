"""Reading real-world CSV and XLSX files in bounded chunks, and normalising their values.

Pure module (no Django): ``inspect_file`` detects the format, encoding, delimiter and
header of a stored file; ``iter_chunks`` streams its data rows as pandas frames of
strings (``chunk_rows`` rows at a time, never the whole file); ``normalize_column``
turns one column of raw strings into canonical strings (``.`` decimals, ISO dates) with a
mask of the values it could not read.

Problems with the file as a whole raise ``FileProblem`` with a stable ``code`` and
``params``; the caller words the message in the user's language.

Row numbers follow the spreadsheet convention the user sees: the header is row 1, the
first data row is row 2 (a quoted field spanning several lines still counts as one row).
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd

from vector_crm.imports.pieces import pieces

SAMPLE_BYTES = 64 * 1024
DELIMITERS = (";", ",", "\t", "|")
XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls (and other OLE documents)
FIRST_DATA_ROW = 2  # the header is row 1

# csv's default field limit (128 KiB) is far above any real cell; kept explicit.
csv.field_size_limit(1024 * 1024)


class FileProblem(Exception):
    """The file as a whole cannot be read; ``code`` names why, ``params`` fill the message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params


@dataclass(frozen=True)
class FileInfo:
    format: str  # "csv" | "xlsx"
    encoding: str = ""
    delimiter: str = ""
    headers: list[str] = field(default_factory=list)
    sample: list[list[str]] = field(default_factory=list)


@dataclass
class Chunk:
    """Consecutive data rows: ``frame`` (one str column per header, index = row number)
    and the rows left out because their number of fields differs from the header's."""

    frame: pd.DataFrame
    width_errors: list[tuple[int, int]]  # (row number, fields found)


# --- detection ---------------------------------------------------------------------------


def _detect_encoding(path: Path, head: bytes) -> str:
    """UTF-8 (with or without BOM) when the whole file decodes; else cp1252, else Latin-1."""
    if head.startswith(codecs.BOM_UTF8):
        candidate = "utf-8-sig"
    else:
        candidate = "utf-8"
    decoder = codecs.getincrementaldecoder(candidate)()
    try:
        with path.open("rb") as handle:
            while block := handle.read(1024 * 1024):
                decoder.decode(block)
            decoder.decode(b"", final=True)
        return candidate
    except UnicodeDecodeError:
        pass
    try:
        with path.open("rb") as handle:
            while block := handle.read(1024 * 1024):
                block.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _looks_binary(text: str) -> bool:
    if "\x00" in text:
        return True
    controls = sum(1 for char in text if ord(char) < 32 and char not in "\t\r\n")
    return controls > max(2, len(text) // 100)


def _split_outside_quotes(line: str, delimiter: str) -> int:
    """How many fields ``line`` has with ``delimiter`` (quotes respected)."""
    return len(next(csv.reader([line], delimiter=delimiter), []))


def _detect_delimiter(text: str) -> str:
    """The candidate that splits the header into most fields and the next lines alike."""
    lines = [line for line in text.splitlines() if line.strip()][:20]
    if not lines:
        return ","
    best, best_score = ",", (0, 0)
    for delimiter in DELIMITERS:
        counts = [_split_outside_quotes(line, delimiter) for line in lines]
        header = counts[0]
        if header < 2:
            continue
        consistent = sum(1 for count in counts[1:] if count == header)
        score = (consistent, header)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _clean_headers(raw: list[str]) -> list[str]:
    headers = [str(h if h is not None else "").strip() for h in raw]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        raise FileProblem("no_header")
    for position, name in enumerate(headers, start=1):
        if not name:
            raise FileProblem("blank_header", column=position)
    seen: set[str] = set()
    for name in headers:
        if name.lower() in seen:
            raise FileProblem("duplicate_header", column=name)
        seen.add(name.lower())
    return headers


def inspect_file(path: Path, *, decimal_separator: str = ",", sample_rows: int = 5) -> FileInfo:
    """Format, encoding, delimiter, header and the first rows; ``FileProblem`` when the
    file is empty, binary, has no data rows or a broken header."""
    with path.open("rb") as handle:
        head = handle.read(SAMPLE_BYTES)
    if not head.strip(b" \t\r\n" + codecs.BOM_UTF8):
        raise FileProblem("empty")
    if head.startswith(XLSX_MAGIC):
        return _inspect_xlsx(path, decimal_separator, sample_rows)
    if head.startswith(OLE_MAGIC):
        raise FileProblem("legacy_xls")
    encoding = _detect_encoding(path, head)
    text = head.decode(encoding, errors="replace")
    if _looks_binary(text):
        raise FileProblem("binary")
    delimiter = _detect_delimiter(text)
    info = FileInfo(format="csv", encoding=encoding, delimiter=delimiter)
    rows = _csv_rows(path, info)
    headers = _clean_headers(next(rows, []))
    sample = [row for _number, row in zip(range(sample_rows), rows, strict=False)]
    if not sample:
        raise FileProblem("no_rows")
    return FileInfo(format="csv", encoding=encoding, delimiter=delimiter, headers=headers, sample=sample)


def _inspect_xlsx(path: Path, decimal_separator: str, sample_rows: int) -> FileInfo:
    rows = _xlsx_rows(path, decimal_separator)
    headers = _clean_headers(next(rows, []))
    sample = [row for _number, row in zip(range(sample_rows), rows, strict=False)]
    if not sample:
        raise FileProblem("no_rows")
    return FileInfo(format="xlsx", headers=headers, sample=sample)


# --- row streams ---------------------------------------------------------------------------


def _is_blank(row: list[str]) -> bool:
    # The first cell decides for almost every row; the join only runs when it is empty.
    return not row[0].strip() and not "".join(row).strip()


def _csv_rows(path: Path, info: FileInfo) -> Iterator[list[str]]:
    """Non-blank rows (header first); quoted fields may hold delimiters and newlines."""
    try:
        with path.open("r", encoding=info.encoding, newline="") as handle:
            for row in csv.reader(handle, delimiter=info.delimiter, quotechar='"', doublequote=True, strict=False):
                if row and not _is_blank(row):
                    yield row
    except UnicodeDecodeError as exc:
        raise FileProblem("encoding", encoding=info.encoding) from exc
    except csv.Error as exc:
        raise FileProblem("malformed_csv", detail=str(exc)) from exc


def _cell_text(value, decimal_separator: str) -> str:
    """An XLSX cell as the text a user would have typed (numbers in the tenant's decimal
    separator and no grouping, so the same locale rules read them back exactly)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = format(Decimal(repr(value)), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text.replace(".", decimal_separator)
    return str(value).strip()


def _xlsx_rows(path: Path, decimal_separator: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # noqa: PLC0415 - only XLSX imports need it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - zipfile/openpyxl raise many types for a bad file
        raise FileProblem("bad_xlsx") from exc
    try:
        sheet = workbook.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            row = [_cell_text(value, decimal_separator) for value in values]
            while row and not row[-1]:
                row.pop()
            if row and not _is_blank(row):
                yield row
    finally:
        workbook.close()


def iter_chunks(path: Path, info: FileInfo, *, chunk_rows: int, decimal_separator: str = ",") -> Iterator[Chunk]:
    """The data rows as frames of about ``chunk_rows`` rows; rows whose field count differs
    from the header's go to ``width_errors`` instead (trailing empty cells are forgiven)."""
    if info.format == "csv":
        yield from _csv_chunks(path, info, chunk_rows)
        return
    rows = _xlsx_rows(path, decimal_separator)
    next(rows, None)  # the header
    width = len(info.headers)
    buffer: list[list[str]] = []
    numbers: list[int] = []
    width_errors: list[tuple[int, int]] = []
    number = FIRST_DATA_ROW - 1
    for row in rows:
        number += 1
        if len(row) != width:
            if len(row) > width and not any(cell.strip() for cell in row[width:]):
                row = row[:width]
            elif len(row) < width:
                row = row + [""] * (width - len(row))
            else:
                width_errors.append((number, len(row)))
                continue
        buffer.append(row)
        numbers.append(number)
        if len(buffer) >= chunk_rows:
            yield _chunk(buffer, numbers, info.headers, width_errors)
            buffer, numbers, width_errors = [], [], []
    if buffer or width_errors:
        yield _chunk(buffer, numbers, info.headers, width_errors)


def _csv_chunks(path: Path, info: FileInfo, chunk_rows: int) -> Iterator[Chunk]:
    """``iter_chunks`` for CSV, a block of ``chunk_rows`` records at a time: the per-row work
    is a few list comprehensions (blank rows, field counts), not a generator step per row.

    A block of plain lines (``_plain_block``: one record per line, no quote that needs the
    csv module) is split with a few C-level string passes instead; any other block is read
    again by the csv module from its first line, so both give the same records, blocks and
    chunks. Rows are kept column by column until a chunk is cut."""
    width = len(info.headers)
    number = FIRST_DATA_ROW - 1
    plain = _plain_line_pattern(info.delimiter, width)
    try:
        with path.open("r", encoding=info.encoding, newline="") as handle:
            reader = _csv_reader(handle, info.delimiter)
            for row in reader:  # the header: the first row that is not blank
                if row and not _is_blank(row):
                    break
            pending: list[list[str]] = [[] for _ in range(width)]
            pending_numbers: list[int] = []
            pending_errors: list[tuple[int, int]] = []
            # ``handle`` is now at the first line after the header, where ``reader`` stopped.
            while lines := list(itertools.islice(handle, chunk_rows)):
                columns = _plain_block(lines, info.delimiter, width, plain)
                if columns is None:
                    # The csv module reads the same ``chunk_rows`` records, from the block's
                    # first line (a quoted field may go on past its last one).
                    block = list(
                        itertools.islice(_csv_reader(itertools.chain(lines, handle), info.delimiter), chunk_rows)
                    )
                    rows = [row for row in block if row and (row[0].strip() or "".join(row).strip())]
                    numbers = list(range(number + 1, number + 1 + len(rows)))
                    number += len(rows)
                    odd = [i for i, row in enumerate(rows) if len(row) != width]
                    if odd:
                        rows, numbers, errors = _fix_widths(rows, numbers, odd, width)
                        pending_errors += errors
                    columns = [list(column) for column in zip(*rows, strict=True)] if rows else None
                else:
                    numbers = list(range(number + 1, number + 1 + len(lines)))
                    number += len(lines)
                if columns is not None:
                    for into, column in zip(pending, columns, strict=True):
                        into += column
                pending_numbers += numbers
                while len(pending_numbers) >= chunk_rows:
                    yield _column_chunk(
                        [column[:chunk_rows] for column in pending],
                        pending_numbers[:chunk_rows],
                        info.headers,
                        pending_errors,
                    )
                    pending = [column[chunk_rows:] for column in pending]
                    pending_numbers, pending_errors = pending_numbers[chunk_rows:], []
            if pending_numbers or pending_errors:
                yield _column_chunk(pending, pending_numbers, info.headers, pending_errors)
    except UnicodeDecodeError as exc:
        raise FileProblem("encoding", encoding=info.encoding) from exc
    except csv.Error as exc:
        raise FileProblem("malformed_csv", detail=str(exc)) from exc


def _csv_reader(lines, delimiter: str):
    return csv.reader(lines, delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def _plain_line_pattern(delimiter: str, width: int) -> re.Pattern | None:
    """Lines of exactly ``width`` fields, each unquoted or wholly quoted, with no quote,
    delimiter, CR, LF or NUL inside: lines the csv module reads as a split on the delimiter
    (and the quotes dropped). None for a one-column file (an empty line is no record)."""
    if width < 2:
        return None
    d = re.escape(delimiter)
    cell = f'(?:"[^"\r\n\x00{d}]*"|[^"\r\n\x00{d}]*)'
    return re.compile(f"(?:(?:{cell}{d}){{{width - 1}}}{cell}(?:\r?\n|\\Z))*")


def _plain_block(lines: list[str], delimiter: str, width: int, plain: re.Pattern | None) -> list[list[str]] | None:
    """The columns of ``lines`` when each line is one record the csv module would split
    exactly so (``_plain_line_pattern``), none blank and no line over the csv field size
    limit; None when the csv module must read them. Matched and split in pieces (see
    ``pieces``)."""
    if plain is None or max(map(len, lines)) > csv.field_size_limit():
        return None
    cells: list[str] = []
    for part in pieces(lines):
        text = "".join(part)
        if plain.fullmatch(text) is None:
            return None
        if "\r" in text:  # only in CRLF line ends (the pattern allows no other CR)
            text = text.replace("\r\n", "\n")
        if text.endswith("\n"):
            text = text[:-1]
        if '"' in text:  # every quote opens or closes a whole field
            text = text.replace('"', "")
        split = text.replace("\n", delimiter).split(delimiter)
        if len(split) != len(part) * width:
            return None
        cells += split
    columns = [cells[i::width] for i in range(width)]
    if not all(map(str.strip, columns[0])):  # a blank first cell: maybe a blank row
        return None
    return columns


def _fix_widths(rows: list[list[str]], numbers: list[int], odd: list[int], width: int):
    """Trim blank trailing cells; the rows still of the wrong width become width errors."""
    errors: list[tuple[int, int]] = []
    dropped: set[int] = set()
    for i in odd:
        row = rows[i]
        if len(row) > width and not any(cell.strip() for cell in row[width:]):
            rows[i] = row[:width]
        else:
            errors.append((numbers[i], len(row)))
            dropped.add(i)
    if dropped:
        rows = [row for i, row in enumerate(rows) if i not in dropped]
        numbers = [n for i, n in enumerate(numbers) if i not in dropped]
    return rows, numbers, errors


def _chunk(rows: list[list[str]], numbers: list[int], headers: list[str], width_errors) -> Chunk:
    frame = pd.DataFrame(rows, columns=headers, index=pd.Index(numbers, name="row"), dtype=object)
    return Chunk(frame=frame, width_errors=list(width_errors))


def _column_chunk(columns: list[list[str]], numbers: list[int], headers: list[str], width_errors) -> Chunk:
    """``_chunk`` of rows given column by column."""
    frame = pd.DataFrame(
        dict(zip(headers, columns, strict=True)), columns=headers, index=pd.Index(numbers, name="row"), dtype=object
    )
    return Chunk(frame=frame, width_errors=list(width_errors))


# --- value normalisation -----------------------------------------------------------------

KIND_TEXT = "text"
KIND_DECIMAL = "decimal"
KIND_INTEGER = "integer"
KIND_DATE = "date"

DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y/%m/%d")
_SPACES_AND_SYMBOLS = r"[\s\u00a0\u202f$€£¥]"
_PLAIN = r"-?\d+(?:\.\d+)?"


def _grouped_pattern(decimal_separator: str) -> tuple[str, str]:
    """The locale's grouped form (``1.234.567,89`` for ``,`` decimals) and its group mark."""
    group = "." if decimal_separator == "," else ","
    dec, grp = re.escape(decimal_separator), re.escape(group)
    return rf"-?\d{{1,3}}(?:{grp}\d{{3}})+(?:{dec}\d+)?", group


def normalize_decimal(
    values: pd.Series, decimal_separator: str, *, canonical: bool = False
) -> tuple[pd.Series, pd.Series]:
    """Canonical ``.`` decimals and the mask of unreadable values (blank stays blank).

    In the locale's grouped form (``1.234.567,89`` in es-CO) the group marks are dropped;
    a plain ``1234.5`` is also accepted. Ambiguous ``1.234`` in a ``,``-decimal locale is
    read as the locale writes it: one thousand two hundred thirty-four."""
    text = values.astype(str).str.replace(_SPACES_AND_SYMBOLS, "", regex=True)
    out = pd.Series("", index=values.index, dtype=object)
    blank = text == ""
    plain = text.str.fullmatch(_PLAIN)
    if canonical:
        out[plain] = text[plain]
        return out, ~(blank | plain)
    grouped_re, group = _grouped_pattern(decimal_separator)
    grouped = text.str.fullmatch(grouped_re) & ~blank
    out[grouped] = text[grouped].str.replace(group, "", regex=False).str.replace(decimal_separator, ".", regex=False)
    local_plain = ~grouped & ~blank
    if decimal_separator != ".":
        local = local_plain & text.str.fullmatch(rf"-?\d+{re.escape(decimal_separator)}\d+")
        out[local] = text[local].str.replace(decimal_separator, ".", regex=False)
        local_plain &= ~local
    else:
        local = pd.Series(False, index=values.index)
    plain_only = local_plain & plain
    out[plain_only] = text[plain_only]
    bad = ~(blank | grouped | local | plain_only)
    return out, bad


def normalize_integer(values: pd.Series, decimal_separator: str, *, canonical: bool = False):
    decimals, bad = normalize_decimal(values, decimal_separator, canonical=canonical)
    whole = decimals.str.fullmatch(r"-?\d+(?:\.0+)?")
    blank = decimals == ""
    out = decimals.where(~whole, decimals.str.replace(r"\.0+$", "", regex=True))
    bad = bad | ~(whole | blank)
    return out.where(~bad, ""), bad


def _likely_format(text: pd.Series, blank: pd.Series) -> tuple[str, ...]:
    """The date formats ordered so the chunk's own style (seen in its first value) goes first."""
    first = text[~blank].head(1)
    if first.empty:
        return DATE_FORMATS
    value = first.iloc[0]
    for fmt in DATE_FORMATS:
        try:
            dt.datetime.strptime(value, fmt)  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
        return (fmt, *(f for f in DATE_FORMATS if f != fmt))
    return DATE_FORMATS


_ISO_DAY = "[0-9]{4}-[0-9]{2}-[0-9]{2}"
_DMY_DAY = "[0-9]{2}/[0-9]{2}/[0-9]{4}"


def _uniform_dates(values: pd.Series) -> tuple[pd.Series, pd.Series] | None:
    """The common case in one pass: every value is ``yyyy-mm-dd`` or every value is
    ``dd/mm/yyyy`` (two-digit day and month); None otherwise. Either shape can only be read
    by one of ``DATE_FORMATS``, so the answer equals the general path's."""
    items = values.tolist()
    if not items or set(map(type, items)) != {str}:
        return None
    if _every_match(f"(?:{_ISO_DAY}\x00)*{_ISO_DAY}", items):
        iso = items
    elif _every_match(f"(?:{_DMY_DAY}\x00)*{_DMY_DAY}", items):
        iso = _dmy_to_iso(items)
    else:
        return None
    ok = pd.to_datetime(pd.Series(iso, index=values.index), format="%Y-%m-%d", errors="coerce").notna()
    return pd.Series(iso, index=values.index, dtype=object).where(ok, ""), ~ok


def _every_match(joined_pattern: str, items: list[str]) -> bool:
    """Whether ``joined_pattern`` matches each piece of ``items`` joined by NUL."""
    compiled = re.compile(joined_pattern)
    return all(compiled.fullmatch("\x00".join(part)) for part in pieces(items))


_DMY_TO_ISO = [6, 7, 8, 9, 5, 3, 4, 2, 0, 1]  # dd/mm/yyyy -> yyyy/mm/dd (then "-" for the marks)


def _dmy_to_iso(items: list[str]) -> list[str]:
    """``[f"{v[6:10]}-{v[3:5]}-{v[0:2]}" for v in items]`` for values of exactly ten
    characters (``_DMY_DAY``), as one reordering of a character array: no Python step per
    value."""
    chars = np.array(items, dtype="<U10").view("<U1").reshape(-1, 10)[:, _DMY_TO_ISO]
    chars[:, 4] = "-"
    chars[:, 7] = "-"
    return np.ascontiguousarray(chars).view("<U10").ravel().tolist()


def normalize_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """ISO dates from ISO, dd/mm/yyyy, dd-mm-yyyy, dd.mm.yyyy or yyyy/mm/dd (plus an
    ``HH:MM:SS`` tail from spreadsheets); the mask of unreadable values."""
    uniform = _uniform_dates(values)
    if uniform is not None:
        return uniform
    text = values.astype(str).str.strip()
    if text.str.endswith("00:00:00").any():
        text = text.str.replace(r"[T ]00:00:00$", "", regex=True)
    blank = text == ""
    parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
    for fmt in _likely_format(text, blank):
        missing = parsed.isna() & ~blank
        if not missing.any():
            break
        parsed[missing] = pd.to_datetime(text[missing], format=fmt, errors="coerce")
    out = pd.Series("", index=values.index, dtype=object)
    ok = parsed.notna()
    out[ok] = parsed[ok].to_numpy().astype("datetime64[D]").astype(str)
    return out, ~(blank | ok)


_EDGE_SPACE = re.compile(r"(?:^|\x00)\s|\s(?:\x00|$)")


def normalize_text(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    items = values.tolist()
    if items and set(map(type, items)) == {str}:
        # ``str.strip`` returns the very string when it has nothing to strip, so one C-level
        # ``map`` over the column gives what testing it for edge spaces first gave, and
        # costs less than that test did (a regex over the joined column).
        items = list(map(str.strip, items))
        return pd.Series(items, index=values.index, dtype=object), pd.Series(False, index=values.index)
    try:
        clean = _EDGE_SPACE.search("\x00".join(items)) is None
    except TypeError:  # not all strings
        clean = False
    if not clean:
        # A plain comprehension: pandas' string accessor costs ~10x more on object columns.
        items = [str(v).strip() for v in items]
    return pd.Series(items, index=values.index, dtype=object), pd.Series(False, index=values.index)


def normalize_column(
    values: pd.Series, kind: str, decimal_separator: str, *, canonical: bool = False
) -> tuple[pd.Series, pd.Series]:
    """``(canonical strings, unreadable mask)`` for a column of ``kind``."""
    if kind == KIND_DECIMAL:
        return normalize_decimal(values, decimal_separator, canonical=canonical)
    if kind == KIND_INTEGER:
        return normalize_integer(values, decimal_separator, canonical=canonical)
    if kind == KIND_DATE:
        return normalize_date(values)
    return normalize_text(values)


def header_key(text: str) -> str:
    """A header reduced for matching: lower case, no accents, words joined by ``_``."""
    import unicodedata  # noqa: PLC0415

    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")
