"""Retries with exponential backoff and jitter for transient provider failures.

Rate limits (429), server errors (5xx), timeouts and dropped connections are worth
retrying; anything else fails at once. A provider's ``retry-after`` wins over our own
backoff because it knows when capacity returns.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from graphmem.errors import LLMError

T = TypeVar("T")

Sleep = Callable[[float], None]


class RetryableError(Exception):
    """A failure that a later attempt may not hit (rate limit, 5xx, timeout)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to wait between attempts.

    The n-th retry waits ``min(max_delay, base_delay * 2**n)``, half of it fixed and
    half random, so that many clients hitting one rate limit do not retry in lockstep.
    """

    max_retries: int = 4
    base_delay: float = 1.0
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    """Upper bound on a provider's ``retry-after`` (a broken header must not hang us)."""
    sleep: Sleep = field(default=time.sleep, repr=False, compare=False)
    rng: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        if self.base_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise ValueError("delays must be >= 0")

    def backoff(self, retry: int) -> float:
        """Seconds to wait before retry number ``retry`` (0-based), jitter included."""
        ceiling = min(self.max_delay, self.base_delay * (2.0**retry))
        return ceiling / 2 + self.rng.uniform(0, ceiling / 2)

    def delay(self, retry: int, retry_after: float | None) -> float:
        """The wait before a retry: the provider's ``retry-after`` if given, else backoff."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return self.backoff(retry)


def call_with_retries(operation: Callable[[], T], *, policy: RetryPolicy, what: str) -> T:
    """Run ``operation``, retrying on :class:`RetryableError` as ``policy`` allows.

    Raises :class:`LLMError` naming ``what`` and the last failure once retries run out.
    Any other exception propagates unchanged.
    """
    retry = 0
    while True:
        try:
            return operation()
        except RetryableError as failure:
            if retry >= policy.max_retries:
                attempts = retry + 1
                raise LLMError(
                    f"{what} failed after {attempts} attempt{'s' if attempts > 1 else ''}: "
                    f"{failure}"
                ) from None
            policy.sleep(policy.delay(retry, failure.retry_after))
            retry += 1


def parse_retry_after(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """Seconds to wait according to ``retry-after-ms`` or ``retry-after``, if present.

    ``retry-after`` may be a number of seconds or an HTTP date; unreadable values are
    ignored rather than trusted.
    """
    lowered = {key.lower(): value for key, value in headers.items()}
    millis = lowered.get("retry-after-ms")
    if millis is not None:
        try:
            return max(float(millis) / 1000.0, 0.0)
        except ValueError:
            pass
    value = lowered.get("retry-after")
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - (now or datetime.now(UTC))).total_seconds(), 0.0)
