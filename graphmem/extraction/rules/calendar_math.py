"""Calendar arithmetic on UTC dates: month shifts, week starts, weekdays, seasons.

Everything here works on midnight-aligned UTC datetimes so that the time resolver can
treat "a day", "a week" or "a month" as the start of that period.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime, timedelta

SEASON_START_MONTH = {"spring": 3, "summer": 6, "fall": 9, "autumn": 9, "winter": 12}
_SEASON_LENGTH_MONTHS = 3


def midnight(value: datetime) -> datetime:
    """The start of ``value``'s day, in UTC."""
    value = value.astimezone(UTC)
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def day_start(year: int, month: int, day: int) -> datetime | None:
    """Midnight UTC of a calendar date, or None if the date does not exist (Feb 30)."""
    if not 1 <= month <= 12 or day < 1 or day > calendar.monthrange(year, month)[1]:
        return None
    return datetime(year, month, day, tzinfo=UTC)


def month_start(year: int, month: int) -> datetime:
    """Midnight UTC on the first day of a month."""
    return datetime(year, month, 1, tzinfo=UTC)


def shift_months(value: datetime, months: int) -> datetime:
    """``value`` moved by whole months, clamping the day (Mar 31 - 1 month = Feb 28/29)."""
    index = value.year * 12 + (value.month - 1) + months
    year, month = divmod(index, 12)
    day = min(value.day, calendar.monthrange(year, month + 1)[1])
    return value.replace(year=year, month=month + 1, day=day)


def shift_month_start(value: datetime, months: int) -> datetime:
    """The first day of the month ``months`` away from ``value``'s month."""
    index = value.year * 12 + (value.month - 1) + months
    year, month = divmod(index, 12)
    return month_start(year, month + 1)


def week_start(value: datetime) -> datetime:
    """Midnight of the Monday that starts ``value``'s ISO week."""
    day = midnight(value)
    return day - timedelta(days=day.weekday())


def previous_weekday(value: datetime, weekday: int) -> datetime:
    """The most recent ``weekday`` (0 = Monday) strictly before ``value``'s day."""
    day = midnight(value)
    back = (day.weekday() - weekday) % 7 or 7
    return day - timedelta(days=back)


def next_weekday(value: datetime, weekday: int, *, include_today: bool = False) -> datetime:
    """The first ``weekday`` (0 = Monday) after ``value``'s day (or on it, if allowed)."""
    day = midnight(value)
    ahead = (weekday - day.weekday()) % 7
    if ahead == 0 and not include_today:
        ahead = 7
    return day + timedelta(days=ahead)


def season_start(season: str, year: int) -> datetime:
    """Meteorological (northern hemisphere) season start; winter starts in December."""
    return month_start(year, SEASON_START_MONTH[season])


def current_season_start(season: str, reference: datetime) -> datetime:
    """The named season of ``reference``'s year (January's winter began the December before)."""
    year = reference.year
    if season == "winter" and reference.month < SEASON_START_MONTH["spring"]:
        year -= 1
    return season_start(season, year)


def last_completed_season_start(season: str, reference: datetime) -> datetime:
    """The most recent instance of ``season`` that had ended by ``reference``."""
    start = current_season_start(season, reference)
    while shift_month_start(start, _SEASON_LENGTH_MONTHS) > reference:
        start = start.replace(year=start.year - 1)
    return start


def next_season_start(season: str, reference: datetime) -> datetime:
    """The first instance of ``season`` that starts after ``reference``."""
    start = current_season_start(season, reference)
    while start <= reference:
        start = start.replace(year=start.year + 1)
    return start


def shift_years(value: datetime, years: int) -> datetime:
    """``value`` moved by whole years; Feb 29 becomes Feb 28 in a common year."""
    year = value.year + years
    day = min(value.day, calendar.monthrange(year, value.month)[1])
    return value.replace(year=year, day=day)
