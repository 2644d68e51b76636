"""Cypher exploration over the embedded store: one scope's graph and nothing else."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from graphmem.cypher import run_cypher
from graphmem.errors import CypherError
from graphmem.models.records import Entity, Episode, ExpiryReason, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import EmbedderInfo
from graphmem.store.embedded.store import EmbeddedStore

ALICE = Scope.of(user_id="alice")
ALICE_RUN_1 = Scope.of(user_id="alice", run_id="run-1")
BOB = Scope.of(user_id="bob")
T0 = datetime(2024, 1, 1, tzinfo=UTC)
HOSTILE_NAME = 'Zoë "the" O\'Neil `}) RETURN n //\n\\ 😀'


class Graphs:
    """Writes small graphs for two users into one store."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.store = store
        self._rng = np.random.default_rng(7)

    def vector(self) -> list[float]:
        return [float(x) for x in self._rng.random(8) + 0.01]

    def entity(self, scope: Scope, name: str, kind: str) -> Entity:
        return Entity(
            owner=scope.owner, name=name, normalized_name=name.lower(), type=kind,
            embedding=self.vector(),
        )  # fmt: skip

    def write(
        self,
        scope: Scope,
        episodes: list[Episode],
        entities: list[Entity],
        facts: list[Fact],
        mentions: list[tuple[Episode, Entity]],
    ) -> None:
        for record in [*episodes, *facts]:
            record.stamp(scope)
        with self.store.transaction() as tx:
            tx.put_entities(entities)
            tx.put_episodes(episodes)
            tx.put_facts(facts)
            tx.put_mentions([(episode.id, entity.id) for episode, entity in mentions])


def fact(subject: Entity, predicate: str, obj: Entity, text: str, **fields: object) -> Fact:
    return Fact(
        subject_id=subject.id, predicate=predicate, object_id=obj.id, fact=text,
        subject_name=subject.name, object_name=obj.name, **fields,
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    """Alice (two runs, a job change, a hostile name) and Bob, in one store."""
    with EmbeddedStore(tmp_path / "store", EmbedderInfo("test-embedder", 8)) as opened:
        graphs = Graphs(opened)
        alice = graphs.entity(ALICE, "Alice", "Person")
        acme = graphs.entity(ALICE, "Acme", "Organization")
        initech = graphs.entity(ALICE, "Initech", "Organization")
        paris = graphs.entity(ALICE, "Paris", "City")
        zoe = graphs.entity(ALICE, HOSTILE_NAME, "Person")
        first = Episode(content="I work at Acme.", valid_at=T0, embedding=graphs.vector())
        second = Episode(
            content="I moved to Initech.", valid_at=T0 + timedelta(days=30),
            embedding=graphs.vector(),
        )  # fmt: skip
        new_job = fact(alice, "works_at", initech, "Alice works at Initech", valid_at=T0)
        old_job = fact(
            alice, "works_at", acme, "Alice worked at Acme", valid_at=T0,
            invalid_at=T0 + timedelta(days=30), expired_at=T0 + timedelta(days=30),
            expired_reason=ExpiryReason.SUPERSEDED, superseded_by=new_job.id,
        )  # fmt: skip
        lives = fact(alice, "lives_in", paris, "Alice lives in Paris")
        friend = fact(alice, "friend_of", zoe, "Alice is friends with Zoë")
        first.stamp(ALICE_RUN_1)
        old_job.stamp(ALICE_RUN_1)
        with opened.transaction() as tx:
            tx.put_entities([alice, acme, initech, paris, zoe])
            tx.put_episodes([first])
            tx.put_facts([old_job])
        graphs.write(
            ALICE, [second], [], [new_job, lives, friend],
            [(second, alice), (second, initech)],
        )  # fmt: skip
        with opened.transaction() as tx:
            tx.put_mentions([(first.id, alice.id), (first.id, acme.id)])
        bob = graphs.entity(BOB, "Bob", "Person")
        globex = graphs.entity(BOB, "Globex", "Company")
        bob_episode = Episode(content="Bob: I work at Globex.", embedding=graphs.vector())
        graphs.write(
            BOB, [bob_episode], [bob, globex],
            [fact(bob, "works_at", globex, "Bob works at Globex")], [(bob_episode, bob)],
        )  # fmt: skip
        yield opened


def names(rows: list[dict[str, Any]], column: str) -> list[str]:
    return sorted(str(row[column]) for row in rows)


def test_match_everything_returns_only_the_callers_scope(store: EmbeddedStore) -> None:
    rows = run_cypher(store, "MATCH (n) RETURN n", None, ALICE)
    assert len(rows) == 5 + 2  # Alice's entities and episodes
    assert {row["n"]["owner"] for row in rows} == {"user:alice"}
    everything = run_cypher(store, "MATCH (a)-[r]->(b) RETURN r", None, ALICE)
    assert all(row["r"].get("owner") in (None, "user:alice") for row in everything)


@pytest.mark.parametrize(
    ("query", "params", "bob_sees_it"),
    [
        ("MATCH (n) WHERE n.name = 'Bob' RETURN n", None, True),
        ("MATCH (n {name: 'Globex'}) RETURN n.name", None, True),
        ("MATCH (n) WHERE n.owner = 'user:bob' RETURN n", None, True),
        ("MATCH (n) WHERE n.name = $name RETURN n.name", {"name": "Bob"}, True),
        ("MATCH (n:Company) RETURN n", None, True),
        ("MATCH (e:Episode) WHERE e.content CONTAINS 'Globex' RETURN e.content", None, True),
        ("MATCH (a)-[r]->(b) WHERE r.fact = 'Bob works at Globex' RETURN r", None, True),
        # a parameter cannot close the string it is bound into
        ("MATCH (n) WHERE n.name = $name RETURN n", {"name": 'x" OR n.name = "Bob'}, False),
    ],
)
def test_another_users_records_are_unreachable(
    store: EmbeddedStore, query: str, params: dict[str, str] | None, bob_sees_it: bool
) -> None:
    assert run_cypher(store, query, params, ALICE) == []
    assert (run_cypher(store, query, params, BOB) != []) is bob_sees_it


def test_aggregates_count_only_the_scope(store: EmbeddedStore) -> None:
    assert run_cypher(store, "MATCH (n) RETURN count(n)", None, ALICE) == [{"count(n)": 7}]
    assert run_cypher(store, "MATCH (n) RETURN count(n)", None, BOB) == [{"count(n)": 3}]
    rows = run_cypher(store, "MATCH (n:Entity) RETURN collect(n.name) AS all_names", None, BOB)
    assert sorted(rows[0]["all_names"]) == ["Bob", "Globex"]


def test_procedures_describe_only_the_scope(store: EmbeddedStore) -> None:
    labels = run_cypher(store, "CALL db.labels()", None, ALICE)
    assert labels == [{"label": value} for value in ("City", "Entity", "Episode",
                                                     "Organization", "Person")]  # fmt: skip
    types = run_cypher(store, "CALL db.relationshipTypes() YIELD relationshipType", None, BOB)
    assert types == [{"relationshipType": "MENTIONS"}, {"relationshipType": "WORKS_AT"}]
    keys = {row["propertyKey"] for row in run_cypher(store, "CALL db.propertyKeys()", None, BOB)}
    assert {"name", "fact", "content", "valid_at"} <= keys
    assert not keys & {"__labels__", "__kind__"}


def test_facts_are_those_true_now_unless_history_is_asked(store: EmbeddedStore) -> None:
    query = "MATCH (p:Person)-[r:WORKS_AT]->(o) RETURN p.name, o.name, r.expired_reason"
    now = run_cypher(store, query, None, ALICE)
    assert now == [{"p.name": "Alice", "o.name": "Initech", "r.expired_reason": None}]
    history = run_cypher(store, query, None, ALICE, history=True)
    assert names(history, "o.name") == ["Acme", "Initech"]
    assert {row["r.expired_reason"] for row in history} == {None, "superseded"}


def test_a_narrowed_scope_sees_its_run_and_the_owners_entities(store: EmbeddedStore) -> None:
    episodes = run_cypher(store, "MATCH (e:Episode) RETURN e.content", None, ALICE_RUN_1)
    assert episodes == [{"e.content": "I work at Acme."}]
    entities = run_cypher(store, "MATCH (n:Entity) RETURN n.name", None, ALICE_RUN_1)
    assert len(entities) == 5
    facts = run_cypher(
        store, "MATCH (a)-[r]->(b) WHERE r.predicate = 'works_at' RETURN b.name", None,
        ALICE_RUN_1, history=True,
    )  # fmt: skip
    assert facts == [{"b.name": "Acme"}]


def test_parameters_are_values_never_syntax(store: EmbeddedStore) -> None:
    rows = run_cypher(
        store, "MATCH (n) WHERE n.name = $name RETURN n.name, n.type", {"name": HOSTILE_NAME},
        ALICE,
    )  # fmt: skip
    assert rows == [{"n.name": HOSTILE_NAME, "n.type": "Person"}]
    listed = run_cypher(
        store, "MATCH (n:Entity) WHERE n.name IN $names RETURN n.name AS who ORDER BY who",
        {"names": ["Paris", "Acme", "Bob", HOSTILE_NAME]}, ALICE,
    )  # fmt: skip
    assert [row["who"] for row in listed] == ["Acme", "Paris", HOSTILE_NAME]
    numbers = run_cypher(
        store, "MATCH (n:Entity) WHERE n.name = $name AND $flag = TRUE RETURN n.name",
        {"name": "Paris", "flag": True}, ALICE,
    )  # fmt: skip
    assert numbers == [{"n.name": "Paris"}]


def test_single_quoted_literals_and_comments_work(store: EmbeddedStore) -> None:
    rows = run_cypher(
        store,
        "MATCH (n:Person) /* people */ WHERE n.name = 'Alice' // only her\n RETURN n.name;",
        None, ALICE,
    )  # fmt: skip
    assert rows == [{"n.name": "Alice"}]
    escaped = run_cypher(store, "MATCH (n) WHERE n.name = 'Zo\\u00eb' RETURN n", None, ALICE)
    assert escaped == []


def test_nodes_and_relationships_come_back_as_plain_properties(store: EmbeddedStore) -> None:
    rows = run_cypher(
        store, "MATCH (p:Person)-[r:LIVES_IN]->(c:City) RETURN c, r, p.name AS who", None,
        ALICE,
    )  # fmt: skip
    assert list(rows[0]) == ["c", "r", "who"]  # the RETURN clause's order
    city, relationship = rows[0]["c"], rows[0]["r"]
    assert city["_labels"] == ["City", "Entity"]
    assert city["name"] == "Paris"
    assert relationship["_type"] == "LIVES_IN"
    assert relationship["fact"] == "Alice lives in Paris"
    assert "__labels__" not in city
    assert "embedding" not in city


def test_multi_hop_and_mentions_patterns(store: EmbeddedStore) -> None:
    mentioned = run_cypher(
        store, "MATCH (e:Episode)-[:MENTIONS]->(n:Organization) RETURN n.name", None, ALICE
    )
    assert names(mentioned, "n.name") == ["Acme", "Initech"]
    hops = run_cypher(store, "MATCH (e:Episode)-[*2]->(n:Organization) RETURN n.name", None, ALICE)
    assert names(hops, "n.name") == ["Initech", "Initech"]
    not_null = run_cypher(
        store, "MATCH (n:Entity) WHERE n.summary IS NOT NULL AND n.name = 'Acme' RETURN n.name",
        None, ALICE,
    )  # fmt: skip
    assert not_null == [{"n.name": "Acme"}]


@pytest.mark.parametrize(
    "query",
    [
        "MATCH (n) DETACH DELETE n",
        "MATCH (n) SET n.name = 'pwned' RETURN n",
        "CREATE (n:Entity {name: 'Mallory'})",
        "CALL apoc.cypher.doIt('MATCH (n) DETACH DELETE n', {})",
    ],
)
def test_writes_are_rejected_and_the_store_is_unchanged(store: EmbeddedStore, query: str) -> None:
    before = (store.counts(ALICE), store.counts(BOB))
    with pytest.raises(CypherError):
        run_cypher(store, query, None, ALICE)
    assert (store.counts(ALICE), store.counts(BOB)) == before
    assert run_cypher(store, "MATCH (n {name: 'Alice'}) RETURN n.name", None, ALICE) != []


@pytest.mark.parametrize(
    ("query", "params", "message"),
    [
        ("OPTIONAL MATCH (n) RETURN n", None, "supported subset"),
        ("MATCH (n) RETURN count(*)", None, "supported subset"),
        ("MATCH (n) WHERE n.name = $missing RETURN n", None, r"\$missing"),
        ("MATCH (n) WHERE n.name = $name RETURN n", {"name": {"a": 1}}, "type dict"),
        ("MATCH (n) WHERE n.x = $x RETURN n", {"x": float("nan")}, "finite"),
        ("MATCH (n) RETURN n.`odd name`", None, "quoted name"),
        ("CALL db.labels() YIELD wrong", None, "yields 'label'"),
    ],
)
def test_unsupported_queries_fail_with_a_clear_error(
    store: EmbeddedStore, query: str, params: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(CypherError, match=message):
        run_cypher(store, query, params, ALICE)


def test_scopes_larger_than_the_limit_are_refused(store: EmbeddedStore) -> None:
    with pytest.raises(CypherError, match="more than the 3"):
        run_cypher(store, "MATCH (n) RETURN n", None, ALICE, max_records=3)


def test_rows_are_capped_unless_the_query_says_limit(store: EmbeddedStore) -> None:
    assert len(run_cypher(store, "MATCH (n) RETURN n.name", None, ALICE, max_rows=2)) == 2
    limited = run_cypher(store, "MATCH (n) RETURN n.name LIMIT 4", None, ALICE, max_rows=2)
    assert len(limited) == 4
