"""What lifecycle operations need from a store, beyond the store protocol.

The store protocol has no notion of expiry or policies; each backend answers these
few questions in its own query language (:mod:`.embedded`, :mod:`.neo4j`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from graphmem.errors import InvalidInputError
from graphmem.lifecycle.policy import RetentionPolicy
from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.scope import Scope
from graphmem.store.base import GraphStore


class LifecycleBackend(Protocol):
    """Expiry queries, retention policy storage and deletion-record lookup."""

    def expired_episodes(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Ids of episodes whose ``expires_at`` is at or before ``now``, oldest expiry first."""
        ...

    def expired_facts(self, now: datetime, limit: int) -> list[uuid.UUID]:
        """Ids of fact versions whose ``expires_at`` is at or before ``now``."""
        ...

    def episodes_created_before(
        self, scope: Scope, cutoff: datetime, limit: int
    ) -> list[uuid.UUID]:
        """Ids of the scope's episodes created at or before ``cutoff``."""
        ...

    def delete_unreferenced_entities(self, owner: str) -> int:
        """Delete the owner's entities no episode mentions and no fact touches; how many."""
        ...

    def policies(self, owner: str | None) -> list[RetentionPolicy]:
        """Retention policies of one owner, or all."""
        ...

    def put_policy(self, policy: RetentionPolicy, event: AuditEvent | None) -> None:
        """Insert or replace the policy of its scope, with its audit event (if any),
        atomically."""
        ...

    def delete_policy(self, scope: Scope, event: AuditEvent) -> bool:
        """Remove the policy of exactly this scope (with its audit event); False if none."""
        ...

    def audit_events(
        self, owner: str | None, actions: Sequence[AuditAction], limit: int
    ) -> list[AuditEvent]:
        """The newest audit events with one of ``actions`` (of one owner, or all)."""
        ...


def lifecycle_backend(store: GraphStore) -> LifecycleBackend:
    """The lifecycle operations of ``store``'s backend."""
    if store.backend == "embedded":
        from graphmem.lifecycle.embedded import EmbeddedLifecycle
        from graphmem.store.embedded.store import EmbeddedStore

        if isinstance(store, EmbeddedStore):
            return EmbeddedLifecycle(store)
    if store.backend == "neo4j":
        from graphmem.lifecycle.neo4j import Neo4jLifecycle
        from graphmem.store.neo4j import Neo4jStore

        if isinstance(store, Neo4jStore):
            return Neo4jLifecycle(store)
    raise InvalidInputError(
        f"retention and gc are not available for a {store.backend!r} store of type "
        f"{type(store).__name__}"
    )
