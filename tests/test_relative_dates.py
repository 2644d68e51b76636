"""Time expressions resolved against a reference time (graphmem.extraction.rules.dates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from graphmem.errors import InvalidInputError
from graphmem.extraction.rules import (
    Granularity,
    find_time_expressions,
    resolve_time_expression,
)
from graphmem.extraction.rules.dates import detect_tense

# Monday 8 May 2023, 13:56 UTC (a LoCoMo session time).
MONDAY = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)


def day(year: int, month: int, dom: int) -> datetime:
    return datetime(year, month, dom, tzinfo=UTC)


def resolve(text: str, reference: datetime = MONDAY) -> datetime:
    found = resolve_time_expression(text, reference)
    assert found is not None, f"nothing resolved in {text!r}"
    return found.value


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yesterday", day(2023, 5, 7)),
        ("today", day(2023, 5, 8)),
        ("tonight", day(2023, 5, 8)),
        ("this morning", day(2023, 5, 8)),
        ("last night", day(2023, 5, 7)),
        ("tomorrow", day(2023, 5, 9)),
        ("the day before yesterday", day(2023, 5, 6)),
        ("the day after tomorrow", day(2023, 5, 10)),
        ("two days ago", day(2023, 5, 6)),
        ("3 weeks ago", day(2023, 4, 17)),
        ("a few days ago", day(2023, 5, 5)),
        ("a couple of weeks ago", day(2023, 4, 24)),
        ("a month ago", day(2023, 4, 8)),
        ("two years ago", day(2021, 5, 8)),
        ("in two weeks", day(2023, 5, 22)),
        ("in a few days", day(2023, 5, 11)),
        ("three days from now", day(2023, 5, 11)),
        ("last week", day(2023, 5, 1)),
        ("this week", day(2023, 5, 8)),
        ("next week", day(2023, 5, 15)),
        ("last weekend", day(2023, 5, 6)),
        ("this weekend", day(2023, 5, 13)),
        ("last month", day(2023, 4, 1)),
        ("this month", day(2023, 5, 1)),
        ("next month", day(2023, 6, 1)),
        ("last year", day(2022, 1, 1)),
        ("next year", day(2024, 1, 1)),
        ("last Friday", day(2023, 5, 5)),
        ("last Monday", day(2023, 5, 1)),
        ("next Friday", day(2023, 5, 12)),
        ("this Friday", day(2023, 5, 12)),
        ("last Fri", day(2023, 5, 5)),
        ("in May", day(2023, 5, 1)),
        ("in 2019", day(2019, 1, 1)),
        ("since 2020", day(2020, 1, 1)),
        ("May 7", day(2023, 5, 7)),
        ("May 7th, 2022", day(2022, 5, 7)),
        ("7 May 2023", day(2023, 5, 7)),
        ("the 7th of May, 2022", day(2022, 5, 7)),
        ("2021-12-31", day(2021, 12, 31)),
        ("May 2021", day(2021, 5, 1)),
        ("the summer of 2022", day(2022, 6, 1)),
        ("last summer", day(2022, 6, 1)),
        ("this summer", day(2023, 6, 1)),
        ("last winter", day(2022, 12, 1)),
    ],
)
def test_expressions_resolve_against_a_monday_in_may(text: str, expected: datetime) -> None:
    assert resolve(text) == expected


def test_hours_ago_keeps_the_time_of_day() -> None:
    found = resolve_time_expression("I saw it an hour ago", MONDAY)
    assert found is not None
    assert found.value == MONDAY - timedelta(hours=1)
    assert found.granularity is Granularity.HOUR


def test_result_carries_the_span_and_granularity() -> None:
    text = "We met up last week at the park."
    found = resolve_time_expression(text, MONDAY)
    assert found is not None
    assert (found.start, found.end, found.text) == (10, 19, "last week")
    assert text[found.start : found.end] == "last week"
    assert found.granularity is Granularity.WEEK
    assert found.value.tzinfo is UTC


def test_month_and_year_boundaries() -> None:
    new_year = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    assert resolve("yesterday", new_year) == day(2023, 12, 31)
    assert resolve("last month", new_year) == day(2023, 12, 1)
    assert resolve("last year", new_year) == day(2023, 1, 1)
    assert resolve("last week", new_year) == day(2023, 12, 25)
    new_years_eve = datetime(2023, 12, 31, 22, 0, tzinfo=UTC)
    assert resolve("tomorrow", new_years_eve) == day(2024, 1, 1)
    assert resolve("next month", new_years_eve) == day(2024, 1, 1)
    assert resolve("in two weeks", new_years_eve) == day(2024, 1, 14)


def test_month_arithmetic_clamps_to_the_month_end() -> None:
    assert resolve("a month ago", datetime(2023, 3, 31, tzinfo=UTC)) == day(2023, 2, 28)
    assert resolve("a month ago", datetime(2024, 3, 31, tzinfo=UTC)) == day(2024, 2, 29)
    assert resolve("in a month", datetime(2023, 1, 31, tzinfo=UTC)) == day(2023, 2, 28)


def test_leap_years() -> None:
    leap_day = datetime(2024, 2, 29, 12, 0, tzinfo=UTC)
    assert resolve("a year ago", leap_day) == day(2023, 2, 28)
    assert resolve("yesterday", datetime(2024, 3, 1, tzinfo=UTC)) == day(2024, 2, 29)
    assert resolve("yesterday", datetime(2023, 3, 1, tzinfo=UTC)) == day(2023, 2, 28)
    assert resolve("Feb 29, 2024") == day(2024, 2, 29)
    # February 29th does not exist in 2023: not a date, so nothing is resolved.
    assert resolve_time_expression("Feb 29, 2023", MONDAY) is None
    assert resolve_time_expression("2023-02-29", MONDAY) is None


def test_winter_spans_the_new_year() -> None:
    january = datetime(2024, 1, 15, tzinfo=UTC)
    assert resolve("this winter", january) == day(2023, 12, 1)
    assert resolve("last winter", january) == day(2022, 12, 1)
    assert resolve("next winter", january) == day(2024, 12, 1)
    october = datetime(2023, 10, 2, tzinfo=UTC)
    assert resolve("last summer", october) == day(2023, 6, 1)


def test_ambiguous_days_follow_the_tense_of_the_text() -> None:
    assert resolve("On Monday I went hiking") == day(2023, 5, 1)
    assert resolve("On Monday I will go hiking") == day(2023, 5, 15)
    assert resolve("I went there in June") == day(2022, 6, 1)
    assert resolve("I'm going there in March") == day(2024, 3, 1)
    assert resolve("We went to Rome on Dec 20", datetime(2024, 1, 5, tzinfo=UTC)) == day(
        2023, 12, 20
    )
    found = resolve_time_expression("on Friday", MONDAY, tense="future")
    assert found is not None
    assert found.value == day(2023, 5, 12)


def test_detect_tense() -> None:
    assert detect_tense("I'll see you next week") == "future"
    assert detect_tense("We are going to travel") == "future"
    assert detect_tense("I visited my aunt") == "past"
    assert detect_tense("I'm so excited") is None


def test_words_that_look_like_dates_are_not_dates() -> None:
    for text in ("It may rain", "I march on", "Mondays are hard", "the sun is out",
                 "I am 32", "I have 12 plants", "We walked 3 miles"):  # fmt: skip
        assert resolve_time_expression(text, MONDAY) is None, text


def test_finds_every_expression_in_order() -> None:
    text = "I moved in 2019 and started the job last month, finishing tomorrow."
    found = find_time_expressions(text, MONDAY)
    assert [f.text for f in found] == ["in 2019", "last month", "tomorrow"]
    assert [f.value for f in found] == [day(2019, 1, 1), day(2023, 4, 1), day(2023, 5, 9)]


def test_reference_in_another_timezone_is_converted_to_utc() -> None:
    # 00:30 on May 9 in UTC+2 is still May 8 in UTC.
    reference = datetime(2023, 5, 9, 0, 30, tzinfo=timezone(timedelta(hours=2)))
    assert resolve("today", reference) == day(2023, 5, 8)


def test_naive_reference_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        resolve_time_expression("yesterday", datetime(2023, 5, 8))


def test_out_of_range_results_are_dropped() -> None:
    assert resolve_time_expression("999 decades ago", MONDAY) is None
    assert resolve_time_expression("no time words here", MONDAY) is None
