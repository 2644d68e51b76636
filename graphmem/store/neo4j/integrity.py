"""Integrity checks of the Neo4j store: records against derived edges, indexes, references.

Mirrors the embedded store's checks. Fact records are the truth; typed relationships
and provenance entries are derived from them and are what a repair rebuilds or drops.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from graphmem.store.base import CheckReport
from graphmem.store.neo4j import admin, reads, statements
from graphmem.store.neo4j.records import fact_from
from graphmem.store.neo4j.statements import Statement
from graphmem.store.neo4j.transaction import Neo4jTransaction

Reader = Callable[[Statement], list[dict[str, Any]]]

_DANGLING_COUNTS = {
    "fact records whose subject or object entity is missing": Statement(
        "MATCH (k:FactRecord)\n"
        "WHERE NOT EXISTS { MATCH (:Entity {id: k.subject_id}) }\n"
        "   OR NOT EXISTS { MATCH (:Entity {id: k.object_id}) }\n"
        "RETURN count(k) AS count"
    ),
    "facts whose owner differs from an endpoint's owner": Statement(
        "MATCH (k:FactRecord)\n"
        "MATCH (s:Entity {id: k.subject_id})\nMATCH (o:Entity {id: k.object_id})\n"
        "WHERE s.owner <> k.owner OR o.owner <> k.owner\n"
        "RETURN count(k) AS count"
    ),
    "mentions crossing owners": Statement(
        "MATCH (p:Episode)-[:MENTIONS]->(e:Entity)\nWHERE p.owner <> e.owner\n"
        "RETURN count(*) AS count"
    ),
    "provenance entries of missing facts": Statement(
        "MATCH (s:FactSource)\nWHERE NOT EXISTS { MATCH (:FactRecord {id: s.fact_id}) }\n"
        "RETURN count(s) AS count"
    ),
    "superseded_by pointing to a missing fact": Statement(
        "MATCH (k:FactRecord)\nWHERE k.superseded_by IS NOT NULL\n"
        "  AND NOT EXISTS { MATCH (:FactRecord {id: k.superseded_by}) }\n"
        "RETURN count(k) AS count"
    ),
}

_DANGLING_RECORD_IDS = Statement(
    "MATCH (k:FactRecord)\n"
    "WHERE NOT EXISTS { MATCH (:Entity {id: k.subject_id}) }\n"
    "   OR NOT EXISTS { MATCH (:Entity {id: k.object_id}) }\n"
    "RETURN k.id AS id"
)
_DROP_ORPHAN_SOURCES = Statement(
    "MATCH (s:FactSource)\nWHERE NOT EXISTS { MATCH (:FactRecord {id: s.fact_id}) }\nDELETE s"
)
_CLEAR_DANGLING_SUPERSEDED_BY = Statement(
    "MATCH (k:FactRecord)\nWHERE k.superseded_by IS NOT NULL\n"
    "  AND NOT EXISTS { MATCH (:FactRecord {id: k.superseded_by}) }\n"
    "OPTIONAL MATCH (:Entity {id: k.subject_id})-[r]->(:Entity {id: k.object_id})\n"
    "WHERE r.id = k.id\n"
    "SET k.superseded_by = null, r.superseded_by = null"
)


def check_store(read: Reader) -> CheckReport:
    """List every disagreement between fact records, derived edges and indexes."""
    report = CheckReport()
    states = {row["name"]: row["state"] for row in read(admin.INDEX_STATES)}
    for name in admin.SEARCH_INDEXES:
        if name not in states:
            report.problems.append(f"search index {name} is missing")
        elif states[name] != "ONLINE":
            report.problems.append(f"search index {name} is {states[name]}")
    missing = read(admin.RECORDS_WITHOUT_RELATIONSHIP)
    if missing:
        report.problems.append(f"{len(missing)} fact records without their relationship")
    stale = read(admin.STALE_RELATIONSHIPS)
    if stale:
        report.problems.append(f"{len(stale)} fact relationships without a matching record")
    for label, statement in _DANGLING_COUNTS.items():
        count = read(statement)[0]["count"]
        if count:
            report.problems.append(f"{count} {label}")
    return report


def repair_references(tx: Neo4jTransaction) -> None:
    """Drop what refers to missing records, then rebuild relationships from records."""
    dangling = [row["id"] for row in tx.run(_DANGLING_RECORD_IDS)]
    if dangling:
        for statement in statements.delete_facts(dangling):
            tx.run(statement)
    tx.run(_DROP_ORPHAN_SOURCES)
    tx.run(_CLEAR_DANGLING_SUPERSEDED_BY)
    stale = [row["element_id"] for row in tx.run(admin.STALE_RELATIONSHIPS)]
    if stale:
        tx.run(admin.drop_relationships(stale))
    missing = [row["id"] for row in tx.run(admin.RECORDS_WITHOUT_RELATIONSHIP)]
    if missing:
        facts = [fact_from(row["props"]) for row in tx.run(reads.facts_by_ids(missing))]
        for rel_type, rows in statements.fact_relationship_groups(facts).items():
            tx.run(statements.create_fact_relationships(rel_type, rows))
