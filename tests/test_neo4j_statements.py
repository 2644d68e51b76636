"""Statements of the Neo4j backend, checked without a server.

Golden texts pin the Cypher sent for a sample ``add``; the injection tests check that
no value ever reaches statement text; schema, version and connection rules follow.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from graphmem.config import Neo4jSettings
from graphmem.errors import BackendUnavailableError, InvalidIdentifierError, InvalidInputError
from graphmem.models.edges import FactEdge
from graphmem.models.records import AuditAction, AuditEvent, Entity, Episode, ExpiryReason, Fact
from graphmem.models.scope import Scope
from graphmem.store.base import EmbedderInfo
from graphmem.store.neo4j import reads, schema, search, statements
from graphmem.store.neo4j.identifiers import owner_token
from graphmem.store.neo4j.records import (
    audit_from,
    audit_properties,
    edge_from,
    entity_from,
    entity_properties,
    episode_from,
    episode_properties,
    fact_from,
    fact_record_properties,
    normalized,
)
from graphmem.store.neo4j.statements import Statement

DIM = 4
SCOPE = Scope.of(user_id="alice", agent_id="helper", run_id="run-1")
WHEN = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _id(n: int) -> uuid.UUID:
    return uuid.UUID(int=n)


def sample_add(text: str = "plain") -> tuple[Episode, list[Entity], Fact, AuditEvent]:
    """One episode, two entities, one fact, one audit event, all carrying ``text``."""
    episode = Episode(
        id=_id(1),
        content=f"I work at {text}",
        name=text,
        valid_at=WHEN,
        created_at=WHEN,
        metadata={"note": text},
        embedding=[1.0, 0.0, 0.0, 0.0],
    )
    episode.stamp(SCOPE)
    person = Entity(
        id=_id(2),
        owner=SCOPE.owner,
        name=f"Alice {text}",
        normalized_name=f"alice {text}",
        aliases=[f"Al {text}"],
        type="Person",
        summary=text,
        created_at=WHEN,
        updated_at=WHEN,
        embedding=[0.0, 2.0, 0.0, 0.0],
    )
    company = Entity(
        id=_id(3),
        owner=SCOPE.owner,
        name=text,
        normalized_name=text.lower(),
        type=f"company {text}",
        created_at=WHEN,
        updated_at=WHEN,
    )
    fact = Fact(
        id=_id(4),
        subject_id=person.id,
        predicate="works_at",
        object_id=company.id,
        fact=f"Alice works at {text}",
        subject_name=person.name,
        object_name=company.name,
        confidence=0.9,
        episode_ids=[episode.id],
        valid_at=WHEN,
        created_at=WHEN,
        metadata={"source": text},
        embedding=[0.0, 0.0, 3.0, 4.0],
    )
    fact.stamp(SCOPE)
    event = AuditEvent(
        id=_id(5), at=WHEN, action=AuditAction.ADD, owner=SCOPE.owner, actor=text,
        target_ids=[fact.id], detail={"text": text},
    )  # fmt: skip
    return episode, [person, company], fact, event


def add_statements(text: str = "plain") -> list[Statement]:
    """Every statement one ``add`` of the sample sends (what the transaction runs)."""
    episode, entities, fact, event = sample_add(text)
    ids = [str(fact.id)]
    return [
        statements.put_episodes([episode], DIM),
        *statements.put_entities(entities, DIM),
        statements.delete_fact_relationships(ids),
        statements.delete_fact_sources(ids),
        statements.put_fact_records([fact], DIM),
        *(
            statements.create_fact_relationships(rel_type, rows)
            for rel_type, rows in statements.fact_relationship_groups([fact]).items()
        ),
        statements.put_fact_sources([fact]),
        statements.put_mentions([(episode.id, entities[0].id)]),
        statements.append_audit([event]),
    ]


GOLDEN_ADD = [
    "UNWIND $rows AS row\nMERGE (n:Episode {id: row.id})\nSET n = row",
    "UNWIND $rows AS row\nMERGE (n:Entity {id: row.id})\n"
    "WITH n, row, n.type_label AS previous_label\nSET n = row\nSET n:Person\n"
    "RETURN row.id AS id, row.type_label AS label, previous_label",
    "UNWIND $rows AS row\nMERGE (n:Entity {id: row.id})\n"
    "WITH n, row, n.type_label AS previous_label\nSET n = row\nSET n:CompanyPlain\n"
    "RETURN row.id AS id, row.type_label AS label, previous_label",
    "UNWIND $ids AS id\nMATCH (k:FactRecord {id: id})\n"
    "MATCH (:Entity {id: k.subject_id})-[r]->(:Entity {id: k.object_id})\n"
    "WHERE r.id = id\nDELETE r",
    "UNWIND $ids AS id\nMATCH (s:FactSource {fact_id: id})\nDELETE s",
    "UNWIND $rows AS row\nMERGE (k:FactRecord {id: row.id})\nSET k = row",
    "UNWIND $rows AS row\nMATCH (s:Entity {id: row.subject_id})\n"
    "MATCH (o:Entity {id: row.object_id})\nCREATE (s)-[r:`WORKS_AT`]->(o)\nSET r = row\n"
    "RETURN collect(row.id) AS created",
    "UNWIND $rows AS row\nCREATE (:FactSource {fact_id: row.fact_id, episode_id: row.episode_id})",
    "UNWIND $rows AS row\nMATCH (ep:Episode {id: row.episode_id})\n"
    "MATCH (e:Entity {id: row.entity_id})\nMERGE (ep)-[:MENTIONS]->(e)\n"
    "RETURN count(*) AS matched",
    "UNWIND $rows AS row\nCREATE (a:AuditEvent)\nSET a = row",
]


def test_statements_of_a_sample_add_match_the_golden_texts() -> None:
    assert [statement.text for statement in add_statements()] == GOLDEN_ADD


def test_an_add_is_a_fixed_number_of_batched_statements_whatever_its_size() -> None:
    _episode, _entities, fact, _ = sample_add()
    many = [fact.model_copy(update={"id": uuid.uuid4()}) for _ in range(300)]
    fact_records = statements.put_fact_records(many, DIM)
    assert fact_records.text == GOLDEN_ADD[5]
    assert len(fact_records.params["rows"]) == 300
    groups = statements.fact_relationship_groups(many)
    assert list(groups) == ["WORKS_AT"]
    assert len(groups["WORKS_AT"]) == 300


def test_facts_are_grouped_into_one_statement_per_relationship_type() -> None:
    _, _, fact, _ = sample_add()
    lives = fact.model_copy(update={"id": _id(9), "predicate": "lives_in"})
    created = [
        statements.create_fact_relationships(rel_type, rows)
        for rel_type, rows in statements.fact_relationship_groups([fact, lives, fact]).items()
    ]
    assert [statement.text.splitlines()[3] for statement in created] == [
        "CREATE (s)-[r:`WORKS_AT`]->(o)",
        "CREATE (s)-[r:`LIVES_IN`]->(o)",
    ]


def test_the_sample_add_carries_its_values_as_parameters() -> None:
    episode_rows = add_statements()[0].params["rows"]
    assert episode_rows == [
        {
            "id": str(_id(1)),
            "owner": "user:alice",
            "owner_token": owner_token("user:alice"),
            "user_id": "alice",
            "agent_id": "helper",
            "run_id": "run-1",
            "content": "I work at plain",
            "role": "user",
            "name": "plain",
            "valid_at": "2025-03-01T12:00:00.000000Z",
            "created_at": "2025-03-01T12:00:00.000000Z",
            "metadata": '{"note":"plain"}',
            "embedding": [1.0, 0.0, 0.0, 0.0],
            "expires_at": None,
        }
    ]
    fact_row = add_statements()[5].params["rows"][0]
    assert fact_row["rel_type"] == "WORKS_AT"
    assert fact_row["episode_ids"] == [str(_id(1))]
    assert fact_row["embedding"] == [0.0, 0.0, 0.6, 0.8]  # stored unit-length
    assert "embedding" not in add_statements()[6].params["rows"][0]  # not on the edge


NASTY = [
    'O\'Brien "the `quoted`" }) DETACH DELETE n //',
    "`}]->(x) SET x.admin = true RETURN x //",
    "$owner {id: 1} /* */ \\' \n CALL apoc.do.it()",
]


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


@pytest.mark.parametrize("text", NASTY)
def test_no_value_is_ever_interpolated_into_statement_text(text: str) -> None:
    built = add_statements(text)
    params = [string for statement in built for string in _strings(statement.params)]
    for statement in built:
        assert text not in statement.text
        for fragment in ("O'Brien", "DETACH DELETE n", "x.admin", "apoc.do.it", "$owner {"):
            assert fragment not in statement.text
    assert any(text == value for value in params)  # names, sentences and summaries
    assert any(text in value for value in params if value != text)  # content, metadata JSON


@pytest.mark.parametrize("text", NASTY)
def test_statement_texts_do_not_depend_on_values(text: str) -> None:
    plain = [statement.text for statement in add_statements("plain")]
    nasty = [statement.text for statement in add_statements(text)]
    # Only the derived type label of "company <text>" may differ, and it does not
    # exist for these texts, so that entity gets no label at all.
    assert nasty[0] == plain[0]
    assert nasty[1] == plain[1]
    assert nasty[3:] == plain[3:]
    assert "SET n:" not in nasty[2]


def test_an_unsafe_predicate_fails_before_any_statement_is_built() -> None:
    _, _, fact, _ = sample_add()
    bad = fact.model_copy(update={"predicate": "works`at"})
    with pytest.raises(InvalidIdentifierError):
        statements.put_fact_records([bad], DIM)
    with pytest.raises(InvalidIdentifierError):
        statements.fact_relationship_groups([bad])


def test_wrong_embeddings_are_rejected_before_writing() -> None:
    episode, _, _, _ = sample_add()
    for vector, message in (
        ([1.0, 0.0], "dimension 2"),
        ([float("nan"), 0.0, 0.0, 1.0], "NaN"),
        ([0.0, 0.0, 0.0, 0.0], "all zeros"),
    ):
        bad = episode.model_copy(update={"embedding": vector})
        with pytest.raises(InvalidInputError, match=message):
            statements.put_episodes([bad], DIM)


def test_scoped_reads_filter_on_every_scope_id_given() -> None:
    statement = reads.list_facts(SCOPE, limit=10, offset=5, include_expired=False)
    assert statement.text == (
        "MATCH (k:FactRecord)\n"
        "WHERE k.owner = $owner AND k.agent_id = $agent_id AND k.run_id = $run_id"
        " AND k.expired_at IS NULL\n"
        "WITH k ORDER BY k.created_at DESC, k.id DESC\n"
        "SKIP $offset LIMIT $limit\n"
        "RETURN k {.id, .owner, .user_id, .agent_id, .run_id, .subject_id, .predicate, "
        ".object_id, .fact, .subject_name, .object_name, .confidence, .episode_ids, .valid_at, "
        ".invalid_at, .created_at, .expired_at, .expired_reason, .superseded_by, "
        ".closed_by_episode_id, .metadata, .expires_at} AS props"
    )
    assert statement.params == {
        "owner": "user:alice", "agent_id": "helper", "run_id": "run-1", "limit": 10, "offset": 5,
    }  # fmt: skip
    owner_only = reads.list_episodes(Scope.of(user_id="alice"), limit=3, offset=0)
    assert "WHERE n.owner = $owner\n" in owner_only.text
    assert owner_only.params == {"owner": "user:alice", "limit": 3, "offset": 0}


def test_neighbourhood_expansion_walks_relationships_of_the_scope() -> None:
    statement = reads.facts_of_entities(SCOPE, ["e1", "e2"], include_expired=True)
    assert statement.text.startswith(
        "MATCH (e:Entity)-[r]-(:Entity)\n"
        "WHERE e.id IN $ids AND r.owner = $owner AND r.agent_id = $agent_id"
        " AND r.run_id = $run_id\nWITH DISTINCT r\n"
    )
    assert statement.params["ids"] == ["e1", "e2"]


def test_edge_reads_project_only_the_edge_fields() -> None:
    around = reads.fact_edges_of_entities(SCOPE, ["e1"], include_expired=False)
    assert around.text.startswith(
        "MATCH (e:Entity)-[r]-(:Entity)\n"
        "WHERE e.id IN $ids AND r.owner = $owner AND r.agent_id = $agent_id"
        " AND r.run_id = $run_id AND r.expired_at IS NULL\nWITH DISTINCT r\n"
    )
    by_id = reads.fact_edges_by_ids(["f1", "f2"])
    assert by_id.params == {"ids": ["f1", "f2"]}
    for statement in (around, by_id):
        assert ".episode_ids" in statement.text and ".created_at" in statement.text
        assert ".fact," not in statement.text and ".metadata" not in statement.text
        assert "f1" not in statement.text and "e1" not in statement.text


def test_episode_headers_read_no_content() -> None:
    statement = reads.episode_headers_by_ids(["p1", "p2"])
    assert statement.text == (
        "UNWIND $ids AS id\nMATCH (n:Episode {id: id})\n"
        "RETURN n.id AS id, n.user_id AS user_id, n.agent_id AS agent_id, "
        "n.run_id AS run_id, n.name AS name"
    )
    assert statement.params == {"ids": ["p1", "p2"]}


def test_episode_vectors_read_only_ids_and_embeddings() -> None:
    statement = reads.episode_vectors_by_ids(["p1"])
    assert statement.text == (
        "UNWIND $ids AS id\nMATCH (n:Episode {id: id})\n"
        "WHERE n.embedding IS NOT NULL\nRETURN n.id AS id, n.embedding AS embedding"
    )
    assert statement.params == {"ids": ["p1"]}


def test_entities_are_scoped_by_owner_only() -> None:
    statement = reads.list_entities(SCOPE, limit=5, offset=0)
    assert "agent_id" not in statement.text
    assert "run_id" not in statement.text
    assert statement.params["owner"] == "user:alice"


def test_keyword_queries_require_the_owner_token_and_quote_every_term() -> None:
    lucene = search.lucene_query("entity", SCOPE, 'Who is "Bob" OR name:* AND title:(x)?')
    assert lucene == (
        f'owner_token:"{owner_token("user:alice")}" AND '
        '(name:("bob" OR "name" OR "title" OR "x")'
        ' OR alias_text:("bob" OR "name" OR "title" OR "x"))'
    )
    assert search.lucene_query("episode", SCOPE, "the and of") is None
    statement = search.keyword_query("episode", "QUERY", 7)
    assert statement.text == (
        "CALL db.index.fulltext.queryNodes('episode_content', $query, {limit: $fetch})\n"
        "YIELD node, score\n"
        "RETURN node.id AS id, score, node.owner AS owner,\n"
        "       node.user_id AS user_id, node.agent_id AS agent_id, node.run_id AS run_id"
    )
    assert statement.params == {"query": "QUERY", "fetch": 7}


def test_vector_candidates_carry_the_fields_that_decide_visibility() -> None:
    rows = [
        {"owner": "user:alice", "user_id": "alice", "agent_id": "helper", "run_id": "run-1"},
        {"owner": "user:alice", "user_id": "alice", "agent_id": "helper", "run_id": "run-2"},
        {"owner": "user:bob", "user_id": "bob", "agent_id": "helper", "run_id": "run-1"},
    ]
    assert [search.visible("fact", SCOPE, row) for row in rows] == [True, False, False]
    assert [search.visible("entity", SCOPE, row) for row in rows] == [True, True, False]
    statement = search.vector_candidates("entity", [0.5, 0.5], 40)
    assert statement.text.startswith(
        "CALL db.index.vector.queryNodes('entity_embedding', $fetch, $vector)\n"
    )
    assert statement.params == {"fetch": 40, "vector": [0.5, 0.5]}


def test_exact_scan_uses_the_native_function_only_when_the_server_has_it() -> None:
    native = search.exact_vector_scan("episode", SCOPE, [1.0], 3, native_cosine=True)
    dot = search.exact_vector_scan("episode", SCOPE, [1.0], 3, native_cosine=False)
    assert "vector.similarity.cosine(n.embedding, $vector)" in native.text
    assert "vector.similarity" not in dot.text
    assert "reduce(dot = 0.0" in dot.text
    assert search.neo4j_cosine(1.0) == 1.0
    assert search.neo4j_cosine(0.5) == 0.0
    assert search.neo4j_cosine(0.0) == -1.0


def test_schema_is_idempotent_ddl_with_the_embedder_dimension() -> None:
    ddl = schema.schema_statements(384)
    assert len(ddl) == 5 + 21 + 3 + 3
    assert all("IF NOT EXISTS" in statement.text for statement in ddl)
    vector = [s.text for s in ddl if s.text.startswith("CREATE VECTOR INDEX")]
    assert len(vector) == 3
    assert all("`vector.dimensions`: 384," in text for text in vector)
    assert all("{dimensions}" not in statement.text for statement in ddl)
    assert vector[0] == (
        "CREATE VECTOR INDEX entity_embedding IF NOT EXISTS\n"
        "FOR (n:Entity) ON n.embedding\n"
        "OPTIONS {indexConfig: {`vector.dimensions`: 384, `vector.similarity_function`: 'cosine'}}"
    )


@pytest.mark.parametrize("dimensions", [0, -1, 5000, True, "384"])
def test_schema_rejects_impossible_dimensions(dimensions: Any) -> None:
    with pytest.raises(InvalidInputError):
        schema.schema_statements(dimensions)


@pytest.mark.parametrize(
    ("text", "version", "supported", "native"),
    [
        ("5.11.0", (5, 11), False, False),
        ("5.14.0", (5, 14), False, False),
        ("5.15.0", (5, 15), True, False),
        ("5.26.12", (5, 26), True, True),
        ("2025.01.0", (2025, 1), True, True),
        ("2025.06.2-aura", (2025, 6), True, True),
        ("4.4.30", (4, 4), False, False),
    ],
)
def test_server_versions(
    text: str, version: tuple[int, int], supported: bool, native: bool
) -> None:
    assert schema.parse_version(text) == version
    assert schema.is_supported(version) is supported
    assert schema.has_native_cosine(version) is native


def test_records_survive_a_round_trip_through_property_maps() -> None:
    episode, (person, company), fact, event = sample_add("round trip")
    fact = fact.model_copy(
        update={
            "invalid_at": WHEN, "expired_at": WHEN, "expired_reason": ExpiryReason.SUPERSEDED,
            "superseded_by": _id(8), "closed_by_episode_id": _id(1),
        }
    )  # fmt: skip
    assert episode_from(episode_properties(episode, DIM)) == episode.model_copy(
        update={"embedding": None}
    )
    assert entity_from(entity_properties(person, DIM)) == person.model_copy(
        update={"embedding": None}
    )
    loaded = fact_from(fact_record_properties(fact, DIM), with_embedding=True)
    assert loaded == fact.model_copy(update={"embedding": [0.0, 0.0, 0.6, 0.8]})
    assert edge_from(fact_record_properties(fact, DIM)) == FactEdge.of(fact)
    assert audit_from(audit_properties(event, 0)) == event
    company_props = entity_properties(company, DIM)
    assert company_props["embedding"] is None
    assert company_props["type_label"] == "CompanyRoundTrip"
    assert json.loads(company_props["metadata"]) == {}


def test_entity_lookup_fields_hold_normalized_aliases() -> None:
    entity = Entity(
        owner="user:alice", name="Robert", normalized_name="robert",
        aliases=["Bob", " The Bobster ", "Robert"],
    )  # fmt: skip
    props = entity_properties(entity, DIM)
    assert props["normalized_aliases"] == ["bob", "bobster"]
    assert props["alias_text"] == "Bob\n The Bobster \nRobert"


def test_query_vectors_are_normalized() -> None:
    assert normalized([3.0, 4.0, 0.0, 0.0], DIM, "q") == [0.6, 0.8, 0.0, 0.0]


@pytest.mark.parametrize(
    "uri",
    ["bolt://127.0.0.1:1", "neo4j://127.0.0.1:1", "http://localhost:7474", "not a uri"],
)
def test_an_unreachable_or_unusable_server_is_a_clear_error(uri: str) -> None:
    from graphmem.store.neo4j import Neo4jStore

    with pytest.raises(BackendUnavailableError, match=r"Neo4j"):
        Neo4jStore(Neo4jSettings(uri=uri), EmbedderInfo("model", DIM), connection_timeout=2.0)


def test_missing_settings_name_the_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graphmem.store.neo4j import Neo4jStore

    monkeypatch.delenv("GRAPHMEM_NEO4J_URI", raising=False)
    with pytest.raises(InvalidInputError, match="GRAPHMEM_NEO4J_URI"):
        Neo4jStore(None, EmbedderInfo("model", DIM))
