"""The Neo4j store against a real server (skipped, with the reason, when none is reachable).

The shared behavioural suite covers the store protocol on every backend; these tests
cover what is specific to the Neo4j layout: typed relationships, labels, the search
strategies, integrity repair and migration in and out.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from neo4j_server import TEST_EMBEDDER, neo4j_settings, neo4j_store, open_test_store

from graphmem.config import Neo4jSettings
from graphmem.cypher import run_cypher
from graphmem.models.records import AuditAction, AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import IndexKind
from graphmem.store.embedded.store import EmbeddedStore
from graphmem.store.migrate import migrate
from graphmem.store.neo4j import Neo4jStore
from graphmem.store.neo4j.admin import AWAIT_INDEXES

__all__ = ["neo4j_settings", "neo4j_store"]  # fixtures, re-exported for pytest

ALICE = Scope.of(user_id="alice")
BOB = Scope.of(user_id="bob")
T0 = datetime(2024, 2, 1, tzinfo=UTC)


def axis(i: int) -> list[float]:
    vector = [0.01] * TEST_EMBEDDER.dim
    vector[i % TEST_EMBEDDER.dim] = 1.0
    return vector


class Sample:
    """Alice works at Acme (then at Initech), lives in Paris; Bob works at Globex."""

    def __init__(self, scope: Scope, names: tuple[str, str, str]) -> None:
        person, employer, city = names
        self.person = Entity(
            owner=scope.owner, name=person, normalized_name=person.lower(), aliases=["Ally"],
            type="Person", embedding=axis(0),
        )  # fmt: skip
        self.employer = Entity(
            owner=scope.owner, name=employer, normalized_name=employer.lower(),
            type="Organization", embedding=axis(1),
        )  # fmt: skip
        self.city = Entity(
            owner=scope.owner, name=city, normalized_name=city.lower(), type="City",
            embedding=axis(2),
        )  # fmt: skip
        self.episode = Episode(
            content=f"{person} works at {employer} and lives in {city}", valid_at=T0,
            embedding=axis(3),
        )  # fmt: skip
        self.works = Fact(
            subject_id=self.person.id, predicate="works_at", object_id=self.employer.id,
            fact=f"{person} works at {employer}", episode_ids=[self.episode.id], valid_at=T0,
            embedding=axis(4),
        )  # fmt: skip
        self.lives = Fact(
            subject_id=self.person.id, predicate="lives_in", object_id=self.city.id,
            fact=f"{person} lives in {city}", episode_ids=[self.episode.id], embedding=axis(5),
        )  # fmt: skip
        for record in (self.episode, self.works, self.lives):
            record.stamp(scope)
        self.scope = scope

    def write(self, store: Neo4jStore | EmbeddedStore) -> None:
        with store.transaction() as tx:
            tx.put_entities([self.person, self.employer, self.city])
            tx.put_episodes([self.episode])
            tx.put_facts([self.works, self.lives])
            tx.put_mentions([(self.episode.id, self.person.id), (self.episode.id, self.city.id)])
            tx.append_audit([AuditEvent(action=AuditAction.ADD, owner=self.scope.owner)])


@pytest.fixture
def written(neo4j_store: Neo4jStore) -> tuple[Neo4jStore, Sample, Sample]:
    alice = Sample(ALICE, ("Alice", "Acme", "Paris"))
    bob = Sample(BOB, ("Bob", "Globex", "Berlin"))
    alice.write(neo4j_store)
    bob.write(neo4j_store)
    return neo4j_store, alice, bob


def test_records_round_trip(written: tuple[Neo4jStore, Sample, Sample]) -> None:
    store, alice, _ = written
    assert store.get_entities([alice.person.id]) == [
        alice.person.model_copy(update={"embedding": None})
    ]
    assert store.get_episodes([alice.episode.id]) == [
        alice.episode.model_copy(update={"embedding": None})
    ]
    assert {f.id for f in store.list_facts(ALICE, limit=10)} == {alice.works.id, alice.lives.id}
    assert store.counts(ALICE).facts == 2
    assert store.counts().entities == 6
    mentioned = store.mentions_of_episodes([alice.episode.id])
    assert set(mentioned[alice.episode.id]) == {alice.person.id, alice.city.id}
    assert [e.id for e in store.entities_by_names(ALICE.owner, ["ally"])] == [alice.person.id]
    with store.transaction() as tx:
        cited = tx.facts_citing_episodes([alice.episode.id])
        touching = tx.facts_touching(ALICE.owner, [alice.person.id], ["lives_in"])
    assert {f.id for f in cited} == {alice.works.id, alice.lives.id}
    assert [f.id for f in touching] == [alice.lives.id]


def test_scopes_do_not_leak_through_any_read(written: tuple[Neo4jStore, Sample, Sample]) -> None:
    store, alice, bob = written
    assert {e.owner for e in store.list_entities(BOB, limit=10)} == {BOB.owner}
    assert store.facts_of_entities(BOB, [alice.person.id]) == []
    assert store.episodes_mentioning(BOB, [alice.person.id], per_entity=5) == {}
    searches: list[tuple[IndexKind, list[float]]] = [
        ("entity", axis(0)), ("episode", axis(3)), ("fact", axis(4)),
    ]  # fmt: skip
    for kind, vector in searches:
        hits = [hit for hit, _ in store.vector_search(kind, BOB, vector, 5)]
        assert hits
        assert alice.person.id not in hits
        assert alice.episode.id not in hits
    assert [i for i, _ in store.keyword_search("entity", BOB, "Alice Bob", 5)] == [bob.person.id]
    assert store.keyword_search("episode", BOB, "Acme Paris", 5) == []


def test_vector_index_and_exact_scan_agree(neo4j_settings: Neo4jSettings) -> None:
    with open_test_store(neo4j_settings, exact_threshold=0) as store:
        sample = Sample(ALICE, ("Alice", "Acme", "Paris"))
        sample.write(store)
        store.read(AWAIT_INDEXES)  # the vector index fills in the background
        best, score = store.vector_search("entity", ALICE, axis(1), 1)[0]
        assert best == sample.employer.id
        assert score == pytest.approx(1.0, abs=1e-3)


def test_facts_are_typed_relationships_and_move_when_replaced(
    written: tuple[Neo4jStore, Sample, Sample],
) -> None:
    store, alice, _ = written
    types = run_cypher(store, "CALL db.relationshipTypes()", None, ALICE)
    assert {"WORKS_AT", "LIVES_IN"} <= {row["relationshipType"] for row in types}
    moved = alice.works.model_copy(update={"predicate": "employed_by"})
    with store.transaction() as tx:
        tx.put_facts([moved])
    facts = store.facts_of_entities(ALICE, [alice.person.id])
    assert sorted(f.predicate for f in facts) == ["employed_by", "lives_in"]
    assert store.check().ok


def test_a_changed_entity_type_moves_its_label(
    written: tuple[Neo4jStore, Sample, Sample],
) -> None:
    store, alice, _ = written
    with store.transaction() as tx:
        tx.put_entities([alice.city.model_copy(update={"type": "Town"})])
    labels = {row["label"] for row in run_cypher(store, "CALL db.labels()", None, ALICE)}
    assert "Town" in labels
    assert "City" not in labels


def test_forget_removes_one_owner_only(written: tuple[Neo4jStore, Sample, Sample]) -> None:
    store, _, bob = written
    forgotten = store.forget(ALICE)
    assert forgotten.facts == 2
    assert forgotten.entities == 3
    assert store.counts(ALICE).entities == 0
    assert store.counts(BOB).facts == 2
    assert store.get_entities([bob.person.id])
    assert [e.action for e in store.audit_log(ALICE.owner, limit=5)] == [AuditAction.FORGET]


def test_check_finds_and_repairs_a_missing_relationship(
    written: tuple[Neo4jStore, Sample, Sample], neo4j_settings: Neo4jSettings
) -> None:
    import neo4j

    store, alice, _ = written
    assert store.check().ok
    with neo4j.GraphDatabase.driver(
        neo4j_settings.uri,
        auth=(neo4j_settings.user, neo4j_settings.password.get_secret_value()),
    ) as driver:
        driver.execute_query(
            "MATCH ()-[r:WORKS_AT {id: $id}]->() DELETE r",
            {"id": str(alice.works.id)},
            database_=neo4j_settings.database,
        )
    report = store.check(repair=True)
    assert any("without their relationship" in problem for problem in report.problems)
    assert report.ok
    assert store.check().problems == []
    assert {f.id for f in store.facts_of_entities(ALICE, [alice.person.id])} == {
        alice.works.id, alice.lives.id,
    }  # fmt: skip


def test_migration_to_neo4j_and_back(neo4j_store: Neo4jStore, tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "a", TEST_EMBEDDER) as first:
        for scope, names in ((ALICE, ("Alice", "Acme", "Paris")), (BOB, ("Bob", "X", "Y"))):
            Sample(scope, names).write(first)
        there = migrate(first, neo4j_store, batch=2)
        assert neo4j_store.counts() == first.counts()
        with EmbeddedStore(tmp_path / "b", TEST_EMBEDDER) as back:
            assert migrate(neo4j_store, back, batch=2) == there
            assert back.counts() == first.counts()
            query = np.asarray(axis(1))
            assert (
                back.vector_search("entity", ALICE, query.tolist(), 1)[0][0]
                == (first.vector_search("entity", ALICE, query.tolist(), 1)[0][0])
            )


def test_history_is_kept_in_relationship_properties(
    written: tuple[Neo4jStore, Sample, Sample],
) -> None:
    store, alice, _ = written
    closed = alice.works.model_copy(
        update={"invalid_at": T0 + timedelta(days=3), "expired_at": T0 + timedelta(days=3)}
    )
    with store.transaction() as tx:
        tx.put_facts([closed])
    current = store.facts_of_entities(ALICE, [alice.person.id])
    every = store.entity_history(ALICE, alice.person.id)
    assert alice.works.id not in {f.id for f in current}
    assert {f.id for f in every} == {alice.works.id, alice.lives.id}
