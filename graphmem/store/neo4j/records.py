"""Conversion between records and Neo4j property maps.

Neo4j properties hold no maps and no nulls, so metadata is stored as JSON text and
absent optional fields are simply not set. Times are the fixed-width UTC text of
:func:`graphmem.models.time.to_storage`, which sorts in time order and compares
the same way in Cypher as in Python.

A fact is stored twice, from one property map: as a ``:FactRecord`` node (the record,
indexed by id, scope, provenance and embedding) and as a relationship typed by its
predicate between its two entities (its place in the graph, for traversal).
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from graphmem.errors import InvalidInputError, StoreError
from graphmem.models.edges import FactEdge
from graphmem.models.records import AuditEvent, Entity, Episode, ExpiryReason, Fact
from graphmem.models.time import from_storage, to_storage
from graphmem.resolution.names import normalize_name
from graphmem.store.neo4j.identifiers import entity_label, owner_token, relationship_type

Properties = dict[str, Any]

EPISODE_FIELDS = (
    "id", "owner", "user_id", "agent_id", "run_id", "content", "role", "name", "valid_at",
    "created_at", "metadata", "expires_at",
)  # fmt: skip
ENTITY_FIELDS = (
    "id", "owner", "name", "normalized_name", "aliases", "type", "summary", "created_at",
    "updated_at", "metadata",
)  # fmt: skip
FACT_FIELDS = (
    "id", "owner", "user_id", "agent_id", "run_id", "subject_id", "predicate", "object_id",
    "fact", "subject_name", "object_name", "confidence", "episode_ids", "valid_at",
    "invalid_at", "created_at", "expired_at", "expired_reason", "superseded_by",
    "closed_by_episode_id", "metadata", "expires_at",
)  # fmt: skip
EDGE_FIELDS = (
    "id", "subject_id", "predicate", "object_id", "subject_name", "object_name", "confidence",
    "episode_ids", "valid_at", "invalid_at", "created_at", "expired_at", "expired_reason",
    "user_id", "agent_id", "run_id",
)  # fmt: skip
"""What graph expansion reads of a fact (see :class:`FactEdge`)."""
AUDIT_FIELDS = ("id", "at", "seq", "action", "owner", "actor", "target_ids", "detail")


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _text(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value is not None else None


def unit_vector(vector: Sequence[float] | None, dim: int, what: str) -> list[float] | None:
    """The embedding as a unit-length float list (None stays None); see :func:`normalized`."""
    return None if vector is None else normalized(vector, dim, what)


def normalized(vector: Sequence[float], dim: int, what: str) -> list[float]:
    """A vector scaled to unit length; wrong shapes are InvalidInputError.

    Stored vectors are normalized so that the exact-scan fallback can rank by a plain
    dot product and every backend compares the same numbers.
    """
    values = [float(x) for x in vector]
    if len(values) != dim:
        raise InvalidInputError(f"{what} has dimension {len(values)}, the store expects {dim}")
    if not all(math.isfinite(x) for x in values):
        raise InvalidInputError(f"{what} contains NaN or infinite values")
    norm = math.sqrt(math.fsum(x * x for x in values))
    if norm == 0.0:
        raise InvalidInputError(f"{what} is all zeros: cosine is undefined")
    return [x / norm for x in values]


# -- records -> properties --------------------------------------------------------------
def episode_properties(episode: Episode, dim: int) -> Properties:
    """The property map of an ``:Episode`` node."""
    return {
        "id": str(episode.id),
        "owner": episode.owner,
        "owner_token": owner_token(episode.owner),
        "user_id": episode.user_id,
        "agent_id": episode.agent_id,
        "run_id": episode.run_id,
        "content": episode.content,
        "role": episode.role,
        "name": episode.name,
        "valid_at": to_storage(episode.valid_at),
        "created_at": to_storage(episode.created_at),
        "metadata": _dumps(episode.metadata),
        "embedding": unit_vector(episode.embedding, dim, f"embedding of episode {episode.id}"),
        "expires_at": to_storage(episode.expires_at),
    }


def entity_properties(entity: Entity, dim: int) -> Properties:
    """The property map of an ``:Entity`` node (with its lookup and search fields)."""
    normalized_aliases = sorted(
        {normalize_name(alias) for alias in entity.aliases} - {"", entity.normalized_name}
    )
    return {
        "id": str(entity.id),
        "owner": entity.owner,
        "owner_token": owner_token(entity.owner),
        "name": entity.name,
        "normalized_name": entity.normalized_name,
        "aliases": list(entity.aliases),
        "normalized_aliases": normalized_aliases,
        "alias_text": "\n".join(entity.aliases),
        "type": entity.type,
        "type_label": entity_label(entity.type),
        "summary": entity.summary,
        "created_at": to_storage(entity.created_at),
        "updated_at": to_storage(entity.updated_at),
        "metadata": _dumps(entity.metadata),
        "embedding": unit_vector(entity.embedding, dim, f"embedding of entity {entity.id}"),
    }


def fact_properties(fact: Fact) -> Properties:
    """The property map of a fact relationship (everything but the embedding)."""
    return {
        "id": str(fact.id),
        "owner": fact.owner,
        "user_id": fact.user_id,
        "agent_id": fact.agent_id,
        "run_id": fact.run_id,
        "subject_id": str(fact.subject_id),
        "predicate": fact.predicate,
        "object_id": str(fact.object_id),
        "fact": fact.fact,
        "subject_name": fact.subject_name,
        "object_name": fact.object_name,
        "confidence": fact.confidence,
        "episode_ids": [str(episode_id) for episode_id in fact.episode_ids],
        "valid_at": to_storage(fact.valid_at),
        "invalid_at": to_storage(fact.invalid_at),
        "created_at": to_storage(fact.created_at),
        "expired_at": to_storage(fact.expired_at),
        "expired_reason": fact.expired_reason.value if fact.expired_reason is not None else None,
        "superseded_by": _text(fact.superseded_by),
        "closed_by_episode_id": _text(fact.closed_by_episode_id),
        "metadata": _dumps(fact.metadata),
        "expires_at": to_storage(fact.expires_at),
    }


def fact_record_properties(fact: Fact, dim: int) -> Properties:
    """The property map of a ``:FactRecord`` node: the fact, its type and embedding."""
    return {
        **fact_properties(fact),
        "rel_type": relationship_type(fact.predicate),
        "owner_token": owner_token(fact.owner),
        "embedding": unit_vector(fact.embedding, dim, f"embedding of fact {fact.id}"),
    }


def audit_properties(event: AuditEvent, seq: int) -> Properties:
    """The property map of an ``:AuditEvent`` node; ``seq`` orders events of one append."""
    return {
        "id": str(event.id),
        "at": to_storage(event.at),
        "seq": seq,
        "action": event.action.value,
        "owner": event.owner,
        "actor": event.actor,
        "target_ids": [str(target) for target in event.target_ids],
        "detail": _dumps(event.detail),
    }


# -- properties -> records --------------------------------------------------------------
def _embedding(props: Mapping[str, Any], with_embedding: bool) -> list[float] | None:
    value = props.get("embedding") if with_embedding else None
    return [float(x) for x in value] if value is not None else None


def _required_time(props: Mapping[str, Any], field: str) -> Any:
    value = from_storage(props.get(field))
    if value is None:
        raise StoreError(f"record {props.get('id')} has no {field}; the database is inconsistent")
    return value


def episode_from(props: Mapping[str, Any], *, with_embedding: bool = False) -> Episode:
    """An :class:`Episode` from a node's property map."""
    return Episode.model_construct(
        id=uuid.UUID(props["id"]),
        user_id=props.get("user_id"),
        agent_id=props.get("agent_id"),
        run_id=props.get("run_id"),
        content=props["content"],
        role=props["role"],
        name=props.get("name"),
        valid_at=_required_time(props, "valid_at"),
        created_at=_required_time(props, "created_at"),
        metadata=json.loads(props["metadata"]),
        embedding=_embedding(props, with_embedding),
        expires_at=from_storage(props.get("expires_at")),
    )


def entity_from(props: Mapping[str, Any], *, with_embedding: bool = False) -> Entity:
    """An :class:`Entity` from a node's property map."""
    return Entity.model_construct(
        id=uuid.UUID(props["id"]),
        owner=props["owner"],
        name=props["name"],
        normalized_name=props["normalized_name"],
        aliases=list(props.get("aliases") or []),
        type=props["type"],
        summary=props.get("summary") or "",
        created_at=_required_time(props, "created_at"),
        updated_at=_required_time(props, "updated_at"),
        metadata=json.loads(props["metadata"]),
        embedding=_embedding(props, with_embedding),
    )


def fact_from(props: Mapping[str, Any], *, with_embedding: bool = False) -> Fact:
    """A :class:`Fact` from a ``:FactRecord`` node's or a fact relationship's map."""
    reason = props.get("expired_reason")
    return Fact.model_construct(
        id=uuid.UUID(props["id"]),
        user_id=props.get("user_id"),
        agent_id=props.get("agent_id"),
        run_id=props.get("run_id"),
        subject_id=uuid.UUID(props["subject_id"]),
        predicate=props["predicate"],
        object_id=uuid.UUID(props["object_id"]),
        fact=props["fact"],
        subject_name=props.get("subject_name") or "",
        object_name=props.get("object_name") or "",
        confidence=float(props["confidence"]),
        episode_ids=[uuid.UUID(value) for value in props.get("episode_ids") or []],
        valid_at=from_storage(props.get("valid_at")),
        invalid_at=from_storage(props.get("invalid_at")),
        created_at=_required_time(props, "created_at"),
        expired_at=from_storage(props.get("expired_at")),
        expired_reason=ExpiryReason(reason) if reason is not None else None,
        superseded_by=_uuid(props.get("superseded_by")),
        closed_by_episode_id=_uuid(props.get("closed_by_episode_id")),
        metadata=json.loads(props["metadata"]),
        embedding=_embedding(props, with_embedding),
        expires_at=from_storage(props.get("expires_at")),
    )


def edge_from(props: Mapping[str, Any]) -> FactEdge:
    """A :class:`FactEdge` from a fact relationship's map projected on :data:`EDGE_FIELDS`."""
    reason = props.get("expired_reason")
    return FactEdge(
        id=uuid.UUID(props["id"]),
        subject_id=uuid.UUID(props["subject_id"]),
        predicate=props["predicate"],
        object_id=uuid.UUID(props["object_id"]),
        subject_name=props.get("subject_name") or "",
        object_name=props.get("object_name") or "",
        confidence=float(props["confidence"]),
        episode_ids=tuple(uuid.UUID(value) for value in props.get("episode_ids") or []),
        valid_at=from_storage(props.get("valid_at")),
        invalid_at=from_storage(props.get("invalid_at")),
        created_at=_required_time(props, "created_at"),
        expired_at=from_storage(props.get("expired_at")),
        expired_reason=ExpiryReason(reason) if reason is not None else None,
        user_id=props.get("user_id"),
        agent_id=props.get("agent_id"),
        run_id=props.get("run_id"),
    )


def audit_from(props: Mapping[str, Any]) -> AuditEvent:
    """An :class:`AuditEvent` from a node's property map."""
    return AuditEvent.model_validate(
        {
            "id": props["id"],
            "at": from_storage(props["at"]),
            "action": props["action"],
            "owner": props.get("owner"),
            "actor": props.get("actor"),
            "target_ids": list(props.get("target_ids") or []),
            "detail": json.loads(props["detail"]),
        }
    )
