"""Which facts a read sees: the two time axes of a query.

``as_of`` is event time (what was true in the world at that moment); ``known_at`` is
system time (what graphmem believed at that moment). Both default to now. This is the
single definition of fact visibility; every backend and every read path uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from graphmem.models.records import ExpiryReason
from graphmem.models.time import ensure_utc, utcnow


class Versioned(Protocol):
    """What visibility reads of a fact: its two time axes (a :class:`~graphmem.models.
    records.Fact` or the slim :class:`~graphmem.models.edges.FactEdge`)."""

    @property
    def valid_at(self) -> datetime | None: ...
    @property
    def invalid_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def expired_at(self) -> datetime | None: ...
    @property
    def expired_reason(self) -> ExpiryReason | None: ...


@dataclass(frozen=True, slots=True)
class TemporalView:
    """A point on both time axes; ``includes(fact)`` says whether the fact is visible."""

    as_of: datetime
    known_at: datetime
    is_now: bool = False
    """True when neither axis was given: the default "what is true now" read."""

    @classmethod
    def at(cls, as_of: datetime | None = None, known_at: datetime | None = None) -> TemporalView:
        """A view at the given times (each defaults to now); naive datetimes are rejected."""
        now = utcnow()
        return cls(
            as_of=ensure_utc(as_of, field="as_of") if as_of is not None else now,
            known_at=ensure_utc(known_at, field="known_at") if known_at is not None else now,
            is_now=as_of is None and known_at is None,
        )

    def believed(self, fact: Versioned) -> bool:
        """Did graphmem hold this fact (as true, or as history) at ``known_at``?"""
        if fact.created_at > self.known_at:
            return False
        if fact.expired_at is None or fact.expired_at > self.known_at:
            return True
        # Expired by then: closed facts remain true history; withdrawn ones do not.
        return fact.expired_reason is not None and fact.expired_reason.closes_interval

    def effective_invalid_at(self, fact: Versioned) -> datetime | None:
        """The end of the event interval as believed at ``known_at``.

        A closure recorded after ``known_at`` was not yet known then, so the fact
        was still believed open-ended.
        """
        if fact.expired_at is not None and fact.expired_at > self.known_at:
            closed_later = fact.expired_reason is not None and fact.expired_reason.closes_interval
            return None if closed_later else fact.invalid_at
        return fact.invalid_at

    def includes(self, fact: Versioned) -> bool:
        """True if the fact was believed at ``known_at`` to hold at ``as_of``."""
        if not self.believed(fact):
            return False
        if fact.valid_at is not None and fact.valid_at > self.as_of:
            return False
        invalid_at = self.effective_invalid_at(fact)
        return invalid_at is None or invalid_at > self.as_of
