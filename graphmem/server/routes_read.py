"""Routes that read memory: search, context, answer, list, get, history."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from graphmem.answering import Answer
from graphmem.errors import InvalidFilterError
from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.results import HistoryEntry, MemorySnapshot, SearchResult
from graphmem.server.auth import CallerDep
from graphmem.server.problems import HTTPProblemError, problem_responses
from graphmem.server.schemas import (
    AnswerRequest,
    ContextRequest,
    ContextResponse,
    RecordKind,
    RecordResponse,
    ScopeQuery,
    SearchRequest,
)
from graphmem.server.state import service_state

router = APIRouter(prefix="/v1", tags=["memories"])

_READ = (400, 401, 403, 413, 422, 429, 503)
_BY_ID = (401, 403, 404, 422, 429, 503)


@router.post("/search", responses=problem_responses(*_READ), summary="Search memory")
async def search(body: SearchRequest, caller: CallerDep, request: Request) -> SearchResult:
    """Facts, entities and episodes relevant to the query, best first, with their paths."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    return await service_state(request.app).memory.search(
        body.query,
        limit=body.limit,
        filters=body.filters,
        as_of=body.as_of,
        known_at=body.known_at,
        include=body.include,
        **scope.kwargs(),
    )


@router.post("/context", responses=problem_responses(*_READ), summary="Context block")
async def context(body: ContextRequest, caller: CallerDep, request: Request) -> ContextResponse:
    """A prompt-ready block of what memory knows about the query, within ``max_tokens``."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    text = await service_state(request.app).memory.context(
        body.query, max_tokens=body.max_tokens, as_of=body.as_of, **scope.kwargs()
    )
    return ContextResponse(context=text)


@router.post("/answer", responses=problem_responses(*_READ, 501, 502), summary="Answer a question")
async def answer(body: AnswerRequest, caller: CallerDep, request: Request) -> Answer:
    """Answer a question from memory with the configured LLM, citing the facts used."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    memory = service_state(request.app).memory.sync
    answer_question = getattr(memory, "answer", None)
    if answer_question is None:
        raise HTTPProblemError(
            501, "NotImplementedError", "this graphmem version cannot answer questions"
        )
    result: Any = await asyncio.to_thread(
        answer_question,
        body.question,
        as_of=body.as_of,
        max_context_tokens=body.max_context_tokens,
        **scope.kwargs(),
    )
    return Answer.model_validate(result, from_attributes=True)


@router.get("/memories", responses=problem_responses(*_READ), summary="List a scope")
async def get_all(
    caller: CallerDep,
    request: Request,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    run_id: ScopeQuery = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    filters: Annotated[str | None, Query(description="A metadata filter as a JSON object.")] = None,
    as_of: datetime | None = None,
    known_at: datetime | None = None,
) -> MemorySnapshot:
    """The scope's facts (valid at ``as_of``), entities and episodes, newest first."""
    scope = caller.scope(user_id, agent_id, run_id)
    return await service_state(request.app).memory.get_all(
        limit=limit,
        filters=_json_filter(filters),
        as_of=as_of,
        known_at=known_at,
        **scope.kwargs(),
    )


@router.get("/memories/{record_id}", responses=problem_responses(*_BY_ID), summary="Get a record")
async def get(
    record_id: uuid.UUID,
    caller: CallerDep,
    request: Request,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    run_id: ScopeQuery = None,
) -> RecordResponse:
    """A fact, entity or episode by id; another scope's ids answer 404."""
    scope = caller.scope(user_id, agent_id, run_id)
    record = await service_state(request.app).memory.get(record_id, **scope.kwargs())
    return RecordResponse(kind=_kind(record), record=record)


@router.get(
    "/memories/{record_id}/history",
    responses=problem_responses(*_BY_ID),
    summary="Versions of a fact",
)
async def history(
    record_id: uuid.UUID,
    caller: CallerDep,
    request: Request,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    run_id: ScopeQuery = None,
) -> list[HistoryEntry]:
    """Every version of a fact (or of every fact of an entity), oldest first."""
    scope = caller.scope(user_id, agent_id, run_id)
    return await service_state(request.app).memory.history(record_id, **scope.kwargs())


def _kind(record: Fact | Entity | Episode) -> RecordKind:
    if isinstance(record, Fact):
        return "fact"
    return "entity" if isinstance(record, Entity) else "episode"


def _json_filter(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value = json.loads(text)
    except ValueError:
        raise InvalidFilterError("filters must be a JSON object") from None
    if not isinstance(value, dict):
        raise InvalidFilterError("filters must be a JSON object")
    return value
