"""The slim form of a fact that graph expansion walks over.

A search may touch hundreds of facts in the neighbourhood of its entry points but
returns a handful. Expansion needs only a fact's ends, weight, names, provenance and
validity, so stores hand it :class:`FactEdge` rows, and full
:class:`~graphmem.models.records.Fact` records are loaded for the facts returned.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import NamedTuple

from graphmem.models.records import ExpiryReason, Fact


class FactEdge(NamedTuple):
    """A fact as an edge of the entity graph: everything but its text and metadata.

    A named tuple rather than a model: search builds thousands of these per query.
    """

    id: uuid.UUID
    subject_id: uuid.UUID
    predicate: str
    object_id: uuid.UUID
    subject_name: str
    object_name: str
    confidence: float
    episode_ids: tuple[uuid.UUID, ...]
    valid_at: datetime | None
    invalid_at: datetime | None
    created_at: datetime
    expired_at: datetime | None
    expired_reason: ExpiryReason | None
    user_id: str | None
    agent_id: str | None
    run_id: str | None

    @classmethod
    def of(cls, fact: Fact) -> FactEdge:
        """The edge of a full fact record."""
        return cls(
            id=fact.id,
            subject_id=fact.subject_id,
            predicate=fact.predicate,
            object_id=fact.object_id,
            subject_name=fact.subject_name,
            object_name=fact.object_name,
            confidence=fact.confidence,
            episode_ids=tuple(fact.episode_ids),
            valid_at=fact.valid_at,
            invalid_at=fact.invalid_at,
            created_at=fact.created_at,
            expired_at=fact.expired_at,
            expired_reason=fact.expired_reason,
            user_id=fact.user_id,
            agent_id=fact.agent_id,
            run_id=fact.run_id,
        )
