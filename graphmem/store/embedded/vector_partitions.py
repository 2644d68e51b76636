"""The two kinds of owner partition behind :class:`VectorIndex`.

Both hold L2-normalized float32 input and answer cosine-similarity top-k queries for
one owner only. Small partitions are searched exactly with numpy; large ones use an
HNSW graph from usearch. The index decides which kind an owner gets and hands these
classes validated, de-duplicated keys: the partitions do no input checking.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from usearch.index import Index

KeyArray = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.float32]

HNSW_SCALAR = "f16"
"""Stored precision of HNSW vectors: half the memory of float32, recall stays above 0.99."""
HNSW_CONNECTIVITY = 16
HNSW_EXPANSION_ADD = 64
HNSW_EXPANSION_SEARCH = 128

RESERVED_KEY = -(2**63)
"""The one int64 an HNSW graph cannot hold (no SQLite rowid is ever assigned it)."""
_KEY_MASK = np.uint64(2**63 - 1)

_SWAP_REMOVE_LIMIT = 0.25
"""Fraction of a partition above which removal rewrites the arrays instead of swapping rows."""
_SMALL_BATCH = 64
"""Below this many vectors usearch runs single-threaded: thread start-up costs more."""
_BRUTE_FORCE_FACTOR = 8
"""A graph search visits ~this many candidates per result slot; past that, scan all."""
_MIN_TOMBSTONES_TO_REBUILD = 256
"""Small graphs are not rebuilt for a handful of removals."""


class ExactPartition:
    """A growable matrix of normalized rows, searched by brute-force dot products.

    Rows are unordered: removal moves the last row into the hole (swap-remove), so
    deleting is O(1) per key. The key -> row map is built only when a write needs it,
    which keeps loading a snapshot of thousands of partitions cheap.
    """

    def __init__(self, dim: int, keys: KeyArray | None = None, vectors: Matrix | None = None):
        if keys is None or vectors is None:
            self._keys: KeyArray = np.empty(0, dtype=np.int64)
            self._vectors: Matrix = np.empty((0, dim), dtype=np.float32)
        else:
            self._keys, self._vectors = keys, vectors
        self._count = len(self._keys)
        self._rows: dict[int, int] | None = None

    @property
    def count(self) -> int:
        """Number of vectors held."""
        return self._count

    @property
    def borrowed(self) -> bool:
        """True while the rows are still read-only views of a mapped snapshot file."""
        return not (self._keys.flags.writeable and self._vectors.flags.writeable)

    def keys(self) -> KeyArray:
        """Keys in row order (a view; valid until the next write)."""
        return self._keys[: self._count]

    def vectors(self) -> Matrix:
        """Normalized rows aligned with :meth:`keys` (a view; valid until the next write)."""
        return self._vectors[: self._count]

    def upsert(self, keys: KeyArray, vectors: Matrix) -> None:
        """Overwrite rows of keys already held and append the others."""
        self._own_arrays()
        rows = self._row_map()
        existing = np.fromiter((rows.get(key, -1) for key in keys.tolist()), np.int64, len(keys))
        present = existing >= 0
        if present.any():
            self._vectors[existing[present]] = vectors[present]
        fresh = ~present
        added = int(fresh.sum())
        if added == 0:
            return
        self._reserve(self._count + added)
        start, stop = self._count, self._count + added
        self._keys[start:stop] = keys[fresh]
        self._vectors[start:stop] = vectors[fresh]
        rows.update(zip(keys[fresh].tolist(), range(start, stop), strict=True))
        self._count = stop

    def remove(self, keys: KeyArray) -> None:
        """Drop rows of keys held here (the caller guarantees they are)."""
        self._own_arrays()
        if len(keys) > _SWAP_REMOVE_LIMIT * self._count:
            self._compact(keys)
            return
        rows = self._row_map()
        for key in keys.tolist():
            row = rows.pop(key)
            last = self._count - 1
            if row != last:
                moved = int(self._keys[last])
                self._keys[row] = moved
                self._vectors[row] = self._vectors[last]
                rows[moved] = row
            self._count = last
        self._release_spare_capacity()

    def search(self, query: Matrix, k: int) -> list[tuple[int, float]]:
        """The ``k`` most similar keys, best first, ties broken by smaller key."""
        count = self._count
        if count == 0 or k <= 0:
            return []
        # einsum stays on this thread; a multithreaded BLAS matvec of this size stalls for
        # tens of milliseconds whenever the other cores are busy (measured on 2 cores).
        scores = np.einsum("ij,j->i", self._vectors[:count], query)
        # argpartition finds the k best in O(n); only those k get sorted.
        top = np.argpartition(scores, count - k)[count - k :] if k < count else np.arange(count)
        keys = self._keys[top]
        order = np.lexsort((keys, -scores[top]))
        best_scores = np.clip(scores[top][order], -1.0, 1.0)
        return list(zip(keys[order].tolist(), best_scores.tolist(), strict=True))

    def _own_arrays(self) -> None:
        if self.borrowed:
            self._resize(self._count)

    def _row_map(self) -> dict[int, int]:
        if self._rows is None:
            self._rows = dict(zip(self.keys().tolist(), range(self._count), strict=True))
        return self._rows

    def _reserve(self, needed: int) -> None:
        capacity = len(self._keys)
        if needed <= capacity:
            return
        grown = max(needed, capacity + capacity // 2 + 16)
        self._resize(grown)

    def _resize(self, capacity: int) -> None:
        keys = np.empty(capacity, dtype=np.int64)
        vectors = np.empty((capacity, self._vectors.shape[1]), dtype=np.float32)
        keys[: self._count] = self._keys[: self._count]
        vectors[: self._count] = self._vectors[: self._count]
        self._keys, self._vectors = keys, vectors

    def _compact(self, removed: KeyArray) -> None:
        keep = np.isin(self.keys(), removed, invert=True)
        kept_keys = self.keys()[keep]
        kept_vectors = self.vectors()[keep]
        self._count = len(kept_keys)
        self._keys[: self._count] = kept_keys
        self._vectors[: self._count] = kept_vectors
        self._rows = None
        self._release_spare_capacity()

    def _release_spare_capacity(self) -> None:
        # Give memory back once a partition has shrunk to well under its buffer.
        if len(self._keys) > 4 * self._count + 64:
            self._resize(self._count + self._count // 2 + 16)


class HnswPartition:
    """An approximate-nearest-neighbour graph (usearch HNSW, cosine, half precision).

    usearch stores unsigned 64-bit keys and reserves the largest as "no key", so keys are
    mapped by a bijection that sends the one unusable value to ``RESERVED_KEY``, which
    the index refuses up front.
    """

    def __init__(self, index: Index, tombstones: int = 0) -> None:
        self._index = index
        # Removed vectors stay in the graph as dead slots until an add reuses them; when
        # they outnumber the living, searches start missing results, so we rebuild.
        self._tombstones = tombstones
        self._viewed = False
        self._tune()

    @classmethod
    def create(cls, dim: int) -> HnswPartition:
        """An empty graph for vectors of ``dim`` dimensions."""
        return cls(
            Index(
                ndim=dim,
                metric="cos",
                dtype=HNSW_SCALAR,
                connectivity=HNSW_CONNECTIVITY,
                expansion_add=HNSW_EXPANSION_ADD,
                expansion_search=HNSW_EXPANSION_SEARCH,
            )
        )

    @classmethod
    def from_file(cls, dim: int, path: Path) -> HnswPartition:
        """Map a graph written by :meth:`save`; ValueError if it does not fit ``dim``.

        The file is memory-mapped, not read: searches run on it directly, and the first
        write copies the graph into memory. The file must not change while mapped.
        """
        metadata = Index.metadata(path)
        if not metadata or metadata["dimensions"] != dim:
            raise ValueError(f"{path.name} is not a graph of {dim} dimensions")
        partition = cls.create(dim)
        partition._index.view(path)
        partition._viewed = True
        partition._tombstones = int(metadata["count_deleted"])
        partition._tune()  # the file does not carry search-time settings
        return partition

    def _tune(self) -> None:
        # usearch declares the setter apart from the property, which mypy cannot follow.
        self._index.expansion_search = HNSW_EXPANSION_SEARCH  # type: ignore[misc]

    @property
    def borrowed(self) -> bool:
        """True while the graph is still a read-only mapping of a snapshot file."""
        return self._viewed

    @property
    def count(self) -> int:
        """Number of live (not removed) vectors."""
        return len(self._index)

    def keys(self) -> KeyArray:
        """Keys of the live vectors, in the graph's slot order (a copy)."""
        raw = np.asarray(self._index.keys[0 : self.count], dtype=np.uint64)
        return _from_graph_keys(raw)

    def vectors(self, keys: KeyArray) -> Matrix:
        """Stored vectors of ``keys`` as float32, re-normalized after half-precision rounding."""
        matrix = self._stored(keys)
        if len(matrix):
            matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix

    def _stored(self, keys: KeyArray) -> Matrix:
        if len(keys) == 0:
            return np.empty((0, self._index.ndim), dtype=np.float32)
        rows = self._index.get(_to_graph_keys(keys), dtype="f32")
        if not isinstance(rows, tuple) or any(row is None for row in rows):
            raise KeyError("a key asked for is not in the graph")
        return np.stack([row for row in rows if row is not None]).astype(np.float32)

    def upsert(self, keys: KeyArray, vectors: Matrix) -> None:
        """Replace vectors of keys already held and add the others."""
        self._materialize()
        unsigned = _to_graph_keys(keys)
        held = np.asarray(self._index.contains(unsigned), dtype=bool)
        if held.any():
            self._index.remove(unsigned[held])
            self._tombstones += int(held.sum())
        threads = 1 if len(keys) < _SMALL_BATCH else 0
        self._index.add(unsigned, vectors, threads=threads)
        self._tombstones = max(0, self._tombstones - len(keys))

    def remove(self, keys: KeyArray) -> None:
        """Remove keys held here (the caller guarantees they are)."""
        self._materialize()
        self._index.remove(_to_graph_keys(keys))
        self._tombstones += len(keys)
        if self._tombstones > max(self.count, _MIN_TOMBSTONES_TO_REBUILD):
            self._rebuild()

    def _materialize(self) -> None:
        # A memory-mapped graph is read-only (usearch crashes on writes to one).
        if self._viewed:
            self._index = self._index.copy()
            self._viewed = False
            self._tune()

    def _rebuild(self) -> None:
        keys = self.keys()
        stored = self._stored(keys)  # half precision round-trips exactly: no drift
        fresh = HnswPartition.create(self._index.ndim)
        if len(keys):
            fresh._index.add(_to_graph_keys(keys), stored, threads=0)
        self._index, self._tombstones = fresh._index, 0

    def search(self, query: Matrix, k: int) -> list[tuple[int, float]]:
        """Approximately the ``k`` most similar keys, best first.

        When ``k`` is a large share of the partition, every vector is scored instead:
        as cheap as the graph walk there, and it cannot miss any.
        """
        count = self.count
        wanted = min(k, count)
        if wanted <= 0:
            return []
        brute_force = count <= _BRUTE_FORCE_FACTOR * max(wanted, HNSW_EXPANSION_SEARCH)
        matches = self._index.search(query, wanted, threads=1, exact=brute_force)
        keys = _from_graph_keys(np.asarray(matches.keys, dtype=np.uint64))
        scores = np.clip(1.0 - np.asarray(matches.distances, dtype=np.float64), -1.0, 1.0)
        return list(zip(keys.tolist(), scores.tolist(), strict=True))

    def save(self, path: Path) -> None:
        """Serialize the graph with usearch's own format."""
        self._index.save(path)


def _to_graph_keys(keys: KeyArray) -> npt.NDArray[np.uint64]:
    return keys.view(np.uint64) ^ _KEY_MASK


def _from_graph_keys(keys: npt.NDArray[np.uint64]) -> KeyArray:
    return (keys ^ _KEY_MASK).view(np.int64)


def promote(dim: int, partition: ExactPartition) -> HnswPartition:
    """Build an HNSW graph holding the same vectors as an exact partition."""
    graph = HnswPartition.create(dim)
    if partition.count:
        graph.upsert(partition.keys().copy(), partition.vectors())
    return graph


def demote(dim: int, partition: HnswPartition) -> ExactPartition:
    """Turn a graph that shrank back into an exact partition (exact results again)."""
    keys = partition.keys()
    return ExactPartition(dim, keys, partition.vectors(keys))


AnyPartition = ExactPartition | HnswPartition
"""What the index keeps per owner."""
