"""The registry of importable resources (see the package docstring for how apps use it)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from vector_crm.imports.parsing import KIND_DATE, KIND_DECIMAL, KIND_INTEGER, KIND_TEXT

KINDS = (KIND_TEXT, KIND_DECIMAL, KIND_INTEGER, KIND_DATE)


@dataclass(frozen=True)
class Target:
    """One field the importer fills: from a mapped column, a constant or a derivation."""

    name: str
    label: str
    kind: str = KIND_TEXT
    required: bool = False
    aliases: tuple[str, ...] = ()  # header spellings that suggest this target

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Unknown target kind {self.kind!r}")


@dataclass
class Batch:
    """Raw records for one sink, built from rows of a chunk.

    ``rows[i]`` is the file row of ``records[i]``; ``fields`` maps a record field to the
    target it came from (for error reports), when the names differ."""

    sink: str
    rows: list[int]
    records: list[dict[str, Any]]
    fields: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Sink:
    """Where records go: ``validate(raw, region) -> (records, rejected)`` and
    ``upsert(records=, rejected=, actor=, membership=, atomic=, total=) -> result`` with
    ``result.created/updated/unchanged/rejected`` (``customers.bulk`` has this shape).
    Rejections carry ``index``, ``field``, ``code``, ``message``."""

    name: str
    validate: Callable[..., tuple[list, list]]
    upsert: Callable[..., Any]
    capabilities: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportContext:
    """What row builders and derivations may know about the import."""

    tenant_id: int
    country: str
    currency: str
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Preset:
    """A named mapping for a known file layout: target -> column, constants, and
    ``derive(frame, ctx) -> {target: Series of strings}`` for values no column holds
    (e.g. identifiers computed from the row). ``prepare(ctx, actor, membership)`` runs
    inside the import transaction before the first write (e.g. create a catalogue product)."""

    key: str
    label: str
    mapping: dict[str, str] = field(default_factory=dict)
    constants: dict[str, str] = field(default_factory=dict)
    derive: Callable[[pd.DataFrame, ImportContext], dict[str, pd.Series]] | None = None
    derived: tuple[str, ...] = ()  # the targets ``derive`` fills
    prepare: Callable[..., None] | None = None
    description: str = ""


@dataclass
class ChunkOutcome:
    """What a ``ChunkWriter`` did with one chunk: counts per sink and the rejected rows as
    ``(file row, target, message)`` (a rejected row is never written, not even in part)."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected: list[tuple[int, str | None, str]] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)  # e.g. {"validate": .., "write": ..}
    # Database work left to do, run on a background thread while the next chunk is read:
    # it gets the caller's context but may only use the raw connection it closes over, and
    # returns the rest of the outcome (its ``finish`` runs back on the main thread).
    pending: Callable[[], ChunkOutcome] | None = None
    finish: Callable[[], None] | None = None


@dataclass(frozen=True)
class ChunkWriter:
    """A column-wise fast path for a whole chunk, used instead of ``build`` + the sinks'
    record-by-record ``validate`` and ``upsert`` when ``applies()`` (e.g. on PostgreSQL).

    ``write(typed, ctx=, region=, dry_run=, actor=, membership=, state=)`` receives the typed
    rows (blank = absent) that passed type checks, validates and writes them set-based and
    returns a ``ChunkOutcome``; with ``dry_run`` it writes nothing but must reject exactly
    the rows the import would reject and count what it would create / update / leave.
    ``state`` is one dict per import run, shared by its chunks."""

    applies: Callable[[], bool]
    write: Callable[..., ChunkOutcome]


@dataclass(frozen=True)
class Importable:
    """A kind of file users can import: its targets, the sinks written in order, and
    ``build(frame, ctx) -> [Batch]`` turning typed rows (one column per target, canonical
    strings, blank = absent) into records for the sinks.

    ``unique_keys``: target-name tuples that identify a record (``("external_id",)``); a
    key repeated within one file is reported on the later row as a duplicate, whichever
    chunks the rows fall in. ``chunk_writer``: an optional set-based fast path."""

    key: str
    label: str
    targets: tuple[Target, ...]
    sinks: tuple[Sink, ...]
    build: Callable[[pd.DataFrame, ImportContext], list[Batch]]
    presets: dict[str, Preset] = field(default_factory=dict)
    description: str = ""
    unique_keys: tuple[tuple[str, ...], ...] = ()
    chunk_writer: ChunkWriter | None = None

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)

    @property
    def capabilities(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(cap for sink in self.sinks for cap in sink.capabilities))

    def sink(self, name: str) -> Sink:
        return next(s for s in self.sinks if s.name == name)


REGISTRY: dict[str, Importable] = {}


def register_importable(importable: Importable) -> Importable:
    """Add (or replace, for reloads) an importable; call from ``AppConfig.ready``."""
    REGISTRY[importable.key] = importable
    return importable


def register_preset(importable_key: str, preset: Preset) -> Preset:
    """Add a preset to an importable registered earlier (possibly by another app)."""
    REGISTRY[importable_key].presets[preset.key] = preset
    return preset


def get_importable(key: str) -> Importable | None:
    return REGISTRY.get(key)


def importables() -> list[Importable]:
    return sorted(REGISTRY.values(), key=lambda i: str(i.label))


def records_from_frame(frame: pd.DataFrame, columns: list[str], rename: dict[str, str] | None = None) -> list[dict]:
    """The rows of ``frame[columns]`` as dicts without blank values (absent = not sent)."""
    rename = rename or {}
    names = [rename.get(c, c) for c in columns]
    records = [dict(zip(names, values, strict=True)) for values in frame[columns].itertuples(index=False, name=None)]
    # Only the columns that have blanks pay for the per-row clean-up.
    sparse = [rename.get(c, c) for c in columns if (frame[c] == "").any()]
    if sparse:
        for record in records:
            for name in sparse:
                if record[name] == "":
                    del record[name]
    return records
