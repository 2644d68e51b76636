"""Memory use of the embedded store.

Rebuilding the vector indexes (``reindex``, or an open without a usable snapshot)
streams each kind, one owner at a time, into a new snapshot and serves the index from
it, so the rebuilt vectors are not held in private memory as well."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_store_contract import ALICE, BOB, INFO, populate, unit

from graphmem.store.embedded.connection import MMAP_BYTES
from graphmem.store.embedded.store import EmbeddedStore
from graphmem.store.embedded.vectors import KINDS, VectorIndexes


def hits(store: EmbeddedStore) -> list[object]:
    return [
        store.vector_search(kind, scope, unit(seed), 5)
        for kind in KINDS
        for scope in (ALICE, BOB)
        for seed in range(1, 8)
    ]


def test_reindex_serves_every_kind_from_its_new_snapshot(tmp_path: Path) -> None:
    directory = tmp_path / "store"
    progress: list[tuple[str, int, int]] = []
    with EmbeddedStore(directory, INFO) as store:
        populate(store, ALICE)
        populate(store, BOB, offset=100)
        before = hits(store)
        store.reindex(lambda stage, done, total: progress.append((stage, done, total)))
        assert hits(store) == before
        indexes = store._vectors._indexes
        for kind in KINDS:
            assert all(p.borrowed for p in indexes[kind]._partitions.values()), kind
        assert {stage for stage, _, _ in progress} >= {f"vectors:{kind}" for kind in KINDS}
        assert ("vectors:fact", 4, 4) in progress

    # The snapshots hold everything up to the log position the rebuild read at: the
    # next open loads them instead of rebuilding.
    def no_rebuild(*args: object, **kwargs: object) -> None:
        raise AssertionError("opened by rebuilding, not from the snapshots")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(VectorIndexes, "rebuild", no_rebuild)
        with EmbeddedStore(directory, INFO) as reopened:
            assert hits(reopened) == before


def test_only_read_connections_memory_map_the_database(tmp_path: Path) -> None:
    # A reindex scans the whole database through the write connection; mapped there too,
    # every page would be resident twice in this process.
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        assert store._writer.execute("PRAGMA mmap_size").fetchone()[0] == 0
        assert store._reader().execute("PRAGMA mmap_size").fetchone()[0] == MMAP_BYTES
