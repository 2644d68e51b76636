"""The store protocol's behaviour, run against every backend.

The embedded store always runs; the Neo4j store runs when a server is reachable
(``GRAPHMEM_NEO4J_URI``, or testcontainers with a Docker engine) and is skipped with
the reason otherwise.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from graphmem.models.edges import FactEdge
from graphmem.models.headers import EpisodeHeader
from graphmem.models.records import AuditAction, AuditEvent, Entity, Episode, ExpiryReason, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import EmbedderInfo, GraphStore
from graphmem.store.embedded.store import EmbeddedStore

pytest_plugins = ["neo4j_server"]

DIM = 8
INFO = EmbedderInfo("contract-test-vectors", DIM)
ALICE = Scope.of(user_id="alice")
BOB = Scope.of(user_id="bob")


def unit(seed: int) -> list[float]:
    vector = np.random.default_rng(seed).normal(size=DIM)
    return (vector / np.linalg.norm(vector)).tolist()


@pytest.fixture(params=["embedded", "neo4j"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[GraphStore]:
    if request.param == "embedded":
        with EmbeddedStore(tmp_path / "store", INFO) as embedded:
            yield embedded
        return
    from neo4j_server import open_test_store

    # Skips with the reason when no server is configured or reachable.
    settings = request.getfixturevalue("neo4j_settings")
    with open_test_store(settings, INFO) as graph:
        yield graph


def entity(scope: Scope, name: str, seed: int, aliases: list[str] | None = None) -> Entity:
    return Entity(
        owner=scope.owner,
        name=name,
        normalized_name=name.lower(),
        aliases=aliases or [],
        type="Person",
        embedding=unit(seed),
    )


def episode(scope: Scope, content: str, seed: int) -> Episode:
    return Episode(
        content=content,
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        embedding=unit(seed),
        valid_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def fact(
    scope: Scope, subject: Entity, predicate: str, obj: Entity, source: Episode, seed: int
) -> Fact:
    return Fact(
        subject_id=subject.id,
        predicate=predicate,
        object_id=obj.id,
        fact=f"{subject.name} {predicate.replace('_', ' ')} {obj.name}.",
        subject_name=subject.name,
        object_name=obj.name,
        episode_ids=[source.id],
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        valid_at=datetime(2026, 3, 1, tzinfo=UTC),
        embedding=unit(seed),
    )


def populate(store: GraphStore, scope: Scope, offset: int = 0) -> dict[str, object]:
    maya = entity(scope, "Maya", 1 + offset, aliases=["Mai"])
    denver = entity(scope, "Denver", 2 + offset)
    helios = entity(scope, "Helios", 3 + offset)
    said = episode(scope, "Maya moved to Denver and works at Helios", 4 + offset)
    lives = fact(scope, maya, "lives_in", denver, said, 5 + offset)
    works = fact(scope, maya, "works_at", helios, said, 6 + offset)
    with store.transaction() as tx:
        tx.put_episodes([said])
        tx.put_entities([maya, denver, helios])
        tx.put_facts([lives, works])
        tx.put_mentions([(said.id, maya.id), (said.id, denver.id)])
        tx.append_audit(
            [AuditEvent(action=AuditAction.ADD, owner=scope.owner, target_ids=[said.id])]
        )
    return {
        "maya": maya,
        "denver": denver,
        "helios": helios,
        "said": said,
        "lives": lives,
        "works": works,
    }


def test_records_round_trip_exactly(store: GraphStore) -> None:
    made = populate(store, ALICE)
    lives = made["lives"]
    assert isinstance(lives, Fact)
    [loaded] = store.get_facts([lives.id])
    assert loaded.model_dump() == lives.model_dump()
    [maya] = store.get_entities([made["maya"].id])  # type: ignore[attr-defined]
    assert maya.model_dump() == made["maya"].model_dump()  # type: ignore[attr-defined]
    [said] = store.get_episodes([made["said"].id])  # type: ignore[attr-defined]
    assert said.model_dump() == made["said"].model_dump()  # type: ignore[attr-defined]
    assert store.get_facts([uuid.uuid4()]) == []


def test_scoped_reads_never_cross_owners(store: GraphStore) -> None:
    alice = populate(store, ALICE)
    bob = populate(store, BOB, offset=100)
    for scope, mine, theirs in ((ALICE, alice, bob), (BOB, bob, alice)):
        own_ids = {r.id for r in mine.values()}  # type: ignore[attr-defined]
        other_ids = {r.id for r in theirs.values()}  # type: ignore[attr-defined]
        seen: set[uuid.UUID] = set()
        seen |= {e.id for e in store.list_episodes(scope, limit=100)}
        seen |= {e.id for e in store.list_entities(scope, limit=100)}
        seen |= {f.id for f in store.list_facts(scope, limit=100)}
        their_entities = [r.id for r in theirs.values() if isinstance(r, Entity)]
        seen |= {f.id for f in store.facts_of_entities(scope, their_entities)}
        seen |= {e.id for e in store.fact_edges_of_entities(scope, their_entities)}
        seen |= {
            e.id for e in store.fact_edges_of_entities(scope, their_entities, include_expired=True)
        }
        for kind in ("entity", "episode", "fact"):
            for seed in range(200):
                seen |= {i for i, _ in store.vector_search(kind, scope, unit(seed), 10)}
            seen |= {i for i, _ in store.keyword_search(kind, scope, "Maya Denver Helios", 10)}
        assert seen and seen <= own_ids
        assert not seen & other_ids


def test_vector_and_keyword_search_find_records(store: GraphStore) -> None:
    made = populate(store, ALICE)
    maya, said, lives = made["maya"], made["said"], made["lives"]
    assert store.vector_search("entity", ALICE, unit(1), 1)[0][0] == maya.id  # type: ignore[attr-defined]
    assert store.vector_search("episode", ALICE, unit(4), 1)[0][0] == said.id  # type: ignore[attr-defined]
    assert store.vector_search("fact", ALICE, unit(5), 1)[0][0] == lives.id  # type: ignore[attr-defined]
    assert store.keyword_search("episode", ALICE, "who moved to Denver?", 5)[0][0] == said.id  # type: ignore[attr-defined]
    assert store.keyword_search("entity", ALICE, "mai", 5)[0][0] == maya.id  # type: ignore[attr-defined]
    assert store.keyword_search("fact", ALICE, "works Helios", 5)[0][0] == made["works"].id  # type: ignore[attr-defined]
    assert store.keyword_search("episode", ALICE, 'AND OR NOT " * ^ :', 5) == []


def test_narrowed_scopes_filter_without_losing_results(store: GraphStore) -> None:
    run_one = Scope.of(user_id="alice", run_id="r1")
    # Every noise episode matches "lantern" better than the target does (shorter, and
    # more often), so the best matches of the owner are all someone else's run.
    noise = [
        episode(Scope.of(user_id="alice", run_id="r2"), f"lantern lantern {i}", 1000 + i)
        for i in range(60)
    ]
    target = episode(run_one, "the only r1 episode, lit by a lantern at dusk", 7)
    with store.transaction() as tx:
        tx.put_episodes([*noise, target])
    hits = store.vector_search("episode", run_one, unit(999), 5)
    assert [i for i, _ in hits] == [target.id]
    assert [i for i, _ in store.keyword_search("episode", run_one, "lantern", 5)] == [target.id]
    owner_wide = store.keyword_search("episode", Scope.of(user_id="alice"), "lantern", 5)
    assert len(owner_wide) == 5 and target.id not in {i for i, _ in owner_wide}
    assert [e.id for e in store.list_episodes(run_one, limit=10)] == [target.id]


def supersede(store: GraphStore, fact: Fact) -> Fact:
    """Store ``fact`` closed as superseded (valid until 2026-04-01); returns the closed version."""
    closed = fact.model_copy(
        update={
            "invalid_at": datetime(2026, 4, 1, tzinfo=UTC),
            "expired_at": datetime.now(UTC),
            "expired_reason": ExpiryReason.SUPERSEDED,
        }
    )
    with store.transaction() as tx:
        tx.put_facts([closed])
    return closed


def test_adjacency_is_undirected_and_history_keeps_expired(store: GraphStore) -> None:
    made = populate(store, ALICE)
    denver, lives = made["denver"], made["lives"]
    assert {f.id for f in store.facts_of_entities(ALICE, [denver.id])} == {lives.id}  # type: ignore[attr-defined]
    supersede(store, lives)  # type: ignore[arg-type]
    assert store.facts_of_entities(ALICE, [denver.id]) == []  # type: ignore[attr-defined]
    [again] = store.facts_of_entities(ALICE, [denver.id], include_expired=True)  # type: ignore[attr-defined]
    assert again.expired_reason == ExpiryReason.SUPERSEDED
    assert lives.id in {f.id for f in store.entity_history(ALICE, denver.id)}  # type: ignore[attr-defined]


def test_fact_edges_are_the_facts_of_entities_without_text(store: GraphStore) -> None:
    made = populate(store, ALICE)
    populate(store, BOB, offset=100)
    maya, denver, lives = made["maya"], made["denver"], made["lives"]
    entity_ids = [maya.id, denver.id]  # type: ignore[attr-defined]
    facts = {f.id: f for f in store.facts_of_entities(ALICE, entity_ids)}
    edges = {e.id: e for e in store.fact_edges_of_entities(ALICE, entity_ids)}
    assert set(edges) == set(facts) and lives.id in edges  # type: ignore[attr-defined]
    for fact_id, edge in edges.items():
        assert edge == FactEdge.of(facts[fact_id])
    closed = supersede(store, lives)  # type: ignore[arg-type]
    assert lives.id not in {e.id for e in store.fact_edges_of_entities(ALICE, entity_ids)}  # type: ignore[attr-defined]
    history = store.fact_edges_of_entities(ALICE, entity_ids, include_expired=True)
    assert {e.id: e for e in history}[closed.id] == FactEdge.of(closed)


def test_episode_headers_are_the_episodes_without_content(store: GraphStore) -> None:
    made = populate(store, ALICE)
    said = made["said"]
    assert isinstance(said, Episode)
    spoken = episode(Scope.of(user_id="alice", run_id="call-2"), "Maya said hi", 40)
    spoken = spoken.model_copy(update={"name": "Maya"})
    with store.transaction() as tx:
        tx.put_episodes([spoken])
    missing = uuid.uuid4()
    headers = store.get_episode_headers([said.id, spoken.id, missing])
    assert sorted(headers, key=lambda h: h.name or "") == [
        EpisodeHeader.of(said),
        EpisodeHeader.of(spoken),
    ]
    assert EpisodeHeader.of(spoken) == (spoken.id, "alice", None, "call-2", "Maya")


def test_episode_vectors_are_the_stored_embeddings(store: GraphStore) -> None:
    made = populate(store, ALICE)
    said = made["said"]
    assert isinstance(said, Episode) and said.embedding is not None
    bare = episode(ALICE, "not embedded", 41).model_copy(update={"embedding": None})
    with store.transaction() as tx:
        tx.put_episodes([bare])
    vectors = store.episode_vectors([said.id, bare.id, uuid.uuid4()])
    assert list(vectors) == [said.id]
    assert np.allclose(vectors[said.id], said.embedding, atol=1e-6)


def test_fact_edges_per_entity_keeps_the_newest_facts_of_each_entity(store: GraphStore) -> None:
    made = populate(store, ALICE)
    maya, denver = made["maya"], made["denver"]
    everything = store.fact_edges_of_entities(ALICE, [maya.id, denver.id])  # type: ignore[attr-defined]
    capped = store.fact_edges_of_entities(ALICE, [maya.id], per_entity=1)  # type: ignore[attr-defined]
    touching_maya = [e for e in everything if maya.id in (e.subject_id, e.object_id)]  # type: ignore[attr-defined]
    assert len(touching_maya) > 1
    newest = max(touching_maya, key=lambda e: (e.created_at, str(e.id)))
    assert [e.id for e in capped] == [newest.id]
    # The bound is per entity: each entity keeps its own newest fact.
    both = store.fact_edges_of_entities(ALICE, [maya.id, denver.id], per_entity=1)  # type: ignore[attr-defined]
    assert 1 <= len(both) <= 2 and newest.id in {e.id for e in both}
    assert store.fact_edges_of_entities(BOB, [maya.id], per_entity=5) == []  # type: ignore[attr-defined]


def test_fact_edges_per_entity_counts_a_fact_from_an_entity_to_itself_once(
    store: GraphStore,
) -> None:
    made = populate(store, ALICE)
    maya, said = made["maya"], made["said"]
    assert isinstance(maya, Entity) and isinstance(said, Episode)
    loops = [fact(ALICE, maya, "mentions", maya, said, 60 + n) for n in range(3)]
    for loop in loops:  # one write each: learned one after another
        with store.transaction() as tx:
            tx.put_facts([loop])
    capped = store.fact_edges_of_entities(ALICE, [maya.id], per_entity=2)  # type: ignore[attr-defined]
    assert sorted(e.id for e in capped) == sorted([loops[2].id, loops[1].id])


def test_transactions_are_atomic(store: GraphStore) -> None:
    lonely = episode(ALICE, "never committed", 9)

    def write_then_fail() -> None:
        with store.transaction() as tx:
            tx.put_episodes([lonely])
            raise RuntimeError("fail mid-transaction")

    with pytest.raises(RuntimeError):
        write_then_fail()
    assert store.get_episodes([lonely.id]) == []
    assert store.vector_search("episode", ALICE, unit(9), 5) == []
    assert store.keyword_search("episode", ALICE, "committed", 5) == []


def test_names_mentions_and_provenance_lookups(store: GraphStore) -> None:
    made = populate(store, ALICE)
    maya, said, lives = made["maya"], made["said"], made["lives"]
    assert [e.id for e in store.entities_by_names(ALICE.owner, ["mai"])] == [maya.id]  # type: ignore[attr-defined]
    assert store.entities_by_names(BOB.owner, ["maya"]) == []
    assert set(store.mentions_of_episodes([said.id])[said.id]) == {maya.id, made["denver"].id}  # type: ignore[attr-defined]
    assert store.episodes_mentioning(ALICE, [maya.id], per_entity=5) == {maya.id: [said.id]}  # type: ignore[attr-defined]
    with store.transaction() as tx:
        cited = tx.facts_citing_episodes([said.id])  # type: ignore[attr-defined]
    assert lives.id in {f.id for f in cited}  # type: ignore[attr-defined]


def test_episodes_mentioning_bounds_each_entity_not_the_total(store: GraphStore) -> None:
    # A hub mentioned by many episodes must not crowd out an entity few mention.
    hub, rare = entity(ALICE, "Hub", 1), entity(ALICE, "Rare", 2)
    run_two = Scope.of(user_id="alice", run_id="r2")
    crowd = [episode(ALICE, f"hub talk {i}", 10 + i) for i in range(12)]
    other_run = episode(run_two, "hub and rare in another run", 3)
    old = episode(ALICE, "rare, once", 4)
    intruder = entity(BOB, "Hub", 5)
    theirs = episode(BOB, "bob's hub", 6)
    with store.transaction() as tx:
        tx.put_episodes([*crowd, other_run, old, theirs])
        tx.put_entities([hub, rare, intruder])
        tx.put_mentions(
            [(e.id, hub.id) for e in crowd]
            + [(other_run.id, hub.id), (other_run.id, rare.id), (old.id, rare.id)]
            + [(theirs.id, intruder.id)]
        )
    found = store.episodes_mentioning(ALICE, [hub.id, rare.id, intruder.id], per_entity=3)  # type: ignore[attr-defined]
    hub_episodes = sorted([*(e.id for e in crowd), other_run.id], key=str)
    assert found == {hub.id: hub_episodes[:3], rare.id: sorted([other_run.id, old.id], key=str)}
    narrowed = Scope.of(user_id="alice", run_id="r2")
    assert store.episodes_mentioning(narrowed, [hub.id, rare.id], per_entity=3) == {  # type: ignore[attr-defined]
        hub.id: [other_run.id],
        rare.id: [other_run.id],
    }
    assert store.episodes_mentioning(BOB, [hub.id, rare.id], per_entity=3) == {}  # type: ignore[attr-defined]
    assert store.episodes_mentioning(ALICE, [hub.id], per_entity=0) == {}  # type: ignore[attr-defined]


def test_delete_entity_removes_its_facts_and_mentions(store: GraphStore) -> None:
    made = populate(store, ALICE)
    with store.transaction() as tx:
        tx.delete_entities([made["denver"].id])  # type: ignore[attr-defined]
    assert store.get_facts([made["lives"].id]) == []  # type: ignore[attr-defined]
    assert store.get_facts([made["works"].id]) != []  # type: ignore[attr-defined]
    assert store.mentions_of_episodes([made["said"].id])[made["said"].id] == [made["maya"].id]  # type: ignore[attr-defined]


def test_forget_and_counts(store: GraphStore) -> None:
    populate(store, ALICE)
    populate(store, BOB, offset=100)
    assert store.counts(ALICE).facts == 2
    removed = store.forget(ALICE)
    assert (removed.episodes, removed.facts) == (1, 2)
    assert store.counts(ALICE).episodes == store.counts(ALICE).entities == 0
    assert store.vector_search("entity", ALICE, unit(1), 5) == []
    assert store.counts(BOB).facts == 2
    [record] = store.audit_log(ALICE.owner, limit=10)
    assert record.action == AuditAction.FORGET and "Maya" not in str(record.detail)


def test_reindex_and_check(store: GraphStore) -> None:
    populate(store, ALICE)
    store.reindex()
    assert store.check().ok
    assert store.vector_search("entity", ALICE, unit(1), 1)
