"""Counting and hard-deleting records of the embedded store (right to be forgotten)."""

from __future__ import annotations

import sqlite3

from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.scope import Scope
from graphmem.store.base import ScopeCounts
from graphmem.store.embedded.connection import scope_clause
from graphmem.store.embedded.transaction import EmbeddedTransaction

KEPT_AUDIT_ACTIONS = (
    AuditAction.FORGET.value,
    AuditAction.PURGE.value,
    AuditAction.RETENTION.value,
)
"""Content-free audit actions that ``forget`` keeps: they prove earlier erasures."""

_RECORD_TABLES_CHILDREN_FIRST = (
    "mentions",
    "fact_sources",
    "entity_names",
    "facts",
    "episodes",
    "entities",
    "audit",
)


def count_records(conn: sqlite3.Connection, scope: Scope | None) -> ScopeCounts:
    """Record counts of one scope (entities: of its owner), or of the whole store."""
    params: list[str]
    owner_params: list[str]
    if scope is None:
        where, params, owner_where, owner_params = "1", [], "1", []
    else:
        where, params = scope_clause(scope)
        owner_where, owner_params = "owner = ?", [scope.owner]
    (episodes,) = conn.execute(f"SELECT count(*) FROM episodes WHERE {where}", params).fetchone()
    (entities,) = conn.execute(
        f"SELECT count(*) FROM entities WHERE {owner_where}", owner_params
    ).fetchone()
    facts, current = conn.execute(
        f"SELECT count(*), count(*) FILTER (WHERE expired_at IS NULL AND invalid_at IS NULL) "
        f"FROM facts WHERE {where}",
        params,
    ).fetchone()
    return ScopeCounts(episodes=episodes, entities=entities, facts=facts, current_facts=current)


def erase_scope(tx: EmbeddedTransaction, scope: Scope, before: ScopeCounts) -> ScopeCounts:
    """Hard-delete the scope's records inside ``tx`` and audit it; returns what was deleted.

    ``before`` are the scope's counts read just before the transaction. A whole owner
    loses its entities; a narrowed scope (agent_id or run_id) only the owner's entities
    that nothing refers to any more, so no name survives its last mention. Audit
    entries of the owner that could hold content are deleted; one content-free
    deletion record is written.
    """
    whole_owner = scope.agent_id is None and scope.run_id is None
    where, params = scope_clause(scope)
    conn = tx._conn
    conn.execute(f"DELETE FROM facts WHERE {where}", params)
    conn.execute(f"DELETE FROM episodes WHERE {where}", params)
    if whole_owner:
        conn.execute("DELETE FROM entities WHERE owner = ?", [scope.owner])
    else:
        conn.execute(
            "DELETE FROM entities WHERE owner = ? "
            "AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = entities.id) "
            "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.subject_id = entities.id "
            "OR f.object_id = entities.id)",
            [scope.owner],
        )
    # Deletion records hold no content and prove earlier erasures: they stay.
    conn.execute(
        "DELETE FROM audit WHERE owner = ? AND action NOT IN (?, ?, ?)",
        [scope.owner, *KEPT_AUDIT_ACTIONS],
    )
    counts = ScopeCounts(
        episodes=before.episodes,
        entities=before.entities if whole_owner else 0,
        facts=before.facts,
        current_facts=before.current_facts,
    )
    tx.append_audit(
        [
            AuditEvent(
                action=AuditAction.FORGET,
                owner=scope.owner,
                detail={
                    "scope": scope.model_dump(exclude_none=True),
                    "episodes": counts.episodes,
                    "facts": counts.facts,
                    "entities": counts.entities,
                },
            )
        ]
    )
    return counts


def erase_everything(tx: EmbeddedTransaction) -> None:
    """Delete every record of every scope inside ``tx``; the store's metadata stays."""
    for table in _RECORD_TABLES_CHILDREN_FIRST:
        tx._conn.execute(f"DELETE FROM {table}")
