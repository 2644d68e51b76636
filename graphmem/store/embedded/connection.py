"""Opening SQLite connections for the embedded store, and mapping SQLite failures."""

from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from graphmem.errors import (
    StoreCorruptedError,
    StoreError,
    StoreLockedError,
    StoreReadOnlyError,
)
from graphmem.models.scope import Scope
from graphmem.store.base import batched
from graphmem.store.embedded.keyword import names_text, scope_token

MMAP_BYTES = 1 << 30
"""How much of the database file SQLite memory-maps (address space, not memory)."""


def connect(
    path: Path, *, busy_timeout: float, synchronous: str, memory_map: bool = True
) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, foreign keys on.

    ``memory_map=False`` reads pages with system calls instead of through a mapping:
    for the write connection, whose reads are few and whose full scans (a reindex)
    would otherwise make a second copy of the mapped file count against the process.
    """
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=busy_timeout
        )
    except sqlite3.Error as exc:
        raise translate(exc, path) from exc
    try:
        conn.row_factory = sqlite3.Row
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        # Reads page through the mapped file instead of copying pages in: a search
        # visits rows all over a large store.
        conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES if memory_map else 0}")
    except sqlite3.Error as exc:
        conn.close()  # a failed open must not keep the file (or its mount) busy
        raise translate(exc, path) from exc
    conn.create_function("scope_token", 1, scope_token, deterministic=True)
    conn.create_function("names_text", 2, names_text, deterministic=True)
    return conn


def translate(exc: BaseException, path: Path | None = None) -> StoreError:
    """A typed graphmem error for an SQLite (or OS) failure."""
    message = str(exc)
    lowered = message.lower()
    where = f" ({path})" if path is not None else ""
    if (
        "readonly" in lowered
        or "read-only" in lowered
        or (isinstance(exc, OSError) and exc.errno in (errno.EACCES, errno.EROFS, errno.EPERM))
    ):
        return StoreReadOnlyError(f"the store cannot be written{where}: {message}")
    if "locked" in lowered or "busy" in lowered:
        return StoreLockedError(
            f"another writer held the store{where} past the lock timeout: {message}"
        )
    if "disk is full" in lowered or (isinstance(exc, OSError) and exc.errno == errno.ENOSPC):
        return StoreError(f"no space left for the store{where}; nothing was written: {message}")
    if "not a database" in lowered or "malformed" in lowered:
        return StoreCorruptedError(
            f"{path or 'the store'} is not a readable graphmem store: {message}"
        )
    if "unable to open" in lowered:
        if path is not None and not os.access(path.parent, os.W_OK):
            # WAL needs to create its -wal and -shm files beside the database.
            return StoreReadOnlyError(
                f"the store directory {path.parent} is read-only; graphmem needs to write "
                f"there even to read: {message}"
            )
        return StoreError(f"cannot open the store{where}: {message}")
    return StoreError(f"store error{where}: {message}")


def scope_clause(scope: Scope, alias: str = "", *, use_index: bool = True) -> tuple[str, list[str]]:
    """SQL condition and parameters selecting the records a scope may read.

    With ``use_index=False`` the condition only filters rows found another way (by
    rowid): SQLite would otherwise walk the owner index, every row of the owner.
    """
    prefix = ("" if use_index else "+") + (f"{alias}." if alias else "")
    clauses = [f"{prefix}owner = ?"]
    params = [scope.owner]
    if scope.agent_id is not None:
        clauses.append(f"{prefix}agent_id = ?")
        params.append(scope.agent_id)
    if scope.run_id is not None:
        clauses.append(f"{prefix}run_id = ?")
        params.append(scope.run_id)
    return " AND ".join(clauses), params


ID_CHUNK = 400
"""Ids per statement, well under SQLite's limit on bound parameters."""


def rows_by_ids(
    conn: sqlite3.Connection,
    table: str,
    columns: str,
    ids: Sequence[uuid.UUID],
    *,
    condition: str = "",
    plain: bool = False,
) -> Iterator[Any]:
    """``columns`` of the rows of ``table`` with these ids (and meeting ``condition``),
    in no particular order; unknown ids are skipped. Plain tuples when ``plain``, else
    the connection's rows."""
    also = f" AND {condition}" if condition else ""
    for chunk in batched(list(ids), ID_CHUNK):
        cursor = conn.execute(
            f"SELECT {columns} FROM {table} WHERE id IN ({','.join('?' * len(chunk))}){also}",
            [str(i) for i in chunk],
        )
        if plain:
            cursor.row_factory = None
        yield from cursor
