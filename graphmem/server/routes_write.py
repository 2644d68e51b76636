"""Routes that change memory: add, add_facts, update, delete, forget."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response

from graphmem.models.records import Fact
from graphmem.models.results import AddResult
from graphmem.server.auth import CallerDep
from graphmem.server.problems import problem_responses
from graphmem.server.schemas import (
    AddFactsRequest,
    AddRequest,
    CountsResponse,
    MessageIn,
    ScopeBody,
    ScopeQuery,
    UpdateRequest,
)
from graphmem.server.state import service_state

router = APIRouter(prefix="/v1", tags=["memories"])

_WRITE = (400, 401, 403, 413, 422, 429, 503)


def _plain_messages(
    messages: str | MessageIn | list[MessageIn],
) -> str | dict[str, Any] | list[dict[str, Any]]:
    if isinstance(messages, str):
        return messages
    if isinstance(messages, MessageIn):
        return messages.model_dump(exclude_none=True)
    return [message.model_dump(exclude_none=True) for message in messages]


@router.post(
    "/memories",
    status_code=201,
    responses=problem_responses(*_WRITE, 502),
    summary="Add messages",
)
async def add(body: AddRequest, caller: CallerDep, request: Request) -> AddResult:
    """Remember conversation turns; facts are extracted and reconciled with the scope."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    return await service_state(request.app).memory.add(
        _plain_messages(body.messages),
        metadata=body.metadata,
        timestamp=body.timestamp,
        infer=body.infer,
        **scope.kwargs(),
    )


@router.post(
    "/facts", status_code=201, responses=problem_responses(*_WRITE, 404), summary="Add triples"
)
async def add_facts(body: AddFactsRequest, caller: CallerDep, request: Request) -> AddResult:
    """Remember pre-extracted (subject, predicate, object) triples, without any LLM."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    triples = [t.model_dump(exclude_none=True) for t in body.triples]
    return await service_state(request.app).memory.add_facts(
        triples,
        source=body.source,
        timestamp=body.timestamp,
        metadata=body.metadata,
        **scope.kwargs(),
    )


@router.patch(
    "/facts/{fact_id}", responses=problem_responses(*_WRITE, 404), summary="Correct a fact"
)
async def update(
    fact_id: uuid.UUID, body: UpdateRequest, caller: CallerDep, request: Request
) -> Fact:
    """Correct a fact; the old version stays in its history, marked ``corrected``."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    memory = service_state(request.app).memory
    if not scope.empty:
        # Another scope's fact must look missing (404), exactly as in get and delete.
        await memory.get(fact_id, **scope.kwargs())
    return await memory.update(
        fact_id,
        fact=body.fact,
        valid_at=body.valid_at,
        invalid_at=body.invalid_at,
        confidence=body.confidence,
        metadata=body.metadata,
        **scope.kwargs(),
    )


@router.delete(
    "/memories/{record_id}",
    status_code=204,
    response_class=Response,
    responses=problem_responses(401, 403, 404, 422, 429, 503),
    summary="Delete a record",
)
async def delete(
    record_id: uuid.UUID,
    caller: CallerDep,
    request: Request,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    run_id: ScopeQuery = None,
) -> Response:
    """Hard-delete a fact, an episode (undoing what it caused) or an entity."""
    scope = caller.scope(user_id, agent_id, run_id)
    await service_state(request.app).memory.delete(record_id, **scope.kwargs())
    return Response(status_code=204)


@router.post("/forget", responses=problem_responses(*_WRITE), summary="Forget a scope")
async def forget(body: ScopeBody, caller: CallerDep, request: Request) -> CountsResponse:
    """Hard-delete everything of a scope, across the graph and every index."""
    scope = caller.scope(body.user_id, body.agent_id, body.run_id)
    counts = await service_state(request.app).memory.forget(**scope.kwargs())
    return CountsResponse(
        episodes=counts.episodes,
        entities=counts.entities,
        facts=counts.facts,
        current_facts=counts.current_facts,
    )
