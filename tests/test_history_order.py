"""History: every version of a fact in the order it took effect, with its status now."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from graphmem.errors import InvalidInputError
from graphmem.models.records import ExpiryReason, Fact
from graphmem.models.results import VersionStatus
from graphmem.temporal.history import order_history, version_status
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.temporal.reconciler import Ending, reconcile

NOW = datetime(2025, 6, 1, tzinfo=UTC)
ALICE = uuid.uuid4()
SEATTLE, AUSTIN, DENVER, ACME = (uuid.uuid4() for _ in range(4))


def day(year: int, month: int = 1) -> datetime:
    return datetime(year, month, 1, tzinfo=UTC)


def fact(
    obj: uuid.UUID,
    valid_at: datetime | None,
    *,
    predicate: str = "lives_in",
    created_at: datetime = NOW - timedelta(days=30),
    **fields: object,
) -> Fact:
    return Fact(
        user_id="alice",
        subject_id=ALICE,
        predicate=predicate,
        object_id=obj,
        fact="a sentence",
        episode_ids=[uuid.uuid4()],
        valid_at=valid_at,
        created_at=created_at,
        **fields,
    )


# --- status -------------------------------------------------------------------------------------


def test_open_fact_that_has_started_is_current() -> None:
    assert version_status(fact(SEATTLE, day(2020)), now=NOW) is VersionStatus.CURRENT
    assert version_status(fact(SEATTLE, None), now=NOW) is VersionStatus.CURRENT


def test_fact_starting_after_now_is_future() -> None:
    assert version_status(fact(SEATTLE, day(2030)), now=NOW) is VersionStatus.FUTURE


def test_stated_end_counts_once_it_has_passed() -> None:
    ended = fact(SEATTLE, day(2020), invalid_at=day(2024))
    ending_later = fact(SEATTLE, day(2020), invalid_at=day(2026))
    assert version_status(ended, now=NOW) is VersionStatus.ENDED
    assert version_status(ending_later, now=NOW) is VersionStatus.CURRENT


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (ExpiryReason.SUPERSEDED, VersionStatus.SUPERSEDED),
        (ExpiryReason.ENDED, VersionStatus.ENDED),
        (ExpiryReason.ARRIVED_CLOSED, VersionStatus.ARRIVED_CLOSED),
        (ExpiryReason.CORRECTED, VersionStatus.CORRECTED),
        (ExpiryReason.RETRACTED, VersionStatus.RETRACTED),
        (None, VersionStatus.RETRACTED),
    ],
)
def test_retired_fact_reports_why(reason: ExpiryReason | None, status: VersionStatus) -> None:
    retired = fact(
        SEATTLE, day(2020), invalid_at=day(2022), expired_at=day(2024), expired_reason=reason
    )
    assert version_status(retired, now=NOW) is status


def test_status_is_judged_at_the_given_moment() -> None:
    retired = fact(
        SEATTLE,
        day(2020),
        invalid_at=day(2024),
        expired_at=day(2024, 2),
        expired_reason=ExpiryReason.SUPERSEDED,
    )
    assert version_status(retired, now=day(2023)) is VersionStatus.CURRENT
    assert version_status(retired, now=day(2024, 1)) is VersionStatus.ENDED
    assert version_status(retired, now=NOW) is VersionStatus.SUPERSEDED


def test_naive_now_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="timezone"):
        version_status(fact(SEATTLE, day(2020)), now=datetime(2025, 1, 1))
    with pytest.raises(InvalidInputError, match="timezone"):
        order_history([], now=datetime(2025, 1, 1))


# --- order ----------------------------------------------------------------------------------------


def test_versions_in_event_order_with_supersession_links() -> None:
    catalogue = PredicateCatalogue.default()
    stored: dict[uuid.UUID, Fact] = {}
    denver = fact(DENVER, day(2023))
    seattle = fact(SEATTLE, day(2015))
    austin = fact(AUSTIN, day(2019))
    # Arrival order differs from event order: Denver, then Seattle, then Austin (late).
    for step, candidate in enumerate((denver, seattle, austin)):
        plan = reconcile(
            [candidate], list(stored.values()), [], catalogue, now=NOW + timedelta(minutes=step)
        )
        stored.update({f.id: f for f in (*plan.inserts, *plan.updates)})

    history = order_history(list(stored.values()), now=NOW + timedelta(days=1))

    assert [entry.fact.id for entry in history] == [seattle.id, austin.id, denver.id]
    assert [entry.status for entry in history] == [
        VersionStatus.ARRIVED_CLOSED,
        VersionStatus.ARRIVED_CLOSED,
        VersionStatus.CURRENT,
    ]
    assert [entry.supersedes for entry in history] == [[], [seattle.id], [austin.id]]


def test_ended_version_in_history() -> None:
    catalogue = PredicateCatalogue.default()
    acme = fact(ACME, day(2020), predicate="works_at")
    plan = reconcile(
        [], [acme], [Ending(ALICE, "quit", ACME, day(2024), uuid.uuid4())], catalogue, now=NOW
    )

    (entry,) = order_history(plan.updates, now=NOW)

    assert entry.status is VersionStatus.ENDED
    assert entry.supersedes == []
    assert entry.fact.invalid_at == day(2024)


def test_unknown_start_sorts_by_creation_time() -> None:
    undated = fact(SEATTLE, None, created_at=day(2018))
    earlier = fact(AUSTIN, day(2017))
    later = fact(DENVER, day(2019))

    history = order_history([later, undated, earlier], now=NOW)

    assert [entry.fact.id for entry in history] == [earlier.id, undated.id, later.id]


def test_ties_break_on_creation_time_then_input_order() -> None:
    learned_second = fact(AUSTIN, day(2020), created_at=day(2021))
    learned_first = fact(SEATTLE, day(2020), created_at=day(2020, 6))
    same_a = fact(DENVER, day(2022), created_at=day(2022))
    same_b = fact(ACME, day(2022), created_at=day(2022))

    history = order_history([learned_second, same_b, learned_first, same_a], now=NOW)

    assert [entry.fact.id for entry in history] == [
        learned_first.id,
        learned_second.id,
        same_b.id,
        same_a.id,
    ]


def test_a_version_given_twice_appears_once() -> None:
    seattle = fact(SEATTLE, day(2015))
    history = order_history([seattle, seattle.model_copy()], now=NOW)
    assert [entry.fact.id for entry in history] == [seattle.id]


def test_empty_history() -> None:
    assert order_history([], now=NOW) == []
