"""Concurrency: threads and processes adding and searching on one embedded store.

The model under test: one writer at a time (SQLite's write lock), any number of
readers; a writer that cannot get the lock within ``busy_timeout`` gets
``StoreLockedError`` instead of waiting forever; no acknowledged write is lost and no
index disagrees with the truth afterwards, in any process.
"""

from __future__ import annotations

import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import StoreLockedError
from graphmem.models.scope import Scope
from graphmem.store.embedded import vectors

from .crash_kit import Ledger, WriterPool, duplicate_entities, verify_store
from .state import capture

HANG_GUARD = 120.0  # seconds; far beyond any lock timeout used here, only to catch hangs


def _run_threads(targets: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:  # collected and reported by the test
                errors.append(exc)

        return run

    threads = [threading.Thread(target=wrap(t), daemon=True) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(HANG_GUARD)
        assert not thread.is_alive(), "a thread hung"
    return errors


def _record(ledger: Ledger, lock: threading.Lock, user: str, result: Any) -> None:
    with lock:
        ledger.record(
            {
                "op": "add",
                "user": user,
                "episodes": [str(e.id) for e in result.episodes],
                "entities": [str(e.id) for e in result.entities],
                "facts": [str(f.id) for f in result.facts_added],
                "queries": [[str(f.id), f.fact] for f in result.facts_added[:1]],
            }
        )


def test_threads_add_and_search_on_one_memory(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    ledger, lock = Ledger(), threading.Lock()
    writers_done = threading.Event()
    searches = {"count": 0}

    def writer(number: int) -> Callable[[], None]:
        def run() -> None:
            for step in range(4):
                # Two threads share the user "alice" and the name "Anna": the entity race.
                user = "alice" if number < 2 else f"user{number}"
                if step % 2:
                    result = memory.add(f"I met Anna and Gus{number}x{step} in Oslo.", user_id=user)
                else:
                    result = memory.add_facts(
                        [("Anna", "likes", f"Topic{number}x{step}")], user_id=user
                    )
                _record(ledger, lock, user, result)

        return run

    def reader() -> None:
        while not writers_done.is_set():
            for user in ("alice", "user2"):
                memory.search("Who is Anna?", user_id=user, limit=5)
                memory.get_all(user_id=user, limit=20)
                searches["count"] += 1

    writer_threads = [writer(n) for n in range(3)]

    def writers() -> None:
        try:
            errors = _run_threads(writer_threads)
            if errors:
                raise errors[0]
        finally:
            writers_done.set()

    errors = _run_threads([writers, reader, reader])
    assert errors == []
    assert ledger.acks == 12
    assert searches["count"] > 0
    directory = memory.store.directory  # type: ignore[attr-defined]
    assert duplicate_entities(directory) == []
    check = verify_store(directory, embedder, ledger, searches=4, rng=random.Random(3))
    assert check.problems == []
    assert memory.check().problems == []


def test_processes_and_threads_share_one_store(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, writer_pool: WriterPool
) -> None:
    store = tmp_path / "store"
    ledger, lock = Ledger(), threading.Lock()
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as local:
        local.add_facts([("Anna", "knows", "Gus")], user_id="alice")
        # Three writer processes on the same users; reopening every two writes makes
        # them save snapshots and compact the shared index log while others write.
        pids = [
            writer_pool.spawn(store, seed, 6, users=["alice", "bob"], reopen_every=2)
            for seed in (101, 102, 103)
        ]
        done: set[int] = set()

        def collect() -> None:
            deadline = time.monotonic() + HANG_GUARD
            while len(done) < len(pids) and time.monotonic() < deadline:
                for pid in pids:
                    event = writer_pool.next_event(pid, 0.05)
                    if event is None:
                        continue
                    if event["event"] == "ack":
                        with lock:
                            ledger.record(event)
                    elif event["event"] in ("done", "error"):
                        assert event["event"] == "done", event.get("trace")
                        done.add(pid)

        def local_writer() -> None:
            for step in range(3):
                result = local.add(f"I visited Lisbon with Dana{step}.", user_id="bob")
                _record(ledger, lock, "bob", result)

        def local_reader() -> None:
            while len(done) < len(pids):
                local.search("Who did I visit Lisbon with?", user_id="bob", limit=5)
                local.search("Anna", user_id="alice", limit=5)

        errors = _run_threads([collect, local_writer, local_reader, local_reader])
        codes = [writer_pool.reap(pid) for pid in pids]
        assert errors == []
        assert codes == [0, 0, 0]
        assert ledger.ops["add"] + ledger.ops["add_facts"] >= 3
        # The long-lived process sees every other process's writes in every index.
        assert local.check().problems == []
        for fact_id, user, sentence in ledger.queries[-6:]:
            if local.get(fact_id).expired_at is None:  # type: ignore[union-attr]
                hits = local.search(sentence, user_id=user, limit=20)
                assert fact_id in {str(h.fact.id) for h in hits.facts}, sentence
    check = verify_store(store, embedder, ledger, searches=4, rng=random.Random(5))
    assert check.problems == []


# -- lock timeouts ------------------------------------------------------------------------

_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
conn.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
conn.execute("ROLLBACK")
"""


class _LockHolder:
    """Another process that holds the store's write lock until released."""

    def __init__(self, database: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(database)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "locked"

    def release(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        self.process.wait(timeout=60)


def _within_guard(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` in a thread; the exception it raised (the test fails if it hangs)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:  # handed back to the test
            outcome.append(exc)
        else:
            outcome.append(None)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(HANG_GUARD)
    assert not thread.is_alive(), "the call hung instead of giving up after busy_timeout"
    return outcome[0]


def test_a_held_write_lock_gives_store_locked_error_and_reads_go_on(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    config = MemoryConfig(path=store, use_llm=False, busy_timeout=0.2)
    with Memory(config, embedder=embedder) as memory:
        added = memory.add_facts([("Anna", "lives_in", "Oslo")], user_id="alice")
        fact_id = added.facts_added[0].id
        before = capture(memory)
        holder = _LockHolder(store / "graph.sqlite3")
        try:
            writes: list[Callable[[], object]] = [
                lambda: memory.add("I moved to Lisbon.", user_id="alice"),
                lambda: memory.add_facts([("Anna", "likes", "tea")], user_id="alice"),
                lambda: memory.update(fact_id, fact="Anna lives in Bergen.", user_id="alice"),
                lambda: memory.delete(fact_id, user_id="alice"),
                lambda: memory.forget(user_id="alice"),
                lambda: Memory(config, embedder=embedder),  # opening must write its schema
            ]
            for write in writes:
                error = _within_guard(write)
                assert isinstance(error, StoreLockedError), error
                assert "another writer" in str(error)
            # Readers are never blocked by a writer.
            assert memory.search("Where does Anna live?", user_id="alice").facts
            assert memory.get(fact_id).id == fact_id
        finally:
            holder.release()
        assert capture(memory) == before
        memory.add("I moved to Lisbon.", user_id="alice")
        assert memory.check().problems == []


# -- another process compacting the shared index log --------------------------------------


@pytest.mark.parametrize("compact_at_read", [1, 2, 3])
def test_a_log_compaction_between_catch_up_reads_loses_no_vector(
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    monkeypatch: pytest.MonkeyPatch,
    compact_at_read: int,
) -> None:
    """Another process may save its snapshot and compact the index log at any moment,
    even between the reads a catch-up makes; the catching-up process must notice."""
    store = tmp_path / "store"
    reader = Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder)
    other = Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder)
    try:
        reader.add_facts([("Anna", "likes", "tea")], user_id="alice")
        written = other.add_facts(
            [("Gus", "likes", "rowing"), ("Dana", "visited", "Perth")], user_id="alice"
        ).facts_added
        calls = {"count": 0}

        def then_compact(read: Callable[[sqlite3.Connection], int]) -> Callable[..., int]:
            def reading(conn: sqlite3.Connection) -> int:
                value = read(conn)
                calls["count"] += 1
                if calls["count"] == compact_at_read:
                    other.close()  # saves its snapshot and compacts the log past `reader`
                return value

            return reading

        # A catch-up reads the log position, then the floor, the entries, the floor again.
        monkeypatch.setattr(vectors, "_max_seq", then_compact(vectors._max_seq))
        monkeypatch.setattr(vectors, "_log_floor", then_compact(vectors._log_floor))
        # White box: one catch-up, then the vectors it left. A search makes several
        # catch-ups (a later one would repair the first) and keyword search alone would
        # find the fact; check() catches up before it compares.
        store = reader.store
        store._vectors.catch_up(store._reader())  # type: ignore[attr-defined]
        monkeypatch.undo()
        assert calls["count"] >= compact_at_read
        owner = Scope.of(user_id="alice").owner
        assert store._vectors.count("fact", owner) == 3  # type: ignore[attr-defined]
        hits = reader.search("Who likes rowing?", user_id="alice", limit=10)
        assert written[0].id in {hit.fact.id for hit in hits.facts}
        assert reader.check().problems == []
    finally:
        reader.close()
        other.close()
