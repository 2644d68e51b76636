"""Deletion records: the content-free proof that an erasure happened.

``forget()`` and ``gc`` each leave one audit event that says which scope lost how
many records, when, and why, and never what they said. :class:`DeletionRecord` is
the typed view of such an event that operators list to prove an erasure.
"""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.time import UtcDatetime

DELETION_ACTIONS = (
    AuditAction.FORGET,
    AuditAction.PURGE,
    AuditAction.DELETE,
    AuditAction.DELETE_EPISODE,
)
"""Audit actions that remove records (``reset`` removes the audit log itself)."""
_COUNT_KEYS = ("episodes", "facts", "entities", "facts_removed", "facts_trimmed", "facts_reopened")


class DeletionRecord(BaseModel):
    """One erasure: what scope, when, how many records, why. No content."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID
    at: UtcDatetime
    action: AuditAction
    owner: str | None = None
    actor: str | None = None
    scope: dict[str, str] = Field(default_factory=dict)
    """The scope ids the deletion applied to (for ``forget``; the owner otherwise)."""
    counts: dict[str, int] = Field(default_factory=dict)
    """How many records of each kind went."""
    reason: str | None = None
    """Why: ``forget``, ``expired``, ``retention`` (gc), or ``request`` (delete calls)."""
    target_ids: list[uuid.UUID] = Field(default_factory=list)
    """Ids of deleted records, where the event names them (single deletions)."""

    @classmethod
    def from_event(cls, event: AuditEvent) -> DeletionRecord:
        """The deletion record an audit event holds."""
        detail: dict[str, Any] = event.detail
        scope = detail.get("scope")
        counts = {
            key: int(value)
            for key, value in detail.items()
            if key in _COUNT_KEYS and isinstance(value, int) and not isinstance(value, bool)
        }
        if isinstance(detail.get("counts"), dict):
            counts.update(
                {str(k): int(v) for k, v in detail["counts"].items() if isinstance(v, int)}
            )
        reason = detail.get("reason")
        if not isinstance(reason, str):
            reason = "forget" if event.action == AuditAction.FORGET else "request"
        return cls(
            id=event.id,
            at=event.at,
            action=event.action,
            owner=event.owner,
            actor=event.actor,
            scope={str(k): str(v) for k, v in scope.items()} if isinstance(scope, dict) else {},
            counts=counts,
            reason=reason,
            target_ids=list(event.target_ids),
        )
