"""Who is calling, and which scope they may touch.

Callers send ``Authorization: Bearer gm_<id>_<secret>``. A scoped key pins its
user/agent/run ids: a request naming other ids gets 403, never a silent rewrite, so a
client addressing bob with alice's key learns that it is forbidden. Within its owner a
scoped key may narrow further (alice's key may address alice's ``run_id=r1``), since
that never crosses the owner partition. Admin keys address any scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from graphmem.errors import ScopeViolationError
from graphmem.models.scope import Scope
from graphmem.server.keys import ApiKey
from graphmem.server.limits import retry_after_header
from graphmem.server.problems import HTTPProblemError
from graphmem.server.state import service_state

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An API key from `graphmem keys create`, sent as a bearer token.",
)

_SCOPE_FIELDS = ("user_id", "agent_id", "run_id")


@dataclass(frozen=True, slots=True)
class ScopeIds:
    """The user/agent/run ids a request acts on (any may be None)."""

    user_id: str | None = None
    agent_id: str | None = None
    run_id: str | None = None

    def kwargs(self) -> dict[str, Any]:
        """As keyword arguments for :class:`graphmem.Memory` methods."""
        return {"user_id": self.user_id, "agent_id": self.agent_id, "run_id": self.run_id}

    @property
    def empty(self) -> bool:
        """True when no id is set."""
        return self.user_id is None and self.agent_id is None and self.run_id is None


def effective_scope(
    key: ApiKey,
    user_id: str | None = None,
    agent_id: str | None = None,
    run_id: str | None = None,
) -> ScopeIds:
    """The scope a request with these ids may act on under ``key``.

    Raises :class:`ScopeViolationError` when a scoped key is asked to address ids
    other than its own, or to leave its owner partition.
    """
    requested = ScopeIds(user_id, agent_id, run_id)
    bound = key.scope
    if bound is None:
        return requested
    merged: dict[str, str | None] = {}
    for field in _SCOPE_FIELDS:
        own, asked = getattr(bound, field), getattr(requested, field)
        if own is not None and asked is not None and asked != own:
            raise ScopeViolationError(
                f"this API key is bound to {bound.describe()}; it may not address {field}={asked!r}"
            )
        merged[field] = own if own is not None else asked
    narrowed = ScopeIds(**merged)
    owner = Scope.model_construct(
        user_id=narrowed.user_id, agent_id=narrowed.agent_id, run_id=narrowed.run_id
    ).owner
    if owner != bound.owner:
        raise ScopeViolationError(
            f"this API key is bound to {bound.describe()}; it may not address another owner"
        )
    return narrowed


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated request's key."""

    key: ApiKey

    def scope(
        self,
        user_id: str | None = None,
        agent_id: str | None = None,
        run_id: str | None = None,
    ) -> ScopeIds:
        """See :func:`effective_scope`."""
        return effective_scope(self.key, user_id, agent_id, run_id)


def _unauthorized(detail: str) -> HTTPProblemError:
    return HTTPProblemError(401, "AuthenticationError", detail, {"WWW-Authenticate": "Bearer"})


def authenticate(
    request: Request,
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),  # noqa: B008
) -> Caller:
    """FastAPI dependency: the caller's active key, within its rate limit.

    A sync dependency on purpose: checking a key's hash costs CPU time, so FastAPI
    runs it in its thread pool instead of on the event loop.
    """
    state = service_state(request.app)
    if credentials is None:
        raise _unauthorized("send an API key as 'Authorization: Bearer gm_...'")
    key = state.keys.authenticate(credentials.credentials)
    if key is None:
        # Failed attempts are limited per client address: each costs a hash check, and
        # limiting them per claimed key would let anyone lock a real key out.
        client = request.client.host if request.client else "unknown"
        wait = state.failure_limiter.acquire(f"client:{client}")
        if wait > 0:
            raise HTTPProblemError(
                429,
                "RateLimitedError",
                "too many failed authentication attempts",
                {"Retry-After": retry_after_header(wait)},
            )
        raise _unauthorized("unknown or revoked API key")
    wait = state.limiter.acquire(f"key:{key.id}")
    if wait > 0:
        raise HTTPProblemError(
            429,
            "RateLimitedError",
            f"rate limit of {state.limiter.rate:g} requests/s (burst {state.limiter.burst}) "
            "exceeded for this API key",
            {"Retry-After": retry_after_header(wait)},
        )
    return Caller(key)


CallerDep = Annotated[Caller, Depends(authenticate)]
"""A route parameter receiving the authenticated, rate-limited caller."""
