"""Creating the embedded store's tables on open, and rebuilding its keyword tables.

The DDL itself lives in :mod:`graphmem.store.embedded.schema`; this module runs it
against a connection, records which embedder built the store, and refuses another one.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from graphmem.errors import EmbedderMismatchError, StoreCorruptedError
from graphmem.store.base import EmbedderInfo, ProgressCallback
from graphmem.store.embedded.connection import translate
from graphmem.store.embedded.schema import (
    KEYWORD_INDEX,
    KEYWORD_SOURCES,
    KEYWORD_TABLES,
    SCHEMA_VERSION,
    TABLES,
    VECTOR_LOG,
    migrate_schema,
)

KEYWORD_COLUMNS: dict[str, str] = {"episode": "content", "entity": "names", "fact": "fact"}
"""The text column of each kind's keyword (FTS5) table."""


def initialize_schema(conn: sqlite3.Connection, path: Path, embedder: EmbedderInfo) -> None:
    """Create or migrate the tables of the database at ``path`` in one write transaction.

    A new store records ``embedder``; an existing one must have been built with it
    (:class:`~graphmem.errors.EmbedderMismatchError` otherwise). A file that is not
    a database raises :class:`~graphmem.errors.StoreCorruptedError`.
    """
    try:
        conn.execute("BEGIN IMMEDIATE")
        for statement in split_statements(TABLES):
            conn.execute(statement)
        migrate_schema(conn)
        missing_keyword = _missing_keyword_tables(conn)
        for statement in split_statements(KEYWORD_INDEX + VECTOR_LOG):
            conn.execute(statement)
        for table in missing_keyword:
            _fill_keyword_table(conn, table)
        _check_embedder(conn, embedder, path.parent)
        conn.execute("COMMIT")
    except sqlite3.DatabaseError as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise StoreCorruptedError(f"{path} is not a readable graphmem store: {exc}") from exc
        raise translate(exc, path) from exc


def rebuild_keyword_tables(conn: sqlite3.Connection, progress: ProgressCallback | None) -> None:
    """Recreate every keyword table from the truth; the caller holds the write transaction."""
    # Dropped, not emptied: deleting rows leaves damaged index pages in place.
    for fts in KEYWORD_TABLES.values():
        conn.execute(f"DROP TABLE IF EXISTS {fts}")
    for statement in split_statements(KEYWORD_INDEX):
        conn.execute(statement)
    for fts in KEYWORD_TABLES.values():
        _fill_keyword_table(conn, fts)
        if progress is not None:
            progress(f"keywords:{fts}", 1, 1)


def split_statements(script: str) -> list[str]:
    """Split a DDL script into statements (triggers contain inner semicolons)."""
    statements: list[str] = []
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                statements.append(buffer.strip())
            buffer = ""
    return statements


def _missing_keyword_tables(conn: sqlite3.Connection) -> list[str]:
    existing = {
        row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    return [table for table in KEYWORD_TABLES.values() if table not in existing]


def _fill_keyword_table(conn: sqlite3.Connection, fts_table: str) -> None:
    kind = next(kind for kind, table in KEYWORD_TABLES.items() if table == fts_table)
    conn.execute(
        f"INSERT INTO {fts_table} (rowid, scope, {KEYWORD_COLUMNS[kind]}) "
        f"{KEYWORD_SOURCES[fts_table]}"
    )


def _check_embedder(conn: sqlite3.Connection, embedder: EmbedderInfo, directory: Path) -> None:
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    if "embedder_model" not in meta:
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)",
            [
                ("schema_version", str(SCHEMA_VERSION)),
                ("embedder_model", embedder.model),
                ("embedder_dim", str(embedder.dim)),
            ],
        )
        return
    stored = EmbedderInfo(meta["embedder_model"], int(meta["embedder_dim"]))
    if stored != embedder:
        raise EmbedderMismatchError(
            f"the store at {directory} was built with embedder {stored.model!r} "
            f"(dimension {stored.dim}); it cannot be opened with {embedder.model!r} "
            f"(dimension {embedder.dim}). Open it with the same embedder, or export "
            "it and import it into a new store."
        )
