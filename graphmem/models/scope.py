"""Scopes: whose memory a record belongs to.

graphmem follows Mem0's convention of three ids. A record's *owner* is its user,
else its agent, else its run. Owners are hard partitions: no read ever crosses them.
Within an owner, ``agent_id`` and ``run_id`` narrow reads further when given.
Entities belong to the owner only, so that two runs of one user share one "Alice".
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from graphmem.errors import InvalidInputError, ScopeRequiredError

_ID_PATTERN = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")


def owner_of(user_id: str | None, agent_id: str | None, run_id: str | None) -> str:
    """The partition key of these ids: ``user:<id>``, else ``agent:<id>``, else ``run:<id>``."""
    if user_id is not None:
        return f"user:{user_id}"
    if agent_id is not None:
        return f"agent:{agent_id}"
    return f"run:{run_id}"


class Scope(BaseModel):
    """The user / agent / run a memory belongs to (at least one is required)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @field_validator("user_id", "agent_id", "run_id")
    @classmethod
    def _check_id(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("scope ids must be strings")
        if value != value.strip() or not _ID_PATTERN.match(value):
            raise ValueError(
                "scope ids must be 1-256 characters, without control characters "
                "or surrounding whitespace"
            )
        return value

    @model_validator(mode="after")
    def _at_least_one(self) -> Scope:
        if self.user_id is None and self.agent_id is None and self.run_id is None:
            raise ValueError("at least one of user_id, agent_id or run_id is required")
        return self

    @classmethod
    def of(
        cls,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Scope:
        """Build a scope from keyword ids, raising graphmem's typed errors."""
        if user_id is None and agent_id is None and run_id is None:
            raise ScopeRequiredError("this call needs at least one of user_id, agent_id or run_id")
        for name, value in (("user_id", user_id), ("agent_id", agent_id), ("run_id", run_id)):
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
        try:
            return cls(user_id=user_id, agent_id=agent_id, run_id=run_id)
        except ValueError as exc:
            raise InvalidInputError(f"invalid scope: {exc}") from None

    @classmethod
    def optional(
        cls,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> Scope | None:
        """Like :meth:`of`, but None when no id is given (a call about every scope)."""
        if user_id is None and agent_id is None and run_id is None:
            return None
        return cls.of(user_id, agent_id, run_id)

    @classmethod
    def of_owner(cls, owner: str) -> Scope:
        """The scope that reads a whole owner partition (``user:alice`` -> user_id=alice)."""
        kind, _, value = owner.partition(":")
        return cls.model_construct(
            user_id=value if kind == "user" else None,
            agent_id=value if kind == "agent" else None,
            run_id=value if kind == "run" else None,
        )

    @property
    def owner(self) -> str:
        """The partition key: ``user:<id>``, else ``agent:<id>``, else ``run:<id>``."""
        return owner_of(self.user_id, self.agent_id, self.run_id)

    def contains(self, user_id: str | None, agent_id: str | None, run_id: str | None) -> bool:
        """True if a record stamped with these ids is visible to a read in this scope.

        The record's owner must equal this scope's owner; ``agent_id`` and ``run_id``
        given on the read must match the record's exactly.
        """
        # The owner rule spelled out without building owner strings: search asks this
        # of every edge it walks. A user-owned scope needs that user; an agent- or
        # run-owned one needs no user (and a run-owned one no agent).
        if user_id != self.user_id:
            return False
        if self.user_id is None and self.agent_id is None and agent_id is not None:
            return False
        if self.agent_id is not None and agent_id != self.agent_id:
            return False
        return self.run_id is None or run_id == self.run_id

    def contains_entity(self, owner: str) -> bool:
        """Entities are shared by all agents and runs of their owner."""
        return owner == self.owner

    def describe(self) -> str:
        """Human-readable form, for messages and tables."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("user_id", self.user_id),
                ("agent_id", self.agent_id),
                ("run_id", self.run_id),
            )
            if value is not None
        ]
        return ", ".join(parts)
