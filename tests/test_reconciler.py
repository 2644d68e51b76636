"""The temporal reconciler: supersession, restatement, out-of-order arrival, endings, undo."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.errors import InvalidIdentifierError, InvalidInputError, ScopeViolationError
from graphmem.models.records import ExpiryReason, Fact
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.temporal.reconciler import Ending, ReconcilePlan, reconcile, reopen_closed_by
from graphmem.temporal.view import TemporalView

CATALOGUE = PredicateCatalogue.default()
NOW = datetime(2025, 6, 1, 12, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)
ALICE, BOB, CAROL, DAVE = (uuid.uuid4() for _ in range(4))
SEATTLE, AUSTIN, DENVER, PARIS = (uuid.uuid4() for _ in range(4))
ACME, GLOBEX, PIZZA, SUSHI = (uuid.uuid4() for _ in range(4))


def day(year: int, month: int = 1, dd: int = 1) -> datetime:
    return datetime(year, month, dd, tzinfo=UTC)


def fact(
    subject: uuid.UUID,
    predicate: str,
    obj: uuid.UUID,
    valid_at: datetime | None,
    episode: uuid.UUID | None = None,
    *,
    user: str = "alice",
    created_at: datetime = NOW,
    **fields: object,
) -> Fact:
    return Fact(
        user_id=user,
        subject_id=subject,
        predicate=predicate,
        object_id=obj,
        fact=f"{subject} {predicate} {obj}",
        episode_ids=[episode or uuid.uuid4()],
        valid_at=valid_at,
        created_at=created_at,
        **fields,
    )


class Store:
    """Facts by id; applies plans the way the write path does."""

    def __init__(self, *facts: Fact) -> None:
        self.facts = {f.id: f for f in facts}

    def run(
        self,
        candidates: Sequence[Fact] = (),
        endings: Sequence[Ending] = (),
        now: datetime = NOW,
    ) -> ReconcilePlan:
        plan = reconcile(candidates, list(self.facts.values()), endings, CATALOGUE, now=now)
        for written in (*plan.inserts, *plan.updates):
            self.facts[written.id] = written
        return plan

    def __getitem__(self, fact_id: uuid.UUID) -> Fact:
        return self.facts[fact_id]

    def visible(self, as_of: datetime) -> list[Fact]:
        view = TemporalView.at(as_of=as_of)
        return [f for f in self.facts.values() if view.includes(f)]


def objects_at(store: Store, as_of: datetime) -> list[uuid.UUID]:
    return [f.object_id for f in store.visible(as_of)]


# --- cardinality one -----------------------------------------------------------------------


def test_new_object_supersedes_the_current_fact() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2020))
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    store = Store(seattle)

    plan = store.run([austin])

    assert plan.inserts == [austin]
    assert [f.id for f in plan.updates] == [seattle.id]
    closed = plan.updates[0]
    assert closed.invalid_at == day(2022)
    assert closed.expired_at == NOW
    assert closed.expired_reason is ExpiryReason.SUPERSEDED
    assert closed.superseded_by == austin.id
    assert closed.closed_by_episode_id == austin.episode_ids[0]
    assert closed.valid_at == day(2020)
    assert plan.closed == [closed]
    assert plan.reinforced == []
    new = plan.inserts[0]
    assert (new.invalid_at, new.expired_at, new.superseded_by) == (None, None, None)
    # Inputs are never mutated: the caller's objects still hold the stored state.
    assert seattle.invalid_at is None
    assert seattle.expired_at is None


def test_same_valid_at_different_object_still_supersedes() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2020))
    austin = fact(ALICE, "lives_in", AUSTIN, day(2020))
    store = Store(seattle)

    store.run([austin])

    assert store[seattle.id].superseded_by == austin.id
    assert store[seattle.id].invalid_at == day(2020)
    assert objects_at(store, day(2021)) == [AUSTIN]


def test_restating_the_current_fact_merges_provenance() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022), first, confidence=0.6)
    restated = fact(ALICE, "lives_in", AUSTIN, day(2023), second, confidence=0.9)
    store = Store(austin)

    plan = store.run([restated])

    assert plan.inserts == []
    assert [f.id for f in plan.updates] == [austin.id]
    merged = plan.updates[0]
    assert merged.episode_ids == [first, second]
    assert merged.valid_at == day(2022)
    assert merged.confidence == 0.9
    assert merged.invalid_at is None
    assert merged.expired_at is None
    assert plan.reinforced == [merged]
    assert plan.closed == []


def test_restating_with_an_earlier_time_moves_valid_at_back() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    store = Store(seattle)
    store.run([austin])

    earlier = fact(ALICE, "lives_in", AUSTIN, day(2019), confidence=0.5)
    plan = store.run([earlier], now=LATER)

    assert plan.inserts == []
    assert {f.id for f in plan.updates} == {seattle.id, austin.id}
    assert store[austin.id].valid_at == day(2019)
    assert store[austin.id].episode_ids == [*austin.episode_ids, *earlier.episode_ids]
    assert store[austin.id].confidence == 1.0
    # The version before it now ends where the moved one begins, keeping its closure.
    assert store[seattle.id].invalid_at == day(2019)
    assert store[seattle.id].superseded_by == austin.id
    assert store[seattle.id].expired_at == NOW
    assert plan.reinforced == [store[austin.id]]
    assert plan.closed == [store[seattle.id]]


def test_restating_with_the_same_episode_changes_nothing() -> None:
    episode = uuid.uuid4()
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022), episode)
    store = Store(austin)

    plan = store.run([fact(ALICE, "lives_in", AUSTIN, day(2022), episode)])

    assert plan.is_empty
    assert (plan.inserts, plan.updates, plan.closed, plan.reinforced) == ([], [], [], [])


def test_out_of_order_arrival_is_inserted_closed() -> None:
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2019))
    store = Store(austin)

    plan = store.run([seattle])

    assert plan.updates == []
    assert [f.id for f in plan.inserts] == [seattle.id]
    late = plan.inserts[0]
    assert late.valid_at == day(2019)
    assert late.invalid_at == day(2022)
    assert late.expired_at == NOW
    assert late.expired_reason is ExpiryReason.ARRIVED_CLOSED
    assert late.superseded_by == austin.id
    assert late.closed_by_episode_id == austin.episode_ids[0]
    assert plan.closed == [late]
    assert store[austin.id] == austin


def test_late_arrival_fits_between_historical_versions() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    denver = fact(ALICE, "lives_in", DENVER, day(2020))
    store = Store(seattle)
    store.run([denver])

    austin = fact(ALICE, "lives_in", AUSTIN, day(2018))
    plan = store.run([austin], now=LATER)

    assert [f.id for f in plan.inserts] == [austin.id]
    assert [f.id for f in plan.updates] == [seattle.id]
    assert store[seattle.id].invalid_at == day(2018)
    assert store[seattle.id].superseded_by == austin.id
    assert store[seattle.id].expired_at == NOW  # first closed then; only the end moved
    assert store[seattle.id].closed_by_episode_id == denver.episode_ids[0]
    assert store[austin.id].invalid_at == day(2020)
    assert store[austin.id].superseded_by == denver.id
    assert store[austin.id].expired_reason is ExpiryReason.ARRIVED_CLOSED
    assert store[austin.id].expired_at == LATER
    assert store[denver.id] == denver
    assert objects_at(store, day(2016)) == [SEATTLE]
    assert objects_at(store, day(2019)) == [AUSTIN]
    assert objects_at(store, day(2021)) == [DENVER]


def test_late_arrival_matching_a_closed_version_merges_provenance() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    denver = fact(ALICE, "lives_in", DENVER, day(2020))
    store = Store(seattle)
    store.run([denver])

    again = fact(ALICE, "lives_in", SEATTLE, day(2017))
    plan = store.run([again], now=LATER)

    assert plan.inserts == []
    assert plan.reinforced == [store[seattle.id]]
    assert store[seattle.id].episode_ids == [*seattle.episode_ids, *again.episode_ids]
    assert store[seattle.id].invalid_at == day(2020)
    assert store[seattle.id].expired_at == NOW
    assert plan.closed == []


def test_batch_is_processed_in_valid_at_order() -> None:
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2020))
    store = Store()

    plan = store.run([austin, seattle])

    assert [f.id for f in plan.inserts] == [seattle.id, austin.id]
    assert plan.updates == []
    closed = store[seattle.id]
    assert closed.invalid_at == day(2022)
    assert closed.expired_reason is ExpiryReason.SUPERSEDED
    assert closed.superseded_by == austin.id
    assert closed.expired_at == NOW
    assert plan.closed == [closed]
    assert store[austin.id].invalid_at is None


def test_batch_ties_keep_input_order() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2020))
    austin = fact(ALICE, "lives_in", AUSTIN, day(2020))
    store = Store()

    store.run([seattle, austin])

    assert store[seattle.id].superseded_by == austin.id
    assert objects_at(store, day(2021)) == [AUSTIN]


def test_stated_end_is_closed_in_event_time_but_not_expired() -> None:
    paris = fact(ALICE, "lives_in", PARIS, day(2010), invalid_at=day(2012))
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    store = Store(seattle)

    plan = store.run([paris])

    assert plan.inserts == [paris]
    assert plan.inserts[0].invalid_at == day(2012)
    assert plan.inserts[0].expired_at is None
    assert plan.inserts[0].expired_reason is None
    assert plan.updates == []
    assert plan.closed == []
    assert objects_at(store, day(2011)) == [PARIS]
    assert objects_at(store, day(2013)) == []


def test_restatement_with_a_stated_end_closes_the_open_version() -> None:
    austin = fact(ALICE, "lives_in", AUSTIN, day(2019))
    store = Store(austin)
    until = fact(ALICE, "lives_in", AUSTIN, day(2019, 6), invalid_at=day(2021))

    plan = store.run([until])

    assert plan.inserts == []
    assert store[austin.id].invalid_at == day(2021)
    assert store[austin.id].expired_at is None
    assert store[austin.id].closed_by_episode_id == until.episode_ids[0]
    assert plan.closed == [store[austin.id]] == plan.reinforced


def test_ended_fact_of_unknown_start_fits_before_the_known_versions() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    store = Store(seattle)
    used_to = fact(ALICE, "lives_in", PARIS, None, invalid_at=day(2024))

    plan = store.run([used_to])

    assert [f.id for f in plan.inserts] == [used_to.id]
    paris = plan.inserts[0]
    assert paris.valid_at is None
    assert paris.invalid_at == day(2015)
    assert paris.expired_reason is ExpiryReason.ARRIVED_CLOSED
    assert paris.superseded_by == seattle.id
    assert plan.updates == []
    assert objects_at(store, day(2010)) == [PARIS]
    assert objects_at(store, day(2016)) == [SEATTLE]


def test_ended_fact_of_unknown_start_alone_keeps_its_stated_end() -> None:
    store = Store()
    plan = store.run([fact(ALICE, "lives_in", PARIS, None, invalid_at=day(2024))])

    (paris,) = plan.inserts
    assert (paris.valid_at, paris.invalid_at, paris.expired_at) == (None, day(2024), None)
    assert plan.closed == []
    assert objects_at(store, day(2023)) == [PARIS]
    assert objects_at(store, day(2025)) == []


def test_ended_fact_of_unknown_start_restates_and_ends_the_open_version() -> None:
    pizza = fact(ALICE, "likes", PIZZA, day(2020))
    store = Store(pizza)
    used_to = fact(ALICE, "likes", PIZZA, None, invalid_at=day(2024))

    plan = store.run([used_to])

    assert plan.inserts == []
    liked = store[pizza.id]
    assert (liked.valid_at, liked.invalid_at, liked.expired_at) == (day(2020), day(2024), None)
    assert liked.episode_ids == [*pizza.episode_ids, *used_to.episode_ids]
    assert plan.reinforced == [liked] == plan.closed


def test_corrected_and_retracted_facts_are_not_versions() -> None:
    wrong = fact(
        ALICE,
        "lives_in",
        SEATTLE,
        day(2020),
        expired_at=NOW - timedelta(days=1),
        expired_reason=ExpiryReason.CORRECTED,
    )
    withdrawn = fact(
        ALICE,
        "lives_in",
        AUSTIN,
        day(2021),
        expired_at=NOW - timedelta(days=1),
        expired_reason=ExpiryReason.RETRACTED,
    )
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    store = Store(wrong, withdrawn)

    plan = store.run([austin])

    assert plan.inserts == [austin]
    assert plan.updates == []
    assert plan.inserts[0].invalid_at is None


def test_only_the_same_subject_and_predicate_are_compared() -> None:
    bobs_home = fact(BOB, "lives_in", SEATTLE, day(2020))
    alices_job = fact(ALICE, "works_at", ACME, day(2020))
    alices_home = fact(ALICE, "lives_in", SEATTLE, day(2020))
    store = Store(bobs_home, alices_job, alices_home)

    plan = store.run([fact(ALICE, "lives_in", AUSTIN, day(2022))])

    assert [f.id for f in plan.updates] == [alices_home.id]
    assert store[bobs_home.id] == bobs_home
    assert store[alices_job.id] == alices_job


def test_facts_of_several_owners_are_refused() -> None:
    theirs = fact(ALICE, "lives_in", SEATTLE, day(2020), user="mallory")
    with pytest.raises(ScopeViolationError):
        reconcile([fact(ALICE, "lives_in", AUSTIN, day(2022))], [theirs], [], CATALOGUE, now=NOW)


@pytest.mark.parametrize(
    ("candidate", "error"),
    [
        (fact(ALICE, "lives_in", AUSTIN, None), InvalidInputError),
        (fact(ALICE, "lives_in", AUSTIN, day(2022), invalid_at=day(2022)), InvalidInputError),
        (fact(ALICE, "Lives In", AUSTIN, day(2022)), InvalidIdentifierError),
    ],
)
def test_invalid_candidates_are_refused(candidate: Fact, error: type[Exception]) -> None:
    with pytest.raises(error):
        reconcile([candidate], [], [], CATALOGUE, now=NOW)


def test_reused_ids_and_naive_times_are_refused() -> None:
    stored = fact(ALICE, "lives_in", SEATTLE, day(2020))
    with pytest.raises(InvalidInputError, match="already in use"):
        reconcile([stored.model_copy()], [stored], [], CATALOGUE, now=NOW)
    with pytest.raises(InvalidInputError, match="timezone"):
        reconcile([], [stored], [], CATALOGUE, now=datetime(2025, 1, 1))
    naive_end = Ending(ALICE, "lives_in", None, datetime(2025, 1, 1))
    with pytest.raises(InvalidInputError, match="timezone"):
        reconcile([], [stored], [naive_end], CATALOGUE, now=NOW)


# --- cardinality many -----------------------------------------------------------------------


def test_many_valued_facts_accumulate_and_restatements_reinforce() -> None:
    pizza = fact(ALICE, "likes", PIZZA, day(2020))
    sushi = fact(ALICE, "likes", SUSHI, day(2021))
    store = Store(pizza)

    plan = store.run([sushi])
    assert plan.inserts == [sushi]
    assert plan.updates == []

    again = fact(ALICE, "likes", PIZZA, day(2022))
    plan = store.run([again], now=LATER)
    assert plan.inserts == []
    assert plan.reinforced == [store[pizza.id]]
    assert store[pizza.id].episode_ids == [*pizza.episode_ids, *again.episode_ids]
    assert sorted(objects_at(store, day(2023))) == sorted([PIZZA, SUSHI])


def test_unknown_predicates_accumulate() -> None:
    first = fact(ALICE, "collects", PIZZA, day(2020))
    store = Store(first)
    store.run([fact(ALICE, "collects", SUSHI, day(2021))])
    assert sorted(objects_at(store, day(2022))) == sorted([PIZZA, SUSHI])


# --- symmetric predicates ----------------------------------------------------------------------


def test_symmetric_fact_restated_from_the_other_side_is_one_fact() -> None:
    marriage = fact(BOB, "married_to", ALICE, day(2010))
    store = Store(marriage)

    plan = store.run([fact(ALICE, "married_to", BOB, day(2015))])

    assert plan.inserts == []
    assert plan.reinforced == [store[marriage.id]]
    assert len(store[marriage.id].episode_ids) == 2


def test_symmetric_one_valued_supersedes_on_both_sides() -> None:
    alice_bob = fact(BOB, "married_to", ALICE, day(2010))
    carol_dave = fact(CAROL, "married_to", DAVE, day(2012))
    store = Store(alice_bob, carol_dave)

    alice_carol = fact(ALICE, "married_to", CAROL, day(2020))
    plan = store.run([alice_carol])

    assert plan.inserts == [alice_carol]
    assert {f.id for f in plan.closed} == {alice_bob.id, carol_dave.id}
    for closed_id in (alice_bob.id, carol_dave.id):
        assert store[closed_id].invalid_at == day(2020)
        assert store[closed_id].superseded_by == alice_carol.id
        assert store[closed_id].expired_reason is ExpiryReason.SUPERSEDED


def test_symmetric_many_valued_from_both_sides() -> None:
    friends = fact(BOB, "friend_of", ALICE, day(2010))
    store = Store(friends, fact(ALICE, "friend_of", CAROL, day(2011)))

    plan = store.run([fact(ALICE, "friend_of", BOB, day(2015))])

    assert plan.inserts == []
    assert plan.reinforced == [store[friends.id]]
    assert len(store.visible(day(2016))) == 2


# --- endings -----------------------------------------------------------------------------------


def test_ending_closes_the_named_current_fact() -> None:
    acme = fact(ALICE, "works_at", ACME, day(2020))
    store = Store(acme)
    episode = uuid.uuid4()

    plan = store.run(endings=[Ending(ALICE, "works_at", ACME, day(2024, 3), episode)])

    assert plan.inserts == []
    assert [f.id for f in plan.updates] == [acme.id]
    ended = plan.updates[0]
    assert ended.invalid_at == day(2024, 3)
    assert ended.expired_at == NOW
    assert ended.expired_reason is ExpiryReason.ENDED
    assert ended.superseded_by is None
    assert ended.closed_by_episode_id == episode
    assert plan.closed == [ended]
    assert objects_at(store, day(2024, 4)) == []


def test_i_no_longer_work_at_acme() -> None:
    acme = fact(ALICE, "works_at", ACME, day(2020))
    store = Store(acme)
    predicate = "no longer works at"

    store.run(endings=[Ending(ALICE, predicate, ACME, day(2024, 3), uuid.uuid4())])

    assert store[acme.id].expired_reason is ExpiryReason.ENDED
    assert objects_at(store, day(2023)) == [ACME]
    assert objects_at(store, day(2025)) == []


def test_ending_without_object_closes_every_current_fact_of_the_predicate() -> None:
    old = fact(ALICE, "likes", SUSHI, day(2018), invalid_at=day(2019))
    pizza = fact(ALICE, "likes", PIZZA, day(2020))
    sushi = fact(ALICE, "likes", SUSHI, day(2021))
    store = Store(old, pizza, sushi)

    plan = store.run(endings=[Ending(ALICE, "likes", None, day(2024), uuid.uuid4())])

    assert {f.id for f in plan.closed} == {pizza.id, sushi.id}
    assert store[old.id] == old
    assert objects_at(store, day(2025)) == []


def test_ending_with_nothing_to_close_reports_nothing() -> None:
    acme = fact(ALICE, "works_at", ACME, day(2020))
    store = Store(acme)

    for ending in (
        Ending(ALICE, "works_at", GLOBEX, day(2024)),
        Ending(BOB, "works_at", None, day(2024)),
        Ending(ALICE, "lives_in", None, day(2024)),
    ):
        plan = store.run(endings=[ending])
        assert (plan.inserts, plan.updates, plan.closed, plan.reinforced) == ([], [], [], [])
    assert (
        reconcile([], [], [Ending(ALICE, "works_at", None, day(2024))], CATALOGUE, now=NOW)
        == ReconcilePlan()
    )


def test_ending_before_the_start_closes_at_the_start() -> None:
    acme = fact(ALICE, "works_at", ACME, day(2023))
    store = Store(acme)

    store.run(endings=[Ending(ALICE, "quit", ACME, day(2021))])

    assert store[acme.id].invalid_at == day(2023)
    assert objects_at(store, day(2024)) == []


def test_quitting_and_joining_at_the_same_moment() -> None:
    acme = fact(ALICE, "works_at", ACME, day(2020))
    store = Store(acme)
    globex = fact(ALICE, "works_at", GLOBEX, day(2024))

    store.run([globex], endings=[Ending(ALICE, "quit", None, day(2024))])

    assert store[acme.id].expired_reason is ExpiryReason.ENDED
    assert store[globex.id].invalid_at is None
    assert objects_at(store, day(2025)) == [GLOBEX]


# --- scenarios -----------------------------------------------------------------------------------


def test_vegetarian_then_eating_fish() -> None:
    vegetarian, fish = fact(ALICE, "diet", uuid.uuid4(), day(2023)), uuid.uuid4()
    store = Store(vegetarian)

    now_fish = fact(ALICE, CATALOGUE.canonical("eats"), fish, day(2024))
    plan = store.run([now_fish])

    assert now_fish.predicate == "diet"
    assert plan.inserts == [now_fish]
    assert plan.closed == [store[vegetarian.id]]
    assert store[vegetarian.id].superseded_by == now_fish.id
    assert store[vegetarian.id].invalid_at == day(2024)
    assert objects_at(store, day(2023, 6)) == [vegetarian.object_id]
    assert objects_at(store, day(2024, 6)) == [fish]


def test_seattle_then_austin_then_denver() -> None:
    store = Store()
    for step, (city, year) in enumerate(((SEATTLE, 2015), (AUSTIN, 2019), (DENVER, 2023))):
        store.run([fact(ALICE, "lives_in", city, day(year))], now=NOW + timedelta(days=step))

    assert objects_at(store, day(2016)) == [SEATTLE]
    assert objects_at(store, day(2020)) == [AUSTIN]
    assert objects_at(store, day(2024)) == [DENVER]
    assert objects_at(store, day(2014)) == []


def test_same_fact_restated_five_times() -> None:
    months = [3, 1, 5, 2, 4]
    episodes = [uuid.uuid4() for _ in months]
    store = Store()
    for step, (month, episode) in enumerate(zip(months, episodes, strict=True)):
        store.run(
            [fact(ALICE, "works_at", ACME, day(2024, month), episode)],
            now=NOW + timedelta(minutes=step),
        )

    assert len(store.facts) == 1
    (only,) = store.facts.values()
    assert only.episode_ids == episodes
    assert only.valid_at == day(2024, 1)
    assert only.invalid_at is None
    assert only.expired_at is None


# --- undo ----------------------------------------------------------------------------------------


def test_reopen_after_undoing_the_superseding_episode() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2020))
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    store = Store(seattle)
    store.run([austin])
    undone = austin.episode_ids[0]

    reopened = reopen_closed_by(list(store.facts.values()), undone, now=LATER)

    assert [f.id for f in reopened] == [seattle.id]
    again = reopened[0]
    assert (again.invalid_at, again.expired_at, again.expired_reason) == (None, None, None)
    assert (again.superseded_by, again.closed_by_episode_id) == (None, None)
    assert again.valid_at == day(2020)
    assert store[seattle.id].invalid_at == day(2022)  # inputs are not mutated


def test_undo_keeps_a_closure_another_episode_still_supports() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2020))
    austin = fact(ALICE, "lives_in", AUSTIN, day(2022))
    store = Store(seattle)
    store.run([austin])
    confirming = fact(ALICE, "lives_in", AUSTIN, day(2023))
    store.run([confirming], now=LATER)
    undone = austin.episode_ids[0]

    (kept,) = reopen_closed_by(list(store.facts.values()), undone, now=LATER)

    assert kept.id == seattle.id
    assert kept.invalid_at == day(2022)
    assert kept.superseded_by == austin.id
    assert kept.expired_at == NOW
    assert kept.expired_reason is ExpiryReason.SUPERSEDED
    assert kept.closed_by_episode_id == confirming.episode_ids[0]


def test_undoing_an_ending_reopens_until_the_next_version() -> None:
    acme = fact(ALICE, "works_at", ACME, day(2020))
    store = Store(acme)
    quit_episode = uuid.uuid4()
    store.run(endings=[Ending(ALICE, "quit", ACME, day(2023), quit_episode)])
    globex = fact(ALICE, "works_at", GLOBEX, day(2024))
    store.run([globex], now=LATER)
    assert store[acme.id].superseded_by is None

    (reopened,) = reopen_closed_by(list(store.facts.values()), quit_episode, now=LATER)

    assert reopened.id == acme.id
    assert reopened.invalid_at == day(2024)
    assert reopened.superseded_by == globex.id
    assert reopened.expired_reason is ExpiryReason.SUPERSEDED
    assert reopened.expired_at == LATER
    assert reopened.closed_by_episode_id == globex.episode_ids[0]


def test_undoing_a_late_arrival_restores_the_chain() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    denver = fact(ALICE, "lives_in", DENVER, day(2020))
    store = Store(seattle)
    store.run([denver])
    austin = fact(ALICE, "lives_in", AUSTIN, day(2018))
    store.run([austin], now=LATER)

    reopened = reopen_closed_by(list(store.facts.values()), austin.episode_ids[0], now=LATER)
    for f in reopened:
        store.facts[f.id] = f
    del store.facts[austin.id]

    assert [f.id for f in reopened] == [seattle.id]
    assert store[seattle.id].invalid_at == day(2020)
    assert store[seattle.id].superseded_by == denver.id
    assert store[seattle.id].closed_by_episode_id == denver.episode_ids[0]
    assert objects_at(store, day(2019)) == [SEATTLE]


def test_undoing_an_episode_that_closed_nothing_reopens_nothing() -> None:
    seattle = fact(ALICE, "lives_in", SEATTLE, day(2015))
    store = Store(seattle)
    store.run([fact(ALICE, "lives_in", AUSTIN, day(2020))])
    assert reopen_closed_by(list(store.facts.values()), seattle.episode_ids[0]) == []


def test_withdrawn_facts_are_never_reopened() -> None:
    episode = uuid.uuid4()
    corrected = fact(
        ALICE,
        "lives_in",
        SEATTLE,
        day(2015),
        closed_by_episode_id=episode,
        expired_at=NOW,
        expired_reason=ExpiryReason.CORRECTED,
    )
    assert reopen_closed_by([corrected], episode) == []


def test_undoing_a_new_marriage_reopens_the_previous_one_from_either_side() -> None:
    bob_alice = fact(BOB, "married_to", ALICE, day(2010))
    store = Store(bob_alice)
    alice_carol = fact(ALICE, "married_to", CAROL, day(2020))
    store.run([alice_carol])

    (reopened,) = reopen_closed_by(list(store.facts.values()), alice_carol.episode_ids[0])

    assert reopened.id == bob_alice.id
    assert (reopened.invalid_at, reopened.superseded_by, reopened.expired_at) == (None, None, None)


def test_reopen_follows_the_given_catalogue() -> None:
    one_liking = CATALOGUE.extended({"likes": {"cardinality": "one"}})
    pizza = fact(ALICE, "likes", PIZZA, day(2020))
    stop_episode = uuid.uuid4()
    store = Store(pizza)
    store.run(endings=[Ending(ALICE, "likes", PIZZA, day(2021), stop_episode)])
    sushi = fact(ALICE, "likes", SUSHI, day(2022))
    store.run([sushi], now=LATER)
    facts = list(store.facts.values())

    (as_one,) = reopen_closed_by(facts, stop_episode, catalogue=one_liking, now=LATER)
    (as_many,) = reopen_closed_by(facts, stop_episode, now=LATER)

    assert (as_one.invalid_at, as_one.superseded_by) == (day(2022), sushi.id)
    assert (as_many.invalid_at, as_many.superseded_by) == (None, None)


# --- property: one version at a time ------------------------------------------------------------

OBJECTS = [uuid.uuid4() for _ in range(8)]
BASE = day(2000)


def statements_with(objects: st.SearchStrategy[int]) -> st.SearchStrategy[list[tuple[int, int]]]:
    """(object index, day offset) pairs with distinct day offsets."""
    return st.lists(
        st.tuples(objects, st.integers(0, 60)),
        min_size=1,
        max_size=8,
        unique_by=lambda s: s[1],
    )


def reconcile_one_by_one(statements: list[tuple[int, int]]) -> Store:
    store = Store()
    for step, (obj, offset) in enumerate(statements):
        candidate = fact(ALICE, "lives_in", OBJECTS[obj], BASE + timedelta(days=offset))
        store.run([candidate], now=NOW + timedelta(minutes=step))
    return store


def expected_object(statements: list[tuple[int, int]], moment: datetime) -> uuid.UUID | None:
    started = [
        (offset, obj) for obj, offset in statements if BASE + timedelta(days=offset) <= moment
    ]
    return OBJECTS[max(started)[1]] if started else None


PROBES = [
    BASE + timedelta(days=offset, hours=hours) for offset in range(-1, 62) for hours in (0, 12)
]


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.data())
def test_exactly_the_latest_started_version_is_valid(data: st.DataObject) -> None:
    distinct = data.draw(st.permutations(range(len(OBJECTS))))
    statements = data.draw(statements_with(st.integers(0, len(OBJECTS) - 1)))
    statements = [(distinct[i], offset) for i, (_, offset) in enumerate(statements)]
    store = reconcile_one_by_one(statements)

    for moment in PROBES:
        visible = objects_at(store, moment)
        expected = expected_object(statements, moment)
        assert visible == ([] if expected is None else [expected]), moment


@settings(max_examples=200, derandomize=True, deadline=None)
@given(statements_with(st.integers(0, 2)))
def test_repeated_objects_never_overlap_or_leave_gaps(statements: list[tuple[int, int]]) -> None:
    store = reconcile_one_by_one(statements)
    first = BASE + timedelta(days=min(offset for _, offset in statements))

    for moment in PROBES:
        assert len(objects_at(store, moment)) == (1 if moment >= first else 0), moment
    assert objects_at(store, BASE + timedelta(days=100)) != []


@settings(max_examples=200, derandomize=True, deadline=None)
@given(statements_with(st.integers(0, 2)))
def test_repeated_objects_in_time_order_follow_the_statements(
    statements: list[tuple[int, int]],
) -> None:
    in_order = sorted(statements, key=lambda s: s[1])
    store = reconcile_one_by_one(in_order)

    for moment in PROBES:
        expected = expected_object(in_order, moment)
        assert objects_at(store, moment) == ([] if expected is None else [expected]), moment


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 60), st.booleans()), min_size=1, max_size=8
    )
)
def test_ended_facts_of_unknown_start_never_overlap_known_versions(
    statements: list[tuple[int, int, bool]],
) -> None:
    """Facts of unknown start may overlap each other (their order is unknown), but never
    a version whose start is known; versions of known start never overlap."""
    store = Store()
    for step, (obj, offset, start_unknown) in enumerate(statements):
        moment = BASE + timedelta(days=offset)
        candidate = (
            fact(ALICE, "lives_in", OBJECTS[obj], None, invalid_at=moment)
            if start_unknown
            else fact(ALICE, "lives_in", OBJECTS[obj], moment)
        )
        store.run([candidate], now=NOW + timedelta(minutes=step))

    for moment in PROBES:
        visible = store.visible(moment)
        known = [f for f in visible if f.valid_at is not None]
        assert len(known) <= 1, moment
        assert not known or len(visible) == 1, moment
