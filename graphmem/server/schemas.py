"""Request and response bodies of the REST API.

Responses are graphmem's own models (:class:`~graphmem.models.results.SearchResult`,
:class:`~graphmem.models.records.Fact`...), so the API returns exactly what the Python
API does. Requests mirror the Python methods' arguments; the Memory methods then apply
their own checks, so both front doors accept and refuse the same input.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.results import ResultKind
from graphmem.writing.messages import MAX_NAME_CHARS

ScopeQuery = Annotated[str | None, Query(min_length=1, max_length=256)]
"""A scope id in the query string (GET and DELETE requests)."""

Role = Literal["user", "assistant", "system", "tool", "document"]
"""Message roles (``graphmem.writing.messages.ROLES``)."""


def _id_field() -> Any:
    return Field(default=None, min_length=1, max_length=256)


def _text_field() -> Any:
    # At least one non-blank character: blank text is refused by Memory as well.
    return Field(min_length=1, pattern=r"\S")


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScopeBody(_Body):
    """The scope a request acts on. A scoped API key fills in (and pins) its own ids."""

    user_id: str | None = _id_field()
    agent_id: str | None = _id_field()
    run_id: str | None = _id_field()


class MessageIn(_Body):
    """One chat message (OpenAI style)."""

    role: Role = "user"
    content: str = _text_field()
    name: str | None = Field(default=None, min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S")


class AddRequest(ScopeBody):
    """Remember conversation turns (``Memory.add``)."""

    messages: str | MessageIn | list[MessageIn] = Field(
        description="One user turn as a string, one message, or a list of messages."
    )
    metadata: dict[str, Any] | None = None
    timestamp: datetime | None = Field(
        default=None, description="When the turns were said (ISO-8601 with offset)."
    )
    infer: bool = Field(default=True, description="Extract facts (false: store episodes only).")


class TripleIn(_Body):
    """One pre-extracted triple."""

    subject: str = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S")
    predicate: str = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S")
    object: str = Field(min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S")
    fact: str | None = Field(default=None, min_length=1, pattern=r"\S")
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    source: str | None = Field(
        default=None,
        min_length=1,
        pattern=r"\S",
        description="The id of a stored episode, or a text stored as a new episode.",
    )
    subject_type: str | None = Field(default=None, min_length=1, max_length=50, pattern=r"\S")
    object_type: str | None = Field(default=None, min_length=1, max_length=50, pattern=r"\S")
    metadata: dict[str, Any] | None = None


class AddFactsRequest(ScopeBody):
    """Remember pre-extracted triples without any LLM (``Memory.add_facts``)."""

    triples: list[TripleIn] = Field(min_length=1)
    source: str | None = Field(
        default=None,
        min_length=1,
        pattern=r"\S",
        description="Provenance of every triple: an episode id or a text.",
    )
    timestamp: datetime | None = None
    metadata: dict[str, Any] | None = None


class SearchRequest(ScopeBody):
    """Search a scope's memory (``Memory.search``)."""

    query: str = _text_field()
    limit: int = Field(default=10, ge=1, le=10_000)
    filters: dict[str, Any] | None = Field(
        default=None, description='Metadata filter, e.g. {"topic": {"eq": "work"}}.'
    )
    as_of: datetime | None = Field(default=None, description="Facts valid at this event time.")
    known_at: datetime | None = Field(default=None, description="As the store knew them then.")
    include: list[ResultKind] | None = Field(
        default=None,
        min_length=1,
        description="Kinds to return (default all); the others come back empty.",
    )


class ContextRequest(ScopeBody):
    """A prompt-ready context block (``Memory.context``)."""

    query: str = _text_field()
    max_tokens: int = Field(default=1000, ge=1, le=10_000)
    as_of: datetime | None = None


class ContextResponse(_Body):
    """The context block."""

    context: str


class AnswerRequest(ScopeBody):
    """Answer a question from memory with the configured LLM."""

    question: str = _text_field()
    as_of: datetime | None = Field(default=None, description="Answer as of this event time.")
    max_context_tokens: int = Field(default=2000, ge=1, le=10_000)


class UpdateRequest(ScopeBody):
    """Correct a fact (``Memory.update``); the old version stays in history."""

    fact: str | None = Field(default=None, min_length=1, pattern=r"\S")
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    metadata: dict[str, Any] | None = None


class CypherRequest(ScopeBody):
    """A read-only Cypher query over the scope's graph."""

    query: str = _text_field()
    params: dict[str, Any] | None = None
    history: bool = Field(
        default=False, description="Include every fact version, not only current ones."
    )


class CypherResponse(_Body):
    """Result rows: nodes and relationships as their properties (+ ``_labels``/``_type``)."""

    rows: list[dict[str, Any]]


RecordKind = Literal["fact", "entity", "episode"]


class RecordResponse(_Body):
    """One record and its kind."""

    kind: RecordKind
    record: Fact | Entity | Episode


class CountsResponse(_Body):
    """Record counts of a scope or of the whole store."""

    episodes: int
    entities: int
    facts: int
    current_facts: int


class StatsResponse(CountsResponse):
    """Counts plus the backend in use."""

    backend: str


class HealthResponse(_Body):
    """Liveness."""

    status: Literal["ok"]
