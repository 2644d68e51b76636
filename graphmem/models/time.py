"""Timezone-aware UTC datetimes: the only kind graphmem stores or returns."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator

from graphmem.errors import InvalidInputError

# Far enough to cover historical facts, near enough to reject obvious garbage.
EARLIEST_SUPPORTED = datetime(1000, 1, 1, tzinfo=UTC)
LATEST_SUPPORTED = datetime(3000, 1, 1, tzinfo=UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def ensure_utc(value: datetime, *, field: str = "datetime") -> datetime:
    """Return ``value`` converted to UTC; naive or out-of-range datetimes are rejected.

    A naive datetime is ambiguous (local time of which machine?), so it is an error
    rather than a guess.
    """
    if not isinstance(value, datetime):
        raise InvalidInputError(f"{field} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        raise InvalidInputError(
            f"{field} must be timezone-aware (got naive {value.isoformat()}); "
            "use datetime(..., tzinfo=timezone.utc)"
        )
    converted = value.astimezone(UTC)
    if not EARLIEST_SUPPORTED <= converted < LATEST_SUPPORTED:
        raise InvalidInputError(
            f"{field} {converted.isoformat()} is outside the supported range "
            f"{EARLIEST_SUPPORTED.year}-{LATEST_SUPPORTED.year}"
        )
    return converted


def _validate_utc(value: datetime) -> datetime:
    try:
        return ensure_utc(value)
    except InvalidInputError as exc:  # pydantic wants ValueError to report a field error
        raise ValueError(str(exc)) from None


UtcDatetime = Annotated[datetime, AfterValidator(_validate_utc)]
"""A pydantic field type: timezone-aware, normalized to UTC."""


def to_storage(value: datetime | None) -> str | None:
    """Fixed-width ISO-8601 text that sorts in time order (storage and Cypher params)."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_storage(value: str | None) -> datetime | None:
    """Inverse of :func:`to_storage`."""
    if value is None:
        return None
    return datetime.fromisoformat(value)  # Python 3.11 reads the "Z" suffix as UTC
