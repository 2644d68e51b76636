"""Temporal versioning scenarios through the public API, on every backend the suite runs on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.models.records import ExpiryReason, Fact
from graphmem.models.results import VersionStatus
from graphmem.models.scope import Scope
from graphmem.store.base import EmbedderInfo

pytest_plugins = ["neo4j_server"]

JAN, FEB, MAR, APR, MAY = (datetime(2026, month, 1, tzinfo=UTC) for month in range(1, 6))


@pytest.fixture(params=["embedded", "neo4j"])
def mem(
    request: pytest.FixtureRequest, tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> Iterator[Memory]:
    config = MemoryConfig(path=tmp_path / "store", use_llm=False)
    if request.param == "embedded":
        with Memory(config, embedder=embedder) as memory:
            yield memory
        return
    from neo4j_server import open_test_store

    settings = request.getfixturevalue("neo4j_settings")
    with (
        open_test_store(settings, EmbedderInfo(embedder.model, embedder.dim)) as store,
        Memory(config, embedder=embedder, store=store) as memory,
    ):
        yield memory


def mem_scope() -> Scope:
    return Scope.of(user_id="maya")


def current(memory: Memory, predicate: str, **when: datetime) -> list[str]:
    facts = memory.get_all(user_id="maya", **when).facts  # type: ignore[arg-type]
    return sorted(f.object_name for f in facts if f.predicate == predicate)


def test_vegetarian_then_fish(mem: Memory) -> None:
    mem.add(
        {"role": "user", "content": "I'm vegetarian.", "name": "Maya"},
        user_id="maya",
        timestamp=JAN,
    )
    mem.add(
        {"role": "user", "content": "I eat fish now.", "name": "Maya"},
        user_id="maya",
        timestamp=MAR,
    )
    assert current(mem, "diet") == ["eats fish"]
    assert current(mem, "diet", as_of=FEB) == ["vegetarian"]
    [old] = [
        f
        for f in mem.store.list_facts(mem_scope(), limit=50, include_expired=True)
        if f.object_name == "vegetarian"
    ]
    assert (old.invalid_at, old.expired_reason) == (MAR, ExpiryReason.SUPERSEDED)


def test_three_cities_as_of_three_dates(mem: Memory) -> None:
    for city, when in (("Seattle", JAN), ("Austin", MAR), ("Denver", MAY)):
        mem.add_facts([("Maya", "lives_in", city)], user_id="maya", timestamp=when)
    assert current(mem, "lives_in", as_of=FEB) == ["Seattle"]
    assert current(mem, "lives_in", as_of=APR) == ["Austin"]
    assert current(mem, "lives_in") == ["Denver"]
    [denver] = [f for f in mem.get_all(user_id="maya").facts if f.object_name == "Denver"]
    history = mem.history(denver.id, user_id="maya")
    assert [(e.fact.object_name, e.status) for e in history] == [
        ("Seattle", VersionStatus.SUPERSEDED),
        ("Austin", VersionStatus.SUPERSEDED),
        ("Denver", VersionStatus.CURRENT),
    ]
    assert history[0].fact.superseded_by == history[1].fact.id


def test_a_fact_learned_out_of_order(mem: Memory) -> None:
    mem.add_facts([("Maya", "lives_in", "Denver")], user_id="maya", timestamp=MAY)
    late = mem.add_facts([("Maya", "lives_in", "Austin")], user_id="maya", timestamp=MAR)
    assert current(mem, "lives_in") == ["Denver"]
    assert current(mem, "lives_in", as_of=APR) == ["Austin"]
    [austin] = late.facts_added
    assert (austin.invalid_at, austin.expired_reason) == (MAY, ExpiryReason.ARRIVED_CLOSED)


def test_the_same_fact_restated_five_times(mem: Memory) -> None:
    for month in range(1, 6):
        mem.add_facts(
            [("Maya", "works_at", "Helios")],
            user_id="maya",
            timestamp=datetime(2026, month, 1, tzinfo=UTC),
        )
    [fact] = [f for f in mem.get_all(user_id="maya").facts if f.predicate == "works_at"]
    assert len(fact.episode_ids) == 5
    assert fact.valid_at == JAN
    assert mem.stats(user_id="maya").facts == 1


def test_removing_the_episode_that_caused_a_move(mem: Memory) -> None:
    mem.add_facts([("Maya", "lives_in", "Seattle")], user_id="maya", timestamp=JAN)
    move = mem.add_facts([("Maya", "lives_in", "Denver")], user_id="maya", timestamp=MAR)
    assert current(mem, "lives_in") == ["Denver"]
    mem.delete_episode(move.episodes[0].id, user_id="maya")
    assert current(mem, "lives_in") == ["Seattle"]
    [seattle] = [f for f in mem.get_all(user_id="maya").facts if f.predicate == "lives_in"]
    assert (seattle.invalid_at, seattle.expired_at, seattle.superseded_by) == (None, None, None)


def test_no_longer_working_at_acme(mem: Memory) -> None:
    mem.add(
        {"role": "user", "content": "I work at Acme.", "name": "Maya"},
        user_id="maya",
        timestamp=JAN,
    )
    mem.add(
        {"role": "user", "content": "I no longer work at Acme.", "name": "Maya"},
        user_id="maya",
        timestamp=APR,
    )
    assert current(mem, "works_at") == []
    assert current(mem, "works_at", as_of=FEB) == ["Acme"]
    [ended] = [
        f
        for f in mem.store.list_facts(mem_scope(), limit=50, include_expired=True)
        if f.predicate == "works_at"
    ]
    assert (ended.expired_reason, ended.superseded_by, ended.invalid_at) == (
        ExpiryReason.ENDED,
        None,
        APR,
    )


def test_likes_accumulate(mem: Memory) -> None:
    for thing, when in (("tea", JAN), ("jazz", FEB), ("hiking", MAR)):
        mem.add_facts([("Maya", "likes", thing)], user_id="maya", timestamp=when)
    assert current(mem, "likes") == ["hiking", "jazz", "tea"]
    assert current(mem, "likes", as_of=FEB) == ["jazz", "tea"]


def test_known_at_shows_what_was_believed_before_a_correction(mem: Memory) -> None:
    [wrong] = mem.add_facts(
        [("Maya", "works_at", "Helio")], user_id="maya", timestamp=JAN
    ).facts_added
    time.sleep(0.01)
    before_correction = datetime.now(UTC)
    time.sleep(0.01)
    fixed = mem.update(wrong.id, fact="Maya works at Helios.", user_id="maya")
    assert [f.id for f in mem.get_all(user_id="maya").facts] == [fixed.id]
    then = mem.get_all(user_id="maya", known_at=before_correction).facts
    assert [f.id for f in then] == [wrong.id]
    old = mem.get(wrong.id)
    assert isinstance(old, Fact) and old.expired_reason == ExpiryReason.CORRECTED
