"""What BM25 needs to know besides the postings, kept per read connection.

Each owner's document count, each keyword table's average text length, and the
lengths of the documents already scored. Counting a large owner's documents costs
milliseconds, and a common query term of a large owner matches thousands of documents
whose lengths must be read one B-tree lookup at a time; the same owners and terms come
back search after search. Everything is kept until another connection commits
(SQLite's ``data_version`` of this connection changes), whatever it wrote: an update
can change a document's text, and so its length, under the same rowid.
"""

from __future__ import annotations

import sqlite3

import numpy as np
import numpy.typing as npt

from graphmem.store.base import batched
from graphmem.store.embedded.connection import ID_CHUNK
from graphmem.store.embedded.keyword import owner_expression, varints

# FTS5 keeps each document's length in tokens per column in ``<table>_docsize`` and the
# totals over the table in row 1 of ``<table>_data``, both as SQLite varints; the
# indexed text is the second column (the first holds the owner's token).
_TEXT_COLUMN = 1

_LONGEST = np.iinfo(np.uint16).max - 1
"""Lengths are kept as ``length + 1`` in 16 bits (0: not read yet); a text longer than
this many tokens is ranked as if it had this many, which BM25 hardly tells apart."""

RowIds = npt.NDArray[np.int64]


class KeywordStatistics:
    """Document counts, average and document lengths of the keyword tables, for one
    read connection (see the module docstring for how long they are kept)."""

    def __init__(self) -> None:
        self._version: int | None = None
        self._documents: dict[tuple[str, str], int] = {}
        self._average_lengths: dict[str, float] = {}
        self._lengths: dict[str, npt.NDArray[np.uint16]] = {}

    def of(self, conn: sqlite3.Connection, fts: str, owner: str) -> tuple[int, float]:
        """Documents of ``owner`` in the FTS5 table ``fts``, and the table's tokens per
        document of indexed text. Called once per search, before :meth:`lengths`."""
        (version,) = conn.execute("PRAGMA data_version").fetchone()
        if version != self._version:
            self._documents.clear()
            self._average_lengths.clear()
            self._lengths.clear()
            self._version = version
        key = (fts, owner)
        if key not in self._documents:
            (self._documents[key],) = conn.execute(
                f"SELECT count(*) FROM {fts} WHERE {fts} MATCH ?", [owner_expression(owner)]
            ).fetchone()
        if fts not in self._average_lengths:
            self._average_lengths[fts] = _average_text_length(conn, fts)
        return self._documents[key], self._average_lengths[fts]

    def lengths(
        self, conn: sqlite3.Connection, fts: str, rowids: RowIds
    ) -> npt.NDArray[np.float64]:
        """Indexed text length in tokens of each document (1 for one no longer there),
        aligned with ``rowids``; only documents not seen before are read."""
        if len(rowids) == 0:
            return np.empty(0, dtype=np.float64)
        known = self._room_for(fts, int(rowids.max()))
        stored = known[rowids]
        missing = rowids[stored == 0]
        if len(missing):
            read = _text_lengths(conn, fts, missing.tolist())
            found = np.fromiter((read.get(r, 1) for r in missing.tolist()), np.int64, len(missing))
            known[missing] = np.minimum(found, _LONGEST) + 1
            stored = known[rowids]
        return stored.astype(np.float64) - 1.0

    def _room_for(self, fts: str, rowid: int) -> npt.NDArray[np.uint16]:
        known = self._lengths.get(fts)
        if known is None or rowid >= len(known):
            size = max(rowid + 1, 0 if known is None else len(known) + len(known) // 2)
            grown = np.zeros(size, dtype=np.uint16)
            if known is not None:
                grown[: len(known)] = known
            self._lengths[fts] = known = grown
        return known


def _text_lengths(conn: sqlite3.Connection, fts: str, rowids: list[int]) -> dict[int, int]:
    lengths: dict[int, int] = {}
    for chunk in batched(rowids, ID_CHUNK):
        marks = ",".join("?" * len(chunk))
        for rowid, sizes in conn.execute(
            f"SELECT id, sz FROM {fts}_docsize WHERE id IN ({marks})", chunk
        ):
            # Two one-byte varints, unless the text is 128 tokens or longer.
            lengths[rowid] = sizes[1] if len(sizes) == 2 else varints(sizes)[_TEXT_COLUMN]
    return lengths


def _average_text_length(conn: sqlite3.Connection, fts: str) -> float:
    row = conn.execute(f"SELECT block FROM {fts}_data WHERE id = 1").fetchone()
    totals = varints(row[0]) if row else []
    if len(totals) <= 1 + _TEXT_COLUMN or totals[0] == 0:
        return 1.0
    return totals[1 + _TEXT_COLUMN] / totals[0]
