"""Long C-level passes over a column, in pieces.

The file import validates a chunk on the main thread while a writer thread sends the
previous chunk to PostgreSQL, and the writer needs the interpreter lock after each
statement it sends. A regular-expression match, join or split over a whole 10,000-row
column is one C call that holds the lock for 5-30 ms, and the writer (PostgreSQL with it)
waits that long; at 1,000,000 rows those waits added up to seconds. Split into ``SIZE``-item
pieces, the same work lets the lock change hands between them, for a few more calls.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T", bound=Sequence)

SIZE = 1_000


def pieces(items: T, size: int = SIZE) -> Iterator[T]:
    """``items`` in consecutive slices of at most ``size`` (none for an empty sequence)."""
    return (items[start : start + size] for start in range(0, len(items), size))
