"""Request limits: a body size cap enforced before parsing, and per-key token buckets."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from graphmem.errors import InvalidInputError
from graphmem.server.problems import PROBLEM_MEDIA_TYPE, problem, problem_bytes

DEFAULT_MAX_BODY_BYTES = 1024 * 1024


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key: ``rate`` requests per second, bursts of up to ``burst``.

    Buckets live in memory, one per key, least recently used evicted beyond
    ``max_buckets`` (an evicted bucket comes back full, which only ever errs towards
    letting a request through).
    """

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_buckets: int = 10_000,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0):
            raise InvalidInputError("rate must be a positive number of requests per second")
        if isinstance(burst, bool) or not isinstance(burst, int) or burst < 1:
            raise InvalidInputError("burst must be a positive integer")
        self.rate = float(rate)
        self.burst = burst
        self._clock = clock
        self._max_buckets = max_buckets
        self._buckets: OrderedDict[str, _Bucket] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, key: str) -> float:
        """Take one token for ``key``: 0.0 if granted, else the seconds until one is free."""
        now = self._clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _Bucket(tokens=float(self.burst), updated=now)
                self._buckets[key] = bucket
                while len(self._buckets) > self._max_buckets:
                    self._buckets.popitem(last=False)
            else:
                self._buckets.move_to_end(key)
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(float(self.burst), bucket.tokens + elapsed * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate


def retry_after_header(wait: float) -> str:
    """``Retry-After`` takes whole seconds; round up so a retry is never too early."""
    return str(max(1, math.ceil(wait)))


class _BodyTooLargeError(Exception):
    pass


class BodySizeLimit:
    """ASGI middleware answering 413 to request bodies over ``max_bytes``.

    A declared ``Content-Length`` over the limit is refused before a byte is read; a
    chunked body is counted as it arrives and buffered (at most ``max_bytes``), so the
    application never parses an oversized body.
    """

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES) -> None:
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise InvalidInputError("max_bytes must be a positive integer")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send)
            return
        if declared is None and _may_have_body(scope):
            try:
                receive = await self._buffered(receive)
            except _BodyTooLargeError:
                await self._refuse(send)
                return
        await self.app(scope, receive, send)

    async def _buffered(self, receive: Receive) -> Receive:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return _replay([message], receive)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                raise _BodyTooLargeError
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body: Message = {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return _replay([body], receive)

    async def _refuse(self, send: Send) -> None:
        detail = f"request body exceeds the limit of {self.max_bytes} bytes"
        body = problem_bytes(problem(413, "PayloadTooLargeError", detail))
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _may_have_body(scope: Scope) -> bool:
    return any(name == b"transfer-encoding" for name, _ in scope.get("headers", ()))


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay
