"""The server's settings and the shared objects every request handler reaches."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from graphmem.async_memory import AsyncMemory
from graphmem.server.keys import KeyStore
from graphmem.server.limits import DEFAULT_MAX_BODY_BYTES, RateLimiter


class ServerSettings(BaseModel):
    """Limits of the REST server (``graphmem serve`` options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_body_bytes: int = Field(default=DEFAULT_MAX_BODY_BYTES, ge=1)
    """Request bodies above this many bytes get 413 before they are parsed."""
    rate_limit: float = Field(default=10.0, gt=0)
    """Requests per second each API key may sustain."""
    rate_burst: int = Field(default=20, ge=1)
    """Requests an API key may send at once before the rate applies."""
    auth_failure_rate: float = Field(default=1.0, gt=0)
    """Failed authentications per second allowed from one client address."""
    auth_failure_burst: int = Field(default=10, ge=1)


@dataclass(slots=True)
class ServiceState:
    """What the routes share: the memory, the key store, the rate limiters."""

    memory: AsyncMemory
    keys: KeyStore
    settings: ServerSettings
    limiter: RateLimiter
    failure_limiter: RateLimiter


def service_state(app: FastAPI) -> ServiceState:
    """The state :func:`graphmem.server.create_app` attached to ``app``."""
    state = app.state.graphmem
    assert isinstance(state, ServiceState)
    return state
