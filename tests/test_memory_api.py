"""The Memory front door: what an application relies on, through the public API only."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.errors import (
    EmbedderMismatchError,
    InvalidFilterError,
    InvalidIdentifierError,
    InvalidInputError,
    NotFoundError,
    ScopeRequiredError,
)
from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.results import VersionStatus

MARCH = datetime(2026, 3, 2, 12, tzinfo=UTC)
APRIL = datetime(2026, 4, 15, 12, tzinfo=UTC)


def test_add_stores_episodes_and_extracts_facts(memory: Memory) -> None:
    result = memory.add(
        [
            {
                "role": "user",
                "content": "I live in Seattle and I work at Northwind Labs.",
                "name": "Maya",
            }
        ],
        user_id="maya",
        timestamp=MARCH,
        metadata={"channel": "chat"},
    )
    assert len(result.episodes) == 1
    episode = result.episodes[0]
    assert (episode.name, episode.valid_at, episode.metadata) == (
        "Maya",
        MARCH,
        {"channel": "chat"},
    )
    relations = {(f.subject_name, f.predicate, f.object_name) for f in result.facts_added}
    assert ("Maya", "lives_in", "Seattle") in relations
    assert ("Maya", "works_at", "Northwind Labs") in relations
    stored = memory.get(episode.id, user_id="maya")
    assert isinstance(stored, Episode) and stored.content == episode.content


def test_add_without_infer_stores_only_the_episode(memory: Memory) -> None:
    result = memory.add("I live in Seattle.", user_id="maya", infer=False)
    assert len(result.episodes) == 1 and result.facts_added == []
    assert memory.stats(user_id="maya").facts == 0


def test_reads_and_writes_need_a_scope(memory: Memory) -> None:
    with pytest.raises(ScopeRequiredError):
        memory.add("hello")
    with pytest.raises(ScopeRequiredError):
        memory.search("hello")
    with pytest.raises(ScopeRequiredError):
        memory.get_all()
    with pytest.raises(ScopeRequiredError):
        memory.add_facts([("a", "likes", "b")])


def test_bad_input_leaves_the_store_unchanged(memory: Memory) -> None:
    memory.add("I live in Seattle.", user_id="maya")
    before = memory.stats()
    for call in (
        lambda: memory.add(
            [{"role": "user", "content": "ok"}, {"role": "user", "content": ""}], user_id="maya"
        ),
        lambda: memory.add("x", user_id="maya", metadata={"bad": object()}),
        lambda: memory.add("x", user_id="maya", timestamp=datetime(2026, 1, 1)),
        lambda: memory.add_facts([("a", "likes", "b"), ("c", "likes")], user_id="maya"),
        lambda: memory.search("", user_id="maya"),
        lambda: memory.search("x", user_id="maya", limit=0),
        lambda: memory.search("x", user_id="maya", filters={"a": {"bogus": 1}}),
    ):
        with pytest.raises(InvalidInputError):
            call()
    assert memory.stats() == before


def test_add_facts_links_provenance_and_is_searchable(memory: Memory) -> None:
    result = memory.add_facts(
        [
            ("Ada Lovelace", "collaborated_with", "Charles Babbage"),
            ("Charles Babbage", "designed", "Analytical Engine"),
        ],
        user_id="history",
        source="Ada Lovelace worked with Charles Babbage on his Analytical Engine.",
    )
    assert len(result.facts_added) == 2
    [episode] = result.episodes
    assert all(f.episode_ids == [episode.id] for f in result.facts_added)
    hits = memory.search("Who designed the Analytical Engine?", user_id="history")
    assert hits.facts and hits.facts[0].fact.object_name == "Analytical Engine"


def test_add_facts_with_an_existing_episode_as_source(memory: Memory) -> None:
    [episode] = memory.add(
        {"role": "document", "content": "Paris is in France."}, user_id="geo", infer=False
    ).episodes
    result = memory.add_facts(
        [("Paris", "located_in", "France")], user_id="geo", source=str(episode.id)
    )
    assert result.episodes[0].id == episode.id
    assert result.facts_added[0].episode_ids == [episode.id]
    assert memory.stats(user_id="geo").episodes == 1
    with pytest.raises(NotFoundError):
        memory.add_facts([("a", "b", "c")], user_id="other", source=episode.id)


def test_add_facts_handles_a_ten_thousand_triple_batch(memory: Memory) -> None:
    # "mentors" is not symmetric: 10,000 distinct triples are 10,000 facts.
    triples = [(f"person {i}", "mentors", f"person {(i * 7) % 2500}") for i in range(10_000)]
    result = memory.add_facts(triples, user_id="big")
    assert len(result.facts_added) == memory.stats(user_id="big").facts == 10_000
    hits = memory.search("person 1234", user_id="big", limit=5)
    assert any(h.entity.name == "person 1234" for h in hits.entities)


def test_get_all_lists_current_facts_and_filters_metadata(memory: Memory) -> None:
    memory.add_facts([("Maya", "likes", "sushi")], user_id="maya", metadata={"topic": "food"})
    memory.add_facts([("Maya", "works_at", "Helios")], user_id="maya", metadata={"topic": "work"})
    everything = memory.get_all(user_id="maya")
    assert {f.object_name for f in everything.facts} == {"sushi", "Helios"}
    food = memory.get_all(user_id="maya", filters={"topic": "food"})
    assert [f.object_name for f in food.facts] == ["sushi"]
    neither = memory.get_all(user_id="maya", filters={"NOT": {"topic": {"in": ["food", "work"]}}})
    assert neither.facts == []
    with pytest.raises(InvalidFilterError):
        memory.get_all(user_id="maya", filters={"topic": {"gteq": 1}})


def test_one_valued_predicates_supersede_and_history_keeps_both(memory: Memory) -> None:
    first = memory.add_facts([("Maya", "lives_in", "Seattle")], user_id="maya", timestamp=MARCH)
    memory.add_facts([("Maya", "lives_in", "Denver")], user_id="maya", timestamp=APRIL)
    current = memory.get_all(user_id="maya").facts
    assert [(f.predicate, f.object_name) for f in current] == [("lives_in", "Denver")]
    then = memory.get_all(user_id="maya", as_of=datetime(2026, 3, 10, tzinfo=UTC)).facts
    assert [f.object_name for f in then] == ["Seattle"]
    history = memory.history(first.facts_added[0].id, user_id="maya")
    assert [(e.fact.object_name, e.status) for e in history] == [
        ("Seattle", VersionStatus.SUPERSEDED),
        ("Denver", VersionStatus.CURRENT),
    ]


def test_update_keeps_the_corrected_version(memory: Memory) -> None:
    [fact] = memory.add_facts([("Maya", "works_at", "Helio")], user_id="maya").facts_added
    corrected = memory.update(fact.id, fact="Maya works at Helios Robotics.", user_id="maya")
    assert corrected.id != fact.id and corrected.fact == "Maya works at Helios Robotics."
    old = memory.get(fact.id)
    assert isinstance(old, Fact) and old.superseded_by == corrected.id
    assert [f.id for f in memory.get_all(user_id="maya").facts] == [corrected.id]
    with pytest.raises(InvalidInputError):
        memory.update(fact.id, fact="again", user_id="maya")
    with pytest.raises(InvalidInputError):
        memory.update(corrected.id, user_id="maya")


def test_delete_of_each_record_kind(memory: Memory) -> None:
    result = memory.add_facts([("Maya", "likes", "tea"), ("Maya", "likes", "jazz")], user_id="maya")
    tea, jazz = result.facts_added
    memory.delete(tea.id, user_id="maya")
    with pytest.raises(NotFoundError):
        memory.get(tea.id)
    maya = next(e for e in result.entities if e.name == "Maya")
    memory.delete(maya.id)
    with pytest.raises(NotFoundError):
        memory.get(jazz.id)
    with pytest.raises(NotFoundError):
        memory.delete(uuid.uuid4())
    with pytest.raises(InvalidInputError):
        memory.delete("not-a-uuid")


def test_records_of_another_scope_are_not_found(memory: Memory) -> None:
    [fact] = memory.add_facts([("Maya", "likes", "tea")], user_id="maya").facts_added
    with pytest.raises(NotFoundError):
        memory.get(fact.id, user_id="eve")
    with pytest.raises(NotFoundError):
        memory.delete(fact.id, user_id="eve")
    with pytest.raises(NotFoundError):
        memory.history(fact.id, user_id="eve")
    assert isinstance(memory.get(fact.id, user_id="maya"), Fact)


def test_forget_removes_a_scope_everywhere(memory: Memory) -> None:
    memory.add("I live in Seattle and I love sushi.", user_id="maya")
    memory.add_facts([("Maya", "likes", "tea")], user_id="maya", run_id="r1")
    memory.add("I live in Oslo.", user_id="bob")
    counts = memory.forget(user_id="maya")
    assert counts.episodes == 2
    assert memory.stats(user_id="maya").episodes == 0
    assert memory.stats(user_id="maya").entities == 0
    assert memory.search("Seattle sushi tea", user_id="maya").facts == []
    assert memory.search("Seattle sushi tea", user_id="maya").episodes == []
    assert memory.stats(user_id="bob").episodes == 1
    trail = memory.audit_log(user_id="maya")
    assert [e.action.value for e in trail] == ["forget"]
    assert "Seattle" not in str(trail[0].detail)
    assert memory.check().ok


def test_forget_of_one_run_keeps_the_rest_of_the_user(memory: Memory) -> None:
    memory.add_facts([("Maya", "likes", "tea")], user_id="maya", run_id="r1")
    memory.add_facts([("Maya", "likes", "jazz")], user_id="maya", run_id="r2")
    memory.forget(user_id="maya", run_id="r1")
    assert [f.object_name for f in memory.get_all(user_id="maya").facts] == ["jazz"]
    names = {e.name for e in memory.get_all(user_id="maya").entities}
    assert "tea" not in names and "Maya" in names


def test_reset_empties_the_store(memory: Memory) -> None:
    memory.add("I live in Seattle.", user_id="maya")
    memory.reset()
    counts = memory.stats()
    assert (counts.episodes, counts.entities, counts.facts) == (0, 0, 0)


def test_reopening_with_another_embedder_fails_clearly(tmp_path: Path, embedder: object) -> None:
    with Memory(MemoryConfig(path=tmp_path, use_llm=False), embedder=embedder):  # type: ignore[arg-type]
        pass

    class Other:
        model, dim = "other-model", 8

        def embed(self, texts: object) -> object:
            raise AssertionError

        embed_query = embed

    with pytest.raises(EmbedderMismatchError, match="all-MiniLM"):
        Memory(MemoryConfig(path=tmp_path, use_llm=False), embedder=Other())  # type: ignore[arg-type]


def test_entities_are_shared_by_runs_of_one_owner(memory: Memory) -> None:
    memory.add_facts([("Anna", "lives_in", "Denver")], user_id="maya", run_id="r1")
    memory.add_facts([("Anna", "likes", "climbing")], user_id="maya", run_id="r2")
    annas = [e for e in memory.get_all(user_id="maya").entities if e.name == "Anna"]
    assert len(annas) == 1
    only_r1 = memory.get_all(user_id="maya", run_id="r1").facts
    assert [f.object_name for f in only_r1] == ["Denver"]


def test_get_returns_each_kind(memory: Memory) -> None:
    result = memory.add_facts([("Maya", "likes", "tea")], user_id="maya")
    assert isinstance(memory.get(result.facts_added[0].id), Fact)
    assert isinstance(memory.get(result.entities[0].id), Entity)
    assert isinstance(memory.get(str(result.episodes[0].id)), Episode)


def test_facts_with_the_reserved_mentions_predicate_are_refused_and_nothing_is_written(
    memory: Memory,
) -> None:
    with pytest.raises(InvalidIdentifierError, match="reserved"):
        memory.add_facts(
            [("Maya", "likes", "tea"), ("Maya", "mentions", "Denver")], user_id="maya"
        )
    assert memory.stats(user_id="maya").facts == 0
    stored = memory.add_facts([("Maya", "is", "an engineer")], user_id="maya")
    assert [f.predicate for f in stored.facts_added] == ["is"]
