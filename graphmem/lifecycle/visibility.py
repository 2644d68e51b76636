"""Which records default reads may return: the one definition of *expired*.

An episode or fact whose ``expires_at`` has passed leaves search, ``get_all`` and
context at once; ``gc`` later purges it. Every read path filters with these helpers
so that they all agree (temporal visibility, ``TemporalView``, is a separate axis:
a fact can be valid in the world and still have outlived its retention).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Protocol, TypeVar

from graphmem.models.results import SearchResult
from graphmem.models.time import utcnow


class Expiring(Protocol):
    """A record with an optional expiry time (episodes and facts)."""

    @property
    def expires_at(self) -> datetime | None: ...


R = TypeVar("R", bound=Expiring)
T = TypeVar("T")


def is_expired(record: Expiring, now: datetime | None = None) -> bool:
    """True once ``record.expires_at`` is at or before ``now`` (default: the current time)."""
    expires_at = record.expires_at
    return expires_at is not None and expires_at <= (now or utcnow())


def live(records: Iterable[R], now: datetime | None = None) -> list[R]:
    """The records that have not expired at ``now``, in their order."""
    moment = now or utcnow()
    return [record for record in records if not is_expired(record, moment)]


def without_expired(result: SearchResult, now: datetime | None = None) -> SearchResult:
    """A search result with expired facts and episodes removed (scores unchanged)."""
    moment = now or utcnow()
    facts = [hit for hit in result.facts if not is_expired(hit.fact, moment)]
    episodes = [hit for hit in result.episodes if not is_expired(hit.episode, moment)]
    if len(facts) == len(result.facts) and len(episodes) == len(result.episodes):
        return result
    return result.model_copy(update={"facts": facts, "episodes": episodes})


def collect_live(
    fetch: Callable[[int, int], list[T]],
    keep: Callable[[T], bool],
    limit: int,
    *,
    page: int = 500,
) -> list[T]:
    """Up to ``limit`` items that ``keep`` accepts, reading ``fetch(offset, size)`` pages
    until enough are found or the source runs out (so expired records never shorten
    a page that more records could fill)."""
    found: list[T] = []
    offset = 0
    size = max(limit, page)
    while len(found) < limit:
        batch = fetch(offset, size)
        found.extend(item for item in batch if keep(item))
        if len(batch) < size:
            break
        offset += len(batch)
    return found[:limit]
