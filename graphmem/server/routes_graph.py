"""Routes that look at the graph as a whole: read-only Cypher and record counts."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from pydantic_core import to_jsonable_python

from graphmem.models.scope import Scope
from graphmem.server.auth import CallerDep
from graphmem.server.problems import HTTPProblemError, problem_responses
from graphmem.server.schemas import CypherRequest, CypherResponse, ScopeQuery, StatsResponse
from graphmem.server.state import service_state

router = APIRouter(prefix="/v1", tags=["graph"])


def _cypher_runner() -> Callable[..., list[dict[str, Any]]]:
    # Cypher exploration is an optional part of graphmem; without it the route says so.
    try:
        module = importlib.import_module("graphmem.cypher")
    except ImportError:
        raise HTTPProblemError(
            501, "NotImplementedError", "Cypher exploration is not installed on this server"
        ) from None
    runner: Callable[..., list[dict[str, Any]]] = module.run_cypher
    return runner


@router.post(
    "/cypher",
    responses=problem_responses(400, 401, 403, 413, 422, 429, 501, 503),
    summary="Read-only Cypher",
)
async def cypher(body: CypherRequest, caller: CallerDep, request: Request) -> CypherResponse:
    """Run a read-only Cypher query over the scope's graph (writes are rejected)."""
    ids = caller.scope(body.user_id, body.agent_id, body.run_id)
    scope = Scope.of(**ids.kwargs())
    run_cypher = _cypher_runner()
    store = service_state(request.app).memory.sync.store
    rows = await asyncio.to_thread(
        run_cypher, store, body.query, body.params, scope, history=body.history
    )
    return CypherResponse(rows=to_jsonable_python(rows, fallback=str))


@router.get("/stats", responses=problem_responses(401, 403, 422, 429, 503), summary="Counts")
async def stats(
    caller: CallerDep,
    request: Request,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    run_id: ScopeQuery = None,
) -> StatsResponse:
    """Record counts of a scope; with an admin key and no ids, of the whole store."""
    scope = caller.scope(user_id, agent_id, run_id)
    memory = service_state(request.app).memory
    counts = await memory.stats(**scope.kwargs())
    return StatsResponse(
        backend=memory.sync.store.backend,
        episodes=counts.episodes,
        entities=counts.entities,
        facts=counts.facts,
        current_facts=counts.current_facts,
    )
