"""The edge cache keeps Python's garbage collector off its objects only as configured."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_edge_cache import OWNERS, World, cached, from_sqlite
from test_store_contract import INFO

from graphmem import Memory, MemoryConfig
from graphmem.store.embedded import edge_cache
from graphmem.store.embedded.collector import collector_paused
from graphmem.store.embedded.store import EmbeddedStore


@pytest.fixture
def unfrozen() -> Iterator[None]:
    """Leave no object frozen for the tests that follow."""
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_the_collector_is_paused_inside_and_restored_after() -> None:
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()  # it was off before: it stays off
    finally:
        gc.enable()


def test_the_collector_is_restored_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        raise RuntimeError("load failed")
    assert gc.isenabled()


def test_an_owner_is_loaded_with_the_collector_paused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    states: list[bool] = []
    build = edge_cache.OwnerEdges.build

    def watched(rows):  # type: ignore[no-untyped-def]
        states.append(gc.isenabled())
        return build(rows)

    monkeypatch.setattr(edge_cache.OwnerEdges, "build", watched)
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        world = World(store)
        alice = OWNERS[0]
        with store.transaction() as tx:
            tx.put_facts([world.new_fact(0, 0, 0, 1)])
        people = [e.id for e in world.entities[alice.owner]]
        assert cached(store, alice, people) == from_sqlite(store, alice, people)
    assert states == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("unfrozen")
def test_caching_freezes_live_objects_only_when_configured(tmp_path: Path) -> None:
    for freeze in (False, True):
        with EmbeddedStore(
            tmp_path / f"store-{freeze}", INFO, edge_cache_gc_freeze=freeze
        ) as store:
            world = World(store)
            alice = OWNERS[0]
            with store.transaction() as tx:
                tx.put_facts([world.new_fact(0, 0, 0, 1)])
            people = [e.id for e in world.entities[alice.owner]]
            assert gc.get_freeze_count() == 0
            assert cached(store, alice, people) == from_sqlite(store, alice, people)
            assert store._edges.cached_facts == 1
            assert (gc.get_freeze_count() > 0) is freeze


@pytest.mark.usefixtures("unfrozen")
def test_memory_config_passes_the_freeze_setting_to_the_store(tmp_path: Path) -> None:
    config = MemoryConfig(path=tmp_path / "store", use_llm=False, edge_cache_gc_freeze=True)
    with Memory(config) as memory:
        memory.add_facts([("Maya", "lives_in", "Denver")], user_id="maya")
        assert memory.search("Where does Maya live?", user_id="maya").facts
        assert gc.get_freeze_count() > 0
