"""Bad input: every hostile or malformed call gets a typed error and changes nothing.

"Changes nothing" is checked against a full capture of the store (every truth row, the
keyword index, ``stats()`` and a JSONL export of every owner) taken before the call.
Text that merely looks dangerous (SQL, Cypher, FTS5 syntax) is data: it is stored
verbatim, read back verbatim, and never breaks a query.
"""

from __future__ import annotations

import re
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import (
    CypherError,
    GraphmemError,
    InvalidFilterError,
    InvalidInputError,
    NotFoundError,
    ScopeRequiredError,
    StoreError,
    StoreReadOnlyError,
)
from graphmem.models.scope import Scope

from .state import capture


@dataclass(frozen=True)
class Seeded:
    """A store holding two users' memories, and ids to aim calls at."""

    memory: Memory
    alice_fact: uuid.UUID
    alice_episode: uuid.UUID
    alice_entity: uuid.UUID
    bob_fact: uuid.UUID
    bob_episode: uuid.UUID


@pytest.fixture(scope="module")
def seeded(
    tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder
) -> Iterator[Seeded]:
    path = tmp_path_factory.mktemp("bad-input") / "store"
    with Memory(MemoryConfig(path=path, use_llm=False), embedder=embedder) as memory:
        alice = memory.add("I live in Lisbon and I work at Globex.", user_id="alice")
        bob = memory.add_facts([("Bob", "likes", "sailing")], user_id="bob")
        yield Seeded(
            memory,
            alice_fact=alice.facts_added[0].id,
            alice_episode=alice.episodes[0].id,
            alice_entity=alice.entities[0].id,
            bob_fact=bob.facts_added[0].id,
            bob_episode=bob.episodes[0].id,
        )


def _deep(levels: int) -> list[Any]:
    nested: list[Any] = []
    for _ in range(levels):
        nested = [nested]
    return nested


def _circular() -> dict[str, Any]:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    return loop


TEN_MB = "x" * 10_000_000
NAIVE = datetime(2024, 5, 1, 12, 0)
Call = Callable[[Seeded], object]

BAD_CALLS: list[tuple[str, Call, type[GraphmemError]]] = [
    # messages
    ("empty message", lambda s: s.memory.add("", user_id="alice"), InvalidInputError),
    ("whitespace message", lambda s: s.memory.add(" \n\t ", user_id="alice"), InvalidInputError),
    ("empty message list", lambda s: s.memory.add([], user_id="alice"), InvalidInputError),
    ("10 MB message", lambda s: s.memory.add(TEN_MB, user_id="alice"), InvalidInputError),
    (
        "10 MB dict message",
        lambda s: s.memory.add({"role": "user", "content": TEN_MB}, user_id="alice"),
        InvalidInputError,
    ),
    (
        "bytes message",
        lambda s: s.memory.add(b"I live in Oslo", user_id="alice"),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    (
        "invalid UTF-8 bytes",
        lambda s: s.memory.add(b"\xff\xfe\xfd", user_id="alice"),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    (
        "lone surrogate",
        lambda s: s.memory.add("I live in \ud800 Oslo", user_id="alice"),
        InvalidInputError,
    ),
    ("NUL byte", lambda s: s.memory.add("I live in\x00Oslo", user_id="alice"), InvalidInputError),
    ("int message", lambda s: s.memory.add(42, user_id="alice"), InvalidInputError),  # type: ignore[arg-type]
    ("None message", lambda s: s.memory.add(None, user_id="alice"), InvalidInputError),  # type: ignore[arg-type]
    (
        "list of strings",
        lambda s: s.memory.add(["hi", "there"], user_id="alice"),  # type: ignore[list-item]
        InvalidInputError,
    ),
    (
        "one bad item in a batch",
        lambda s: s.memory.add(
            [{"role": "user", "content": "I live in Oslo."}, {"role": "user", "content": ""}],
            user_id="alice",
        ),
        InvalidInputError,
    ),
    (
        "unknown role",
        lambda s: s.memory.add({"role": "pirate", "content": "arr"}, user_id="alice"),
        InvalidInputError,
    ),
    (
        "role of wrong type (list)",
        lambda s: s.memory.add({"role": ["user"], "content": "hi"}, user_id="alice"),
        InvalidInputError,
    ),
    (
        "role of wrong type (dict)",
        lambda s: s.memory.add({"role": {"user": 1}, "content": "hi"}, user_id="alice"),
        InvalidInputError,
    ),
    (
        "unknown message key",
        lambda s: s.memory.add(
            {"role": "user", "content": "hi", "tool_calls": []}, user_id="alice"
        ),
        InvalidInputError,
    ),
    (
        "speaker name with NUL",
        lambda s: s.memory.add(
            {"role": "user", "content": "hi", "name": "a\x00b"}, user_id="alice"
        ),
        InvalidInputError,
    ),
    # timestamps
    (
        "naive datetime",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", timestamp=NAIVE),
        InvalidInputError,
    ),
    (
        "naive ISO string",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", timestamp="2024-05-01T12:00:00"),
        InvalidInputError,
    ),
    (
        "far-future timestamp",
        lambda s: s.memory.add(
            "I live in Oslo.", user_id="alice", timestamp=datetime(9999, 12, 31, tzinfo=UTC)
        ),
        InvalidInputError,
    ),
    (
        "far-past timestamp",
        lambda s: s.memory.add(
            "I live in Oslo.", user_id="alice", timestamp=datetime(1, 1, 1, tzinfo=UTC)
        ),
        InvalidInputError,
    ),
    (
        "epoch 1e30",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", timestamp=1e30),
        InvalidInputError,
    ),
    (
        "NaN timestamp",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", timestamp=float("nan")),
        InvalidInputError,
    ),
    (
        "impossible date string",
        lambda s: s.memory.add(
            "I live in Oslo.", user_id="alice", timestamp="2026-13-45T00:00:00+00:00"
        ),
        InvalidInputError,
    ),
    (
        "bool timestamp",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", timestamp=True),
        InvalidInputError,
    ),
    # metadata
    (
        "metadata with an object",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata={"x": object()}),
        InvalidInputError,
    ),
    (
        "metadata with NaN",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata={"x": float("nan")}),
        InvalidInputError,
    ),
    (
        "metadata with a tuple key",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata={("a", 1): 1}),  # type: ignore[dict-item]
        InvalidInputError,
    ),
    (
        "circular metadata",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata=_circular()),
        InvalidInputError,
    ),
    (
        "metadata nested 100k deep",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata={"x": _deep(100_000)}),
        InvalidInputError,
    ),
    (
        "metadata that is a list",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata=["a"]),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    (
        "metadata with a lone surrogate",
        lambda s: s.memory.add("I live in Oslo.", user_id="alice", metadata={"x": "\udfff"}),
        InvalidInputError,
    ),
    # scopes
    ("no scope", lambda s: s.memory.add("I live in Oslo."), ScopeRequiredError),
    (
        "int user id",
        lambda s: s.memory.add("I live in Oslo.", user_id=7),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    ("empty user id", lambda s: s.memory.add("I live in Oslo.", user_id=""), InvalidInputError),
    (
        "user id with spaces around",
        lambda s: s.memory.add("I live in Oslo.", user_id=" alice "),
        InvalidInputError,
    ),
    (
        "user id with a control character",
        lambda s: s.memory.add("I live in Oslo.", user_id="ali\x00ce"),
        InvalidInputError,
    ),
    (
        "user id of 10k characters",
        lambda s: s.memory.add("I live in Oslo.", user_id="a" * 10_000),
        InvalidInputError,
    ),
    # triples
    (
        "triples as a string",
        lambda s: s.memory.add_facts("a likes b", user_id="alice"),
        InvalidInputError,
    ),
    ("empty triples", lambda s: s.memory.add_facts([], user_id="alice"), InvalidInputError),
    (
        "two-element triple",
        lambda s: s.memory.add_facts([("a", "likes")], user_id="alice"),
        InvalidInputError,
    ),
    (
        "empty subject",
        lambda s: s.memory.add_facts([(" ", "likes", "tea")], user_id="alice"),
        InvalidInputError,
    ),
    (
        "10 MB subject",
        lambda s: s.memory.add_facts([(TEN_MB, "likes", "tea")], user_id="alice"),
        InvalidInputError,
    ),
    (
        "predicate of punctuation only",
        lambda s: s.memory.add_facts([("Anna", "'; --", "tea")], user_id="alice"),
        InvalidInputError,
    ),
    (
        "confidence above 1",
        lambda s: s.memory.add_facts(
            [{"subject": "Anna", "predicate": "likes", "object": "tea", "confidence": 2.0}],
            user_id="alice",
        ),
        InvalidInputError,
    ),
    (
        "end before start",
        lambda s: s.memory.add_facts(
            [
                {
                    "subject": "Anna",
                    "predicate": "likes",
                    "object": "tea",
                    "valid_at": "2024-05-01T00:00:00+00:00",
                    "invalid_at": "2023-05-01T00:00:00+00:00",
                }
            ],
            user_id="alice",
        ),
        InvalidInputError,
    ),
    (
        "source that is another user's episode",
        lambda s: s.memory.add_facts(
            [("Anna", "likes", "tea")], user_id="alice", source=s.bob_episode
        ),
        NotFoundError,
    ),
    (
        "source id that does not exist",
        lambda s: s.memory.add_facts(
            [("Anna", "likes", "tea")], user_id="alice", source=uuid.uuid4()
        ),
        NotFoundError,
    ),
    # reads
    ("empty query", lambda s: s.memory.search("", user_id="alice"), InvalidInputError),
    (
        "None query",
        lambda s: s.memory.search(None, user_id="alice"),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    ("limit 0", lambda s: s.memory.search("Oslo", user_id="alice", limit=0), InvalidInputError),
    (
        "limit as text",
        lambda s: s.memory.search("Oslo", user_id="alice", limit="5"),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    (
        "limit 10**12",
        lambda s: s.memory.search("Oslo", user_id="alice", limit=10**12),
        InvalidInputError,
    ),
    (
        "naive as_of",
        lambda s: s.memory.search("Oslo", user_id="alice", as_of=NAIVE),
        InvalidInputError,
    ),
    (
        "filters as text",
        lambda s: s.memory.search("Oslo", user_id="alice", filters="x"),  # type: ignore[arg-type]
        InvalidFilterError,
    ),
    (
        "unknown filter operator",
        lambda s: s.memory.get_all(user_id="alice", filters={"x": {"$where": "1=1"}}),
        InvalidFilterError,
    ),
    (
        "max_tokens 0",
        lambda s: s.memory.context("Oslo", user_id="alice", max_tokens=0),
        InvalidInputError,
    ),
    ("audit limit 0", lambda s: s.memory.audit_log(user_id="alice", limit=0), InvalidInputError),
    ("stats with an int id", lambda s: s.memory.stats(user_id=5), InvalidInputError),  # type: ignore[arg-type]
    # ids
    ("get a missing id", lambda s: s.memory.get(uuid.uuid4()), NotFoundError),
    ("get a malformed id", lambda s: s.memory.get("'; DROP TABLE facts; --"), InvalidInputError),
    ("get an int id", lambda s: s.memory.get(123), InvalidInputError),  # type: ignore[arg-type]
    ("get another user's fact", lambda s: s.memory.get(s.bob_fact, user_id="alice"), NotFoundError),
    ("history of a missing id", lambda s: s.memory.history(uuid.uuid4()), NotFoundError),
    (
        "history of an episode",
        lambda s: s.memory.history(s.alice_episode, user_id="alice"),
        InvalidInputError,
    ),
    ("update a missing fact", lambda s: s.memory.update(uuid.uuid4(), fact="x y z"), NotFoundError),
    (
        "update another user's fact",
        lambda s: s.memory.update(s.bob_fact, fact="Bob hates sailing.", user_id="alice"),
        NotFoundError,
    ),
    (
        "update with an empty sentence",
        lambda s: s.memory.update(s.alice_fact, fact=" "),
        InvalidInputError,
    ),
    (
        "update with a 10 MB sentence",
        lambda s: s.memory.update(s.alice_fact, fact=TEN_MB),
        InvalidInputError,
    ),
    (
        "update with a NUL byte",
        lambda s: s.memory.update(s.alice_fact, fact="Lisbon\x00"),
        InvalidInputError,
    ),
    (
        "update with a lone surrogate",
        lambda s: s.memory.update(s.alice_fact, fact="Lis\ud800bon"),
        InvalidInputError,
    ),
    (
        "update with confidence 5",
        lambda s: s.memory.update(s.alice_fact, confidence=5),
        InvalidInputError,
    ),
    (
        "update with a naive valid_at",
        lambda s: s.memory.update(s.alice_fact, valid_at=NAIVE),
        InvalidInputError,
    ),
    (
        "update with bad metadata",
        lambda s: s.memory.update(s.alice_fact, metadata={"x": object()}),
        InvalidInputError,
    ),
    (
        "update ending before it starts",
        lambda s: s.memory.update(
            s.alice_fact,
            valid_at="2024-05-01T00:00:00+00:00",
            invalid_at="2023-05-01T00:00:00+00:00",
        ),
        InvalidInputError,
    ),
    ("delete a missing id", lambda s: s.memory.delete(uuid.uuid4()), NotFoundError),
    (
        "delete another user's fact",
        lambda s: s.memory.delete(s.bob_fact, user_id="alice"),
        NotFoundError,
    ),
    (
        "delete another user's episode",
        lambda s: s.memory.delete_episode(s.bob_episode, user_id="alice"),
        NotFoundError,
    ),
    (
        "delete_episode with a fact id",
        lambda s: s.memory.delete_episode(s.alice_fact, user_id="alice"),
        NotFoundError,
    ),
    ("forget without a scope", lambda s: s.memory.forget(), ScopeRequiredError),
    # Cypher
    (
        "Cypher write",
        lambda s: s.memory.cypher("CREATE (n:Entity {name: 'x'}) RETURN n", user_id="alice"),
        CypherError,
    ),
    (
        "Cypher delete",
        lambda s: s.memory.cypher("MATCH (n) DETACH DELETE n", user_id="alice"),
        CypherError,
    ),
    (
        "Cypher two statements",
        lambda s: s.memory.cypher("MATCH (n) RETURN n; MATCH (m) DELETE m", user_id="alice"),
        CypherError,
    ),
    (
        "Cypher procedure call",
        lambda s: s.memory.cypher(
            "CALL apoc.cypher.run('MATCH (n) DELETE n', {})", user_id="alice"
        ),
        CypherError,
    ),
    (
        "Cypher syntax error",
        lambda s: s.memory.cypher("MATCH (n RETURN", user_id="alice"),
        CypherError,
    ),
    ("Cypher empty", lambda s: s.memory.cypher(" ", user_id="alice"), InvalidInputError),
    (
        "Cypher params not a mapping",
        lambda s: s.memory.cypher("MATCH (n) RETURN n LIMIT $x", "abc", user_id="alice"),  # type: ignore[arg-type]
        InvalidInputError,
    ),
    (
        "Cypher parameter of an odd type",
        lambda s: s.memory.cypher("MATCH (n) RETURN n LIMIT $x", {"x": object()}, user_id="alice"),
        CypherError,
    ),
]


@pytest.mark.parametrize(
    ("call", "expected"),
    [pytest.param(call, expected, id=label) for label, call, expected in BAD_CALLS],
)
def test_bad_input_is_a_typed_error_and_changes_nothing(
    seeded: Seeded, call: Call, expected: type[GraphmemError]
) -> None:
    before = capture(seeded.memory)
    with pytest.raises(expected) as raised:
        call(seeded)
    assert str(raised.value).strip()  # a message a person can act on
    assert capture(seeded.memory) == before


# -- text that looks like code is data ----------------------------------------------------

HOSTILE_NAMES = [
    "Robert'); DROP TABLE facts;--",
    "`Entity`) DETACH DELETE n //",
    "}) MATCH (m) RETURN m {",
    "$owner",
    '"quoted" NEAR(a b) OR *',
    "scope:s0000 AND content:secret",
    "back\\slash %_ wildcard",
]
FTS_AND_SQL_QUERIES = [
    '"',
    '""',
    "NEAR(alice bob, 2)",
    "a AND",
    "OR",
    "NOT secret",
    "*",
    "secret*",
    "^secret",
    "scope:x",
    "{scope content}: secret",
    "-secret +secret",
    "(",
    "a:b:c",
    "'; DROP TABLE facts; --",
    "%' OR '1'='1",
    "\\",
    "bob OR carol OR secret",
]
_SAFE_PREDICATE = re.compile(r"[a-z][a-z0-9_]*")


def test_code_like_names_are_stored_and_read_back_verbatim(
    memory: Memory,
) -> None:
    bob_secret = memory.add_facts([("Carol", "knows", "secret plans")], user_id="bob")
    triples = [(name, "likes", f"Object {i}") for i, name in enumerate(HOSTILE_NAMES)]
    triples.append(("Anna", "'; DROP TABLE facts; --", "Robert'); DROP TABLE facts;--"))
    result = memory.add_facts(triples, user_id="alice")

    stored = {entity.name for entity in memory.get_all(user_id="alice", limit=100).entities}
    assert set(HOSTILE_NAMES) <= stored
    for fact in result.facts_added:
        assert _SAFE_PREDICATE.fullmatch(fact.predicate), fact.predicate
    for name in HOSTILE_NAMES:
        rows = memory.cypher(
            "MATCH (e:Entity) WHERE e.name = $name RETURN e.name AS name",
            {"name": name},
            user_id="alice",
        )
        assert rows == [{"name": name}]
        hits = memory.search(name, user_id="alice", limit=20)
        assert name in {h.entity.name for h in hits.entities} | {
            h.fact.subject_name for h in hits.facts
        }
    assert memory.check().problems == []
    assert memory.get(bob_secret.facts_added[0].id, user_id="bob").id == (
        bob_secret.facts_added[0].id
    )


@pytest.mark.parametrize("query", FTS_AND_SQL_QUERIES)
def test_search_syntax_in_queries_is_inert(seeded: Seeded, query: str) -> None:
    before = capture(seeded.memory)
    result = seeded.memory.search(query, user_id="alice", limit=20)
    owners = {h.fact.owner for h in result.facts} | {h.entity.owner for h in result.entities}
    owners |= {h.episode.owner for h in result.episodes}
    assert owners <= {"user:alice"}
    for kind in ("entity", "episode", "fact"):
        seeded.memory.store.keyword_search(kind, Scope.of("alice"), query, 10)
    assert capture(seeded.memory) == before


# -- a store that cannot be written -------------------------------------------------------


@pytest.fixture
def read_only_bind() -> Iterator[Callable[[Path, Path], None]]:
    """Mount a directory read-only at another path (a real EROFS file system view)."""
    mounted: list[Path] = []

    def mount(source: Path, target: Path) -> None:
        target.mkdir(parents=True, exist_ok=True)
        for args in (["--bind", str(source), str(target)],
                     ["-o", "remount,bind,ro", str(target)]):  # fmt: skip
            done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
            if done.returncode != 0:
                if mounted or args[0] == "-o":
                    subprocess.run(["umount", str(target)], check=False)
                pytest.skip(f"read-only bind mounts are not available here: {done.stderr}")
        mounted.append(target)

    yield mount
    for target in reversed(mounted):
        subprocess.run(["umount", "-l", str(target)], check=False)


def _store_with_data(path: Path, embedder: SentenceTransformerEmbedder) -> None:
    with Memory(MemoryConfig(path=path, use_llm=False), embedder=embedder) as memory:
        memory.add("I live in Lisbon and I work at Globex.", user_id="alice")


def test_a_read_only_store_directory_is_a_typed_error(
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    read_only_bind: Callable[[Path, Path], None],
) -> None:
    store = tmp_path / "store"
    _store_with_data(store, embedder)
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        before = capture(memory)
    view = tmp_path / "read-only"
    read_only_bind(store, view)
    with pytest.raises(StoreReadOnlyError, match="read-only"):
        Memory(MemoryConfig(path=view, use_llm=False), embedder=embedder)
    with pytest.raises(StoreReadOnlyError):
        Memory(MemoryConfig(path=view / "new-store", use_llm=False), embedder=embedder)
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        assert capture(memory) == before


def test_a_read_only_vector_snapshot_directory_does_not_fail_writes(
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    read_only_bind: Callable[[Path, Path], None],
) -> None:
    """Snapshots are a cache of the truth: failing to save one must not fail a write."""
    store = tmp_path / "store"
    _store_with_data(store, embedder)
    read_only_bind(store / "vectors", store / "vectors")
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        added = memory.add_facts([("Anna", "likes", "tea")], user_id="alice")
        hits = memory.search("Anna likes tea", user_id="alice")
        assert added.facts_added[0].id in {h.fact.id for h in hits.facts}
        memory.reindex()  # the rebuilt indexes stay in memory, unsaved
        hits = memory.search("Anna likes tea", user_id="alice")
        assert added.facts_added[0].id in {h.fact.id for h in hits.facts}
        memory.reset()  # saves a snapshot right away
        assert memory.check().problems == []


def test_a_full_disk_is_a_typed_error_and_changes_nothing(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    _store_with_data(store, embedder)
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        before = capture(memory)
        writer: sqlite3.Connection = memory.store._writer  # type: ignore[attr-defined]
        (pages,) = writer.execute("PRAGMA page_count").fetchone()
        writer.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
        long_text = " ".join(f"I visited city number {i} with friend {i}." for i in range(400))
        calls: tuple[Callable[[], object], ...] = (
            lambda: memory.add(long_text, user_id="alice"),
            lambda: memory.add_facts(
                [(f"P{i}", "likes", f"T{i}") for i in range(200)], user_id="alice"
            ),
        )
        for call in calls:
            with pytest.raises(StoreError, match="no space"):
                call()
            assert capture(memory) == before
            assert memory.check().problems == []
        writer.execute(f"PRAGMA max_page_count = {pages * 1000}")  # space freed
        added = memory.add_facts([("Anna", "likes", "tea")], user_id="alice")
        assert memory.get(added.facts_added[0].id)
        assert memory.check().problems == []
