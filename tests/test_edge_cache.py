"""The embedded store's in-memory edge cache answers exactly as SQLite does.

Search reads neighbourhoods through the cache; a stale or leaky cache would return
closed facts as current, miss new ones, or hand one owner's facts to another. Every
test compares the cached answer with the same read made directly against SQLite.
"""

from __future__ import annotations

import functools
import tempfile
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_store_contract import INFO, entity, episode, fact

from graphmem.models.edges import FactEdge
from graphmem.models.records import Entity, Episode, ExpiryReason, Fact
from graphmem.models.scope import Scope
from graphmem.store.embedded import edge_cache
from graphmem.store.embedded.edge_cache import compact_fact_log
from graphmem.store.embedded.edges import select_edges_by_ids, select_fact_edges
from graphmem.store.embedded.store import EmbeddedStore

OWNERS = tuple(Scope.of(user_id=name) for name in ("alice", "bob", "carol", "dave", "erin"))
AGENTS = (None, "planner", "coach")


def neighbourhood(
    store: EmbeddedStore,
    scope: Scope,
    entity_ids: list[uuid.UUID],
    *,
    from_cache: bool,
    include_expired: bool = False,
    per_entity: int | None = None,
) -> set[FactEdge]:
    """The facts around the entities, through the store (its cache) or straight from SQLite."""
    if from_cache:
        edges = store.fact_edges_of_entities(
            scope, entity_ids, include_expired=include_expired, per_entity=per_entity
        )
    else:
        edges = select_fact_edges(
            store._reader(),
            scope,
            entity_ids,
            include_expired=include_expired,
            per_entity=per_entity,
        )
    assert len(edges) == len(set(edges)), "each fact once"
    return set(edges)


cached = functools.partial(neighbourhood, from_cache=True)
from_sqlite = functools.partial(neighbourhood, from_cache=False)


class World:
    """Two owners with four entities each, a source episode each, and their facts."""

    def __init__(self, store: EmbeddedStore) -> None:
        self.entities: dict[str, list[Entity]] = {}
        self.sources: dict[str, Episode] = {}
        self.facts: list[Fact] = []
        with store.transaction() as tx:
            for n, scope in enumerate(OWNERS):
                people = [entity(scope, f"{scope.user_id}-{i}", 10 * n + i) for i in range(4)]
                source = episode(scope, f"what {scope.user_id} said", 100 + n)
                tx.put_entities(people)
                tx.put_episodes([source])
                self.entities[scope.owner] = people
                self.sources[scope.owner] = source

    def new_fact(self, owner: int, agent: int, subject: int, obj: int) -> Fact:
        scope = OWNERS[owner]
        narrowed = Scope.of(user_id=scope.user_id, agent_id=AGENTS[agent])
        people = self.entities[scope.owner]
        made = fact(
            narrowed,
            people[subject],
            "knows",
            people[obj],
            self.sources[scope.owner],
            len(self.facts),
        )
        self.facts.append(made)
        return made


def closed(made: Fact) -> Fact:
    return made.model_copy(
        update={
            "invalid_at": datetime(2026, 4, 1, tzinfo=UTC),
            "expired_at": datetime.now(UTC),
            "expired_reason": ExpiryReason.SUPERSEDED,
        }
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[EmbeddedStore]:
    with EmbeddedStore(tmp_path / "store", INFO) as opened:
        yield opened


operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.integers(0, 1),
        st.integers(0, 2),
        st.integers(0, 3),
        st.integers(0, 3),
    ),
    st.tuples(st.just("close"), st.integers(0, 50)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("rewrite"), st.integers(0, 50)),
    st.tuples(st.just("forget_agent"), st.integers(0, 1), st.integers(1, 2)),
    st.tuples(
        st.just("read"),
        st.integers(0, 1),
        st.integers(0, 2),
        st.lists(st.integers(0, 3), min_size=1, max_size=4),
        st.booleans(),
        st.sampled_from([None, 1, 2, 5]),
    ),
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    operations=st.lists(st.tuples(st.booleans(), operation), min_size=1, max_size=30),
    budget=st.sampled_from([250_000, 4]),
)
def test_cached_reads_match_sqlite_through_any_writes(
    operations: list[tuple[bool, tuple[object, ...]]], budget: int
) -> None:
    """Writes through this store or another connection to the same directory (as from
    another process): every read, cached, equals the read from SQLite. A small budget
    makes owners grow too large to cache, and fit again as their facts are deleted."""
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "store"
        with (
            EmbeddedStore(directory, INFO, edge_cache_facts=budget) as reader,
            EmbeddedStore(directory, INFO) as other,
        ):
            world = World(reader)
            for through_other, (kind, *args) in operations:
                writer = other if through_other else reader
                if kind == "add":
                    owner, agent, subject, obj = args
                    with writer.transaction() as tx:
                        tx.put_facts([world.new_fact(owner, agent, subject, obj)])  # type: ignore[arg-type]
                elif kind in ("close", "delete", "rewrite") and world.facts:
                    target = world.facts[int(args[0]) % len(world.facts)]  # type: ignore[call-overload]
                    with writer.transaction() as tx:
                        if kind == "close":
                            tx.put_facts([closed(target)])
                        else:
                            tx.delete_facts([target.id])
                        if kind == "rewrite":  # the same id again, in a new row
                            tx.put_facts([target])
                elif kind == "forget_agent":
                    owner, agent = args
                    user = OWNERS[owner].user_id  # type: ignore[call-overload]
                    writer.forget(Scope.of(user_id=user, agent_id=AGENTS[agent]))  # type: ignore[call-overload]
                elif kind == "read":
                    owner, agent, picks, history, per_entity = args
                    base = OWNERS[owner]  # type: ignore[call-overload]
                    scope = Scope.of(user_id=base.user_id, agent_id=AGENTS[agent])  # type: ignore[call-overload]
                    people = world.entities[base.owner]
                    ids = [people[i].id for i in picks]  # type: ignore[attr-defined]
                    # Facts by id (any owner, any version, deleted ones too), before the
                    # neighbourhood read below has replayed the writes since the last read.
                    every_id = [f.id for f in world.facts] + [uuid.uuid4()]
                    by_id = reader.get_fact_edges(every_id)
                    assert len(by_id) == len(set(by_id))
                    assert set(by_id) == set(select_edges_by_ids(reader._reader(), every_id))
                    # A bound of 1 bites as soon as an entity has two facts: which one
                    # is kept is the newest-first order itself.
                    for bound in dict.fromkeys((per_entity, 1)):
                        expected = from_sqlite(
                            reader,
                            scope,
                            ids,
                            include_expired=history,
                            per_entity=bound,  # type: ignore[arg-type]
                        )
                        assert (
                            cached(reader, scope, ids, include_expired=history, per_entity=bound)  # type: ignore[arg-type]
                            == expected
                        )


def test_the_per_entity_bound_keeps_the_newest_facts_as_sqlite_does(
    store: EmbeddedStore,
) -> None:
    """Newest learned first, ties by id descending: the facts a hub keeps under the
    bound are the same from memory as from SQLite, whether the cache was loaded whole
    or brought up to date by replaying writes."""
    world = World(store)
    alice = OWNERS[0]
    hub = world.entities[alice.owner][0].id

    def learned(made: Fact, day: int) -> Fact:
        return made.model_copy(update={"created_at": datetime(2026, 3, day, tzinfo=UTC)})

    older = [learned(world.new_fact(0, 0, 0, other), 1) for other in (1, 2, 3)]
    newest = learned(world.new_fact(0, 0, 1, 0), 2)
    with store.transaction() as tx:
        tx.put_facts([*older, newest])
    tied_by_id = sorted(older, key=lambda f: str(f.id), reverse=True)
    expected = [newest, *tied_by_id]
    for bound in (1, 2, 3):
        kept = cached(store, alice, [hub], per_entity=bound)
        assert kept == from_sqlite(store, alice, [hub], per_entity=bound)
        assert {e.id for e in kept} == {f.id for f in expected[:bound]}
    replayed = learned(world.new_fact(0, 0, 2, 0), 3)  # applied to the loaded cache
    with store.transaction() as tx:
        tx.put_facts([replayed])
    assert {e.id for e in cached(store, alice, [hub], per_entity=2)} == {replayed.id, newest.id}
    assert cached(store, alice, [hub], per_entity=2) == from_sqlite(
        store, alice, [hub], per_entity=2
    )


def test_a_fact_from_an_entity_to_itself_counts_once_toward_the_bound(
    store: EmbeddedStore,
) -> None:
    """SQLite reads such a fact at both of its ends; it must still take one place."""
    world = World(store)
    alice = OWNERS[0]
    with store.transaction() as tx:
        tx.put_facts([world.new_fact(0, 0, 0, 0) for _ in range(3)])
    loops = world.facts  # newest last
    maya = [world.entities[alice.owner][0].id]
    newest_two = {loops[2].id, loops[1].id}
    for from_cache in (True, False):
        edges = neighbourhood(store, alice, maya, from_cache=from_cache, per_entity=2)
        assert {e.id for e in edges} == newest_two, f"from_cache={from_cache}"


def test_a_reused_rowid_never_carries_one_owners_fact_into_anothers_cache(
    store: EmbeddedStore,
) -> None:
    """SQLite reuses the highest rowid after it is deleted: alice's cached neighbourhood
    must lose her deleted fact and must not gain bob's fact that took its rowid."""
    world = World(store)
    alice, bob, *_ = OWNERS
    keep = world.new_fact(0, 0, 0, 1)
    last = world.new_fact(0, 0, 0, 2)
    with store.transaction() as tx:
        tx.put_facts([keep, last])
    rowid_of = "SELECT rowid FROM facts WHERE id = ?"
    (last_rowid,) = store._reader().execute(rowid_of, [str(last.id)]).fetchone()
    alice_people = [e.id for e in world.entities[alice.owner]]
    assert {e.id for e in cached(store, alice, alice_people)} == {keep.id, last.id}

    intruder = world.new_fact(1, 0, 0, 1)
    with store.transaction() as tx:
        tx.delete_facts([last.id])
    with store.transaction() as tx:
        tx.put_facts([intruder])
    (reused,) = store._reader().execute(rowid_of, [str(intruder.id)]).fetchone()
    assert reused == last_rowid  # the situation under test really arose

    assert {e.id for e in cached(store, alice, alice_people)} == {keep.id}
    bob_people = [e.id for e in world.entities[bob.owner]]
    assert {e.id for e in cached(store, bob, bob_people)} == {intruder.id}
    # Asking alice's scope about bob's entities finds nothing either.
    assert cached(store, alice, bob_people) == set()


def test_a_cache_behind_a_compacted_log_reloads(store: EmbeddedStore) -> None:
    world = World(store)
    alice = OWNERS[0]
    people = [e.id for e in world.entities[alice.owner]]
    first = world.new_fact(0, 0, 0, 1)
    with store.transaction() as tx:
        tx.put_facts([first])
    assert {e.id for e in cached(store, alice, people)} == {first.id}
    # Another writer closes the fact and the log is compacted past that change.
    with EmbeddedStore(store.directory, INFO) as other, other.transaction() as tx:
        tx.put_facts([closed(first)])
        later = world.new_fact(0, 0, 2, 3)
        tx.put_facts([later])
        compact_fact_log(tx._conn, keep=0)
    assert {e.id for e in cached(store, alice, people)} == {later.id}
    history = cached(store, alice, people, include_expired=True)
    assert {e.id: e.expired_at is not None for e in history} == {first.id: True, later.id: False}


def test_owners_beyond_a_quarter_of_the_budget_are_read_from_sqlite(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = World(small)
        alice, bob, *_ = OWNERS
        with small.transaction() as tx:
            tx.put_facts([world.new_fact(0, 0, i, (i + 1) % 4) for i in range(4)])
            tx.put_facts([world.new_fact(1, 0, 0, 1), world.new_fact(1, 0, 1, 2)])
        alice_people = [e.id for e in world.entities[alice.owner]]
        bob_people = [e.id for e in world.entities[bob.owner]]
        # Alice (4 facts) never fits; bob (2) does.
        assert cached(small, alice, alice_people) == from_sqlite(small, alice, alice_people)
        assert small._edges.cached_facts == 0
        assert cached(small, bob, bob_people) == from_sqlite(small, bob, bob_people)
        assert small._edges.cached_facts == 2


def test_an_owner_too_large_to_cache_is_counted_again_only_once_it_may_fit(
    tmp_path: Path,
) -> None:
    """Counting a large owner's facts costs a scan of its rows: searches of it must not
    repeat that, yet once enough of its facts are deleted it is cached."""
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = World(small)
        alice = OWNERS[0]
        made = [world.new_fact(0, 0, i % 4, (i + 1) % 4) for i in range(5)]
        with small.transaction() as tx:
            tx.put_facts(made)
        people = [e.id for e in world.entities[alice.owner]]
        statements: list[str] = []
        small._reader().set_trace_callback(statements.append)

        def counts() -> int:
            return sum("count(*)" in statement for statement in statements)

        for _ in range(3):  # 5 facts, over the quarter (2) by 3
            assert cached(small, alice, people) == from_sqlite(small, alice, people)
        assert counts() == 1
        assert small._edges.cached_facts == 0
        with small.transaction() as tx:
            tx.delete_facts([made[0].id, made[1].id])  # 3 left: still too large
        assert cached(small, alice, people) == from_sqlite(small, alice, people)
        assert counts() == 1, "two deletions cannot bring it under the limit"
        with small.transaction() as tx:
            tx.delete_facts([made[2].id])  # 2 left: fits
        assert cached(small, alice, people) == from_sqlite(small, alice, people)
        assert counts() == 2
        assert small._edges.cached_facts == 2


def five_owners_of_two_facts(store: EmbeddedStore) -> World:
    world = World(store)
    with store.transaction() as tx:
        for n in range(len(OWNERS)):  # 10 facts in all, over a budget of 8
            tx.put_facts([world.new_fact(n, 0, 0, 1), world.new_fact(n, 0, 1, 2)])
    return world


def read(store: EmbeddedStore, world: World, scope: Scope) -> None:
    people = [e.id for e in world.entities[scope.owner]]
    assert cached(store, scope, people) == from_sqlite(store, scope, people)


def test_an_owner_read_no_more_often_than_those_it_would_push_out_is_read_from_sqlite(
    tmp_path: Path,
) -> None:
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = five_owners_of_two_facts(small)
        for scope in OWNERS:
            read(small, world, scope)
        assert small._edges.cached_facts == 8
        assert list(small._edges._owners) == [scope.owner for scope in OWNERS[:4]]


def test_an_owner_read_more_often_replaces_the_least_often_then_least_recently_read(
    tmp_path: Path,
) -> None:
    alice, bob, carol, dave, erin = OWNERS
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = five_owners_of_two_facts(small)
        for scope in (alice, bob, carol, dave, erin, alice):
            read(small, world, scope)
        read(small, world, erin)  # erin (2 reads) now outranks bob, carol, dave (1 each)
        assert set(small._edges._owners) == {alice.owner, carol.owner, dave.owner, erin.owner}
        assert small._edges.cached_facts == 8


def test_searches_cycling_over_more_owners_than_fit_do_not_reload_them(tmp_path: Path) -> None:
    """A least-recently-used cache would reload every owner on every read here."""
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = five_owners_of_two_facts(small)
        statements: list[str] = []
        small._reader().set_trace_callback(statements.append)
        for _ in range(10):
            for scope in OWNERS:
                read(small, world, scope)
        loads = [s for s in statements if "FROM facts WHERE owner =" in s and "count" not in s]
        assert len(loads) == 4
        assert small._edges.cached_facts == 8


def test_read_counts_fade_so_a_new_workload_takes_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(edge_cache, "DECAY_READS", 10)
    alice, bob, carol, dave, erin = OWNERS
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = five_owners_of_two_facts(small)
        for _ in range(20):
            for scope in (alice, bob, carol, dave):
                read(small, world, scope)
        read(small, world, erin)
        assert erin.owner not in small._edges._owners
        # Alice, bob and carol go quiet; dave and erin are searched, erin fewer times
        # than alice was in all.
        for _ in range(8):
            read(small, world, dave)
            read(small, world, erin)
        assert erin.owner in small._edges._owners
        assert dave.owner in small._edges._owners


def test_owners_no_longer_read_are_forgotten(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Read counts and sizes are kept per owner: they must not grow with every owner
    ever searched."""
    monkeypatch.setattr(edge_cache, "DECAY_READS", 10)
    alice, erin = OWNERS[0], OWNERS[-1]
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=8) as small:
        world = five_owners_of_two_facts(small)
        for scope in OWNERS:
            read(small, world, scope)
        assert erin.owner in small._edges._sizes  # kept out, its size remembered
        for _ in range(20):
            read(small, world, alice)
        assert erin.owner not in small._edges._sizes
        assert set(small._edges._reads) == {alice.owner}


def test_a_disabled_cache_reads_sqlite(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "store", INFO, edge_cache_facts=0) as uncached:
        world = World(uncached)
        with uncached.transaction() as tx:
            tx.put_facts([world.new_fact(0, 0, 0, 1)])
        alice = OWNERS[0]
        people = [e.id for e in world.entities[alice.owner]]
        assert cached(uncached, alice, people) == from_sqlite(uncached, alice, people)
        assert uncached._edges.cached_facts == 0


def test_a_write_during_an_owners_first_load_is_not_lost(
    store: EmbeddedStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Loading an owner runs outside the cache's lock, so other threads keep searching
    (and replaying writes) meanwhile; a write replayed before the load is kept must
    still reach the loaded owner."""
    world = World(store)
    alice, bob, *_ = OWNERS
    first = world.new_fact(0, 0, 0, 1)
    with store.transaction() as tx:
        tx.put_facts([first, world.new_fact(1, 0, 0, 1)])
    bob_people = [e.id for e in world.entities[bob.owner]]
    cached(store, bob, bob_people)  # bob is cached; alice is not yet
    later = world.new_fact(0, 0, 2, 3)
    real_edge_of_row = edge_cache.edge_of_row
    seen: list[set[FactEdge]] = []
    fired: list[bool] = []

    def write_while_loading(row: tuple[object, ...]) -> FactEdge:
        if not fired:  # once, in the middle of alice's load
            fired.append(True)
            with EmbeddedStore(store.directory, INFO) as other, other.transaction() as tx:
                tx.put_facts([closed(first), later])
            searcher = threading.Thread(target=lambda: seen.append(cached(store, bob, bob_people)))
            searcher.start()
            searcher.join(timeout=10)
            assert seen, "a search of another owner waited for the load"
        return real_edge_of_row(row)

    monkeypatch.setattr(edge_cache, "edge_of_row", write_while_loading)
    alice_people = [e.id for e in world.entities[alice.owner]]
    assert {e.id for e in cached(store, alice, alice_people)} == {later.id}
    monkeypatch.setattr(edge_cache, "edge_of_row", real_edge_of_row)
    assert cached(store, alice, alice_people) == from_sqlite(store, alice, alice_people)
    history = cached(store, alice, alice_people, include_expired=True)
    assert history == from_sqlite(store, alice, alice_people, include_expired=True)
