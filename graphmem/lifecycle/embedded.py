"""Lifecycle queries on the embedded store's SQLite truth.

Each operation opens its own connection (the store's connections are its own
business); writes take SQLite's write lock with ``BEGIN IMMEDIATE`` like every
store write, so they serialize with the store and other processes. Deleting an
entity here fires the same triggers as any deletion, so the keyword index and the
vector index log stay in step.
"""

from __future__ import annotations

import contextlib
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta

from graphmem.lifecycle.policy import RetentionPolicy, policy_key
from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.scope import Scope
from graphmem.models.time import from_storage, to_storage
from graphmem.store.embedded import codec
from graphmem.store.embedded.connection import connect, scope_clause, translate
from graphmem.store.embedded.store import DATABASE_FILE, EmbeddedStore

_BUSY_TIMEOUT = 30.0


class EmbeddedLifecycle:
    """:class:`~graphmem.lifecycle.backend.LifecycleBackend` for :class:`EmbeddedStore`."""

    def __init__(self, store: EmbeddedStore) -> None:
        self._path = store.directory / DATABASE_FILE

    @contextlib.contextmanager
    def _connection(self, *, write: bool) -> Iterator[sqlite3.Connection]:
        conn = connect(self._path, busy_timeout=_BUSY_TIMEOUT, synchronous="NORMAL")
        try:
            conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield conn
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise translate(exc, self._path) from exc
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
        finally:
            conn.close()

    def _ids(self, sql: str, params: Sequence[object]) -> list[uuid.UUID]:
        with self._connection(write=False) as conn:
            return [uuid.UUID(row[0]) for row in conn.execute(sql, list(params))]

    def expired_episodes(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Episodes past their expiry, oldest expiry first."""
        return self._ids(
            "SELECT id FROM episodes WHERE expires_at IS NOT NULL AND expires_at <= ? "
            "ORDER BY expires_at, rowid LIMIT ?",
            [to_storage(now), limit],
        )

    def expired_facts(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Fact versions past their expiry."""
        return self._ids(
            "SELECT id FROM facts WHERE expires_at IS NOT NULL AND expires_at <= ? "
            "ORDER BY expires_at, rowid LIMIT ?",
            [to_storage(now), limit],
        )

    def episodes_created_before(
        self, scope: Scope, cutoff: datetime, limit: int
    ) -> list[uuid.UUID]:
        """The scope's episodes created at or before ``cutoff``."""
        where, params = scope_clause(scope)
        return self._ids(
            f"SELECT id FROM episodes WHERE {where} AND created_at <= ? "
            "ORDER BY created_at, rowid LIMIT ?",
            [*params, to_storage(cutoff), limit],
        )

    def delete_unreferenced_entities(self, owner: str) -> int:
        """Delete the owner's entities nothing refers to any more."""
        with self._connection(write=True) as conn:
            cursor = conn.execute(
                "DELETE FROM entities WHERE owner = ? "
                "AND NOT EXISTS (SELECT 1 FROM mentions m WHERE m.entity_id = entities.id) "
                "AND NOT EXISTS (SELECT 1 FROM facts f WHERE f.subject_id = entities.id "
                "OR f.object_id = entities.id)",
                [owner],
            )
            return cursor.rowcount

    def policies(self, owner: str | None) -> list[RetentionPolicy]:
        """Stored retention policies."""
        sql = "SELECT * FROM retention_policies"
        params: list[str] = []
        if owner is not None:
            sql += " WHERE owner = ?"
            params.append(owner)
        with self._connection(write=False) as conn:
            rows = conn.execute(sql + " ORDER BY scope_key", params).fetchall()
        return [
            RetentionPolicy(
                user_id=row["user_id"],
                agent_id=row["agent_id"],
                run_id=row["run_id"],
                max_age=timedelta(seconds=row["max_age_seconds"]),
                created_at=from_storage(row["created_at"]),
            )
            for row in rows
        ]

    def put_policy(self, policy: RetentionPolicy, event: AuditEvent | None) -> None:
        """Insert or replace the scope's policy."""
        scope = policy.scope
        with self._connection(write=True) as conn:
            conn.execute(
                "INSERT INTO retention_policies (scope_key, owner, user_id, agent_id, run_id, "
                "max_age_seconds, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (scope_key) DO UPDATE SET max_age_seconds = excluded.max_age_seconds, "
                "created_at = excluded.created_at",
                [
                    policy.key,
                    scope.owner,
                    scope.user_id,
                    scope.agent_id,
                    scope.run_id,
                    policy.max_age.total_seconds(),
                    to_storage(policy.created_at),
                ],
            )
            if event is not None:
                _append_audit(conn, event)

    def delete_policy(self, scope: Scope, event: AuditEvent) -> bool:
        """Remove the policy of exactly this scope."""
        with self._connection(write=True) as conn:
            cursor = conn.execute(
                "DELETE FROM retention_policies WHERE scope_key = ?", [policy_key(scope)]
            )
            if cursor.rowcount == 0:
                return False
            _append_audit(conn, event)
            return True

    def audit_events(
        self, owner: str | None, actions: Sequence[AuditAction], limit: int
    ) -> list[AuditEvent]:
        """Newest matching audit events first."""
        names = [action.value for action in actions]
        marks = ",".join("?" * len(names))
        sql = f"SELECT * FROM audit WHERE action IN ({marks})"
        params: list[object] = list(names)
        if owner is not None:
            sql += " AND owner = ?"
            params.append(owner)
        with self._connection(write=False) as conn:
            rows = conn.execute(sql + " ORDER BY rowid DESC LIMIT ?", [*params, limit]).fetchall()
        return [codec.row_audit(row) for row in rows]


def _append_audit(conn: sqlite3.Connection, event: AuditEvent) -> None:
    conn.execute(
        "INSERT INTO audit (id, at, action, owner, actor, target_ids, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        codec.audit_row(event),
    )
