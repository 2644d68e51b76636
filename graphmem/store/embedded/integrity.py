"""Integrity checks of the embedded store: truth against derived data and references."""

from __future__ import annotations

import sqlite3

from graphmem.store.base import CheckReport
from graphmem.store.embedded.schema import KEYWORD_TABLES, RECORD_TABLES
from graphmem.store.embedded.vectors import KINDS, VectorIndexes

_DANGLING = {
    "facts whose subject or object entity is missing": (
        "SELECT count(*) FROM facts f WHERE NOT EXISTS (SELECT 1 FROM entities e "
        "WHERE e.id = f.subject_id) "
        "OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = f.object_id)"
    ),
    "facts whose owner differs from an endpoint's owner": (
        "SELECT count(*) FROM facts f JOIN entities s ON s.id = f.subject_id "
        "JOIN entities o ON o.id = f.object_id WHERE s.owner <> f.owner OR o.owner <> f.owner"
    ),
    "mentions crossing owners": (
        "SELECT count(*) FROM mentions m JOIN episodes p ON p.id = m.episode_id "
        "JOIN entities e ON e.id = m.entity_id WHERE p.owner <> e.owner"
    ),
    "provenance rows of missing facts": (
        "SELECT count(*) FROM fact_sources s WHERE NOT EXISTS "
        "(SELECT 1 FROM facts f WHERE f.id = s.fact_id)"
    ),
    "superseded_by pointing to a missing fact": (
        "SELECT count(*) FROM facts f WHERE f.superseded_by IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM facts g WHERE g.id = f.superseded_by)"
    ),
}


def check_store(conn: sqlite3.Connection, vectors: VectorIndexes) -> CheckReport:
    """List every disagreement between the truth and what is derived from it."""
    report = CheckReport()
    (result,) = conn.execute("PRAGMA quick_check").fetchone()
    if result != "ok":
        report.problems.append(f"sqlite quick_check: {result}")
    for kind, fts in KEYWORD_TABLES.items():
        table = RECORD_TABLES[kind]
        (truth,) = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        (indexed,) = conn.execute(f"SELECT count(*) FROM {fts}").fetchone()
        if truth != indexed:
            report.problems.append(f"keyword index {fts}: {indexed} rows for {truth} {table}")
        try:
            conn.execute(f"INSERT INTO {fts} ({fts}, rank) VALUES ('integrity-check', 1)")
        except sqlite3.DatabaseError as exc:
            report.problems.append(f"keyword index {fts} is corrupt: {exc}")
    vectors.catch_up(conn)
    for kind in KINDS:
        table = RECORD_TABLES[kind]
        rowids = [
            row[0] for row in conn.execute(f"SELECT rowid FROM {table} WHERE embedding IS NOT NULL")
        ]
        missing = sum(1 for rowid in rowids if not vectors.contains(kind, rowid))
        if missing:
            report.problems.append(f"vector index {kind}: {missing} stored vectors missing")
        extra = vectors.count(kind) - (len(rowids) - missing)
        if extra:
            report.problems.append(f"vector index {kind}: {extra} vectors of deleted records")
    for label, query in _DANGLING.items():
        (count,) = conn.execute(query).fetchone()
        if count:
            report.problems.append(f"{count} {label}")
    return report


def repair_references(conn: sqlite3.Connection) -> None:
    """Delete rows that refer to records which no longer exist (inside a transaction)."""
    conn.execute(
        "DELETE FROM facts "
        "WHERE NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = facts.subject_id) "
        "OR NOT EXISTS (SELECT 1 FROM entities e WHERE e.id = facts.object_id)"
    )
    conn.execute(
        "DELETE FROM fact_sources "
        "WHERE NOT EXISTS (SELECT 1 FROM facts f WHERE f.id = fact_sources.fact_id)"
    )
    conn.execute(
        "UPDATE facts SET superseded_by = NULL WHERE superseded_by IS NOT NULL AND NOT EXISTS "
        "(SELECT 1 FROM facts g WHERE g.id = facts.superseded_by)"
    )
