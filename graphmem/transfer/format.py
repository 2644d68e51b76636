"""The graphmem export format: JSON Lines, one record per line, in reference order.

::

    {"type": "graphmem-export", "version": 1, "embedder": {...}, "scope": {...}, ...}
    {"type": "policy",  "record": {...}}          retention policies
    {"type": "entity",  "record": {...}}          then episodes, facts
    {"type": "mention", "episode_id": "...", "entity_id": "..."}
    {"type": "audit",   "record": {...}}          oldest first
    {"type": "end", "counts": {...}}              absent if the file was cut short

Records are the models' JSON form with every field (all time fields, provenance,
closures, expiry, metadata); with embeddings on, ``record["embedding"]`` is the
float32 vector, little-endian, in base64, so a round trip is bit-exact.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal, cast

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from graphmem.errors import InvalidInputError
from graphmem.lifecycle.policy import RetentionPolicy
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.time import UtcDatetime, utcnow

FORMAT: Literal["graphmem-export"] = "graphmem-export"
VERSION = 1
RecordKind = Literal["policy", "entity", "episode", "fact", "mention", "audit"]
KINDS: tuple[RecordKind, ...] = ("policy", "entity", "episode", "fact", "mention", "audit")
"""Record kinds in the order a file holds them (each may only refer to earlier ones)."""
Record = Entity | Episode | Fact | AuditEvent | RetentionPolicy
Mention = tuple[str, str]


class EmbedderIdentity(BaseModel):
    """The embedder the exported vectors come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    model: str
    dim: int = Field(gt=0)


class Header(BaseModel):
    """The first line of an export."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["graphmem-export"] = FORMAT
    version: int = VERSION
    created_at: UtcDatetime = Field(default_factory=utcnow)
    backend: str
    """The backend the records came from (``embedded``, ``neo4j``)."""
    embedder: EmbedderIdentity | None
    embeddings: bool
    """Whether records carry their vectors."""
    scope: dict[str, str] | None = None
    """The exported scope's ids; None for a whole store."""


def vector_text(vector: Sequence[float]) -> str:
    """Base64 of the float32 little-endian bytes of a vector."""
    return base64.b64encode(np.asarray(vector, dtype="<f4").tobytes()).decode("ascii")


def text_vector(text: str, where: str) -> list[float]:
    """Inverse of :func:`vector_text`."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInputError(f"{where}: the embedding is not valid base64") from None
    if len(raw) % 4:
        raise InvalidInputError(f"{where}: the embedding is not a float32 vector")
    values: list[float] = np.frombuffer(raw, dtype="<f4").tolist()
    return values


def encode(kind: RecordKind, record: Record, *, embeddings: bool) -> str:
    """One line (without newline) for a record."""
    if isinstance(record, RetentionPolicy):
        body: dict[str, Any] = record.model_dump(mode="json")
        body["max_age"] = record.max_age.total_seconds()
    else:
        body = record.model_dump(mode="json")
        vector = getattr(record, "embedding", None)
        if embeddings and vector is not None:
            body["embedding"] = vector_text(vector)
    return json.dumps({"type": kind, "record": body}, ensure_ascii=False, separators=(",", ":"))


def encode_mention(episode_id: str, entity_id: str) -> str:
    """One MENTIONS line."""
    return json.dumps({"type": "mention", "episode_id": episode_id, "entity_id": entity_id})


_MODELS: dict[str, type[BaseModel]] = {
    "entity": Entity,
    "episode": Episode,
    "fact": Fact,
    "audit": AuditEvent,
    "policy": RetentionPolicy,
}


def decode(line: dict[str, Any], where: str) -> tuple[RecordKind, Record | Mention]:
    """The kind and record of a parsed line; malformed lines are InvalidInputError."""
    kind = line.get("type")
    if kind == "mention":
        episode_id, entity_id = line.get("episode_id"), line.get("entity_id")
        if not isinstance(episode_id, str) or not isinstance(entity_id, str) or len(line) != 3:
            raise InvalidInputError(f"{where}: a mention needs episode_id and entity_id only")
        return "mention", (episode_id, entity_id)
    if kind not in _MODELS:
        raise InvalidInputError(f"{where}: unknown record type {kind!r}")
    body = line.get("record")
    if not isinstance(body, dict) or set(line) != {"type", "record"}:
        raise InvalidInputError(f"{where}: a {kind} line is {{'type', 'record'}}")
    body = dict(body)
    if kind == "policy" and isinstance(body.get("max_age"), int | float):
        body["max_age"] = timedelta(seconds=body["max_age"])
    embedding = body.pop("embedding", None) if kind in ("entity", "episode", "fact") else None
    if embedding is not None:
        if not isinstance(embedding, str):
            raise InvalidInputError(f"{where}: embedding must be base64 text")
        body["embedding"] = text_vector(embedding, where)
    try:
        record = _MODELS[kind].model_validate(body)
    except ValidationError as exc:
        first = exc.errors(include_input=False)[0]
        field = ".".join(str(part) for part in first["loc"]) or "record"
        raise InvalidInputError(f"{where}: invalid {kind}: {field}: {first['msg']}") from None
    assert isinstance(record, Entity | Episode | Fact | AuditEvent | RetentionPolicy)
    return cast(RecordKind, kind), record


def parse_json(text: str, where: str) -> dict[str, Any]:
    """A line's JSON object."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{where}: not JSON: {exc}") from None
    if not isinstance(value, dict):
        raise InvalidInputError(f"{where}: each line must be a JSON object")
    return value


def parse_header(text: str, where: str) -> Header:
    """The header line, or a clear error for a file that is not a graphmem export."""
    value = parse_json(text, where)
    if value.get("type") != FORMAT:
        raise InvalidInputError(
            f"{where}: not a graphmem export (the first line must have type {FORMAT!r})"
        )
    if value.get("version") != VERSION:
        raise InvalidInputError(
            f"{where}: export format version {value.get('version')!r} is not supported "
            f"(this graphmem reads version {VERSION})"
        )
    try:
        return Header.model_validate(value)
    except ValidationError as exc:
        raise InvalidInputError(f"{where}: invalid export header: {exc}") from None


def is_export(first_line: str) -> bool:
    """Whether a file's first line is a graphmem export header (vs. messages or triples)."""
    try:
        value = json.loads(first_line)
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and value.get("type") == FORMAT
