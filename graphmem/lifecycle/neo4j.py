"""Lifecycle queries on the Neo4j store: parameterized Cypher, like every statement.

Retention policies are ``(:RetentionPolicy {key, owner, user_id, agent_id, run_id,
max_age_seconds, created_at})`` nodes, one per scope key.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from graphmem.lifecycle.policy import RetentionPolicy, policy_key
from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.scope import Scope
from graphmem.models.time import from_storage, to_storage
from graphmem.store.neo4j.reads import AUDIT_RECORD
from graphmem.store.neo4j.records import audit_from
from graphmem.store.neo4j.statements import Statement, scope_predicate

if TYPE_CHECKING:
    from graphmem.store.neo4j import Neo4jStore


def expired_statement(label: str, now: datetime, limit: int) -> Statement:
    """Ids of ``Episode`` or ``FactRecord`` nodes past their expiry."""
    if label not in ("Episode", "FactRecord"):
        raise ValueError(f"{label!r} records do not expire")
    return Statement(
        f"MATCH (n:{label})\nWHERE n.expires_at IS NOT NULL AND n.expires_at <= $now\n"
        "WITH n ORDER BY n.expires_at, n.id LIMIT $limit\nRETURN n.id AS id",
        {"now": to_storage(now), "limit": limit},
    )


def created_before_statement(scope: Scope, cutoff: datetime, limit: int) -> Statement:
    """Ids of the scope's episodes created at or before ``cutoff``."""
    where, params = scope_predicate("n", scope)
    return Statement(
        f"MATCH (n:Episode)\nWHERE {where} AND n.created_at <= $cutoff\n"
        "WITH n ORDER BY n.created_at, n.id LIMIT $limit\nRETURN n.id AS id",
        {**params, "cutoff": to_storage(cutoff), "limit": limit},
    )


def delete_unreferenced_statement(owner: str) -> Statement:
    """Delete an owner's entities that nothing refers to; returns how many."""
    return Statement(
        "MATCH (n:Entity)\n"
        "WHERE n.owner = $owner\n"
        "  AND NOT EXISTS { MATCH (n)<-[:MENTIONS]-(:Episode) }\n"
        "  AND NOT EXISTS { MATCH (k:FactRecord)\n"
        "                   WHERE k.subject_id = n.id OR k.object_id = n.id }\n"
        "WITH collect(n) AS doomed\n"
        "FOREACH (n IN doomed | DETACH DELETE n)\n"
        "RETURN size(doomed) AS deleted",
        {"owner": owner},
    )


def policies_statement(owner: str | None) -> Statement:
    """Stored retention policies (of one owner, or all)."""
    where = "WHERE p.owner = $owner\n" if owner is not None else ""
    return Statement(
        f"MATCH (p:RetentionPolicy)\n{where}"
        "RETURN p {.user_id, .agent_id, .run_id, .max_age_seconds, .created_at} AS props\n"
        "ORDER BY p.key",
        {"owner": owner} if owner is not None else {},
    )


def put_policy_statement(policy: RetentionPolicy) -> Statement:
    """Insert or replace the policy of its scope."""
    scope = policy.scope
    return Statement(
        "MERGE (p:RetentionPolicy {key: $key})\n"
        "SET p.owner = $owner, p.user_id = $user_id, p.agent_id = $agent_id, "
        "p.run_id = $run_id, p.max_age_seconds = $max_age_seconds, p.created_at = $created_at",
        {
            "key": policy.key,
            "owner": scope.owner,
            "user_id": scope.user_id,
            "agent_id": scope.agent_id,
            "run_id": scope.run_id,
            "max_age_seconds": policy.max_age.total_seconds(),
            "created_at": to_storage(policy.created_at),
        },
    )


def delete_policy_statement(scope: Scope) -> Statement:
    """Remove the policy of exactly this scope; returns how many went (0 or 1)."""
    return Statement(
        "OPTIONAL MATCH (p:RetentionPolicy {key: $key})\n"
        "WITH p, CASE WHEN p IS NULL THEN 0 ELSE 1 END AS deleted\n"
        "DELETE p\nRETURN deleted",
        {"key": policy_key(scope)},
    )


def audit_events_statement(
    owner: str | None, actions: Sequence[AuditAction], limit: int
) -> Statement:
    """The newest audit events with one of ``actions``."""
    owner_clause = " AND a.owner = $owner" if owner is not None else ""
    params: dict[str, Any] = {"actions": [a.value for a in actions], "limit": limit}
    if owner is not None:
        params["owner"] = owner
    return Statement(
        f"MATCH (a:AuditEvent)\nWHERE a.action IN $actions{owner_clause}\n"
        "WITH a ORDER BY a.at DESC, a.seq DESC, a.id DESC LIMIT $limit\n"
        f"RETURN {AUDIT_RECORD} AS props",
        params,
    )


class Neo4jLifecycle:
    """:class:`~graphmem.lifecycle.backend.LifecycleBackend` for the Neo4j store."""

    def __init__(self, store: Neo4jStore) -> None:
        self._store = store

    def _ids(self, statement: Statement) -> list[uuid.UUID]:
        return [uuid.UUID(row["id"]) for row in self._store.read(statement)]

    def expired_episodes(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Episodes past their expiry."""
        return self._ids(expired_statement("Episode", now, limit))

    def expired_facts(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Fact versions past their expiry."""
        return self._ids(expired_statement("FactRecord", now, limit))

    def episodes_created_before(
        self, scope: Scope, cutoff: datetime, limit: int
    ) -> list[uuid.UUID]:
        """The scope's episodes created at or before ``cutoff``."""
        return self._ids(created_before_statement(scope, cutoff, limit))

    def delete_unreferenced_entities(self, owner: str) -> int:
        """Delete the owner's entities nothing refers to any more."""
        with self._store.transaction() as tx:
            rows = tx.run(delete_unreferenced_statement(owner))
        return int(rows[0]["deleted"]) if rows else 0

    def policies(self, owner: str | None) -> list[RetentionPolicy]:
        """Stored retention policies."""
        return [
            RetentionPolicy(
                user_id=props.get("user_id"),
                agent_id=props.get("agent_id"),
                run_id=props.get("run_id"),
                max_age=timedelta(seconds=float(props["max_age_seconds"])),
                created_at=from_storage(props["created_at"]),
            )
            for props in (row["props"] for row in self._store.read(policies_statement(owner)))
        ]

    def put_policy(self, policy: RetentionPolicy, event: AuditEvent | None) -> None:
        """Insert or replace the scope's policy."""
        with self._store.transaction() as tx:
            tx.run(put_policy_statement(policy))
            if event is not None:
                tx.append_audit([event])

    def delete_policy(self, scope: Scope, event: AuditEvent) -> bool:
        """Remove the policy of exactly this scope."""
        with self._store.transaction() as tx:
            rows = tx.run(delete_policy_statement(scope))
            if not rows or not rows[0]["deleted"]:
                return False
            tx.append_audit([event])
        return True

    def audit_events(
        self, owner: str | None, actions: Sequence[AuditAction], limit: int
    ) -> list[AuditEvent]:
        """Newest matching audit events first."""
        rows = self._store.read(audit_events_statement(owner, actions, limit))
        return [audit_from(row["props"]) for row in rows]
