"""Cypher statements of the read path (records by id, scoped lists, neighbourhoods).

Facts are read from their ``:FactRecord`` nodes, except for neighbourhood expansion
(:func:`facts_of_entities`), which walks the typed relationships from the entities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphmem.models.scope import Scope
from graphmem.store.neo4j.records import (
    AUDIT_FIELDS,
    EDGE_FIELDS,
    ENTITY_FIELDS,
    EPISODE_FIELDS,
    FACT_FIELDS,
)
from graphmem.store.neo4j.statements import Statement, projection, scope_predicate

EPISODE_RECORD = projection("n", EPISODE_FIELDS)
ENTITY_RECORD = projection("n", ENTITY_FIELDS)
FACT_RECORD = projection("k", FACT_FIELDS)
RELATIONSHIP_RECORD = projection("r", FACT_FIELDS)
RELATIONSHIP_EDGE = projection("r", EDGE_FIELDS)
FACT_EDGE = projection("k", EDGE_FIELDS)
AUDIT_RECORD = projection("a", AUDIT_FIELDS)


# -- by id (unscoped: callers check scope) ------------------------------------------------------
def episodes_by_ids(ids: Sequence[str]) -> Statement:
    """Episodes by id."""
    return Statement(
        f"UNWIND $ids AS id\nMATCH (n:Episode {{id: id}})\nRETURN {EPISODE_RECORD} AS props",
        {"ids": list(ids)},
    )


def episode_headers_by_ids(ids: Sequence[str]) -> Statement:
    """:func:`episodes_by_ids` returning only the properties of an :class:`EpisodeHeader`."""
    return Statement(
        "UNWIND $ids AS id\nMATCH (n:Episode {id: id})\n"
        "RETURN n.id AS id, n.user_id AS user_id, n.agent_id AS agent_id, "
        "n.run_id AS run_id, n.name AS name",
        {"ids": list(ids)},
    )


def episode_vectors_by_ids(ids: Sequence[str]) -> Statement:
    """The stored embeddings of the episodes that have one."""
    return Statement(
        "UNWIND $ids AS id\nMATCH (n:Episode {id: id})\n"
        "WHERE n.embedding IS NOT NULL\nRETURN n.id AS id, n.embedding AS embedding",
        {"ids": list(ids)},
    )


def entities_by_ids(ids: Sequence[str]) -> Statement:
    """Entities by id."""
    return Statement(
        f"UNWIND $ids AS id\nMATCH (n:Entity {{id: id}})\nRETURN {ENTITY_RECORD} AS props",
        {"ids": list(ids)},
    )


def facts_by_ids(ids: Sequence[str]) -> Statement:
    """Facts (any version) by id."""
    return Statement(
        f"UNWIND $ids AS id\nMATCH (k:FactRecord {{id: id}})\nRETURN {FACT_RECORD} AS props",
        {"ids": list(ids)},
    )


def fact_edges_by_ids(ids: Sequence[str]) -> Statement:
    """:func:`facts_by_ids` returning only the properties of a :class:`FactEdge`."""
    return Statement(
        f"UNWIND $ids AS id\nMATCH (k:FactRecord {{id: id}})\nRETURN {FACT_EDGE} AS props",
        {"ids": list(ids)},
    )


def facts_citing_episodes(episode_ids: Sequence[str]) -> Statement:
    """Facts stated by, or closed by, one of the episodes."""
    return Statement(
        "CALL {\n"
        "  MATCH (s:FactSource) WHERE s.episode_id IN $ids RETURN s.fact_id AS id\n"
        "  UNION\n"
        "  MATCH (c:FactRecord) WHERE c.closed_by_episode_id IN $ids RETURN c.id AS id\n"
        "}\n"
        "MATCH (k:FactRecord {id: id})\n"
        f"RETURN {FACT_RECORD} AS props",
        {"ids": list(episode_ids)},
    )


# -- write-path lookups -------------------------------------------------------------------------
def entities_by_names(owner: str, normalized_names: Sequence[str]) -> Statement:
    """Entities of an owner whose normalized name or a normalized alias is given."""
    return Statement(
        "MATCH (n:Entity)\n"
        "WHERE n.owner = $owner\n"
        "  AND (n.normalized_name IN $names\n"
        "       OR any(alias IN n.normalized_aliases WHERE alias IN $names))\n"
        f"RETURN {ENTITY_RECORD} AS props",
        {"owner": owner, "names": list(dict.fromkeys(normalized_names))},
    )


def facts_touching(owner: str, entity_ids: Sequence[str], predicates: Sequence[str]) -> Statement:
    """All versions of an owner's facts with these predicates touching the entities."""
    return Statement(
        "MATCH (k:FactRecord)\n"
        "WHERE k.owner = $owner AND k.predicate IN $predicates\n"
        "  AND (k.subject_id IN $ids OR k.object_id IN $ids)\n"
        f"RETURN {FACT_RECORD} AS props",
        {
            "owner": owner,
            "ids": list(entity_ids),
            "predicates": list(dict.fromkeys(predicates)),
        },
    )


# -- scoped lists -------------------------------------------------------------------------------
def list_episodes(scope: Scope, limit: int, offset: int) -> Statement:
    """The scope's episodes, newest ``valid_at`` first."""
    where, params = scope_predicate("n", scope)
    return Statement(
        f"MATCH (n:Episode)\nWHERE {where}\n"
        "WITH n ORDER BY n.valid_at DESC, n.created_at DESC, n.id DESC\n"
        "SKIP $offset LIMIT $limit\n"
        f"RETURN {EPISODE_RECORD} AS props",
        {**params, "limit": limit, "offset": offset},
    )


def list_entities(scope: Scope, limit: int, offset: int) -> Statement:
    """The owner's entities, most recently updated first."""
    return Statement(
        "MATCH (n:Entity)\nWHERE n.owner = $owner\n"
        "WITH n ORDER BY n.updated_at DESC, n.id DESC\n"
        "SKIP $offset LIMIT $limit\n"
        f"RETURN {ENTITY_RECORD} AS props",
        {"owner": scope.owner, "limit": limit, "offset": offset},
    )


def list_facts(scope: Scope, limit: int, offset: int, include_expired: bool) -> Statement:
    """The scope's facts, newest first; expired versions only when asked."""
    where, params = scope_predicate("k", scope)
    if not include_expired:
        where += " AND k.expired_at IS NULL"
    return Statement(
        f"MATCH (k:FactRecord)\nWHERE {where}\n"
        "WITH k ORDER BY k.created_at DESC, k.id DESC\n"
        "SKIP $offset LIMIT $limit\n"
        f"RETURN {FACT_RECORD} AS props",
        {**params, "limit": limit, "offset": offset},
    )


def facts_of_entities(scope: Scope, entity_ids: Sequence[str], include_expired: bool) -> Statement:
    """The scope's facts in the neighbourhood of the entities, in either direction.

    Walks relationships from the entities (index seek on the entity ids, then
    expansion), so its cost follows the entities' degree, not the graph's size.
    MENTIONS edges end at episodes, so the ``:Entity`` far end excludes them.
    """
    where, params = scope_predicate("r", scope)
    if not include_expired:
        where += " AND r.expired_at IS NULL"
    return Statement(
        "MATCH (e:Entity)-[r]-(:Entity)\n"
        f"WHERE e.id IN $ids AND {where}\n"
        "WITH DISTINCT r\n"
        f"RETURN {RELATIONSHIP_RECORD} AS props",
        {**params, "ids": list(entity_ids)},
    )


def fact_edges_of_entities(
    scope: Scope, entity_ids: Sequence[str], include_expired: bool, per_entity: int | None = None
) -> Statement:
    """:func:`facts_of_entities` returning only the properties of a :class:`FactEdge`;
    with ``per_entity``, at most that many relationships per entity, newest first."""
    where, params = scope_predicate("r", scope)
    if not include_expired:
        where += " AND r.expired_at IS NULL"
    cap = ""
    if per_entity is not None:
        cap = (
            "WITH DISTINCT e, r ORDER BY r.created_at DESC, r.id DESC\n"
            "WITH e, collect(r)[..$per_entity] AS kept\n"
            "UNWIND kept AS r\n"
        )
        params = {**params, "per_entity": per_entity}
    return Statement(
        "MATCH (e:Entity)-[r]-(:Entity)\n"
        f"WHERE e.id IN $ids AND {where}\n"
        f"{cap}"
        "WITH DISTINCT r\n"
        f"RETURN {RELATIONSHIP_EDGE} AS props",
        {**params, "ids": list(entity_ids)},
    )


def mentions_of_episodes(episode_ids: Sequence[str]) -> Statement:
    """``(episode_id, entity_id)`` pairs of MENTIONS edges from the episodes."""
    return Statement(
        "MATCH (ep:Episode)-[:MENTIONS]->(e:Entity)\n"
        "WHERE ep.id IN $ids\n"
        "RETURN DISTINCT ep.id AS episode_id, e.id AS entity_id",
        {"ids": list(episode_ids)},
    )


def episodes_mentioning(scope: Scope, entity_ids: Sequence[str], per_entity: int) -> Statement:
    """Up to ``per_entity`` ids of the scope's episodes mentioning each entity, smallest
    id first."""
    where, params = scope_predicate("n", scope)
    return Statement(
        "MATCH (n:Episode)-[:MENTIONS]->(e:Entity)\n"
        f"WHERE e.id IN $ids AND {where}\n"
        "WITH DISTINCT e.id AS entity_id, n.id AS episode_id\n"
        "ORDER BY entity_id, episode_id\n"
        "WITH entity_id, collect(episode_id) AS episode_ids\n"
        "RETURN entity_id, episode_ids[..$per_entity] AS episode_ids",
        {**params, "ids": list(entity_ids), "per_entity": per_entity},
    )


def entity_names(owner: str) -> Statement:
    """``(id, name, aliases)`` of every entity of an owner."""
    return Statement(
        "MATCH (n:Entity)\nWHERE n.owner = $owner\n"
        "RETURN n.id AS id, n.name AS name, n.aliases AS aliases",
        {"owner": owner},
    )


# -- administration -----------------------------------------------------------------------------
def counts(scope: Scope | None) -> Statement:
    """Episode, entity, fact and current-fact counts of a scope (or of everything)."""
    params: dict[str, Any] = {}
    if scope is None:
        record_where, entity_where = "", ""
    else:
        condition, params = scope_predicate("n", scope)
        record_where = f" WHERE {condition}"
        entity_where = " WHERE n.owner = $owner"
    return Statement(
        f"CALL {{ MATCH (n:Episode){record_where} RETURN count(n) AS episodes }}\n"
        f"CALL {{ MATCH (n:Entity){entity_where} RETURN count(n) AS entities }}\n"
        f"CALL {{ MATCH (n:FactRecord){record_where}\n"
        "       RETURN count(n) AS facts,\n"
        "              count(CASE WHEN n.expired_at IS NULL AND n.invalid_at IS NULL"
        " THEN 1 END) AS current_facts }\n"
        "RETURN episodes, entities, facts, current_facts",
        params,
    )


def audit_log(owner: str | None, limit: int) -> Statement:
    """The newest audit events (of one owner, or all)."""
    where = "WHERE a.owner = $owner\n" if owner is not None else ""
    params: dict[str, object] = {"limit": limit}
    if owner is not None:
        params["owner"] = owner
    return Statement(
        f"MATCH (a:AuditEvent)\n{where}"
        "WITH a ORDER BY a.at DESC, a.seq DESC, a.id DESC LIMIT $limit\n"
        f"RETURN {AUDIT_RECORD} AS props",
        dict(params),
    )
