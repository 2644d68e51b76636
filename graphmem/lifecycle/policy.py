"""Retention: how long a scope keeps what it learns, and when an added turn expires."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from graphmem.errors import InvalidInputError
from graphmem.models.records import AuditAction, AuditEvent
from graphmem.models.scope import Scope
from graphmem.models.time import UtcDatetime, utcnow

if TYPE_CHECKING:
    from graphmem.lifecycle.backend import LifecycleBackend

MAX_AGE_LIMIT = timedelta(days=365 * 200)


class RetentionPolicy(BaseModel):
    """Records a scope contains are purged by ``gc`` once older than ``max_age``.

    Age is counted from ``created_at`` (when graphmem stored the record), the clock
    of storage limitation: a conversation imported today from last year is kept for
    ``max_age`` from today. When several policies contain a record (one for the user,
    one for an agent of that user), the shortest ``max_age`` applies.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None
    max_age: timedelta = Field(gt=timedelta(0))
    created_at: UtcDatetime = Field(default_factory=utcnow)

    @property
    def scope(self) -> Scope:
        """The scope whose records this policy governs."""
        return Scope.of(self.user_id, self.agent_id, self.run_id)

    @property
    def key(self) -> str:
        """A stable identity of the policy's scope (one policy per scope)."""
        return policy_key(self.scope)

    def cutoff(self, now: datetime) -> datetime:
        """Records created at or before this time are past the policy's age."""
        return now - self.max_age


def policy_key(scope: Scope) -> str:
    """``owner`` plus the narrowing ids, unambiguous whatever the ids contain."""
    parts = [scope.owner, scope.agent_id or "", scope.run_id or ""]
    return "\x1f".join(parts)


def check_max_age(value: object) -> timedelta:
    """A positive ``timedelta`` (or a number of days), at most 200 years."""
    if isinstance(value, bool):
        raise InvalidInputError("max_age must be a timedelta or a number of days, got bool")
    if isinstance(value, int | float):
        value = timedelta(days=value)
    if not isinstance(value, timedelta):
        raise InvalidInputError(
            f"max_age must be a timedelta or a number of days, got {type(value).__name__}"
        )
    if value <= timedelta(0):
        raise InvalidInputError("max_age must be positive")
    if value > MAX_AGE_LIMIT:
        raise InvalidInputError("max_age must be at most 200 years")
    return value


def set_retention(
    backend: LifecycleBackend, scope: Scope, max_age: object
) -> RetentionPolicy | None:
    """Store the retention policy of ``scope`` (``max_age`` as :func:`check_max_age`
    takes it), or remove it when ``max_age`` is None; audited either way."""
    policy = None
    if max_age is not None:
        policy = RetentionPolicy(
            user_id=scope.user_id,
            agent_id=scope.agent_id,
            run_id=scope.run_id,
            max_age=check_max_age(max_age),
        )
    event = AuditEvent(
        action=AuditAction.RETENTION,
        owner=scope.owner,
        detail={
            "scope": scope.model_dump(exclude_none=True),
            "max_age_seconds": None if policy is None else policy.max_age.total_seconds(),
        },
    )
    if policy is None:
        backend.delete_policy(scope, event)
    else:
        backend.put_policy(policy, event)
    return policy
