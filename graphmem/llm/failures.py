"""Turning SDK exceptions into graphmem errors, without leaking credentials.

Provider SDKs raise their own exception trees; graphmem callers only ever see
:class:`~graphmem.errors.LLMError` (or a :class:`RetryableError` the retry loop
consumes). Messages are rebuilt from the status and the provider's error body, with
every known secret and anything shaped like an API key masked, and the SDK exception
is not chained, so a traceback cannot carry an echoed key either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from graphmem.errors import LLMError
from graphmem.llm.retry import RetryableError, RetryPolicy, call_with_retries, parse_retry_after

T = TypeVar("T")

_RETRYABLE_STATUSES = frozenset({408, 409, 429})
_KEY_SHAPED = re.compile(r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-*.]{6,}")
_MAX_MESSAGE = 500
REDACTED = "[redacted]"


@dataclass(frozen=True, slots=True)
class SdkErrorTypes:
    """The exception classes of one provider SDK that need distinct handling."""

    base: type[Exception]
    status: type[Exception]
    timeout: type[Exception]
    connection: type[Exception]


def redact(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with each secret, and anything shaped like an API key, masked."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return _KEY_SHAPED.sub(REDACTED, text)


def is_retryable_status(status: int) -> bool:
    """True for statuses worth retrying: timeouts, conflicts, rate limits, server errors."""
    return status in _RETRYABLE_STATUSES or status >= 500


def translate_sdk_error(
    exc: Exception,
    *,
    provider: str,
    types: SdkErrorTypes,
    secrets: Iterable[str | None],
) -> RetryableError | LLMError:
    """Map an SDK exception to a retryable failure or a final :class:`LLMError`."""
    secret_list = list(secrets)
    if isinstance(exc, types.timeout):
        return RetryableError(f"{provider} request timed out")
    if isinstance(exc, types.connection):
        return RetryableError(f"{provider} connection failed: {redact(str(exc), secret_list)}")
    if isinstance(exc, types.status):
        status = int(getattr(exc, "status_code", 0))
        response: Any = getattr(exc, "response", None)
        headers = dict(response.headers) if response is not None else {}
        message = _describe_status_error(provider, status, getattr(exc, "body", None), headers)
        message = redact(message, secret_list)
        if is_retryable_status(status):
            return RetryableError(message, retry_after=parse_retry_after(headers))
        return LLMError(message)
    return LLMError(f"{provider} client error: {redact(str(exc), secret_list)[:_MAX_MESSAGE]}")


def _describe_status_error(
    provider: str, status: int, body: object, headers: dict[str, str]
) -> str:
    error_type, error_message = _error_fields(body)
    parts = [f"{provider} API returned HTTP {status}"]
    if error_type:
        parts.append(f"({error_type})")
    text = " ".join(parts)
    if error_message:
        text += f": {error_message[:_MAX_MESSAGE]}"
    request_id = headers.get("request-id") or headers.get("x-request-id")
    if request_id:
        text += f" [request id {request_id[:100]}]"
    return text


def _error_fields(body: object) -> tuple[str | None, str | None]:
    """``(type, message)`` from an Anthropic- or OpenAI-shaped error body."""
    if isinstance(body, dict):
        inner = body.get("error")
        if isinstance(inner, dict):
            body = inner
    if isinstance(body, dict):
        error_type = body.get("type") or body.get("code")
        message = body.get("message")
        return (
            str(error_type) if error_type is not None else None,
            str(message) if message is not None else None,
        )
    if isinstance(body, str) and body.strip():
        return None, body.strip()
    return None, None


def send_with_retries(
    request: Callable[[], T],
    *,
    provider: str,
    model: str,
    policy: RetryPolicy,
    types: SdkErrorTypes,
    secrets: Iterable[str | None],
) -> T:
    """Run one SDK request with graphmem's retry policy and error translation."""
    secret_list = list(secrets)

    def attempt() -> T:
        try:
            return request()
        except types.base as exc:
            failure = translate_sdk_error(exc, provider=provider, types=types, secrets=secret_list)
        # Raised outside the handler so that the SDK exception (whose message may echo
        # a key) is neither chained nor kept as context.
        raise failure

    return call_with_retries(attempt, policy=policy, what=f"{provider} request ({model})")


def display_url(url: object) -> str:
    """A URL for messages and reprs: user info and query string (possible secrets) removed."""
    parts = urlsplit(str(url))
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"
