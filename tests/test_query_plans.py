"""Statements that look records up by id, entity or rowid never walk a whole owner.

Without table statistics, SQLite prefers the owner index for ``owner = ? AND
subject_id IN (...)`` and then reads every fact of the owner: unnoticeable in a test,
thousands of rows per statement for a real user. Every statement a search and a write
run is explained here; none that names ids may walk an owner index.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from retrieval_fixtures import add_employers, add_moves

from graphmem import Memory, MemoryConfig
from graphmem.embedding.sentence_transformers import SentenceTransformerEmbedder
from graphmem.store.embedded.store import DATABASE_FILE, EmbeddedStore

OWNER_INDEXES = ("facts_by_owner", "episodes_by_owner", "entities_by_update")


@pytest.fixture
def uncached(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[Memory]:
    """A memory whose searches read every neighbourhood from SQLite (no edge cache)."""
    config = MemoryConfig(path=tmp_path / "store", use_llm=False, edge_cache_facts=0)
    with Memory(config, embedder=embedder) as memory:
        yield memory


def traced(memory: Memory) -> list[str]:
    """Every statement the store's connections (this thread's reader, the writer) run."""
    store = memory.store
    assert isinstance(store, EmbeddedStore)
    statements: list[str] = []
    store._reader().set_trace_callback(statements.append)
    store._writer.set_trace_callback(statements.append)
    return statements


def owner_walks(database: Path, statements: list[str]) -> list[tuple[str, str]]:
    """The id lookups among ``statements`` whose plan walks an owner index."""
    walks = []
    with sqlite3.connect(database) as conn:
        for sql in statements:
            names_ids = " IN (" in sql or "_id = '" in sql
            if not sql.lstrip().upper().startswith("SELECT") or not names_ids:
                continue
            explained = plan(conn, sql)
            if any(index in explained for index in OWNER_INDEXES):
                walks.append((sql[:160], explained))
    return walks


def plan(conn: sqlite3.Connection, sql: str) -> str:
    return " / ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {sql}"))


def test_search_looks_everything_up_by_id_or_entity(uncached: Memory, tmp_path: Path) -> None:
    add_employers(uncached, "u1")
    add_moves(uncached, "u1")
    uncached.add("Alice: my sister Maya lives in Denver and works at Globex.", user_id="u1")
    statements = traced(uncached)
    result = uncached.search("Where is the company Alice works at headquartered?", user_id="u1")
    assert result.facts  # the search really ran its reads
    database = tmp_path / "store" / DATABASE_FILE
    assert owner_walks(database, statements) == []
    # Neighbourhoods are read newest first along an end's time index, stopping at the
    # per-entity bound, never by reading a hub's whole degree.
    neighbourhood = [sql for sql in statements if "ORDER BY created_at DESC, id DESC" in sql]
    assert neighbourhood
    with sqlite3.connect(database) as conn:
        for sql in neighbourhood:
            assert "_time (" in plan(conn, sql), plan(conn, sql)


def test_writes_reconcile_against_the_entities_facts_only(
    uncached: Memory, tmp_path: Path
) -> None:
    add_employers(uncached, "u1")
    statements = traced(uncached)
    uncached.add_facts([("Alice", "lives_in", "Rome", "Alice lives in Rome.")], user_id="u1")
    uncached.add_facts([("Alice", "lives_in", "Oslo", "Alice lives in Oslo.")], user_id="u1")
    assert any("predicate IN (" in sql for sql in statements)  # the reconciler's read
    assert owner_walks(tmp_path / "store" / DATABASE_FILE, statements) == []
