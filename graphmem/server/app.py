"""The REST application: ``create_app(memory, keys, settings)``."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from graphmem import __version__
from graphmem.async_memory import AsyncMemory
from graphmem.memory import Memory
from graphmem.server import routes_graph, routes_read, routes_write
from graphmem.server.keys import KeyStore
from graphmem.server.limits import BodySizeLimit, RateLimiter
from graphmem.server.problems import install_problem_handlers, relabel_problem_media_types
from graphmem.server.schemas import HealthResponse
from graphmem.server.state import ServerSettings, ServiceState

DESCRIPTION = """\
Graph-first long-term memory for LLM assistants, over HTTP.

Authenticate with an API key (`graphmem keys create`) sent as
`Authorization: Bearer gm_...`. A key bound to a scope acts only on that scope:
naming other ids is answered with 403. Errors are RFC 9457 problem details
(`application/problem+json`) whose `error` member names the typed error.
"""


def create_app(
    memory: Memory | AsyncMemory,
    keys: KeyStore,
    settings: ServerSettings | None = None,
) -> FastAPI:
    """A FastAPI app serving ``memory`` to holders of keys in ``keys``.

    The caller keeps ownership of ``memory`` and closes it when the server stops.
    """
    settings = settings or ServerSettings()
    async_memory = memory if isinstance(memory, AsyncMemory) else AsyncMemory(memory=memory)
    app = FastAPI(
        title="graphmem",
        version=__version__,
        description=DESCRIPTION,
        openapi_url="/openapi.json",
    )
    app.state.graphmem = ServiceState(
        memory=async_memory,
        keys=keys,
        settings=settings,
        limiter=RateLimiter(settings.rate_limit, settings.rate_burst),
        failure_limiter=RateLimiter(settings.auth_failure_rate, settings.auth_failure_burst),
    )

    @app.get("/healthz", tags=["service"], summary="Liveness")
    async def healthz() -> HealthResponse:
        """Unauthenticated liveness probe."""
        return HealthResponse(status="ok")

    app.include_router(routes_write.router)
    app.include_router(routes_read.router)
    app.include_router(routes_graph.router)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            app.openapi_schema = relabel_problem_media_types(schema)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
