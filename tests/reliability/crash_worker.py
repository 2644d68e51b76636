"""A writer pool for crash and concurrency tests: loads the embedder once, forks writers.

Run as ``python crash_worker.py``. The process loads the real embedder, prints
``{"event": "ready"}`` and then reads one JSON command per line from stdin:

* ``{"cmd": "write", "store": DIR, "seed": N, "count": N, ...}`` forks a writer process
  that opens the store and performs ``count`` seeded writes, printing one ``ack`` line
  (with the ids the call stored) right after each call returns. Optional keys:
  ``users`` (list of user ids), ``reopen_every`` (close and reopen the memory every N
  writes, which saves vector snapshots), ``fault`` (a point at which the writer stops
  dead and announces itself, so that the parent can kill it exactly there; see
  :data:`FAULTS`) and ``fault_after`` (how many times to pass the point first).
* ``{"cmd": "wait", "pid": N}`` reaps a writer and prints its ``exited`` status.
* ``{"cmd": "quit"}``.

Forking from a process that already holds the model makes a writer start in
milliseconds, so a test can kill and restart writers many times. Every line is written
with one ``write`` call below the pipe's atomic size, so lines of concurrent writers
never interleave.
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.embedding.base import Embedder
from graphmem.errors import GraphmemError
from graphmem.store.embedded import transaction, vector_index, vector_snapshot, vectors

FAULTS = (
    "commit",  # inside a write transaction, every row written, COMMIT not yet run
    "snapshot-staged",  # a new snapshot's files written to a staging dir, not yet renamed
    "snapshot-renamed",  # the new snapshot renamed into place, CURRENT not yet switched
    "snapshot-published",  # CURRENT switched, older snapshots not yet deleted
    "compact",  # snapshots saved, index log not yet compacted
    "saving",  # announces the start of a save and carries on: the parent kills mid-save
)
CITIES = ("Denver", "Oslo", "Lisbon", "Austin", "Kyoto", "Nairobi", "Quito", "Perth")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay")
FIRST = ("Ada", "Brook", "Cyrus", "Dana", "Elio", "Farah", "Gus", "Hana", "Ivo", "Juno")
LAST = ("Quill", "Marsh", "Ostrander", "Pike", "Rowan", "Sable", "Thorne", "Vale")
PREDICATES = ("likes", "knows", "visited", "works_with", "lives_in")
_PIPE_ATOMIC = 4096


def emit(record: dict[str, Any]) -> None:
    """Write one JSON line to stdout atomically (one write call, below PIPE_BUF)."""
    data = (json.dumps(record) + "\n").encode()
    if len(data) > _PIPE_ATOMIC:
        raise RuntimeError("event line too long to be written atomically")
    os.write(1, data)


# -- fault points -----------------------------------------------------------------------


def _stop_here(point: str, **detail: Any) -> None:
    emit({"event": "fault", "pid": os.getpid(), "point": point, **detail})
    time.sleep(3600)  # the parent kills this process now
    os._exit(4)


def install_fault(point: str | None, after: int) -> None:
    """Make this process stop dead at ``point`` once it has passed it ``after`` times."""
    if point is None:
        return
    if point not in FAULTS:
        raise ValueError(f"unknown fault point {point!r}")
    passes = {"count": 0}

    def due() -> bool:
        passes["count"] += 1
        return passes["count"] > after

    if point == "commit":
        original_audit = transaction.EmbeddedTransaction.append_audit

        def append_audit(self: transaction.EmbeddedTransaction, events: Any) -> None:
            original_audit(self, events)
            # Only adds count: the records they create must vanish with the transaction
            # (an uncommitted delete or update leaves its targets as they were).
            pending = [
                str(i)
                for event in events
                if event.action in ("add", "add_facts")
                for i in event.target_ids
            ]
            if pending and due():
                _stop_here(point, pending=pending[:40])

        transaction.EmbeddedTransaction.append_audit = append_audit  # type: ignore[method-assign]
    elif point.startswith("snapshot-"):
        _fault_in_snapshot_protocol(point, due)
    elif point == "compact":
        original_compact = vectors._compact_log

        def compact(conn: Any, through: int) -> None:
            if due():
                _stop_here(point)
            original_compact(conn, through)

        vectors._compact_log = compact
    else:  # "saving"
        original_save = vectors.VectorIndexes.save

        def save(self: vectors.VectorIndexes, write_conn: Any) -> None:
            if due():
                emit({"event": "fault", "pid": os.getpid(), "point": point})
            original_save(self, write_conn)

        vectors.VectorIndexes.save = save  # type: ignore[method-assign]


def _fault_in_snapshot_protocol(point: str, due: Callable[[], bool]) -> None:
    """Stop at one of the three directory fsyncs of ``write_snapshot`` (see its module)."""
    step = {"snapshot-staged": 1, "snapshot-renamed": 2, "snapshot-published": 3}[point]
    state = _SaveState()
    original_write = getattr(vector_index, "write_snapshot")  # noqa: B009
    original_fsync = getattr(vector_snapshot, "fsync_dir")  # noqa: B009

    def write_snapshot(directory: Path, *args: Any, **kwargs: Any) -> None:
        state.fsyncs, state.armed, state.kind = 0, due(), Path(directory).name
        original_write(directory, *args, **kwargs)

    def fsync_dir(path: Path) -> None:
        original_fsync(path)
        state.fsyncs += 1
        if state.armed and state.fsyncs == step:
            _stop_here(point, kind=state.kind)

    _patch(vector_index, "write_snapshot", write_snapshot)
    _patch(vector_snapshot, "fsync_dir", fsync_dir)


@dataclass
class _SaveState:
    fsyncs: int = 0
    armed: bool = False
    kind: str = ""


def _patch(module: ModuleType, name: str, value: object) -> None:
    """Replace a module-level function (the writer process is thrown away after the run)."""
    setattr(module, name, value)


# -- the writer -------------------------------------------------------------------------


class Writer:
    """Seeded writes of several kinds; remembers its live facts to update or delete them."""

    def __init__(self, memory: Memory, rng: random.Random, users: list[str], tag: str) -> None:
        self.memory = memory
        self.rng = rng
        self.users = users
        self.tag = tag
        self.live: list[tuple[str, str]] = []  # (fact id, user) this writer may edit

    def person(self, index: int) -> str:
        return f"{self.rng.choice(FIRST)} {self.rng.choice(LAST)} {self.tag}{index}"

    def step(self, index: int) -> dict[str, Any]:
        roll = self.rng.random()
        if roll < 0.1 and self.live:
            return self.delete()
        if roll < 0.2 and self.live:
            return self.update(index)
        if roll < 0.6:
            return self.add(index)
        return self.add_facts(index)

    def add(self, index: int) -> dict[str, Any]:
        user = self.rng.choice(self.users)
        text = self.rng.choice(
            (
                "I live in {city} now.",
                "I visited {city} with {person}.",
                "I work at {company} with {person}.",
                "My friend {person} moved to {city}.",
            )
        ).format(city=self.rng.choice(CITIES), company=self.rng.choice(COMPANIES),
                 person=self.person(index))  # fmt: skip
        result = self.memory.add(text, user_id=user)
        return self._ack("add", user, result, text)

    def add_facts(self, index: int) -> dict[str, Any]:
        user = self.rng.choice(self.users)
        triples = [
            (self.person(index), self.rng.choice(PREDICATES), self.person(index + 1000 * n))
            for n in range(self.rng.randint(1, 3))
        ]
        result = self.memory.add_facts(triples, user_id=user)
        return self._ack("add_facts", user, result, None)

    def delete(self) -> dict[str, Any]:
        fact_id, user = self.live.pop(self.rng.randrange(len(self.live)))
        self.memory.delete(fact_id, user_id=user)
        return {"op": "delete", "user": user, "removed": [fact_id]}

    def update(self, index: int) -> dict[str, Any]:
        fact_id, user = self.live.pop(self.rng.randrange(len(self.live)))
        sentence = f"Corrected statement number {self.tag}{index}."
        new = self.memory.update(fact_id, fact=sentence, user_id=user)
        self.live.append((str(new.id), user))
        return {"op": "update", "user": user, "facts": [str(new.id)], "corrected": [fact_id],
                "queries": [[str(new.id), sentence]]}  # fmt: skip

    def _ack(self, op: str, user: str, result: Any, text: str | None) -> dict[str, Any]:
        facts = [str(f.id) for f in result.facts_added]
        self.live.extend((fact_id, user) for fact_id in facts)
        return {
            "op": op,
            "user": user,
            "episodes": [str(e.id) for e in result.episodes],
            "entities": [str(e.id) for e in result.entities],
            "facts": facts,
            "queries": [[str(f.id), f.fact] for f in result.facts_added[:2]],
            "text": text,
        }


def run_writer(command: dict[str, Any], embedder: Embedder) -> None:
    """The body of one forked writer process."""
    install_fault(command.get("fault"), int(command.get("fault_after", 0)))
    store = Path(command["store"])
    rng = random.Random(int(command["seed"]))
    users = list(command.get("users", ["alice", "bob"]))
    reopen_every = int(command.get("reopen_every", 0))
    config = MemoryConfig(path=store, use_llm=False, busy_timeout=120.0)
    memory = Memory(config, embedder=embedder)
    writer = Writer(memory, rng, users, tag=f"w{command['seed']}n")
    pid = os.getpid()
    emit({"event": "opened", "pid": pid})
    for index in range(int(command["count"])):
        if reopen_every and index and index % reopen_every == 0:
            memory.close()
            memory = Memory(config, embedder=embedder)
            writer.memory = memory
        try:
            record = writer.step(index)
        except GraphmemError as exc:  # e.g. a fact another writer superseded meanwhile
            emit({"event": "rejected", "pid": pid, "error": type(exc).__name__})
            continue
        emit({"event": "ack", "pid": pid, "index": index, **record})
    memory.close()
    emit({"event": "done", "pid": pid})


def main() -> None:
    embedder = SentenceTransformerEmbedder(threads=1)
    embedder.embed(["warm up the model before forking"])
    emit({"event": "ready", "pid": os.getpid()})
    for line in sys.stdin:
        command = json.loads(line)
        if command["cmd"] == "quit":
            return
        if command["cmd"] == "wait":
            pid, status = os.waitpid(int(command["pid"]), 0)
            emit({"event": "exited", "pid": pid, "code": os.waitstatus_to_exitcode(status)})
            continue
        child = os.fork()
        if child == 0:
            code = 0
            try:
                run_writer(command, embedder)
            except BaseException:  # report the failure to the test instead of hiding it
                emit({"event": "error", "pid": os.getpid(),
                      "trace": traceback.format_exc()[-3000:]})  # fmt: skip
                code = 3
            os._exit(code)
        emit({"event": "spawned", "pid": child, "seed": command["seed"]})


if __name__ == "__main__":
    main()
