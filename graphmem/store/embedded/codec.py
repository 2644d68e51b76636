"""Conversion between records and SQLite rows."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np

from graphmem.models.records import AuditEvent, Entity, Episode, ExpiryReason, Fact
from graphmem.models.time import from_storage, to_storage

EPISODE_COLUMNS = (
    "id, owner, user_id, agent_id, run_id, content, role, name, valid_at, created_at, metadata, "
    "embedding, expires_at"
)
ENTITY_COLUMNS = (
    "id, owner, name, normalized_name, aliases, type, summary, created_at, updated_at, metadata, "
    "embedding"
)
FACT_COLUMNS = (
    "id, owner, user_id, agent_id, run_id, subject_id, predicate, object_id, fact, subject_name, "
    "object_name, confidence, episode_ids, valid_at, invalid_at, created_at, expired_at, "
    "expired_reason, superseded_by, closed_by_episode_id, metadata, embedding, expires_at"
)


def dumps(value: Any) -> str:
    """Compact JSON; metadata is validated as JSON-serializable before it gets here."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def vector_blob(vector: Sequence[float] | None) -> bytes | None:
    """float32 bytes of an embedding."""
    if vector is None:
        return None
    return np.asarray(vector, dtype=np.float32).tobytes()


def blob_vector(blob: bytes | None) -> list[float] | None:
    """Inverse of :func:`vector_blob`."""
    if blob is None:
        return None
    values: list[float] = np.frombuffer(blob, dtype=np.float32).tolist()
    return values


def _time(value: str) -> datetime:
    """A required timestamp column."""
    parsed = from_storage(value)
    assert parsed is not None  # the column is NOT NULL
    return parsed


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def episode_row(episode: Episode) -> tuple[Any, ...]:
    """Values in :data:`EPISODE_COLUMNS` order."""
    return (
        str(episode.id),
        episode.owner,
        episode.user_id,
        episode.agent_id,
        episode.run_id,
        episode.content,
        episode.role,
        episode.name,
        to_storage(episode.valid_at),
        to_storage(episode.created_at),
        dumps(episode.metadata),
        vector_blob(episode.embedding),
        to_storage(episode.expires_at),
    )


def row_episode(row: sqlite3.Row, *, with_embedding: bool = False) -> Episode:
    """An :class:`Episode` from a row selected with :data:`EPISODE_COLUMNS`."""
    return Episode.model_construct(
        id=uuid.UUID(row["id"]),
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        run_id=row["run_id"],
        content=row["content"],
        role=row["role"],
        name=row["name"],
        valid_at=_time(row["valid_at"]),
        created_at=_time(row["created_at"]),
        metadata=json.loads(row["metadata"]),
        embedding=blob_vector(row["embedding"]) if with_embedding else None,
        expires_at=from_storage(row["expires_at"]),
    )


def entity_row(entity: Entity) -> tuple[Any, ...]:
    """Values in :data:`ENTITY_COLUMNS` order."""
    return (
        str(entity.id),
        entity.owner,
        entity.name,
        entity.normalized_name,
        dumps(entity.aliases),
        entity.type,
        entity.summary,
        to_storage(entity.created_at),
        to_storage(entity.updated_at),
        dumps(entity.metadata),
        vector_blob(entity.embedding),
    )


def row_entity(row: sqlite3.Row, *, with_embedding: bool = False) -> Entity:
    """An :class:`Entity` from a row selected with :data:`ENTITY_COLUMNS`."""
    return Entity.model_construct(
        id=uuid.UUID(row["id"]),
        owner=row["owner"],
        name=row["name"],
        normalized_name=row["normalized_name"],
        aliases=json.loads(row["aliases"]),
        type=row["type"],
        summary=row["summary"],
        created_at=_time(row["created_at"]),
        updated_at=_time(row["updated_at"]),
        metadata=json.loads(row["metadata"]),
        embedding=blob_vector(row["embedding"]) if with_embedding else None,
    )


def fact_row(fact: Fact) -> tuple[Any, ...]:
    """Values in :data:`FACT_COLUMNS` order."""
    return (
        str(fact.id),
        fact.owner,
        fact.user_id,
        fact.agent_id,
        fact.run_id,
        str(fact.subject_id),
        fact.predicate,
        str(fact.object_id),
        fact.fact,
        fact.subject_name,
        fact.object_name,
        fact.confidence,
        dumps([str(episode_id) for episode_id in fact.episode_ids]),
        to_storage(fact.valid_at),
        to_storage(fact.invalid_at),
        to_storage(fact.created_at),
        to_storage(fact.expired_at),
        fact.expired_reason.value if fact.expired_reason is not None else None,
        _text(fact.superseded_by),
        _text(fact.closed_by_episode_id),
        dumps(fact.metadata),
        vector_blob(fact.embedding),
        to_storage(fact.expires_at),
    )


def row_fact(row: sqlite3.Row, *, with_embedding: bool = False) -> Fact:
    """A :class:`Fact` from a row selected with :data:`FACT_COLUMNS`."""
    reason = row["expired_reason"]
    return Fact.model_construct(
        id=uuid.UUID(row["id"]),
        user_id=row["user_id"],
        agent_id=row["agent_id"],
        run_id=row["run_id"],
        subject_id=uuid.UUID(row["subject_id"]),
        predicate=row["predicate"],
        object_id=uuid.UUID(row["object_id"]),
        fact=row["fact"],
        subject_name=row["subject_name"],
        object_name=row["object_name"],
        confidence=row["confidence"],
        episode_ids=[uuid.UUID(value) for value in json.loads(row["episode_ids"])],
        valid_at=from_storage(row["valid_at"]),
        invalid_at=from_storage(row["invalid_at"]),
        created_at=_time(row["created_at"]),
        expired_at=from_storage(row["expired_at"]),
        expired_reason=ExpiryReason(reason) if reason is not None else None,
        superseded_by=_uuid(row["superseded_by"]),
        closed_by_episode_id=_uuid(row["closed_by_episode_id"]),
        metadata=json.loads(row["metadata"]),
        embedding=blob_vector(row["embedding"]) if with_embedding else None,
        expires_at=from_storage(row["expires_at"]),
    )


def audit_row(event: AuditEvent) -> tuple[Any, ...]:
    """Values for the audit table."""
    return (
        str(event.id),
        to_storage(event.at),
        event.action.value,
        event.owner,
        event.actor,
        dumps([str(target) for target in event.target_ids]),
        dumps(event.detail),
    )


def row_audit(row: sqlite3.Row) -> AuditEvent:
    """An :class:`AuditEvent` from an audit row."""
    return AuditEvent.model_validate(
        {
            "id": row["id"],
            "at": from_storage(row["at"]),
            "action": row["action"],
            "owner": row["owner"],
            "actor": row["actor"],
            "target_ids": json.loads(row["target_ids"]),
            "detail": json.loads(row["detail"]),
        }
    )
