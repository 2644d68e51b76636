"""Cypher statements of administration: forget, reset, integrity checks, export.

A fact's ``:FactRecord`` node is its truth; the typed relationship is derived from it
(like an index), so integrity checks compare the two and repair the relationships.
"""

from __future__ import annotations

from graphmem.models.scope import Scope
from graphmem.store.neo4j.reads import AUDIT_RECORD
from graphmem.store.neo4j.records import ENTITY_FIELDS, EPISODE_FIELDS, FACT_FIELDS
from graphmem.store.neo4j.search import FULLTEXT_INDEXES, VECTOR_INDEXES
from graphmem.store.neo4j.statements import Statement, projection, scope_predicate

RECORD_LABELS = ("FactSource", "FactRecord", "Episode", "Entity", "AuditEvent")
"""Every label that holds graphmem records (GraphmemMeta, the store identity, is kept)."""
SEARCH_INDEXES = tuple(VECTOR_INDEXES.values()) + tuple(FULLTEXT_INDEXES.values())


# -- forget -------------------------------------------------------------------------------------
def scope_fact_ids(scope: Scope) -> Statement:
    """Ids of every fact version the scope can see."""
    where, params = scope_predicate("k", scope)
    return Statement(f"MATCH (k:FactRecord)\nWHERE {where}\nRETURN k.id AS id", params)


def delete_scope_episodes(scope: Scope) -> Statement:
    """Delete the scope's episodes with their MENTIONS edges."""
    where, params = scope_predicate("n", scope)
    return Statement(f"MATCH (n:Episode)\nWHERE {where}\nDETACH DELETE n", params)


def delete_owner_entities(owner: str) -> Statement:
    """Delete every entity of an owner."""
    return Statement("MATCH (n:Entity)\nWHERE n.owner = $owner\nDETACH DELETE n", {"owner": owner})


def delete_unreferenced_entities(owner: str) -> Statement:
    """Delete an owner's entities that no episode mentions and no fact touches."""
    return Statement(
        "MATCH (n:Entity)\n"
        "WHERE n.owner = $owner\n"
        "  AND NOT EXISTS { MATCH (n)<-[:MENTIONS]-(:Episode) }\n"
        "  AND NOT EXISTS { MATCH (k:FactRecord)\n"
        "                   WHERE k.subject_id = n.id OR k.object_id = n.id }\n"
        "DETACH DELETE n",
        {"owner": owner},
    )


def delete_owner_audit(owner: str) -> Statement:
    """Delete an owner's audit events (they may quote forgotten content), except the
    content-free deletion records that prove earlier erasures."""
    return Statement(
        "MATCH (a:AuditEvent)\nWHERE a.owner = $owner AND NOT a.action IN $kept\nDELETE a",
        {"owner": owner, "kept": ["forget", "purge", "retention"]},
    )


# -- reset ----------------------------------------------------------------------------------------
def delete_label_batch(label: str, batch: int) -> Statement:
    """Delete up to ``batch`` nodes of one graphmem label; returns how many went."""
    if label not in RECORD_LABELS:
        raise ValueError(f"{label!r} is not a graphmem record label")
    return Statement(
        f"MATCH (n:{label})\nWITH n LIMIT $batch\nDETACH DELETE n\nRETURN count(*) AS deleted",
        {"batch": batch},
    )


# -- integrity ------------------------------------------------------------------------------------
INDEX_STATES = Statement("SHOW INDEXES YIELD name, state\nRETURN name, state")
AWAIT_INDEXES = Statement("CALL db.awaitIndexes($seconds)", {"seconds": 300})
RECORDS_WITHOUT_RELATIONSHIP = Statement(
    "MATCH (k:FactRecord)\n"
    "WHERE NOT EXISTS {\n"
    "  MATCH (:Entity {id: k.subject_id})-[r]->(:Entity {id: k.object_id})\n"
    "  WHERE r.id = k.id AND type(r) = k.rel_type\n"
    "}\n"
    "RETURN k.id AS id"
)
STALE_RELATIONSHIPS = Statement(
    "MATCH (s:Entity)-[r]->(o:Entity)\n"
    "WHERE r.id IS NOT NULL\n"
    "OPTIONAL MATCH (k:FactRecord {id: r.id})\n"
    "WITH r, s, o, k\n"
    "WHERE k IS NULL OR type(r) <> k.rel_type OR s.id <> k.subject_id OR o.id <> k.object_id\n"
    "RETURN elementId(r) AS element_id, r.id AS id"
)


def drop_relationships(element_ids: list[str]) -> Statement:
    """Delete relationships by element id (stale copies found by a check)."""
    return Statement(
        "MATCH ()-[r]->()\nWHERE elementId(r) IN $element_ids\nDELETE r",
        {"element_ids": element_ids},
    )


def drop_search_index(name: str) -> Statement:
    """Drop one of graphmem's search indexes so that the schema recreates it."""
    if name not in SEARCH_INDEXES:
        raise ValueError(f"{name!r} is not a graphmem search index")
    return Statement(f"DROP INDEX {name} IF EXISTS")


# -- export (migration) -------------------------------------------------------------------------
def export_page(label: str, after: str, batch: int) -> Statement:
    """One page of a label's records with embeddings, in id order after ``after``."""
    fields = {
        "Episode": (*EPISODE_FIELDS, "embedding"),
        "Entity": (*ENTITY_FIELDS, "embedding"),
        "FactRecord": (*FACT_FIELDS, "embedding"),
    }[label]
    return Statement(
        f"MATCH (n:{label})\nWHERE n.id > $after\n"
        "WITH n ORDER BY n.id LIMIT $batch\n"
        f"RETURN {projection('n', fields)} AS props",
        {"after": after, "batch": batch},
    )


def export_mentions_page(after: str, batch: int) -> Statement:
    """MENTIONS edges of the next ``batch`` episodes in id order."""
    return Statement(
        "MATCH (ep:Episode)\nWHERE ep.id > $after\n"
        "WITH ep ORDER BY ep.id LIMIT $batch\n"
        "OPTIONAL MATCH (ep)-[:MENTIONS]->(e:Entity)\n"
        "RETURN ep.id AS episode_id, collect(DISTINCT e.id) AS entity_ids",
        {"after": after, "batch": batch},
    )


def export_audit_page(skip: int, batch: int) -> Statement:
    """A page of audit events, oldest first."""
    return Statement(
        "MATCH (a:AuditEvent)\n"
        "WITH a ORDER BY a.at, a.seq, a.id SKIP $skip LIMIT $batch\n"
        f"RETURN {AUDIT_RECORD} AS props",
        {"skip": skip, "batch": batch},
    )


EXPORT_TOTALS = Statement(
    "CALL { MATCH (n:Episode) RETURN count(n) AS episodes }\n"
    "CALL { MATCH (n:Entity) RETURN count(n) AS entities }\n"
    "CALL { MATCH (n:FactRecord) RETURN count(n) AS facts }\n"
    "CALL { MATCH (:Episode)-[m:MENTIONS]->(:Entity) RETURN count(m) AS mentions }\n"
    "CALL { MATCH (n:AuditEvent) RETURN count(n) AS audit }\n"
    "RETURN episodes, entities, facts, mentions, audit"
)
