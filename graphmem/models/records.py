"""The stored records: episodes, entities, facts, and the audit log.

Both backends hold exactly these records. Embeddings live on the records but are
excluded from their JSON form (they are large and derived from the text).
"""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graphmem.models.scope import Scope
from graphmem.models.time import UtcDatetime, utcnow

JsonDict = dict[str, Any]


def new_id() -> uuid.UUID:
    """A fresh random record id."""
    return uuid.uuid4()


class ScopedRecord(BaseModel):
    """Fields every stored record carries: its scope ids and owner partition."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    @property
    def owner(self) -> str:
        """The owner partition this record lives in (see :class:`Scope`)."""
        return Scope.model_construct(
            user_id=self.user_id, agent_id=self.agent_id, run_id=self.run_id
        ).owner

    def stamp(self, scope: Scope) -> None:
        """Copy a scope's ids onto the record."""
        self.user_id, self.agent_id, self.run_id = scope.user_id, scope.agent_id, scope.run_id


class Episode(ScopedRecord):
    """A raw input unit (a turn, a message batch, a document chunk), always kept."""

    id: uuid.UUID = Field(default_factory=new_id)
    content: str
    role: str = "user"
    name: str | None = None
    """The speaker's name, when known."""
    valid_at: UtcDatetime = Field(default_factory=utcnow)
    """Reference time: when this was said or written."""
    created_at: UtcDatetime = Field(default_factory=utcnow)
    metadata: JsonDict = Field(default_factory=dict)
    embedding: list[float] | None = Field(default=None, exclude=True, repr=False)
    expires_at: UtcDatetime | None = None
    """When this episode leaves default reads (``expiration_date``); ``graphmem gc``
    then purges it and undoes what it caused. None: kept until deleted."""


class Entity(BaseModel):
    """A node of a user's knowledge graph: a person, place, organization, thing."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    id: uuid.UUID = Field(default_factory=new_id)
    owner: str
    """The owner partition (``user:alice``); entities are not forked per agent or run."""
    name: str
    normalized_name: str
    aliases: list[str] = Field(default_factory=list)
    type: str = "Thing"
    """Entity type, also a Neo4j label: ``Person``, ``Place``, ``Organization``..."""
    summary: str = ""
    created_at: UtcDatetime = Field(default_factory=utcnow)
    updated_at: UtcDatetime = Field(default_factory=utcnow)
    metadata: JsonDict = Field(default_factory=dict)
    embedding: list[float] | None = Field(default=None, exclude=True, repr=False)


class ExpiryReason(StrEnum):
    """Why a fact stopped being the store's current belief (system time)."""

    SUPERSEDED = "superseded"
    """A newer fact of a one-valued predicate replaced it; its event interval is closed."""
    ENDED = "ended"
    """An explicit ending ("I no longer work at Acme") closed it without replacement."""
    ARRIVED_CLOSED = "arrived_closed"
    """It arrived after a newer fact of the same predicate, so it was stored closed."""
    CORRECTED = "corrected"
    """It was wrong and was replaced by an update: it was never true."""
    RETRACTED = "retracted"
    """It was withdrawn without replacement: it was never true."""

    @property
    def closes_interval(self) -> bool:
        """True for reasons that end a true fact rather than withdraw a false one."""
        return self in (ExpiryReason.SUPERSEDED, ExpiryReason.ENDED, ExpiryReason.ARRIVED_CLOSED)


class Fact(ScopedRecord):
    """A relation between two entities, with event time and system time.

    Event time: ``valid_at`` / ``invalid_at`` say when it was true in the world.
    System time: ``created_at`` / ``expired_at`` say when graphmem learned and retired it.
    A contradicted fact is closed (``invalid_at``, ``expired_at``, ``superseded_by``),
    never deleted.
    """

    id: uuid.UUID = Field(default_factory=new_id)
    subject_id: uuid.UUID
    predicate: str
    """Canonical predicate in snake_case (``works_at``); its Neo4j type is ``WORKS_AT``."""
    object_id: uuid.UUID
    fact: str
    """One natural-language sentence stating the fact."""
    subject_name: str = ""
    object_name: str = ""
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    episode_ids: list[uuid.UUID] = Field(default_factory=list)
    """Provenance: the episodes that stated this fact."""
    valid_at: UtcDatetime | None = None
    invalid_at: UtcDatetime | None = None
    created_at: UtcDatetime = Field(default_factory=utcnow)
    expired_at: UtcDatetime | None = None
    expired_reason: ExpiryReason | None = None
    superseded_by: uuid.UUID | None = None
    closed_by_episode_id: uuid.UUID | None = None
    """The episode whose statement closed this fact (so that deleting it can re-open it)."""
    metadata: JsonDict = Field(default_factory=dict)
    embedding: list[float] | None = Field(default=None, exclude=True, repr=False)
    expires_at: UtcDatetime | None = None
    """When this fact leaves default reads: the latest expiry of its source episodes,
    None as soon as one source does not expire (see :mod:`graphmem.lifecycle`)."""

    @property
    def is_current(self) -> bool:
        """True if nothing has closed or withdrawn this fact (ignores future ``valid_at``)."""
        return self.expired_at is None and self.invalid_at is None


class AuditAction(StrEnum):
    """The kinds of writes the audit log records."""

    ADD = "add"
    ADD_FACTS = "add_facts"
    UPDATE = "update"
    SUPERSEDE = "supersede"
    END = "end"
    DELETE = "delete"
    DELETE_EPISODE = "delete_episode"
    FORGET = "forget"
    RESET = "reset"
    PURGE = "purge"
    """``gc`` removed expired records (a content-free deletion record)."""
    RETENTION = "retention"
    """A retention policy was set or removed."""


class AuditEvent(BaseModel):
    """One entry of the audit log: who changed what, and when."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID = Field(default_factory=new_id)
    at: UtcDatetime = Field(default_factory=utcnow)
    action: AuditAction
    owner: str | None = None
    actor: str | None = None
    """Who asked for the change (a user id, an API key name); None for the library caller."""
    target_ids: list[uuid.UUID] = Field(default_factory=list)
    detail: JsonDict = Field(default_factory=dict)
