"""Cypher statements of the write path, built as (text, parameters) pairs.

Rules every builder here follows, and the tests check:

* every value travels as a parameter; statement text holds only fixed Cypher, property
  names, and labels or relationship types that passed :mod:`.identifiers`;
* a batch is one ``UNWIND $rows`` statement (one per label or relationship type where
  Cypher needs the identifier in the text), never one round trip per record.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.store.neo4j.identifiers import (
    relationship_type,
    validate_label,
    validate_relationship_type,
)
from graphmem.store.neo4j.records import (
    audit_properties,
    entity_properties,
    episode_properties,
    fact_properties,
    fact_record_properties,
)


@dataclass(frozen=True, slots=True)
class Statement:
    """One parameterized Cypher statement."""

    text: str
    params: dict[str, Any] = field(default_factory=dict)


def projection(variable: str, fields: Iterable[str]) -> str:
    """A map projection of the given properties: ``n {.id, .name}``."""
    return f"{variable} {{{', '.join('.' + name for name in fields)}}}"


def scope_predicate(variable: str, scope: Scope) -> tuple[str, dict[str, Any]]:
    """The condition selecting records a scope may read (see ``Scope.contains``)."""
    clauses = [f"{variable}.owner = $owner"]
    params: dict[str, Any] = {"owner": scope.owner}
    if scope.agent_id is not None:
        clauses.append(f"{variable}.agent_id = $agent_id")
        params["agent_id"] = scope.agent_id
    if scope.run_id is not None:
        clauses.append(f"{variable}.run_id = $run_id")
        params["run_id"] = scope.run_id
    return " AND ".join(clauses), params


def id_list(ids: Iterable[uuid.UUID]) -> list[str]:
    """Ids as the strings stored in ``id`` properties, duplicates dropped."""
    return list(dict.fromkeys(str(value) for value in ids))


# -- episodes and entities -----------------------------------------------------------------
def put_episodes(episodes: Sequence[Episode], dim: int) -> Statement:
    """Insert or replace episodes by id."""
    return Statement(
        "UNWIND $rows AS row\nMERGE (n:Episode {id: row.id})\nSET n = row",
        {"rows": [episode_properties(episode, dim) for episode in episodes]},
    )


def put_entities(entities: Sequence[Entity], dim: int) -> list[Statement]:
    """Insert or replace entities, one statement per type label.

    Each statement returns ``previous_label`` per entity, so that the caller can
    remove a label the entity no longer has (:func:`remove_entity_label`).
    """
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for entity in entities:
        row = entity_properties(entity, dim)
        groups.setdefault(row["type_label"], []).append(row)
    statements = []
    for label, rows in groups.items():
        lines = [
            "UNWIND $rows AS row",
            "MERGE (n:Entity {id: row.id})",
            "WITH n, row, n.type_label AS previous_label",
            "SET n = row",
        ]
        if label is not None:
            lines.append(f"SET n:{validate_label(label)}")
        lines.append("RETURN row.id AS id, row.type_label AS label, previous_label")
        statements.append(Statement("\n".join(lines), {"rows": rows}))
    return statements


def remove_entity_label(label: str, entity_ids: Sequence[str]) -> Statement:
    """Remove a type label that entities carried before their type changed."""
    return Statement(
        f"UNWIND $ids AS id\nMATCH (n:Entity {{id: id}})\nREMOVE n:{validate_label(label)}",
        {"ids": list(entity_ids)},
    )


# -- facts -------------------------------------------------------------------------------------
def delete_fact_relationships(fact_ids: Sequence[str]) -> Statement:
    """Delete the relationships of facts, found from their records."""
    return Statement(
        "UNWIND $ids AS id\n"
        "MATCH (k:FactRecord {id: id})\n"
        "MATCH (:Entity {id: k.subject_id})-[r]->(:Entity {id: k.object_id})\n"
        "WHERE r.id = id\n"
        "DELETE r",
        {"ids": list(fact_ids)},
    )


def delete_fact_sources(fact_ids: Sequence[str]) -> Statement:
    """Delete the provenance entries of facts."""
    return Statement(
        "UNWIND $ids AS id\nMATCH (s:FactSource {fact_id: id})\nDELETE s",
        {"ids": list(fact_ids)},
    )


def delete_fact_records(fact_ids: Sequence[str]) -> Statement:
    """Delete the records of facts (after their relationships and sources)."""
    return Statement(
        "UNWIND $ids AS id\nMATCH (k:FactRecord {id: id})\nDELETE k",
        {"ids": list(fact_ids)},
    )


def delete_facts(fact_ids: Sequence[str]) -> list[Statement]:
    """Everything that removes facts: relationships, provenance, records."""
    return [
        delete_fact_relationships(fact_ids),
        delete_fact_sources(fact_ids),
        delete_fact_records(fact_ids),
    ]


def put_fact_records(facts: Sequence[Fact], dim: int) -> Statement:
    """Insert or replace fact records by id."""
    return Statement(
        "UNWIND $rows AS row\nMERGE (k:FactRecord {id: row.id})\nSET k = row",
        {"rows": [fact_record_properties(fact, dim) for fact in facts]},
    )


def create_fact_relationships(rel_type: str, rows: list[dict[str, Any]]) -> Statement:
    """Create the typed relationships of facts; returns the ids actually created."""
    return Statement(
        "UNWIND $rows AS row\n"
        "MATCH (s:Entity {id: row.subject_id})\n"
        "MATCH (o:Entity {id: row.object_id})\n"
        f"CREATE (s)-[r:`{validate_relationship_type(rel_type)}`]->(o)\n"
        "SET r = row\n"
        "RETURN collect(row.id) AS created",
        {"rows": rows},
    )


def fact_relationship_groups(facts: Sequence[Fact]) -> dict[str, list[dict[str, Any]]]:
    """Relationship property maps of facts, grouped by relationship type."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for fact in facts:
        groups.setdefault(relationship_type(fact.predicate), []).append(fact_properties(fact))
    return groups


def put_fact_sources(facts: Sequence[Fact]) -> Statement:
    """Record which episodes state each fact (one small node per pair, indexed)."""
    rows = [
        {"fact_id": str(fact.id), "episode_id": episode_id}
        for fact in facts
        for episode_id in dict.fromkeys(str(value) for value in fact.episode_ids)
    ]
    return Statement(
        "UNWIND $rows AS row\n"
        "CREATE (:FactSource {fact_id: row.fact_id, episode_id: row.episode_id})",
        {"rows": rows},
    )


# -- mentions, deletions, audit -----------------------------------------------------------------
def put_mentions(mentions: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> Statement:
    """MENTIONS edges from episodes to entities; returns how many pairs were found."""
    rows = [
        {"episode_id": episode_id, "entity_id": entity_id}
        for episode_id, entity_id in dict.fromkeys((str(a), str(b)) for a, b in mentions)
    ]
    return Statement(
        "UNWIND $rows AS row\n"
        "MATCH (ep:Episode {id: row.episode_id})\n"
        "MATCH (e:Entity {id: row.entity_id})\n"
        "MERGE (ep)-[:MENTIONS]->(e)\n"
        "RETURN count(*) AS matched",
        {"rows": rows},
    )


def delete_episodes(episode_ids: Sequence[str]) -> Statement:
    """Delete episodes and their MENTIONS edges (provenance entries stay, as ids)."""
    return Statement(
        "UNWIND $ids AS id\nMATCH (n:Episode {id: id})\nDETACH DELETE n",
        {"ids": list(episode_ids)},
    )


def facts_touching_entities(entity_ids: Sequence[str]) -> Statement:
    """Ids of every fact (any scope, any version) whose subject or object is given."""
    return Statement(
        "MATCH (k:FactRecord)\n"
        "WHERE k.subject_id IN $ids OR k.object_id IN $ids\n"
        "RETURN k.id AS id",
        {"ids": list(entity_ids)},
    )


def delete_entities(entity_ids: Sequence[str]) -> Statement:
    """Delete entities with every edge still attached (facts are deleted first)."""
    return Statement(
        "UNWIND $ids AS id\nMATCH (n:Entity {id: id})\nDETACH DELETE n",
        {"ids": list(entity_ids)},
    )


def append_audit(events: Sequence[AuditEvent], first_seq: int = 0) -> Statement:
    """Append audit events; ``seq`` keeps their order within one append."""
    return Statement(
        "UNWIND $rows AS row\nCREATE (a:AuditEvent)\nSET a = row",
        {
            "rows": [
                audit_properties(event, first_seq + offset) for offset, event in enumerate(events)
            ]
        },
    )
