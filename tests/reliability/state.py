"""A complete picture of what an embedded store holds, to prove a call changed nothing.

``capture`` reads every truth table through its own read-only SQLite connection (so
it sees exactly what is committed), the keyword index sizes, ``Memory.stats()`` and a
JSONL export of every owner. Two captures compare equal only if not one row, vector,
audit entry or index posting differs.
"""

from __future__ import annotations

import hashlib
import io
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from graphmem import Memory
from graphmem.cli.importing import export_jsonl
from graphmem.store.base import ScopeCounts

TRUTH_TABLES = (
    "episodes",
    "entities",
    "entity_names",
    "facts",
    "fact_sources",
    "mentions",
    "audit",
)
KEYWORD_TABLES = ("episodes_fts", "entities_fts", "facts_fts")
DATABASE_FILE = "graph.sqlite3"


@dataclass(frozen=True)
class StoreState:
    """Digests of everything a store holds; equal states hold equal data."""

    stats: ScopeCounts
    row_counts: tuple[tuple[str, int], ...]
    row_digests: tuple[tuple[str, str], ...]
    exports: tuple[tuple[str, str], ...]


def open_read_only(directory: Path) -> sqlite3.Connection:
    """A read-only connection to a store's database (sees only committed data)."""
    uri = f"file:{directory / DATABASE_FILE}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=30)


def owner_scope(owner: str) -> dict[str, str | None]:
    """Keyword scope ids that read a whole owner (``user:alice`` -> user_id=alice)."""
    kind, _, value = owner.partition(":")
    return {
        "user_id": value if kind == "user" else None,
        "agent_id": value if kind == "agent" else None,
        "run_id": value if kind == "run" else None,
    }


def owners(directory: Path) -> list[str]:
    """Every owner with a record in the store."""
    with closing(open_read_only(directory)) as conn:
        rows = conn.execute(
            "SELECT owner FROM episodes UNION SELECT owner FROM entities "
            "UNION SELECT owner FROM facts"
        ).fetchall()
    return sorted(row[0] for row in rows)


def capture(memory: Memory) -> StoreState:
    """Everything ``memory``'s embedded store holds, as comparable digests."""
    directory = memory.store.directory  # type: ignore[attr-defined]
    counts: list[tuple[str, int]] = []
    digests: list[tuple[str, str]] = []
    with closing(open_read_only(directory)) as conn:
        for table in (*TRUTH_TABLES, *KEYWORD_TABLES):
            rows = conn.execute(f"SELECT * FROM {table}").fetchall()
            counts.append((table, len(rows)))
            if table in TRUTH_TABLES:
                digest = hashlib.sha256()
                for text in sorted(repr(row) for row in rows):
                    digest.update(text.encode("utf-8", "surrogatepass"))
                digests.append((table, digest.hexdigest()))
    exports: list[tuple[str, str]] = []
    for owner in owners(directory):
        buffer = io.StringIO()
        export_jsonl(memory, buffer, scope=owner_scope(owner))
        exports.append((owner, buffer.getvalue()))
    return StoreState(memory.stats(), tuple(counts), tuple(digests), tuple(exports))
