"""Keys already met earlier in a file, across chunks, in bounded memory.

A 1,000,000-row file cannot keep its keys as Python strings cheaply (about 100 bytes
each), so ``SeenKeys`` keeps a sorted array of their 64-bit hashes and the file row of
each (16 bytes per key). Within a chunk, repeats are found on the exact strings; across
chunks, on the hashes: two different keys share a 64-bit hash with a probability of about
n^2 / 2^65 (3e-8 for a million keys), the only way a row could be misreported.
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def _hashes(keys: pd.Series) -> np.ndarray:
    return pd.util.hash_pandas_object(keys, index=False, categorize=False).to_numpy()


class SeenKeys:
    """The keys of the rows accepted so far and the first file row of each."""

    def __init__(self) -> None:
        self.hashes = np.empty(0, dtype=np.uint64)
        self.rows = np.empty(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.hashes)

    def first_rows(self, keys: pd.Series) -> pd.Series:
        """For each key (index = file row): the earlier row holding it, or 0 when it is new.

        The new keys are remembered (the first row of each, so a key repeated three times
        points the second and third rows at the first)."""
        if keys.empty:
            return pd.Series(0, index=keys.index, dtype=np.int64)
        hashes = _hashes(keys)
        earlier = np.zeros(len(keys), dtype=np.int64)
        if len(self.hashes):
            position = np.searchsorted(self.hashes, hashes).clip(max=len(self.hashes) - 1)
            hit = self.hashes[position] == hashes
            earlier[hit] = self.rows[position[hit]]
        rows = keys.index.to_numpy(dtype=np.int64)
        repeated = keys.duplicated(keep="first").to_numpy() & (earlier == 0)
        if repeated.any():
            first = pd.Series(rows, index=keys.to_numpy()).groupby(level=0, sort=False).transform("first")
            earlier[repeated] = first.to_numpy()[repeated]
        new = earlier == 0
        if new.any():
            # Merge the chunk's sorted new keys into the sorted ones: linear in the keys kept,
            # where sorting them all again cost n log n per chunk (seconds over a 1M-row
            # file). A new hash is never among the kept ones (it would have been found), so
            # this is the order the stable sort of both gave.
            order = np.argsort(hashes[new], kind="stable")
            added, added_rows = hashes[new][order], rows[new][order]
            at = np.searchsorted(self.hashes, added)
            self.hashes, self.rows = np.insert(self.hashes, at, added), np.insert(self.rows, at, added_rows)
        return pd.Series(earlier, index=keys.index)


def composite(frame: pd.DataFrame, columns: tuple[str, ...]) -> pd.Series:
    """One string per row joining ``columns`` (a separator no cell holds)."""
    key = frame[columns[0]].astype(str)
    for column in columns[1:]:
        key = key.str.cat(frame[column].astype(str), sep="\x1f")
    return key
