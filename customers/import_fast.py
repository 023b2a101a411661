"""The customers file import on PostgreSQL, column-wise: a chunk of typed rows is
validated with vectorised checks and written with one COPY and one set-based upsert.

It gives the answers of the record path (``customers.bulk``: ``validate_records`` then
``customers_bulk_upsert``) without its per-record Python:

* field checks run per column (lengths, choices, e-mail shape, E.164 phones, dates);
  a row any check is unsure of goes through ``RecordValidator`` (the DRF serializer), so
  the reported field and message are the bulk API's own;
* customer rules (identification document per type, names) are masks; a flagged row gets
  its message from ``identification.problem`` / the same msgids as the bulk service;
* identification repeated in the chunk: "The batch repeats this key."; held by another
  customer (an existing one, or a row of an earlier chunk of the file): "Another customer
  already has this identification." -- what the record path reports;
* the rows are COPYed (the COPY text built on the main thread) into the bulk stage table
  (``bulk_pg.Stage``). While the chunks are all new keys (``NewKeys``: a first load),
  ``Stage.insert_all`` writes the chunk with one plain INSERT, the unique indexes being the
  only probe; when a key or an identification is already stored, that INSERT is rolled
  back and the chunk takes the general path: a read-only probe finds identifications held
  by other customers, then ``Stage.upsert`` creates, updates changed rows and leaves
  identical ones untouched. Either returns the event payloads when a webhook endpoint
  subscribes (``customer.created`` / ``customer.updated``, set-based). A dry run stops
  after the probe and counts what the upsert would do with one more read-only join:
  nothing is written, so nothing has to be rolled back.

Blank cells are absent fields, as in the record path: a row is inserted with the model's
defaults for them and an update leaves those columns as they are. Rows are grouped by
which optional fields they fill (one group in a typical file).
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from customers import bulk, bulk_pg, identification
from customers.bulk_records import (
    CUSTOMER_FIELDS,
    Choice,
    Date,
    Email,
    Phone,
    RecordInvalid,
    RecordValidator,
    Text,
)
from customers.choices import CustomerKind
from customers.models import _BMP_COMBINING, Customer, search_key
from customers.phones import e164_valid_many
from vector_crm.db import session_settings
from vector_crm.imports.pieces import pieces
from vector_crm.imports.registry import ChunkOutcome, ChunkWriter
from vector_crm.imports.seen import SeenKeys, composite
from vector_crm.outbox import subscribed_event_types

SINK = "customers"
_PROHIBITED = "[\x00\ud800-\udfff]"
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
_SIMPLE_EMAIL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}"  # noqa: E501 - bulk_records._SIMPLE_EMAIL
# The identification types whose whole rule is a pattern (identification.problem); the
# others (NIT, Ecuadorian cédula and RUC: check digits) are asked row by row.
_ID_PATTERNS = {"cc": r"\d{6,10}", "ce": r"\d{6,12}", "dni": r"\d{7,10}", "passport": r"[A-Z0-9]{5,15}"}
_KEY = ("external_id",)
_ALWAYS_NAMED = ("external_id", "kind", "identification_type", "identification_number", "search_name")


def applies() -> bool:
    return connection.vendor == "postgresql"


# --- field checks ------------------------------------------------------------------------------


def each_match(items: list[str], pattern: str) -> np.ndarray:
    """``re.fullmatch(pattern, v)`` for each value, as a boolean array. When every value
    matches (the usual case) one C-speed match over the joined column answers it."""
    if not items:
        return np.zeros(0, dtype=bool)
    joined = re.compile(f"(?:(?:{pattern})\x00)*(?:{pattern})")
    if all(joined.fullmatch("\x00".join(part)) for part in pieces(items)):
        return np.ones(len(items), dtype=bool)
    compiled = re.compile(pattern)
    return np.fromiter((compiled.fullmatch(v) is not None for v in items), dtype=bool, count=len(items))


def _sure(spec, values: pd.Series) -> np.ndarray:
    """True where the bulk spec's fast path would accept the (non-blank) value as it is."""
    if isinstance(spec, Choice):
        if _all_in(spec.values, values):
            return np.ones(len(values), dtype=bool)
        return values.isin(list(spec.values)).to_numpy()
    items = values.tolist()
    if isinstance(spec, Date):
        return each_match(items, _ISO_DATE)
    if isinstance(spec, Text):
        if max(map(len, items), default=0) <= spec.max_length:
            ok = np.ones(len(items), dtype=bool)
        else:
            ok = np.fromiter(map(len, items), dtype=np.int64, count=len(items)) <= spec.max_length
        if has_prohibited("".join(items)):
            ok &= np.array([re.search(_PROHIBITED, v) is None for v in items], dtype=bool)
        if isinstance(spec, Email):
            ok &= each_match(items, _SIMPLE_EMAIL)
        elif isinstance(spec, Phone):
            ok &= np.array(e164_valid_many(items), dtype=bool)
        return ok
    return np.zeros(len(items), dtype=bool)


def _all_in(allowed: frozenset, values: pd.Series) -> bool:
    """Whether every value is one of ``allowed`` (one C-level pass; what ``isin`` says for
    strings, the only values a typed frame holds)."""
    try:
        return allowed.issuperset(values.tolist())
    except TypeError:  # an unhashable value: let ``isin`` answer
        return False


def _default_cell(default: Any) -> Any:
    """``default`` as ``Series.where`` writes it into a column of blanks (a choice enum
    becomes its plain string), so a whole absent column equals one filled cell by cell."""
    return pd.Series([""], dtype=object).where(np.zeros(1, dtype=bool), default).iloc[0]


def has_prohibited(text: str) -> bool:
    """``re.search(_PROHIBITED, text) is not None`` (a NUL or a lone surrogate), without a
    regular-expression scan: an ASCII string has no surrogate, and UTF-8 refuses to encode
    one."""
    if "\x00" in text:
        return True
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def validate_fields(typed: pd.DataFrame, region: str | None) -> tuple[pd.DataFrame, list[tuple[int, str | None, str]]]:
    """The customer columns checked (and completed with defaults); rows a check is unsure
    of are validated one by one by the bulk ``RecordValidator``, which has the last word."""
    columns: dict[str, pd.Series] = {}
    unsure = np.zeros(len(typed), dtype=bool)
    for name, spec in CUSTOMER_FIELDS.items():
        if name not in typed.columns:  # every cell blank: the default, or blank
            if spec.required:
                unsure[:] = True
            fill = "" if spec.default is serializers.empty else _default_cell(spec.default)
            columns[name] = pd.Series(fill, index=typed.index, dtype=object)
            continue
        values = typed[name]
        if "" not in values.tolist():  # no blank cell (the usual case): no mask to build
            if len(values):
                unsure |= ~_sure(spec, values)
            columns[name] = values
            continue
        blank = (values == "").to_numpy()
        if spec.required:
            unsure |= blank
        filled = ~blank
        if filled.any():
            unsure[filled] |= ~_sure(spec, values[filled])
        if spec.default is not serializers.empty:
            values = values.where(~blank, spec.default)
        columns[name] = values
    frame = pd.DataFrame(columns, index=typed.index)
    rejected: list[tuple[int, str | None, str]] = []
    if unsure.any():
        validator = RecordValidator("customers", region=region)
        names = [n for n in CUSTOMER_FIELDS if n in typed.columns]
        drop = []
        for row in typed.index[unsure]:
            record = {n: v for n in names if (v := typed.at[row, n]) != ""}
            try:
                values = validator.validate(record)
            except RecordInvalid as error:
                rejected.append((row, error.field, error.message))
                drop.append(row)
                continue
            for name, value in values.items():
                frame.at[row, name] = _as_text(value)
        if drop:
            frame = frame.drop(index=drop)
    return frame, rejected


# --- customer rules ------------------------------------------------------------------------------


def _identification_numbers(kinds: pd.Series, numbers: pd.Series) -> pd.Series:
    """``identification.normalize`` per column."""
    text = list(map(str.upper, map(str.strip, numbers.tolist())))  # C-level: no Python step per value
    out = pd.Series(text, index=numbers.index, dtype=object)
    if not re.search(r"[\s.\-]", "\x00".join(text)):
        return out
    passport = (kinds == "passport").tolist()
    return pd.Series(
        [re.sub(r"[\s-]" if p else r"[\s.\-]", "", v) for v, p in zip(text, passport, strict=True)],
        index=numbers.index,
        dtype=object,
    )


def _search_names(frame: pd.DataFrame) -> pd.Series:
    """``search_key(display name)[:200]`` per row: the accents of each piece of the column
    are stripped in one pass (a NUL separates the names: validation refused NULs)."""
    if frame.empty:
        return pd.Series([], index=frame.index, dtype=object)
    company = frame["kind"] == CustomerKind.COMPANY
    try:  # "first last" stripped, by C-level maps (the columns hold strings)
        pairs = zip(frame["first_name"].tolist(), frame["last_name"].tolist(), strict=True)
        names = pd.Series(list(map(str.strip, map(" ".join, pairs))), index=frame.index, dtype=object)
    except TypeError:
        names = (frame["first_name"] + " " + frame["last_name"]).str.strip()
    if CustomerKind.COMPANY in frame["kind"].tolist():
        names = names.where(~company, frame["legal_name"])
    keys = [key for part in pieces(names.tolist()) for key in _search_keys(part)]
    return pd.Series(keys, index=frame.index, dtype=object)


def _search_keys(names: list[str]) -> list[str]:
    """``search_key(name)[:200]`` of each name, stripping the accents of all at once."""
    joined = "\x00".join(names)
    decomposed = unicodedata.normalize("NFKD", joined)
    if not decomposed.isascii():
        if _ASTRAL.search(decomposed):  # marks beyond the BMP: the general path
            return [search_key(name)[:200] for name in names]
        decomposed = _BMP_COMBINING.sub("", decomposed)
    lowered = decomposed.lower()
    parts = lowered.split("\x00")
    if " ".join(lowered.split()) == lowered and "\x00 " not in lowered and " \x00" not in lowered:
        # Single spaces between words and none at a name's edges: each part is already
        # " ".join(part.split()), so only the length may need cutting.
        return parts if max(map(len, parts)) <= 200 else [part[:200] for part in parts]
    return [" ".join(part.split())[:200] for part in parts]


def customer_problems(frame: pd.DataFrame) -> list[tuple[int, str, str]]:
    """``(row, field, message)`` of the rows ``customers_bulk_upsert`` would reject for
    their identification document or names (same order of checks, same messages)."""
    kinds = frame["identification_type"]
    numbers = frame["identification_number"]
    present = set(kinds.tolist())
    if len(present) == 1 and (only := present.pop()) in _ID_PATTERNS:  # one document type (the usual file)
        ok = pd.Series(each_match(numbers.tolist(), _ID_PATTERNS[only]), index=frame.index)
    else:
        ok = _documents_ok(kinds, numbers)
    company = frame["kind"] == CustomerKind.COMPANY
    if (
        CustomerKind.COMPANY not in frame["kind"].tolist()
        and "" not in frame["first_name"].tolist()
        and "" not in frame["last_name"].tolist()
    ):
        named = pd.Series(True, index=frame.index)  # persons, all named
    else:
        named = (~company & (frame["first_name"] != "") & (frame["last_name"] != "")) | (
            company & (frame["legal_name"] != "")
        )
    problems = []
    for row in frame.index[~(ok & named)]:
        reason = identification.problem(kinds[row], numbers[row])
        if reason:
            problems.append((row, "identification_number", _(reason)))
        elif company[row]:
            problems.append((row, "legal_name", _("A company needs its legal name.")))
        else:
            field = "first_name" if not frame.at[row, "first_name"] else "last_name"
            problems.append((row, field, _("A person needs first and last names.")))
    return problems


def _documents_ok(kinds: pd.Series, numbers: pd.Series) -> pd.Series:
    """Whether each identification number is valid for its type (patterns per type, the
    check-digit types one by one)."""
    ok = pd.Series(False, index=kinds.index)
    for kind, pattern in _ID_PATTERNS.items():
        of_kind = kinds == kind
        if of_kind.any():
            ok[of_kind] = each_match(numbers[of_kind].tolist(), pattern)
    others = ~kinds.isin(_ID_PATTERNS.keys())
    if others.any():
        ok[others] = [
            identification.problem(k, n) is None
            for k, n in zip(kinds[others].tolist(), numbers[others].tolist(), strict=True)
        ]
    return ok


def repeated_identifications(frame: pd.DataFrame, seen: SeenKeys) -> list[tuple[int, str, str]]:
    """Identifications repeated in the chunk (the later rows) or met in an earlier chunk."""
    keys = composite(frame, ("identification_type", "identification_number"))
    in_chunk = keys.duplicated(keep="first")
    earlier = seen.first_rows(keys[~in_chunk])
    problems = [(row, "identification_number", _("The batch repeats this key.")) for row in frame.index[in_chunk]]
    problems += [
        (row, "identification_number", _("Another customer already has this identification."))
        for row in earlier.index[earlier > 0]
    ]
    return problems


# --- the write --------------------------------------------------------------------------------------


def _groups(frame: pd.DataFrame, optional: list[str]) -> list[tuple[list[str], pd.DataFrame]]:
    """Rows grouped by which optional fields they fill: ``(named fields, rows)``."""
    if frame.empty:
        return []
    pattern = np.zeros(len(frame), dtype=np.int64)
    for bit, name in enumerate(optional):
        items = frame[name].tolist()
        if "" not in items:  # filled in every row (C-level tests: no mask unless mixed)
            pattern |= 1 << bit
        elif items.count("") != len(items):
            pattern |= (frame[name] != "").to_numpy().astype(np.int64) << bit
    groups = []
    values = np.unique(pattern)
    for value in values:
        rows = frame if len(values) == 1 else frame[pattern == value]  # one group: no copy
        named = [*_ALWAYS_NAMED, *(n for bit, n in enumerate(optional) if value >> bit & 1)]
        groups.append((named, rows))
    return groups


def _clashes(cursor, stage: bulk_pg.Stage) -> list[int]:
    """Drop the staged rows whose identification another customer holds and return their
    record indexes (one index probe each; one statement)."""
    params: list = []
    cursor.execute(
        f"WITH clash AS MATERIALIZED (SELECT s.{bulk_pg.INDEX_COLUMN} FROM {stage.name} s CROSS JOIN LATERAL ("  # noqa: S608
        f"SELECT c.external_id FROM {stage.target} c WHERE c.tenant_id = {stage.value('tenant_id', params)} "
        "AND c.identification_type = s.identification_type AND c.identification_number = s.identification_number "
        "LIMIT 1) holder WHERE holder.external_id IS DISTINCT FROM s.external_id), "
        f"gone AS (DELETE FROM {stage.name} WHERE {bulk_pg.INDEX_COLUMN} IN (SELECT {bulk_pg.INDEX_COLUMN} FROM clash)) "
        f"SELECT {bulk_pg.INDEX_COLUMN} FROM clash",
        params,
    )
    return [row for (row,) in cursor.fetchall()]


def _would_write(cursor, stage: bulk_pg.Stage, compare: list[str]) -> tuple[int, int, int]:
    """(created, updated, unchanged) the upsert would give for the staged rows (read-only)."""
    quote = connection.ops.quote_name
    params: list = []
    old = ", ".join(f"t.{quote(c)}" for c in compare)
    new = ", ".join(stage.value(c, params) for c in compare)
    tenant = stage.value("tenant_id", params)
    cursor.execute(
        "SELECT count(*) FILTER (WHERE e.same IS NULL), count(*) FILTER (WHERE NOT e.same), "  # noqa: S608
        f"count(*) FILTER (WHERE e.same) FROM {stage.name} s LEFT JOIN LATERAL ("
        f"SELECT ROW({old}) IS NOT DISTINCT FROM ROW({new}) AS same FROM {stage.target} t "
        f"WHERE t.tenant_id = {tenant} AND t.external_id = s.external_id AND t.external_id <> '' LIMIT 1"
        ") e ON true",
        params,
    )
    return tuple(cursor.fetchone())


def _staged_groups(
    frame: pd.DataFrame, tenant_id: int, stage: bulk_pg.Stage
) -> list[tuple[list[str], bulk_pg.StageBatch]]:
    """Per group: the named fields and the group's ``StageBatch`` (its COPY text), built on
    the main thread so the write job only talks to the database."""
    defaults = bulk_pg.default_row(Customer, tenant_id=tenant_id, now=timezone.now())
    attnames = [f.attname for f in bulk_pg.columns_of(Customer)]
    optional = [n for n in CUSTOMER_FIELDS if n not in _ALWAYS_NAMED]
    staged = []
    for named, rows in _groups(frame, optional):
        columns = [rows[a].tolist() if a in named else bulk_pg.Constant(defaults[a]) for a in attnames]
        staged.append((named, stage.batch([rows.index.tolist(), *columns], len(rows))))
    return staged


# The foreign keys are deferred to COMMIT (Django's default): checked there, the whole
# file's checks would run at the end with nothing to overlap them (1.3 s per 200k rows);
# checked after each chunk, they run beside the next chunk's parsing.
_CHECK_CONSTRAINTS = "SET CONSTRAINTS ALL IMMEDIATE; SET CONSTRAINTS ALL DEFERRED"


@dataclass
class NewKeys:
    """Whether the writer tries the next batch as all new keys (``Stage.insert_all``): at
    first, and again after a batch whose every row was new; not after a mixed one, whose
    successor is likely mixed too (a try that fails wastes the rows before the stored one)."""

    likely: bool = True


def write_job(staged, *, stage: bulk_pg.Stage, new_keys: NewKeys, db, dry_run: bool, events: bool):
    """The database half of a chunk: COPY, then one ``INSERT`` when the rows are likely new
    and are, else the probes and the upsert (or, in a dry run, the counts) per group, on
    ``db``'s open connection; safe on a background thread (no ORM)."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    rejected: list[tuple[int, str, str]] = []
    emitted: list[tuple[list, list[str]]] = []
    attnames = [f.attname for f in bulk_pg.columns_of(Customer)]
    returning = ["id", *(f.attname for f in bulk.EVENT_FIELDS)] if events else []
    started = time.perf_counter()
    with db.wrap_database_errors, db.connection.cursor() as cursor:
        for number, (named, batch) in enumerate(staged):
            stage.load(cursor, batch, prelude=session_settings() if number == 0 else None)
            then = _CHECK_CONSTRAINTS if not dry_run and number == len(staged) - 1 else ""
            written = None
            if not dry_run and new_keys.likely:
                written = stage.insert_all(cursor, returning=returning, then=then)
            clashes = [] if written is not None else _clashes(cursor, stage)
            rejected += [
                (row, "identification_number", _("Another customer already has this identification."))
                for row in clashes
            ]
            compare = [Customer._meta.get_field(a).column for a in attnames if a in named and a not in _KEY]
            if dry_run:
                created, updated, unchanged = _would_write(cursor, stage, compare)
                counts["created"] += created
                counts["updated"] += updated
                counts["unchanged"] += unchanged
                continue
            if written is None:
                written = stage.upsert(
                    cursor,
                    conflict=["tenant_id", "external_id"],
                    conflict_where=bulk.CUSTOMERS.conflict_where,
                    compare=compare,
                    touch=bulk.CUSTOMERS.touch,
                    returning=returning,
                    then=then,
                )
                new_keys.likely = not clashes and len(written) == batch.count and all(row[0] for row in written)
            created = sum(1 for row in written if row[0])
            counts["created"] += created
            counts["updated"] += len(written) - created
            counts["unchanged"] += batch.count - len(clashes) - len(written)
            if events and written:
                emitted.append((written, sorted(set(named) - {"search_name"})))

    def finish() -> None:
        for written, sent in emitted:
            bulk.customer_events(written, sent)

    return ChunkOutcome(
        counts={SINK: counts},
        rejected=rejected,
        seconds={"write": time.perf_counter() - started},
        finish=finish if emitted else None,
    )


def write_chunk(
    typed: pd.DataFrame, *, ctx, region, dry_run: bool, actor=None, membership=None, state: dict
) -> ChunkOutcome:
    """The ``ChunkWriter.write`` of the customers importable (see the module docstring):
    validates on the caller's thread and leaves the database work as ``pending``."""
    started = time.perf_counter()
    if "bulk_writer" not in state:
        bulk.require_bulk_writer(membership, "customers.create", "customers.change")
        wanted = subscribed_event_types() & {"customer.created", "customer.updated"}
        state["bulk_writer"] = True
        state["customer_events"] = bool(wanted) and not dry_run
    frame, rejected = validate_fields(typed, region)
    frame["identification_number"] = _identification_numbers(
        frame["identification_type"], frame["identification_number"]
    )
    problems = customer_problems(frame)
    if problems:  # a drop copies the frame even when it drops nothing
        frame = frame.drop(index=[row for row, _f, _m in problems])
    identifications = state.setdefault("identifications", SeenKeys())
    repeated = repeated_identifications(frame, identifications)
    if repeated:
        frame = frame.drop(index=[row for row, _f, _m in repeated])
    frame["search_name"] = _search_names(frame)
    if frame.empty:  # nothing to write (and, as in the record path, nothing counted)
        return ChunkOutcome(
            rejected=[*rejected, *problems, *repeated], seconds={"validate": time.perf_counter() - started}
        )
    stage = state.setdefault("stage", bulk_pg.Stage(Customer))
    staged = _staged_groups(frame, ctx.tenant_id, stage)
    db = connections[DEFAULT_DB_ALIAS]  # this thread's wrapper: the job borrows its open connection
    db.ensure_connection()
    return ChunkOutcome(
        rejected=[*rejected, *problems, *repeated],
        seconds={"validate": time.perf_counter() - started},
        pending=partial(
            write_job,
            staged,
            stage=stage,
            new_keys=state.setdefault("new_keys", NewKeys()),
            db=db,
            dry_run=dry_run,
            events=state["customer_events"],
        ),
    )


CHUNK_WRITER = ChunkWriter(applies=applies, write=write_chunk)
