"""The crash harness: SIGKILL writer processes at random and chosen points, then verify.

Used by ``test_crash_harness.py`` (a few kills) and ``benchmarks/crash_harness.py``
(a hundred). Writers come from :mod:`crash_worker`, which forks them from a process
that already holds the model. After every kill a copy of the store directory, exactly
as the dead process left it, is opened and must pass ``Memory.check()``, hold every
acknowledged write, hold no write whose transaction never committed, and answer
searches; the next writer then opens the original crashed directory itself.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from graphmem import Memory, MemoryConfig
from graphmem.embedding.base import Embedder
from graphmem.models.records import Fact

from .state import open_read_only

WORKER = Path(__file__).with_name("crash_worker.py")
FAULT_POINTS = (
    "commit",
    "snapshot-staged",
    "snapshot-renamed",
    "snapshot-published",
    "compact",
    "saving",
)
_CONTROL = 0  # queue key of the pool's own events (ready, spawned, exited)


class WriterPool:
    """Drives a ``crash_worker.py`` process: spawn writers, read their events, kill them."""

    def __init__(self, *, timeout: float = 300.0) -> None:
        self.timeout = timeout
        # Closed in close(): the file outlives this method, as long as the pool runs.
        self._stderr: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
        self._process = subprocess.Popen(
            [sys.executable, str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
        )
        self._queues: dict[int, queue.Queue[dict[str, Any]]] = {}
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read_events, daemon=True)
        self._reader.start()
        self._control("ready")

    # -- events -------------------------------------------------------------------------
    def _queue(self, pid: int) -> queue.Queue[dict[str, Any]]:
        with self._lock:
            return self._queues.setdefault(pid, queue.Queue())

    def _read_events(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            event = json.loads(line)
            key = _CONTROL if event["event"] in ("ready", "spawned", "exited") else event["pid"]
            self._queue(key).put(event)
        self._queue(_CONTROL).put({"event": "pool-exited"})

    def _control(self, expected: str) -> dict[str, Any]:
        try:
            event = self._queue(_CONTROL).get(timeout=self.timeout)
        except queue.Empty:
            raise RuntimeError(f"writer pool sent no {expected!r} event; {self.stderr()}") from None
        if event["event"] != expected:
            raise RuntimeError(f"writer pool sent {event} instead of {expected!r}; {self.stderr()}")
        return event

    def _send(self, command: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write((json.dumps(command) + "\n").encode())
        self._process.stdin.flush()

    def stderr(self) -> str:
        """The end of the pool's stderr, for failure messages."""
        self._stderr.seek(0)
        return self._stderr.read().decode(errors="replace")[-3000:]

    # -- writers ------------------------------------------------------------------------
    def spawn(self, store: Path, seed: int, count: int, **options: Any) -> int:
        """Start a writer on ``store``; returns its pid."""
        self._send({"cmd": "write", "store": str(store), "seed": seed, "count": count, **options})
        return int(self._control("spawned")["pid"])

    def next_event(self, pid: int, timeout: float) -> dict[str, Any] | None:
        """The writer's next event, or None if none arrives within ``timeout`` seconds."""
        try:
            return self._queue(pid).get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return None

    def pending_events(self, pid: int) -> list[dict[str, Any]]:
        """Every event of the writer already received."""
        events: list[dict[str, Any]] = []
        q = self._queue(pid)
        while True:
            try:
                events.append(q.get_nowait())
            except queue.Empty:
                return events

    def kill(self, pid: int) -> None:
        """SIGKILL a writer (it may already be dead)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)

    def reap(self, pid: int) -> int:
        """Wait for a writer to end; its exit code (negative: killed by that signal).

        Every line the writer printed precedes the ``exited`` event in the pipe, so
        after this returns, :meth:`pending_events` holds all of them.
        """
        self._send({"cmd": "wait", "pid": pid})
        return int(self._control("exited")["code"])

    def close(self) -> None:
        """Stop the pool process."""
        if self._process.poll() is None:
            try:
                self._send({"cmd": "quit"})
                self._process.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
        self._stderr.close()

    def __enter__(self) -> WriterPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# -- what must hold ---------------------------------------------------------------------


@dataclass
class Ledger:
    """Every acknowledged write so far, as the state the store must be in."""

    episodes: set[str] = field(default_factory=set)
    entities: set[str] = field(default_factory=set)
    facts: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)
    uncommitted: set[str] = field(default_factory=set)
    queries: list[tuple[str, str, str]] = field(default_factory=list)
    acks: int = 0
    ops: Counter[str] = field(default_factory=Counter)

    def record(self, event: dict[str, Any]) -> None:
        """Apply one ``ack`` event."""
        self.acks += 1
        self.ops[event["op"]] += 1
        self.episodes.update(event.get("episodes", ()))
        self.entities.update(event.get("entities", ()))
        self.facts.update(event.get("facts", ()))
        for fact_id in event.get("removed", ()):
            self.facts.discard(fact_id)
            self.removed.add(fact_id)
        for fact_id, sentence in event.get("queries", ()):
            self.queries.append((fact_id, event["user"], sentence))


@dataclass
class Verification:
    """What one look at a store found wrong (nothing, if all is well)."""

    problems: list[str] = field(default_factory=list)
    open_seconds: float = 0.0
    check_seconds: float = 0.0
    searches: int = 0


def verify_store(
    directory: Path, embedder: Embedder, ledger: Ledger, *, searches: int, rng: random.Random
) -> Verification:
    """Open the store and compare it with ``ledger``; see the module docstring."""
    result = Verification()
    started = time.perf_counter()
    memory = Memory(MemoryConfig(path=directory, use_llm=False), embedder=embedder)
    result.open_seconds = time.perf_counter() - started
    try:
        started = time.perf_counter()
        report = memory.check()
        result.check_seconds = time.perf_counter() - started
        result.problems += [f"check: {problem}" for problem in report.problems]
        store = memory.store
        for kind, ids, getter in (
            ("episode", ledger.episodes, store.get_episodes),
            ("entity", ledger.entities, store.get_entities),
            ("fact", ledger.facts, store.get_facts),
        ):
            found = {str(record.id) for record in getter(_uuids(ids))}
            lost = ids - found
            if lost:
                result.problems.append(f"{len(lost)} acknowledged {kind}s lost: {sorted(lost)[:3]}")
        back = {str(f.id) for f in store.get_facts(_uuids(ledger.removed))}
        if back:
            result.problems.append(f"{len(back)} deleted facts came back: {sorted(back)[:3]}")
        visible = _existing_ids(store, ledger.uncommitted)
        if visible:
            result.problems.append(f"uncommitted writes visible: {sorted(visible)[:3]}")
        result.problems += duplicate_entities(directory)
        result.searches = _search_sample(memory, ledger, searches, rng, result.problems)
    finally:
        memory.close()
    return result


def _existing_ids(store: Any, ids: set[str]) -> set[str]:
    if not ids:
        return set()
    ordered = _uuids(ids)
    found: set[str] = set()
    for getter in (store.get_episodes, store.get_entities, store.get_facts):
        found.update(str(record.id) for record in getter(ordered))
    return found


def _uuids(ids: set[str]) -> list[uuid.UUID]:
    return [uuid.UUID(value) for value in sorted(ids)]


def duplicate_entities(directory: Path) -> list[str]:
    """Owners holding two entities of one normalized name (a lost race in resolution)."""
    with closing(open_read_only(directory)) as conn:
        rows = conn.execute(
            "SELECT owner, normalized_name, count(*) FROM entities "
            "GROUP BY owner, normalized_name HAVING count(*) > 1"
        ).fetchall()
    return [f"{count} entities named {name!r} in {owner}" for owner, name, count in rows]


def _search_sample(
    memory: Memory, ledger: Ledger, count: int, rng: random.Random, problems: list[str]
) -> int:
    """Search for some acknowledged facts that are still current; each must be found."""
    candidates = [q for q in ledger.queries if q[0] in ledger.facts]
    rng.shuffle(candidates)
    done = 0
    for fact_id, user, sentence in candidates:
        if done >= count:
            break
        facts: list[Fact] = memory.store.get_facts([uuid.UUID(fact_id)])
        if not facts or facts[0].expired_at is not None or facts[0].invalid_at is not None:
            continue  # superseded, corrected or ended since: not returned by default
        hits = memory.search(sentence, user_id=user, limit=20)
        done += 1
        if fact_id not in {str(hit.fact.id) for hit in hits.facts}:
            problems.append(f"search for {sentence!r} misses acknowledged fact {fact_id}")
    return done


# -- the harness ------------------------------------------------------------------------


@dataclass
class CrashReport:
    """Figures of one harness run."""

    kills: int = 0
    survived: int = 0
    acks: int = 0
    kill_points: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    open_seconds: list[float] = field(default_factory=list)
    check_seconds: list[float] = field(default_factory=list)
    searches: int = 0
    ledger: Ledger = field(default_factory=Ledger)


@dataclass(frozen=True)
class KillPlan:
    """Where one writer dies: at a fault point, or after a random delay (point None)."""

    point: str | None
    fault_after: int
    delay: float


def plan_kills(
    count: int, rng: random.Random, *, max_delay: float = 2.5, fault_share: float = 0.0
) -> list[KillPlan]:
    """Kills at fault points (each point at least once when ``count`` allows, about
    ``fault_share`` of them in all), the rest after random delays, shuffled."""
    faults = max(min(len(FAULT_POINTS), count - 1), round(count * fault_share))
    points: list[str | None] = [FAULT_POINTS[i % len(FAULT_POINTS)] for i in range(faults)]
    points += [None] * (count - len(points))
    rng.shuffle(points)
    plans = []
    for point in points:
        # "saving" carries on after announcing itself: a short delay lands mid-save.
        delay = rng.uniform(0.0, 0.03) if point == "saving" else rng.uniform(0.0, max_delay)
        plans.append(KillPlan(point, rng.randint(0, 3), delay))
    return plans


def run_harness(
    store: Path,
    embedder: Embedder,
    pool: WriterPool,
    plans: list[KillPlan],
    *,
    seed: int,
    searches_per_check: int = 3,
    scratch: Path | None = None,
    log: Any = None,
) -> CrashReport:
    """Kill one writer per plan and verify the store after each kill."""
    rng = random.Random(seed)
    report = CrashReport()
    scratch = scratch or Path(tempfile.mkdtemp(prefix="graphmem-crash-"))
    for number, plan in enumerate(plans):
        point = _kill_one(store, pool, plan, seed * 1000 + number, report)
        report.kills += 1
        report.kill_points[point] += 1
        copy = scratch / f"after-kill-{number}"
        shutil.copytree(store, copy)
        verification = verify_store(
            copy, embedder, report.ledger, searches=searches_per_check, rng=rng
        )
        shutil.rmtree(copy, ignore_errors=True)
        report.open_seconds.append(verification.open_seconds)
        report.check_seconds.append(verification.check_seconds)
        report.searches += verification.searches
        if verification.problems:
            report.problems += [f"kill {number} ({point}): {p}" for p in verification.problems]
        else:
            report.survived += 1
        if log is not None:
            log(f"kill {number + 1}/{len(plans)} at {point}: acks={report.ledger.acks} "
                f"problems={len(verification.problems)}")  # fmt: skip
    report.acks = report.ledger.acks
    final = verify_store(store, embedder, report.ledger, searches=searches_per_check, rng=rng)
    report.problems += [f"final: {p}" for p in final.problems]
    return report


def _kill_one(store: Path, pool: WriterPool, plan: KillPlan, seed: int, report: CrashReport) -> str:
    """Run one writer until its plan says die; returns where it died."""
    options: dict[str, Any] = {"reopen_every": 3, "users": ["alice", "bob", "carol"]}
    if plan.point is not None:
        options.update(fault=plan.point, fault_after=plan.fault_after)
    pid = pool.spawn(store, seed, 10_000, **options)
    deadline = time.monotonic() + (plan.delay if plan.point is None else pool.timeout)
    where = "random-delay"
    try:
        while True:
            event = pool.next_event(pid, deadline - time.monotonic())
            if event is None:
                if plan.point is not None:
                    where = f"{plan.point} (not reached; random)"
                break
            _handle(event, report)
            if event["event"] == "fault":
                if event["point"] == "saving":
                    time.sleep(plan.delay)
                where = plan.point or "random-delay"
                break
    finally:
        pool.kill(pid)
        code = pool.reap(pid)
    for event in pool.pending_events(pid):
        _handle(event, report)
    if code != -signal.SIGKILL:
        report.problems.append(f"writer {pid} ended with code {code}, not by SIGKILL")
    return where


def _handle(event: dict[str, Any], report: CrashReport) -> None:
    kind = event["event"]
    if kind == "ack":
        report.ledger.record(event)
    elif kind == "fault" and event.get("pending"):
        report.ledger.uncommitted.update(event["pending"])
    elif kind == "error":
        report.problems.append(f"writer {event['pid']} failed:\n{event['trace']}")


def run_concurrent(
    store: Path,
    embedder: Embedder,
    pool: WriterPool,
    *,
    writers: int,
    writes: int,
    seed: int,
    searches: int = 10,
) -> CrashReport:
    """Run ``writers`` processes at once on one store (same users), then verify it."""
    report = CrashReport()
    pids = [
        pool.spawn(store, seed * 100 + n, writes, users=["alice", "bob"], reopen_every=3)
        for n in range(writers)
    ]
    running = set(pids)
    deadline = time.monotonic() + pool.timeout * max(1, writes // 10)
    while running and time.monotonic() < deadline:
        for pid in list(running):
            event = pool.next_event(pid, 0.05)
            if event is None:
                continue
            _handle(event, report)
            if event["event"] in ("done", "error"):
                running.discard(pid)
    for pid in pids:
        if pid in running:
            pool.kill(pid)
            report.problems.append(f"writer {pid} did not finish in time")
        code = pool.reap(pid)
        for event in pool.pending_events(pid):
            _handle(event, report)
        if code != 0:
            report.problems.append(f"writer {pid} ended with code {code}")
    report.acks = report.ledger.acks
    verification = verify_store(
        store, embedder, report.ledger, searches=searches, rng=random.Random(seed)
    )
    report.problems += verification.problems
    report.searches = verification.searches
    return report
