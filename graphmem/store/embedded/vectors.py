"""Keeps the in-memory vector indexes in step with the SQLite truth.

Each write transaction logs its embedding changes in ``index_log`` (by trigger).
The indexes remember the last log sequence they applied; catching up applies the
newer entries, whether they came from this process, another process, or a run that
was killed before it could save a snapshot. A snapshot on disk makes opening fast;
without one (or with a corrupt one) the indexes are rebuilt from the truth.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from graphmem.errors import StoreError
from graphmem.store.base import IndexKind, ProgressCallback
from graphmem.store.embedded.schema import RECORD_TABLES
from graphmem.store.embedded.vector_index import VectorIndex

logger = logging.getLogger(__name__)

KINDS: tuple[IndexKind, ...] = ("entity", "episode", "fact")
_SNAPSHOT_EVERY = 50_000
"""Unsaved log entries after which a snapshot is written (bounds catch-up on open)."""
_FETCH_CHUNK = 5_000


class VectorIndexes:
    """The entity, episode and fact vector indexes of one store directory."""

    def __init__(self, directory: Path, dim: int, *, exact_threshold: int = 20_000) -> None:
        self._directory = directory
        self._dim = dim
        self._exact_threshold = exact_threshold
        self._lock = threading.RLock()
        self._indexes: dict[IndexKind, VectorIndex] = {}
        self._applied_seq = 0
        self._saved_seq = 0

    # -- opening ------------------------------------------------------------------------
    def open(self, conn: sqlite3.Connection, progress: ProgressCallback | None = None) -> None:
        """Load snapshots and catch up, or rebuild from the truth if that is not possible."""
        with self._lock:
            if self._load_snapshots() and self._applied_seq >= _log_floor(conn):
                self.catch_up(conn)
            else:
                self.rebuild(conn, progress)

    def _load_snapshots(self) -> bool:
        loaded: dict[IndexKind, VectorIndex] = {}
        seqs: list[int] = []
        for kind in KINDS:
            result = VectorIndex.load(
                self._directory / kind, self._dim, exact_threshold=self._exact_threshold
            )
            if result is None:
                return False
            loaded[kind], seq = result
            seqs.append(seq)
        self._indexes = loaded
        # Re-applying log entries is idempotent, so starting from the oldest is safe.
        self._applied_seq = self._saved_seq = min(seqs)
        return True

    def rebuild(self, conn: sqlite3.Connection, progress: ProgressCallback | None = None) -> None:
        """Rebuild every index from the embeddings stored in the truth.

        Each kind is streamed, one owner at a time, into a new snapshot that the index
        is then served from, so a rebuild's memory does not grow with the store. Where
        no snapshot can be written (a read-only directory) the index is built in memory.
        """
        with self._lock:
            conn.execute("BEGIN")  # one read snapshot: the log position matches the rows read
            try:
                seq = _max_seq(conn)
                saved = True
                for kind in KINDS:
                    counts = _owner_counts(conn, kind)
                    index = self._rebuild_as_snapshot(conn, kind, seq, counts, progress)
                    if index is None:
                        saved = False
                        index = VectorIndex(self._dim, exact_threshold=self._exact_threshold)
                        groups = _owner_groups(conn, kind, self._dim, counts, progress)
                        for owner, keys, vectors in groups:
                            index.add(owner, keys, vectors)
                    self._indexes[kind] = index
            finally:
                conn.execute("COMMIT")
            self._applied_seq = seq
            # Nothing on disk matches unless every kind was saved: the next save writes.
            self._saved_seq = seq if saved else -1

    def _rebuild_as_snapshot(
        self,
        conn: sqlite3.Connection,
        kind: IndexKind,
        seq: int,
        counts: dict[str, int],
        progress: ProgressCallback | None,
    ) -> VectorIndex | None:
        """Stream ``kind``'s vectors into a snapshot and load it; None if it cannot be
        written."""
        directory = self._directory / kind
        try:
            VectorIndex.write_snapshot_of(
                directory,
                self._dim,
                seq,
                counts,
                _owner_groups(conn, kind, self._dim, counts, progress),
                exact_threshold=self._exact_threshold,
            )
        except (OSError, StoreError) as exc:
            logger.warning("rebuilt %s vector index kept in memory, not saved: %s", kind, exc)
            return None
        loaded = VectorIndex.load(
            directory, self._dim, exact_threshold=self._exact_threshold, verify=False
        )
        return None if loaded is None else loaded[0]

    # -- keeping up ---------------------------------------------------------------------
    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Apply log entries newer than what the indexes hold."""
        with self._lock:
            if _max_seq(conn) <= self._applied_seq:
                return
            if self._applied_seq < _log_floor(conn):
                # Another process compacted entries this process never saw.
                self.open(conn)
                return
            rows = conn.execute(
                "SELECT seq, kind, item_rowid, op FROM index_log WHERE seq > ? ORDER BY seq",
                (self._applied_seq,),
            ).fetchall()
            if self._applied_seq < _log_floor(conn):
                # Compacted by another process between the reads above: entries may be gone.
                self.open(conn)
                return
            if not rows:
                return
            latest: dict[tuple[str, int], str] = {}
            for _, kind, rowid, op in rows:
                latest[(kind, rowid)] = op
            for kind in KINDS:
                removed = [
                    rowid for (k, rowid), op in latest.items() if k == kind and op == "remove"
                ]
                added = [rowid for (k, rowid), op in latest.items() if k == kind and op == "add"]
                self._indexes[kind].remove(removed)
                self._apply_adds(conn, kind, added)
            self._applied_seq = rows[-1][0]

    @property
    def snapshot_due(self) -> bool:
        """True when enough changes accumulated since the last snapshot to write one."""
        return self._applied_seq - self._saved_seq >= _SNAPSHOT_EVERY

    def _apply_adds(self, conn: sqlite3.Connection, kind: IndexKind, rowids: list[int]) -> None:
        table = RECORD_TABLES[kind]
        found: set[int] = set()
        for start in range(0, len(rowids), 500):
            chunk = rowids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT rowid, owner, embedding FROM {table} "
                f"WHERE rowid IN ({marks}) AND embedding IS NOT NULL",
                chunk,
            ).fetchall()
            found.update(row[0] for row in rows)
            _add_rows(self._indexes[kind], rows, self._dim)
        # Rows deleted since the log entry was written must not linger in the index.
        self._indexes[kind].remove([rowid for rowid in rowids if rowid not in found])

    # -- persistence ---------------------------------------------------------------------
    def save(self, write_conn: sqlite3.Connection) -> None:
        """Write snapshots, then drop log entries every snapshot already contains.

        Must be called with the store's write connection, outside any transaction.
        """
        with self._lock:
            if not self._indexes or self._saved_seq == self._applied_seq:
                return
            for kind in KINDS:
                self._indexes[kind].save(self._directory / kind, self._applied_seq)
            self._saved_seq = self._applied_seq
            _compact_log(write_conn, self._saved_seq)

    # -- queries -------------------------------------------------------------------------
    def search(
        self, kind: IndexKind, owner: str, vector: np.ndarray, k: int
    ) -> list[tuple[int, float]]:
        """Nearest rowids of ``kind`` inside one owner partition."""
        with self._lock:
            return self._indexes[kind].search(owner, vector, k)

    def count(self, kind: IndexKind, owner: str | None = None) -> int:
        """Vectors held for a kind (and owner)."""
        with self._lock:
            index = self._indexes[kind]
            return len(index) if owner is None else index.count(owner)

    def contains(self, kind: IndexKind, rowid: int) -> bool:
        """Whether the index holds a rowid (integrity checks)."""
        with self._lock:
            return rowid in self._indexes[kind]


def _add_rows(
    index: VectorIndex, rows: list[sqlite3.Row] | list[tuple[int, str, bytes]], dim: int
) -> None:
    by_owner: dict[str, tuple[list[int], list[bytes]]] = {}
    for rowid, owner, blob in rows:
        keys, blobs = by_owner.setdefault(owner, ([], []))
        keys.append(rowid)
        blobs.append(blob)
    for owner, (keys, blobs) in by_owner.items():
        index.add(owner, *_as_arrays(keys, blobs, dim))


def _owner_counts(conn: sqlite3.Connection, kind: IndexKind) -> dict[str, int]:
    """How many vectors of ``kind`` each owner has."""
    table = RECORD_TABLES[kind]
    rows = conn.execute(
        f"SELECT owner, count(*) FROM {table} WHERE embedding IS NOT NULL GROUP BY owner"
    )
    return dict(rows)


def _owner_groups(
    conn: sqlite3.Connection,
    kind: IndexKind,
    dim: int,
    counts: dict[str, int],
    progress: ProgressCallback | None,
) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """Every owner's ``(owner, rowids, vectors)`` of ``kind``, one owner at a time;
    ``counts`` (from :func:`_owner_counts`, same transaction) sizes the progress."""
    total = sum(counts.values())
    cursor = conn.execute(
        f"SELECT rowid, owner, embedding FROM {RECORD_TABLES[kind]} "
        "WHERE embedding IS NOT NULL ORDER BY owner"
    )
    current: str | None = None
    keys: list[int] = []
    blobs: list[bytes] = []
    done = 0
    while rows := cursor.fetchmany(_FETCH_CHUNK):
        for rowid, owner, blob in rows:
            if owner != current:
                if current is not None:
                    yield current, *_as_arrays(keys, blobs, dim)
                current, keys, blobs = owner, [], []
            keys.append(rowid)
            blobs.append(blob)
        done += len(rows)
        if progress is not None:
            progress(f"vectors:{kind}", done, total)
    if current is not None:
        yield current, *_as_arrays(keys, blobs, dim)


def _as_arrays(keys: list[int], blobs: list[bytes], dim: int) -> tuple[np.ndarray, np.ndarray]:
    vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(keys), dim)
    return np.asarray(keys, dtype=np.int64), vectors


def _max_seq(conn: sqlite3.Connection) -> int:
    # One statement: every vector search asks this first.
    latest, floor = conn.execute(
        "SELECT (SELECT max(seq) FROM index_log), "
        "(SELECT value FROM meta WHERE key = 'index_log_floor')"
    ).fetchone()
    return max(int(latest or 0), int(floor or 0))


def _log_floor(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT value FROM meta WHERE key = 'index_log_floor'").fetchone()
    return int(row[0]) if row else 0


def _compact_log(conn: sqlite3.Connection, through: int) -> None:
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:  # busy or read-only: compaction can wait
        logger.debug("index log compaction skipped: %s", exc)
        return
    try:
        conn.execute("DELETE FROM index_log WHERE seq <= ?", (through,))
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('index_log_floor', ?) "
            "ON CONFLICT (key) DO UPDATE SET "
            "value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))",
            (str(through),),
        )
        conn.execute("COMMIT")
    except sqlite3.Error:
        conn.execute("ROLLBACK")
        raise
