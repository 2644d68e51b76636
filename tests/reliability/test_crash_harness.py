"""Crash safety: writers killed at random and at every step of a snapshot save lose
nothing they acknowledged; damaged derived data is rebuilt on open or by ``check --repair``.
"""

from __future__ import annotations

import json
import logging
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.errors import StoreCorruptedError
from graphmem.models.records import Fact
from graphmem.models.scope import Scope

from .crash_kit import FAULT_POINTS, WriterPool, plan_kills, run_harness
from .state import capture

VECTOR_DIR = "vectors"
KINDS = ("entity", "episode", "fact")
CLI = [sys.executable, "-c", "from graphmem.cli.app import main; main()"]


def test_acknowledged_writes_survive_kills_at_random_and_mid_snapshot(
    tmp_path: Path, embedder: SentenceTransformerEmbedder, writer_pool: WriterPool
) -> None:
    plans = plan_kills(8, random.Random(20260301), max_delay=1.5)
    report = run_harness(tmp_path / "store", embedder, writer_pool, plans, seed=7, scratch=tmp_path)

    assert report.problems == []
    assert report.survived == report.kills == 8
    assert set(FAULT_POINTS) <= set(report.kill_points)  # every step of a save was hit
    assert report.acks > 0
    assert report.ledger.uncommitted  # a transaction died before COMMIT and left nothing
    assert report.searches > 0


# -- damaged derived data ---------------------------------------------------------------


def _open(path: Path, embedder: SentenceTransformerEmbedder) -> Memory:
    return Memory(MemoryConfig(path=path, use_llm=False), embedder=embedder)


def _populate(path: Path, embedder: SentenceTransformerEmbedder) -> list[Fact]:
    with _open(path, embedder) as memory:
        memory.add("I live in Lisbon and I work at Globex.", user_id="alice")
        memory.add("My sister Farah moved to Kyoto.", user_id="alice")
        memory.add_facts([("Bob", "likes", "sailing"), ("Bob", "visited", "Quito")], user_id="bob")
        facts = memory.get_all(user_id="alice").facts + memory.get_all(user_id="bob").facts
    assert len(facts) >= 4
    return facts


def _assert_healthy(memory: Memory, facts: list[Fact]) -> None:
    """Integrity check passes and every fact is found by its own sentence."""
    report = memory.check()
    assert report.problems == []
    for fact in facts:
        user = fact.user_id
        hits = memory.search(fact.fact, user_id=user, limit=10)
        assert fact.id in {hit.fact.id for hit in hits.facts}, fact.fact
        vector = memory.embedder.embed_query(fact.fact)
        nearest = memory.store.vector_search("fact", _scope(fact), vector.tolist(), 3)
        assert fact.id in {record_id for record_id, _ in nearest}


def _scope(fact: Fact) -> Scope:
    return Scope.of(fact.user_id, fact.agent_id, fact.run_id)


def _live_snapshot(store: Path, kind: str) -> Path:
    pointer = json.loads((store / VECTOR_DIR / kind / "CURRENT").read_text())
    return store / VECTOR_DIR / kind / str(pointer["snapshot"])


def _delete_vectors(store: Path) -> None:
    for kind in KINDS:
        for path in sorted((store / VECTOR_DIR / kind).rglob("*"), reverse=True):
            if path.is_dir():
                path.rmdir()
            else:
                path.unlink()


def _truncate_keys(store: Path) -> None:
    keys = _live_snapshot(store, "fact") / "keys.npy"
    os.truncate(keys, keys.stat().st_size // 2)


def _flip_vector_bytes(store: Path) -> None:
    exact = _live_snapshot(store, "entity") / "exact.npy"
    data = bytearray(exact.read_bytes())
    data[-64:] = bytes(b ^ 0xFF for b in data[-64:])  # same size, different floats
    exact.write_bytes(bytes(data))


def _corrupt_manifest(store: Path) -> None:
    manifest = _live_snapshot(store, "episode") / "manifest.json"
    manifest.write_text(manifest.read_text().replace('"applied_seq": ', '"applied_seq": 9'))


def _garble_pointer(store: Path) -> None:
    (store / VECTOR_DIR / "fact" / "CURRENT").write_bytes(b'{"format": 1, "snapshot": "../../x"')


def _point_to_missing_snapshot(store: Path) -> None:
    pointer_file = store / VECTOR_DIR / "entity" / "CURRENT"
    pointer = json.loads(pointer_file.read_text())
    pointer["snapshot"] = "snapshot-" + "0" * 32
    pointer_file.write_text(json.dumps(pointer))


@pytest.mark.parametrize(
    "damage",
    [
        _delete_vectors,
        _truncate_keys,
        _flip_vector_bytes,
        _corrupt_manifest,
        _garble_pointer,
        _point_to_missing_snapshot,
    ],
)
def test_damaged_vector_snapshots_are_rebuilt_on_open(
    tmp_path: Path,
    embedder: SentenceTransformerEmbedder,
    damage: Callable[[Path], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = tmp_path / "store"
    facts = _populate(store, embedder)
    damage(store)

    with _open(store, embedder) as memory:
        _assert_healthy(memory, facts)
    # The rebuilt snapshot was saved: the next open trusts it without complaint.
    caplog.clear()
    with caplog.at_level(logging.WARNING), _open(store, embedder) as memory:
        _assert_healthy(memory, facts)
    assert not [r for r in caplog.records if "snapshot" in r.getMessage()]


def test_a_snapshot_missing_vectors_is_reported_and_repaired(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    facts = _populate(store, embedder)
    with closing(sqlite3.connect(store / "graph.sqlite3")) as conn:
        rowids = [row[0] for row in conn.execute("SELECT rowid FROM facts")]
    # A self-consistent snapshot that lacks vectors (saved by a buggy or older writer).
    with _open(store, embedder) as memory:
        memory.store._vectors._indexes["fact"].remove(rowids[:2])  # type: ignore[attr-defined]
        memory.store._vectors._saved_seq = -1  # type: ignore[attr-defined]
    with _open(store, embedder) as memory:
        report = memory.check()
        assert report.problems == ["vector index fact: 2 stored vectors missing"]
        repaired = memory.check(repair=True)
        assert repaired.ok
        assert repaired.repaired == report.problems
        _assert_healthy(memory, facts)


def _drop_fts_row(store: Path) -> None:
    with closing(sqlite3.connect(store / "graph.sqlite3")) as conn:
        conn.execute("DELETE FROM facts_fts WHERE rowid = (SELECT min(rowid) FROM facts)")
        conn.commit()


def _dangling_references(store: Path) -> None:
    with closing(sqlite3.connect(store / "graph.sqlite3")) as conn:
        conn.execute("PRAGMA foreign_keys = OFF")  # what a foreign tool might do
        conn.execute("DELETE FROM entities WHERE name = 'Quito'")
        conn.execute("INSERT INTO fact_sources (episode_id, fact_id) VALUES ('e', 'missing')")
        conn.commit()


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [*CLI, *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_graphmem_check_repair_fixes_keyword_index_and_dangling_references(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    facts = _populate(store, embedder)
    _drop_fts_row(store)
    _dangling_references(store)

    found = _cli("check", "--path", str(store), "--json")
    assert found.returncode == 1, found.stderr
    problems = json.loads(found.stdout)["problems"]
    assert any("keyword index facts_fts" in p for p in problems)
    assert any("subject or object entity is missing" in p for p in problems)
    assert any("provenance rows of missing facts" in p for p in problems)

    repaired = _cli("check", "--repair", "--path", str(store), "--json")
    assert repaired.returncode == 0, repaired.stdout + repaired.stderr
    assert json.loads(repaired.stdout)["repaired"] == json.loads(repaired.stdout)["problems"]
    again = _cli("check", "--path", str(store), "--json")
    assert again.returncode == 0
    assert json.loads(again.stdout)["problems"] == []

    with _open(store, embedder) as memory:
        survivors = [f for f in facts if f.object_name != "Quito"]
        _assert_healthy(memory, survivors)
        hits = memory.search("Bob visited Quito", user_id="bob").facts
        assert "Quito" not in {hit.fact.object_name for hit in hits}


def test_a_dropped_keyword_table_is_rebuilt_on_open(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    facts = _populate(store, embedder)
    with closing(sqlite3.connect(store / "graph.sqlite3")) as conn:
        conn.execute("DROP TABLE facts_fts")
        conn.commit()
    with _open(store, embedder) as memory:
        _assert_healthy(memory, facts)
        assert memory.store.keyword_search("fact", _scope(facts[0]), facts[0].fact, 5)


def test_corrupt_keyword_index_pages_are_reported_and_rebuilt(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    facts = _populate(store, embedder)
    with closing(sqlite3.connect(store / "graph.sqlite3")) as conn:
        conn.execute("UPDATE facts_fts_data SET block = x'00ff00ff00ff' WHERE id > 10")
        conn.commit()
    with _open(store, embedder) as memory:
        before = capture(memory)
        report = memory.check()
        assert any("facts_fts" in p for p in report.problems), report.problems
        repaired = memory.check(repair=True)
        assert repaired.ok
        assert memory.check().problems == []
        _assert_healthy(memory, facts)
        after = capture(memory)
        assert after.row_digests == before.row_digests  # only derived data changed


def test_a_corrupt_database_file_is_a_typed_error(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    _populate(store, embedder)
    database = store / "graph.sqlite3"
    database.write_bytes(b"this is not a database" + bytes(4096))
    with pytest.raises(StoreCorruptedError):
        _open(store, embedder)


def test_ordinary_deletes_leave_no_dangling_version_pointers(memory: Memory) -> None:
    """``check`` must pass after any sequence of API calls, not only after crashes."""
    liked = memory.add_facts([("Anna", "likes", "tea")], user_id="alice").facts_added[0]
    correction = memory.update(liked.id, fact="Anna likes green tea.", user_id="alice")
    memory.delete(correction.id, user_id="alice")  # the corrected version pointed at it

    memory.add_facts([("Anna", "lives_in", "Oslo")], user_id="alice", run_id="r1")
    moved = memory.add_facts([("Anna", "lives_in", "Lisbon")], user_id="alice", run_id="r2")
    memory.forget(user_id="alice", run_id="r2")  # removes the fact that superseded Oslo

    memory.add_facts([("Bob", "works_at", "Initech")], user_id="bob")
    memory.add_facts([("Bob", "works_at", "Globex")], user_id="bob")
    globex = next(e for e in memory.get_all(user_id="bob").entities if e.name == "Globex")
    memory.delete(globex.id, user_id="bob")  # deletes the superseding fact with its object

    assert memory.check().problems == []
    assert moved.facts_added[0].id not in {f.id for f in memory.get_all(user_id="alice").facts}
    old = memory.get(liked.id)
    assert isinstance(old, Fact)
    assert old.superseded_by is None


def test_repair_does_not_claim_what_it_cannot_fix(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = tmp_path / "store"
    _populate(store, embedder)
    with closing(sqlite3.connect(store / "graph.sqlite3")) as conn:
        # A fact of bob's pointing at alice's entity: a scope violation, not derived data.
        conn.execute(
            "UPDATE facts SET subject_id = (SELECT id FROM entities WHERE owner = 'user:alice' "
            "LIMIT 1) WHERE owner = 'user:bob'"
        )
        conn.commit()
    with _open(store, embedder) as memory:
        report = memory.check(repair=True)
    assert not report.ok
    assert any("owner differs" in p and p not in report.repaired for p in report.problems)
    assert _cli("check", "--repair", "--path", str(store)).returncode == 1
