"""Expiry of added records: parsing ``expiration_date``, and how facts inherit it.

A fact lives as long as one of its sources does: it expires with the episodes that
stated it, and a restatement by a source that does not expire makes it permanent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta

from graphmem.errors import InvalidInputError
from graphmem.models.records import Episode, Fact
from graphmem.models.time import ensure_utc, utcnow

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_expiration(value: object, *, now: datetime | None = None) -> datetime | None:
    """When added records expire, from Mem0-style ``expiration_date`` input.

    Accepts a timezone-aware ``datetime`` or ISO-8601 text with an offset (that
    instant), a ``date`` or ``"YYYY-MM-DD"`` (kept through that day: it expires at the
    next midnight UTC), or a ``timedelta`` (that long from now). None: never expires.
    """
    if value is None:
        return None
    if isinstance(value, timedelta):
        if value <= timedelta(0):
            raise InvalidInputError("expiration_date as a timedelta must be positive")
        try:
            return ensure_utc((now or utcnow()) + value, field="expiration_date")
        except OverflowError:
            raise InvalidInputError("expiration_date is too far in the future") from None
    if isinstance(value, str) and _DATE.match(value.strip()):
        try:
            value = date.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInputError(f"expiration_date {value!r} is not a valid date") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        try:
            end = datetime.combine(value + timedelta(days=1), time.min, tzinfo=UTC)
        except OverflowError:
            raise InvalidInputError("expiration_date is too far in the future") from None
        return ensure_utc(end, field="expiration_date")
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise InvalidInputError(
                f"expiration_date {value!r} is not a date (YYYY-MM-DD) or an ISO-8601 datetime"
            ) from None
    if not isinstance(value, datetime):
        raise InvalidInputError(
            "expiration_date must be a datetime, a date, 'YYYY-MM-DD' or a timedelta; "
            f"got {type(value).__name__}"
        )
    return ensure_utc(value, field="expiration_date")


def combine_expiry(first: datetime | None, second: datetime | None) -> datetime | None:
    """The expiry of a fact stated by two sources: it lives as long as either does."""
    if first is None or second is None:
        return None
    return max(first, second)


def stamp_fact_expiry(
    inserts: Iterable[Fact],
    updates: Iterable[Fact],
    episodes: Sequence[Episode],
    override: datetime | None = None,
) -> None:
    """Set ``expires_at`` on the facts one write inserts or changes.

    A new fact expires when the last of this write's episodes that state it does; a
    stored fact restated by this write keeps living as long as either its old
    sources or the new ones. ``override`` (an expiry given for the write's facts
    rather than its episodes) replaces each episode's own expiry.
    """
    expiry = {e.id: override if override is not None else e.expires_at for e in episodes}
    for fact in inserts:
        cited = [expiry[i] for i in fact.episode_ids if i in expiry]
        if cited:
            combined = cited[0]
            for value in cited[1:]:
                combined = combine_expiry(combined, value)
            fact.expires_at = combined
    for fact in updates:
        for episode_id in fact.episode_ids:
            if episode_id in expiry:
                fact.expires_at = combine_expiry(fact.expires_at, expiry[episode_id])
