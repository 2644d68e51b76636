"""Routes that look at the graph as a whole: read-only Cypher, record counts and the
HTML graph view."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse
from pydantic_core import to_jsonable_python

from graphmem.models.scope import Scope
from graphmem.server.auth import CallerDep
from graphmem.server.problems import HTTPProblemError, problem_responses
from graphmem.server.schemas import CypherRequest, CypherResponse, ScopeQuery, StatsResponse
from graphmem.server.state import service_state
from graphmem.view.render import VIEW_CSP, render_view

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


@router.get(
    "/view",
    response_class=HTMLResponse,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 503),
    summary="Graph view (HTML)",
)
async def view(
    caller: CallerDep,
    request: Request,
    user_id: ScopeQuery = None,
    agent_id: ScopeQuery = None,
    run_id: ScopeQuery = None,
    as_of: Annotated[
        datetime | None, Query(description="Show the graph as it was at this event time.")
    ] = None,
    around: Annotated[
        str | None,
        Query(min_length=1, max_length=500, description="Keep only this entity's neighbourhood."),
    ] = None,
    hops: Annotated[int, Query(ge=0, le=6, description="Neighbourhood radius in facts.")] = 2,
) -> HTMLResponse:
    """The scope's graph as one self-contained HTML page, the same as ``graphmem view``:
    entities, current facts, superseded facts dashed with their dates; clicking a node
    lists its facts with provenance."""
    ids = caller.scope(user_id, agent_id, run_id)
    scope = Scope.of(**ids.kwargs())
    memory = service_state(request.app).memory.sync
    html = await asyncio.to_thread(render_view, memory, scope, as_of, around, hops)
    return HTMLResponse(html, headers={"Content-Security-Policy": VIEW_CSP})
