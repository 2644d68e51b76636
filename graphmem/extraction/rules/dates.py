"""Resolve relative and absolute time expressions against a reference time.

``resolve_time_expression("I went there last Friday", reference)`` returns the Friday
before ``reference`` and the span of "last Friday". Pure regex and calendar arithmetic:
no locale data, no network, microseconds per call, deterministic.

Conventions: values are timezone-aware UTC; an expression naming a period resolves to
the period's start (midnight of the day, Monday of the week, the 1st of the month,
January 1st of the year); "N hours ago" keeps the time of day. Weeks start on Monday,
seasons are meteorological (summer starts June 1st, winter December 1st). Ambiguous
expressions ("on Monday", "in May", "May 7") are read in the tense of the text around
them: past unless the text speaks of the future.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

from graphmem.extraction.rules import calendar_math as cal
from graphmem.models.time import EARLIEST_SUPPORTED, LATEST_SUPPORTED, ensure_utc

Tense = Literal["past", "future"]


class Granularity(StrEnum):
    """How precise a resolved time is."""

    HOUR = "hour"
    DAY = "day"
    WEEKEND = "weekend"
    WEEK = "week"
    MONTH = "month"
    SEASON = "season"
    YEAR = "year"


@dataclass(frozen=True, slots=True)
class ResolvedTime:
    """A time expression found in a text and the UTC time it denotes."""

    value: datetime
    """Start of the period the expression names (UTC, timezone-aware)."""
    start: int
    """Offset of the expression in the text."""
    end: int
    """Offset just past the expression."""
    text: str
    """The matched expression, as written."""
    granularity: Granularity


_MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "couple": 2, "few": 3,
}  # fmt: skip

_MONTH_ANY = "|".join(sorted(_MONTHS, key=len, reverse=True))
# A bare month name must be capitalized: "may" and "march" are also common words.
_MONTH_CAP = (
    "(?-i:" + "|".join(m.capitalize() for m in sorted(_MONTHS, key=len, reverse=True)) + ")"
)
_NUM = (
    r"(?:\d{1,3}|(?:a\s+)?couple(?:\s+of)?|(?:a\s+)?few|an?|one|two|three|four|five|six"
    r"|seven|eight|nine|ten|eleven|twelve)"
)
_UNIT = r"(?:minute|hour|day|week|fortnight|month|year|decade)s?"
_SEASON = r"(?:spring|summer|fall|autumn|winter)"
_PERIOD_MOD = r"(?:last|this\s+past|this|next|coming|the\s+coming)"
_PREP = r"(?:in|since|during|from|by|until|till|of|around|back\s+in|circa|early|mid|late)"
_ORD = r"(?:st|nd|rd|th)?"

_EXPRESSION = re.compile(
    rf"""
    \b(?:
      (?P<dby>the\s+day\s+before\s+yesterday)
    | (?P<dat>the\s+day\s+after\s+tomorrow)
    | (?P<ago>(?P<ago_n>{_NUM})\s+(?P<ago_u>{_UNIT})\s+ago)
    | (?P<later>in\s+(?P<in_n>{_NUM})\s+(?P<in_u>{_UNIT}))
    | (?P<fromnow>(?P<fn_n>{_NUM})\s+(?P<fn_u>{_UNIT})\s+from\s+now)
    | (?P<relday>yesterday|today|tonight|tomorrow|last\s+night
        |this\s+(?:morning|afternoon|evening)|earlier\s+today)
    | (?P<season_year>(?:the\s+)?(?P<sy_s>{_SEASON})\s+(?:of\s+)?(?P<sy_y>(?:1[0-9]|20)\d\d))
    | (?P<period>(?P<p_mod>{_PERIOD_MOD})\s+(?P<p_unit>weekend|week|month|year|{_SEASON}))
    | (?P<weekday>(?:(?P<wd_mod>{_PERIOD_MOD}|on|this\s+coming)\s+)?
        (?P<wd>{"|".join(_WEEKDAYS)}))
    | (?P<weekday_abbr>(?P<wa_mod>{_PERIOD_MOD}|on|this\s+coming)\s+
        (?P<wa>mon|tues?|wed|thu(?:rs?)?|fri|sat|sun)\.?)
    | (?P<iso>(?P<iso_y>\d{{4}})-(?P<iso_m>\d{{1,2}})-(?P<iso_d>\d{{1,2}}))
    | (?P<dmy>(?:the\s+)?(?P<dmy_d>\d{{1,2}}){_ORD}(?:\s+of)?\s+(?P<dmy_m>{_MONTH_ANY})\.?
        (?:,?\s+(?P<dmy_y>\d{{4}}))?)
    | (?P<mdy>(?P<mdy_m>{_MONTH_ANY})\.?\s+(?:the\s+)?(?P<mdy_d>\d{{1,2}}){_ORD}(?!\d)
        (?:,?\s+(?P<mdy_y>\d{{4}}))?)
    | (?P<month_year>(?:{_PREP}\s+)?(?P<my_m>{_MONTH_ANY})(?:\s+of)?,?\s+(?P<my_y>\d{{4}}))
    | (?P<month>(?P<m_pre>{_PREP}|last|this|next)\s+(?P<m_m>{_MONTH_CAP}))
    | (?P<year>{_PREP}\s+(?P<y>(?:1[0-9]|20)\d\d))
    )\b
    """,
    re.IGNORECASE | re.VERBOSE,
)

_FUTURE = re.compile(
    r"\b(?:will|shall|gonna|going|plan(?:s|ning)?\s+(?:to|on)|upcoming|looking\s+forward"
    r"|can'?t\s+wait|hope\s+to|hoping\s+to|next|tomorrow|soon)\b|'ll\b",
    re.IGNORECASE,
)
_PAST = re.compile(
    r"\b(?:was|were|went|did|had|got|came|saw|took|made|met|ago|last|yesterday|spent|ran"
    r"|bought|gave|found|left|told|said|felt|(?!(?:excit|interest|tir|scar|worri|bor|amaz"
    r"|thrill|stok|pump|overwhelm|inspir|motivat|determin|relax|exhaust|delight)ed\b)"
    r"[a-z]{2,}ed)\b",
    re.IGNORECASE,
)


def detect_tense(text: str) -> Tense | None:
    """Guess whether ``text`` speaks of the future or the past (None if it cannot tell)."""
    if _FUTURE.search(text):
        return "future"
    if _PAST.search(text):
        return "past"
    return None


def resolve_time_expression(
    text: str, reference: datetime, *, tense: Tense | None = None
) -> ResolvedTime | None:
    """The first time expression in ``text``, resolved against ``reference``.

    ``reference`` must be timezone-aware. ``tense`` settles ambiguous expressions ("on
    Monday"); by default it is guessed from ``text``. Returns None if there is none.
    """
    found = find_time_expressions(text, reference, tense=tense, limit=1)
    return found[0] if found else None


def find_time_expressions(
    text: str, reference: datetime, *, tense: Tense | None = None, limit: int | None = None
) -> list[ResolvedTime]:
    """Every time expression in ``text`` (in order, non-overlapping), resolved."""
    reference = ensure_utc(reference, field="reference")
    if tense is None:
        tense = detect_tense(text)
    results: list[ResolvedTime] = []
    for match in _EXPRESSION.finditer(text):
        resolved = _resolve(match, reference, tense)
        if resolved is None:
            continue
        value, granularity = resolved
        if not EARLIEST_SUPPORTED <= value < LATEST_SUPPORTED:
            continue
        results.append(ResolvedTime(value, match.start(), match.end(), match.group(), granularity))
        if limit is not None and len(results) >= limit:
            break
    return results


_Resolved = tuple[datetime, Granularity] | None


def _resolve(match: re.Match[str], reference: datetime, tense: Tense | None) -> _Resolved:
    kind = match.lastgroup
    handler = _HANDLERS.get(kind or "")
    if handler is None:
        return None
    try:
        return handler(match, reference, tense)
    except (ValueError, OverflowError):  # arithmetic beyond datetime's range
        return None


def _number(word: str) -> int:
    word = " ".join(word.lower().split())
    if word.isdigit():
        return int(word)
    for prefix in ("a ",):
        word = word.removeprefix(prefix)
    return _NUMBER_WORDS[word.removesuffix(" of")]


def _offset(reference: datetime, amount: int, unit: str) -> tuple[datetime, Granularity]:
    """``reference`` moved by ``amount`` units (negative = into the past)."""
    unit = unit.lower().removesuffix("s")
    if unit in ("minute", "hour"):
        delta = timedelta(minutes=amount) if unit == "minute" else timedelta(hours=amount)
        return reference + delta, Granularity.HOUR
    day = cal.midnight(reference)
    if unit == "day":
        return day + timedelta(days=amount), Granularity.DAY
    if unit in ("week", "fortnight"):
        days = 7 * amount * (2 if unit == "fortnight" else 1)
        return day + timedelta(days=days), Granularity.WEEK
    if unit == "month":
        return cal.shift_months(day, amount), Granularity.MONTH
    years = amount * (10 if unit == "decade" else 1)
    return cal.shift_years(day, years), Granularity.YEAR


def _ago(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return _offset(ref, -_number(m["ago_n"]), m["ago_u"])


def _later(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return _offset(ref, _number(m["in_n"]), m["in_u"])


def _from_now(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return _offset(ref, _number(m["fn_n"]), m["fn_u"])


_RELATIVE_DAYS = {"yesterday": -1, "last night": -1, "tomorrow": 1}


def _relday(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    word = " ".join(m["relday"].lower().split())
    return cal.midnight(ref) + timedelta(days=_RELATIVE_DAYS.get(word, 0)), Granularity.DAY


def _day_before_yesterday(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return cal.midnight(ref) - timedelta(days=2), Granularity.DAY


def _day_after_tomorrow(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return cal.midnight(ref) + timedelta(days=2), Granularity.DAY


def _direction(modifier: str) -> int:
    """-1 for last/this past, 0 for this, +1 for next/coming."""
    modifier = " ".join(modifier.lower().split())
    if modifier in ("last", "this past"):
        return -1
    return 0 if modifier == "this" else 1


def _period(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    step = _direction(m["p_mod"])
    unit = m["p_unit"].lower()
    if unit == "week":
        return cal.week_start(ref) + timedelta(days=7 * step), Granularity.WEEK
    if unit == "weekend":
        saturday = cal.week_start(ref) + timedelta(days=5 + 7 * step)
        return saturday, Granularity.WEEKEND
    if unit == "month":
        return cal.shift_month_start(ref, step), Granularity.MONTH
    if unit == "year":
        return cal.month_start(ref.year + step, 1), Granularity.YEAR
    if step < 0:
        return cal.last_completed_season_start(unit, ref), Granularity.SEASON
    if step > 0:
        return cal.next_season_start(unit, ref), Granularity.SEASON
    return cal.current_season_start(unit, ref), Granularity.SEASON


def _season_year(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return cal.season_start(m["sy_s"].lower(), int(m["sy_y"])), Granularity.SEASON


def _weekday(m: re.Match[str], ref: datetime, tense: Tense | None) -> _Resolved:
    return _on_weekday(_WEEKDAYS.index(m["wd"].lower()), m["wd_mod"], ref, tense)


def _weekday_abbreviation(m: re.Match[str], ref: datetime, tense: Tense | None) -> _Resolved:
    abbreviation = m["wa"].lower()[:2]
    weekday = next(i for i, day in enumerate(_WEEKDAYS) if day.startswith(abbreviation))
    return _on_weekday(weekday, m["wa_mod"], ref, tense)


def _on_weekday(
    weekday: int, modifier: str | None, ref: datetime, tense: Tense | None
) -> _Resolved:
    modifier = " ".join((modifier or "").lower().split())
    if modifier in ("last", "this past"):
        return cal.previous_weekday(ref, weekday), Granularity.DAY
    if modifier == "this":
        return cal.next_weekday(ref, weekday, include_today=True), Granularity.DAY
    if modifier in ("next", "coming", "the coming", "this coming") or tense == "future":
        return cal.next_weekday(ref, weekday), Granularity.DAY
    return cal.previous_weekday(ref, weekday), Granularity.DAY


def _iso(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    day = cal.day_start(int(m["iso_y"]), int(m["iso_m"]), int(m["iso_d"]))
    return (day, Granularity.DAY) if day else None


def _calendar_day(
    day: int, month: int, year: str | None, ref: datetime, tense: Tense | None
) -> _Resolved:
    if year is not None:
        value = cal.day_start(int(year), month, day)
        return (value, Granularity.DAY) if value else None
    value = cal.day_start(ref.year, month, day)
    if value is None:
        return None
    if tense == "past" and value > ref:
        value = cal.day_start(ref.year - 1, month, day)
    elif tense == "future" and value < cal.midnight(ref):
        value = cal.day_start(ref.year + 1, month, day)
    return (value, Granularity.DAY) if value else None


def _dmy(m: re.Match[str], ref: datetime, tense: Tense | None) -> _Resolved:
    month = _MONTHS[m["dmy_m"].lower()]
    return _calendar_day(int(m["dmy_d"]), month, m["dmy_y"], ref, tense)


def _mdy(m: re.Match[str], ref: datetime, tense: Tense | None) -> _Resolved:
    month = _MONTHS[m["mdy_m"].lower()]
    return _calendar_day(int(m["mdy_d"]), month, m["mdy_y"], ref, tense)


def _month_year(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return cal.month_start(int(m["my_y"]), _MONTHS[m["my_m"].lower()]), Granularity.MONTH


def _month(m: re.Match[str], ref: datetime, tense: Tense | None) -> _Resolved:
    month = _MONTHS[m["m_m"].lower()]
    prefix = m["m_pre"].lower()
    year = ref.year
    if prefix == "last":
        year -= 1 if month >= ref.month else 0
    elif prefix == "next":
        year += 1 if month <= ref.month else 0
    elif prefix != "this":
        if tense == "past" and month > ref.month:
            year -= 1
        elif tense == "future" and month < ref.month:
            year += 1
    return cal.month_start(year, month), Granularity.MONTH


def _year(m: re.Match[str], ref: datetime, _: Tense | None) -> _Resolved:
    return cal.month_start(int(m["y"]), 1), Granularity.YEAR


_Handler = Callable[[re.Match[str], datetime, Tense | None], _Resolved]
_HANDLERS: dict[str, _Handler] = {
    "dby": _day_before_yesterday,
    "dat": _day_after_tomorrow,
    "ago": _ago,
    "later": _later,
    "fromnow": _from_now,
    "relday": _relday,
    "season_year": _season_year,
    "period": _period,
    "weekday": _weekday,
    "weekday_abbr": _weekday_abbreviation,
    "iso": _iso,
    "dmy": _dmy,
    "mdy": _mdy,
    "month_year": _month_year,
    "month": _month,
    "year": _year,
}
