"""In-memory cosine vector index, partitioned by owner, with crash-safe snapshots.

The embedded store keeps embeddings in SQLite; this index is derived data that makes
similarity search fast. Every vector belongs to exactly one owner and a search only
ever looks inside one owner's partition, so no owner can see another owner's keys and
no owner's results are crowded out by someone else's data.

Small partitions (up to ``exact_threshold`` vectors) are searched exactly; a partition
that grows past the threshold is turned into an HNSW graph (usearch, half precision).
A graph that later shrinks below half the threshold becomes exact again, so the
threshold does not flip-flop on a partition hovering around it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from graphmem.errors import InvalidInputError
from graphmem.store.embedded.vector_partitions import (
    RESERVED_KEY,
    AnyPartition,
    ExactPartition,
    HnswPartition,
    KeyArray,
    Matrix,
    demote,
    promote,
)
from graphmem.store.embedded.vector_snapshot import (
    read_snapshot,
    write_partitions,
    write_snapshot,
)

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


class VectorIndex:
    """Cosine-similarity top-k search over int64 keys, partitioned by owner.

    Keys (SQLite rowids) are int64 values other than ``-2**63``, which is reserved.
    They are unique across the whole index: adding a key that exists,
    under any owner, replaces its vector and owner. All methods are thread-safe; one
    internal lock serializes them.
    """

    def __init__(self, dim: int, *, exact_threshold: int = 20_000) -> None:
        """Create an empty index for vectors of ``dim`` dimensions.

        Owners holding more than ``exact_threshold`` vectors are served by an HNSW graph,
        the others by exact search.
        """
        if isinstance(dim, bool) or not isinstance(dim, int) or dim <= 0:
            raise InvalidInputError(f"dim must be a positive int, got {dim!r}")
        if isinstance(exact_threshold, bool) or not isinstance(exact_threshold, int):
            raise InvalidInputError(f"exact_threshold must be an int, got {exact_threshold!r}")
        if exact_threshold < 0:
            raise InvalidInputError(f"exact_threshold must be >= 0, got {exact_threshold}")
        self._dim = dim
        self._exact_threshold = exact_threshold
        self._partitions: dict[str, AnyPartition] = {}
        self._owner_of: dict[int, str] = {}
        self._lock = threading.RLock()

    @property
    def dim(self) -> int:
        """Dimension of every vector in the index."""
        return self._dim

    # -- writes ----------------------------------------------------------------------------

    def add(self, owner: str, keys: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace the vectors of ``keys`` in ``owner``'s partition.

        ``vectors`` has shape ``(len(keys), dim)`` and any float dtype; rows are
        L2-normalized here. A key that already exists (in this or another owner) has its
        vector replaced and moves to ``owner``; if a key repeats within the call, its last
        row wins. Raises :class:`~graphmem.errors.InvalidInputError` (a ``ValueError``)
        on a bad owner, bad keys, a shape mismatch, or a NaN, infinite or all-zero row;
        the index is then unchanged.
        """
        key_array, matrix = _checked_rows(owner, keys, vectors, self._dim)
        if len(key_array) == 0:
            return
        key_array, matrix = _last_occurrence(key_array, matrix)
        with self._lock:
            self._detach_from_other_owners(owner, key_array)
            partition = self._partitions.get(owner)
            if partition is None:
                partition = ExactPartition(self._dim)
            if isinstance(partition, ExactPartition):
                incoming = sum(1 for key in key_array.tolist() if key not in self._owner_of)
                if partition.count + incoming > self._exact_threshold:
                    partition = promote(self._dim, partition)
            partition.upsert(key_array, matrix)
            self._partitions[owner] = partition
            self._owner_of.update(dict.fromkeys(key_array.tolist(), owner))

    def remove(self, keys: Iterable[int]) -> None:
        """Remove ``keys`` from whichever owners hold them; unknown keys are ignored."""
        given = keys if isinstance(keys, np.ndarray) else list(keys)
        key_list = _as_keys(given, for_removal=True).tolist()
        with self._lock:
            by_owner: dict[str, list[int]] = {}
            for key in key_list:
                owner = self._owner_of.pop(key, None)
                if owner is not None:
                    by_owner.setdefault(owner, []).append(key)
            for owner, owned in by_owner.items():
                self._remove_from(owner, np.asarray(owned, dtype=np.int64))

    def remove_owner(self, owner: str) -> None:
        """Forget every vector of ``owner``; an unknown owner is a no-op."""
        _check_owner(owner)
        with self._lock:
            partition = self._partitions.pop(owner, None)
            if partition is None:
                return
            for key in partition.keys().tolist():
                del self._owner_of[key]

    # -- reads -----------------------------------------------------------------------------

    def search(self, owner: str, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` keys of ``owner`` most similar to ``query``: ``(key, cosine)``, best first.

        Exact for partitions served by exact search; approximate (recall@10 above 0.95
        in the benchmarks) for HNSW partitions, whose similarities carry half-precision
        rounding. Returns ``[]`` for an unknown owner or ``k <= 0``. ``query`` has shape
        ``(dim,)`` or ``(1, dim)``; a NaN, infinite or all-zero query is an
        :class:`~graphmem.errors.InvalidInputError`.
        """
        _check_owner(owner)
        if isinstance(k, bool) or not isinstance(k, int | np.integer):
            raise InvalidInputError(f"k must be an int, got {k!r}")
        if np.ndim(query) == 1:
            query = np.reshape(query, (1, -1))
        normalized = _normalized_rows(query, self._dim, "query")
        if len(normalized) != 1:
            raise InvalidInputError("search takes exactly one query vector")
        if k <= 0:
            return []
        with self._lock:
            partition = self._partitions.get(owner)
            if partition is None:
                return []
            return partition.search(normalized[0], int(k))

    def __len__(self) -> int:
        """Number of vectors across all owners."""
        return len(self._owner_of)

    def count(self, owner: str) -> int:
        """Number of vectors held for ``owner`` (0 if unknown)."""
        with self._lock:
            partition = self._partitions.get(owner)
            return 0 if partition is None else partition.count

    def owners(self) -> list[str]:
        """Owners holding at least one vector, sorted."""
        with self._lock:
            return sorted(self._partitions)

    def __contains__(self, key: object) -> bool:
        """Whether ``key`` is held under any owner."""
        if isinstance(key, bool) or not isinstance(key, int | np.integer):
            return False
        return int(key) in self._owner_of

    # -- persistence -----------------------------------------------------------------------

    def save(self, directory: Path, applied_seq: int) -> None:
        """Write a crash-safe snapshot to ``directory`` (created if missing).

        A complete new snapshot is written and fsynced next to the old one, a small
        pointer file is switched atomically, then the old snapshot is deleted: a process
        killed at any moment leaves the old or the new snapshot loadable.
        ``applied_seq`` is stored as given and returned by :meth:`load`. Afterwards the
        index is served from the new snapshot's mapped files, as if just loaded.
        """
        if isinstance(applied_seq, bool) or not isinstance(applied_seq, int):
            raise InvalidInputError(f"applied_seq must be an int, got {applied_seq!r}")
        with self._lock:
            write_snapshot(Path(directory), self._dim, applied_seq, self._partitions)
            self._map_snapshot(Path(directory))

    @staticmethod
    def write_snapshot_of(
        directory: Path,
        dim: int,
        applied_seq: int,
        counts: Mapping[str, int],
        groups: Iterable[tuple[str, KeyArray, np.ndarray]],
        *,
        exact_threshold: int = 20_000,
    ) -> None:
        """Write a snapshot of the vectors in ``groups`` without building an index in
        memory: only one owner's vectors are held at a time.

        ``groups`` yields each owner once, as ``(owner, keys, vectors)`` with unique
        keys; ``counts`` gives each owner's number of vectors up front. The result is
        the snapshot that :meth:`save` would write for an index holding those vectors:
        :meth:`load` it to search them. Bad vectors raise
        :class:`~graphmem.errors.InvalidInputError`; a write failure or counts that do
        not match raise :class:`~graphmem.errors.StoreError`.
        """

        def partitions() -> Iterator[tuple[str, AnyPartition]]:
            for owner, keys, vectors in groups:
                exact = ExactPartition(dim, *_checked_rows(owner, keys, vectors, dim))
                yield owner, promote(dim, exact) if exact.count > exact_threshold else exact

        exact_rows = sum(count for count in counts.values() if count <= exact_threshold)
        write_partitions(Path(directory), dim, applied_seq, exact_rows, partitions())

    @classmethod
    def load(
        cls, directory: Path, dim: int, *, exact_threshold: int = 20_000, verify: bool = True
    ) -> tuple[VectorIndex, int] | None:
        """Load the live snapshot in ``directory`` as ``(index, applied_seq)``.

        Returns None, without raising, when there is no snapshot, when it is damaged
        (truncated or corrupt file, bad manifest, checksum mismatch) or when it was
        written for another dimension: the caller then rebuilds from the source of truth.
        ``verify=False`` skips the checksums, for a snapshot this process just wrote.
        """
        index = cls(dim, exact_threshold=exact_threshold)
        snapshot = read_snapshot(Path(directory), dim, verify=verify)
        if snapshot is None:
            return None
        owner_of: dict[int, str] = {}
        for owner, partition in snapshot.partitions.items():
            owner_of.update(dict.fromkeys(partition.keys().tolist(), owner))
        if len(owner_of) != sum(p.count for p in snapshot.partitions.values()):
            return None  # a key in two partitions: not something save() writes
        index._partitions = snapshot.partitions
        index._owner_of = owner_of
        return index, snapshot.applied_seq

    # -- internals -------------------------------------------------------------------------

    def _map_snapshot(self, directory: Path) -> None:
        # Every partition now has an identical copy in the snapshot just written. Serving
        # them from that mapping releases their private memory (the OS page cache holds
        # the pages, and only the ones searches touch count against this process), and
        # lets the replaced snapshot's disk space go now rather than at process exit.
        # A later write copies just the partition it changes.
        fresh = read_snapshot(directory, self._dim, verify=False)  # written just now
        if fresh is None:
            return
        for owner, replacement in fresh.partitions.items():
            current = self._partitions.get(owner)
            if current is not None and replacement.count == current.count:
                self._partitions[owner] = replacement

    def _detach_from_other_owners(self, owner: str, keys: KeyArray) -> None:
        moving: dict[str, list[int]] = {}
        for key in keys.tolist():
            current = self._owner_of.get(key)
            if current is not None and current != owner:
                moving.setdefault(current, []).append(key)
        for previous, moved in moving.items():
            for key in moved:
                del self._owner_of[key]
            self._remove_from(previous, np.asarray(moved, dtype=np.int64))

    def _remove_from(self, owner: str, keys: KeyArray) -> None:
        partition = self._partitions[owner]
        partition.remove(keys)
        if partition.count == 0:
            del self._partitions[owner]
        elif isinstance(partition, HnswPartition) and (
            partition.count < self._exact_threshold // 2
        ):
            self._partitions[owner] = demote(self._dim, partition)


def _checked_rows(
    owner: str, keys: Sequence[int] | np.ndarray, vectors: object, dim: int
) -> tuple[KeyArray, Matrix]:
    """``keys`` and the L2-normalized ``vectors`` of ``owner``, each checked."""
    _check_owner(owner)
    key_array = _as_keys(keys)
    matrix = _normalized_rows(vectors, dim, "vectors")
    if len(key_array) != len(matrix):
        raise InvalidInputError(f"got {len(key_array)} keys for {len(matrix)} vectors")
    return key_array, matrix


def _check_owner(owner: object) -> None:
    if not isinstance(owner, str) or not owner:
        raise InvalidInputError(f"owner must be a non-empty str, got {owner!r}")


def _as_keys(keys: Sequence[int] | np.ndarray, *, for_removal: bool = False) -> KeyArray:
    try:
        array = np.asarray(keys)
    except (OverflowError, ValueError) as exc:
        raise InvalidInputError(f"keys must be int64 values: {exc}") from exc
    if array.ndim != 1:
        raise InvalidInputError(f"keys must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        return np.empty(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        if array.dtype != object:
            raise InvalidInputError(f"keys must be integers, got dtype {array.dtype}")
        if not all(isinstance(k, int) and not isinstance(k, bool) for k in array.tolist()):
            raise InvalidInputError("keys must be integers")
    may_overflow = array.dtype.kind == "u" or array.dtype == object
    if may_overflow and (int(array.max()) > _INT64_MAX or int(array.min()) < _INT64_MIN):
        raise InvalidInputError("keys must fit in int64")
    keys = array.astype(np.int64)
    if not for_removal and (keys == RESERVED_KEY).any():
        raise InvalidInputError(f"key {RESERVED_KEY} is reserved")
    return keys


def _normalized_rows(vectors: object, dim: int, what: str) -> Matrix:
    array = np.asarray(vectors)
    if array.ndim != 2 or array.shape[1] != dim:
        raise InvalidInputError(f"{what} must have shape (n, {dim}), got {array.shape}")
    if array.dtype.kind != "f":
        raise InvalidInputError(f"{what} must be floating point, got dtype {array.dtype}")
    rows = array.astype(np.float32)
    if not np.isfinite(rows).all():
        raise InvalidInputError(f"{what} contain NaN or infinite values (in float32)")
    # Scaling by the largest component first keeps the norm from overflowing (or
    # underflowing to zero) in float32.
    peaks = np.abs(rows).max(axis=1, keepdims=True)
    if (peaks == 0).any():
        raise InvalidInputError(f"{what} contain an all-zero row: cosine is undefined")
    rows /= peaks
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def _last_occurrence(keys: KeyArray, vectors: Matrix) -> tuple[KeyArray, Matrix]:
    """Drop earlier duplicates of a key so the last row given for it wins."""
    reversed_keys = keys[::-1]
    unique, first_in_reversed = np.unique(reversed_keys, return_index=True)
    if len(unique) == len(keys):
        return keys, vectors
    rows = np.sort(len(keys) - 1 - first_in_reversed)
    return keys[rows], vectors[rows]
