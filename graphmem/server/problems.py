"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error response carries the name of the typed error that caused it, both in
``type`` (``urn:graphmem:error:NotFoundError``) and in the ``error`` member, so a client
can branch on it the same way a Python caller catches the exception class.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from graphmem import errors

logger = logging.getLogger("graphmem.server")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:graphmem:error:"

# Most specific first: the first class an error is an instance of decides its status.
_STATUS_BY_ERROR: tuple[tuple[type[errors.GraphmemError], int], ...] = (
    (errors.ScopeRequiredError, 400),
    (errors.InvalidInputError, 422),
    (errors.ScopeViolationError, 403),
    (errors.NotFoundError, 404),
    (errors.CypherError, 400),
    (errors.LLMNotConfiguredError, 501),
    (errors.LLMError, 502),
    (errors.StoreLockedError, 503),
    (errors.BackendUnavailableError, 503),
    (errors.StoreReadOnlyError, 503),
)
RETRY_AFTER_SECONDS = 1
"""What a 503 (store busy or unreachable) suggests as ``Retry-After``."""


class ValidationIssue(BaseModel):
    """One field that failed validation."""

    model_config = ConfigDict(extra="forbid")

    loc: list[str | int]
    msg: str
    type: str


class Problem(BaseModel):
    """An RFC 9457 problem detail."""

    model_config = ConfigDict(extra="forbid")

    type: str = Field(description="A URI naming the kind of problem: urn:graphmem:error:<error>.")
    title: str = Field(description="The HTTP status phrase.")
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="What went wrong with this request, for people.")
    error: str = Field(description="The typed error's name, e.g. NotFoundError.")
    errors: list[ValidationIssue] | None = Field(
        default=None, description="For validation failures: every field that failed."
    )


class HTTPProblemError(Exception):
    """An error the HTTP layer itself raises (authentication, limits, missing features)."""

    def __init__(
        self, status: int, error: str, detail: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = dict(headers or {})


def status_for(exc: errors.GraphmemError) -> int:
    """The HTTP status of a typed graphmem error (500 for errors of the server itself)."""
    for error_class, status in _STATUS_BY_ERROR:
        if isinstance(exc, error_class):
            return status
    return 500


def problem(
    status: int,
    error: str,
    detail: str,
    *,
    issues: list[ValidationIssue] | None = None,
) -> Problem:
    """Build a problem detail."""
    return Problem(
        type=f"{TYPE_PREFIX}{error}",
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        error=error,
        errors=issues,
    )


def problem_response(value: Problem, headers: Mapping[str, str] | None = None) -> JSONResponse:
    """A problem detail as a response with the problem media type."""
    return JSONResponse(
        value.model_dump(mode="json", exclude_none=True),
        status_code=value.status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


def problem_bytes(value: Problem) -> bytes:
    """A problem detail encoded for a raw ASGI response."""
    return json.dumps(value.model_dump(mode="json", exclude_none=True)).encode("utf-8")


def _issues(exc: RequestValidationError) -> list[ValidationIssue]:
    issues = []
    for item in exc.errors():
        loc = [part if isinstance(part, int) else str(part) for part in item.get("loc", ())]
        message, kind = str(item.get("msg", "")), str(item.get("type", ""))
        issues.append(ValidationIssue(loc=loc, msg=message, type=kind))
    return issues


async def _graphmem_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, errors.GraphmemError)
    status = status_for(exc)
    if status >= 500 and status != 501:  # 501 is the server's configuration, not a fault
        logger.error(
            "%s %s failed: %s: %s", request.method, request.url.path, type(exc).__name__, exc
        )
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)} if status == 503 else None
    return problem_response(problem(status, type(exc).__name__, str(exc)), headers)


async def _http_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPProblemError)
    return problem_response(problem(exc.status, exc.error, exc.detail), exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    issues = _issues(exc)
    fields = ", ".join(".".join(map(str, issue.loc)) for issue in issues[:5])
    value = problem(422, "InvalidInputError", f"invalid request: {fields}", issues=issues)
    return problem_response(value)


_ROUTING_ERRORS = {404: "NotFoundError", 405: "MethodNotAllowedError"}


async def _routing_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    fallback = HTTPStatus(exc.status_code).phrase.replace(" ", "")
    error = _ROUTING_ERRORS.get(exc.status_code, fallback)
    return problem_response(problem(exc.status_code, error, str(exc.detail)), exc.headers)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    logger.exception("%s %s failed", request.method, request.url.path, exc_info=exc)
    # The exception text may hold other scopes' data or internals: it stays in the log.
    value = problem(500, "InternalServerError", "the server failed; see its log for details")
    return problem_response(value)


def install_problem_handlers(app: FastAPI) -> None:
    """Turn every error the app can raise into a problem+json response."""
    app.add_exception_handler(errors.GraphmemError, _graphmem_error)
    app.add_exception_handler(HTTPProblemError, _http_problem)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _routing_error)
    app.add_exception_handler(Exception, _unexpected)


# -- OpenAPI ------------------------------------------------------------------------------

_HEADER_DOCS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string"}, "description": "Bearer"}},
    429: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
    503: {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait."}},
}
_DESCRIPTIONS = {
    400: "Bad request (no scope given, a rejected Cypher query)",
    401: "Missing, unknown or revoked API key",
    403: "The API key's scope does not allow this",
    404: "No such record in the caller's scope",
    413: "Request body too large",
    422: "Invalid input",
    429: "Rate limit exceeded",
    501: "Not available on this server (no LLM configured, feature not installed)",
    502: "The LLM provider failed",
    503: "The store is busy or unreachable; retry later",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting problem details for these statuses."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        entry: dict[str, Any] = {"model": Problem, "description": _DESCRIPTIONS[status]}
        if status in _HEADER_DOCS:
            entry["headers"] = _HEADER_DOCS[status]
        documented[status] = entry
    return documented


def relabel_problem_media_types(schema: dict[str, Any]) -> dict[str, Any]:
    """Document error bodies as ``application/problem+json``, which is what they are.

    FastAPI files every documented model under the route's media type
    (``application/json``, or ``text/html`` for the graph view); error responses are
    moved to the problem media type after the schema is generated.
    """
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for status, response in operation.get("responses", {}).items():
                if not str(status).isdigit() or int(status) < 400:
                    continue
                content = response.get("content", {})
                for media_type in ("application/json", "text/html"):
                    if media_type in content:
                        content[PROBLEM_MEDIA_TYPE] = content.pop(media_type)
    components = schema.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        if not _referenced(schema, unused):
            components.pop(unused, None)
    return schema


def _referenced(schema: dict[str, Any], name: str) -> bool:
    target = f"#/components/schemas/{name}"
    return any(target == ref for ref in _refs(schema))


def _refs(node: object) -> Iterable[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs(item)
