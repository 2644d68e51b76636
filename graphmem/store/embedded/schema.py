"""SQLite schema of the embedded store: the source of truth plus its FTS5 keyword index.

Records are keyed by UUID text ids; the integer rowid of each table is the key used by
the in-memory vector index. ``index_log`` records every change that affects a vector
index, in the same transaction as the change, so that a vector snapshot taken at
sequence N can be caught up to the truth after a crash or another process's writes.
"""

from __future__ import annotations

import sqlite3

from graphmem.errors import StoreError

SCHEMA_VERSION = 2
"""1: the first release; 2: ``expires_at`` on episodes and facts, retention policies."""

TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS episodes (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    content TEXT NOT NULL,
    role TEXT NOT NULL,
    name TEXT,
    valid_at TEXT NOT NULL,
    created_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    embedding BLOB,
    expires_at TEXT
);
CREATE INDEX IF NOT EXISTS episodes_by_owner ON episodes (owner, valid_at);

CREATE TABLE IF NOT EXISTS entities (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    normalized_name TEXT NOT NULL,
    aliases TEXT NOT NULL,
    type TEXT NOT NULL,
    summary TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    metadata TEXT NOT NULL,
    embedding BLOB
);
CREATE INDEX IF NOT EXISTS entities_by_name ON entities (owner, normalized_name);
CREATE INDEX IF NOT EXISTS entities_by_update ON entities (owner, updated_at);

CREATE TABLE IF NOT EXISTS entity_names (
    owner TEXT NOT NULL,
    normalized TEXT NOT NULL,
    entity_id TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    PRIMARY KEY (owner, normalized, entity_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS entity_names_by_entity ON entity_names (entity_id);

CREATE TABLE IF NOT EXISTS facts (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    owner TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    subject_id TEXT NOT NULL,
    predicate TEXT NOT NULL,
    object_id TEXT NOT NULL,
    fact TEXT NOT NULL,
    subject_name TEXT NOT NULL,
    object_name TEXT NOT NULL,
    confidence REAL NOT NULL,
    episode_ids TEXT NOT NULL,
    valid_at TEXT, invalid_at TEXT,
    created_at TEXT NOT NULL,
    expired_at TEXT, expired_reason TEXT,
    superseded_by TEXT,
    closed_by_episode_id TEXT,
    metadata TEXT NOT NULL,
    embedding BLOB,
    expires_at TEXT
);
CREATE INDEX IF NOT EXISTS facts_by_subject ON facts (subject_id, predicate);
CREATE INDEX IF NOT EXISTS facts_by_object ON facts (object_id, predicate);
CREATE INDEX IF NOT EXISTS facts_by_owner ON facts (owner, created_at);
-- A search reads each entity's newest facts first (a hub's whole degree would be slow).
CREATE INDEX IF NOT EXISTS facts_by_subject_time ON facts (subject_id, created_at);
CREATE INDEX IF NOT EXISTS facts_by_object_time ON facts (object_id, created_at);
CREATE INDEX IF NOT EXISTS facts_by_closer ON facts (closed_by_episode_id)
    WHERE closed_by_episode_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS facts_by_superseder ON facts (superseded_by)
    WHERE superseded_by IS NOT NULL;
-- Deleting a version (a correction, a deleted entity's fact, a forgotten run's fact)
-- must not leave the versions it replaced pointing at nothing.
CREATE TRIGGER IF NOT EXISTS facts_superseder_delete AFTER DELETE ON facts BEGIN
    UPDATE facts SET superseded_by = NULL WHERE superseded_by = old.id;
END;

CREATE TABLE IF NOT EXISTS fact_sources (
    episode_id TEXT NOT NULL,
    fact_id TEXT NOT NULL REFERENCES facts (id) ON DELETE CASCADE,
    PRIMARY KEY (episode_id, fact_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS fact_sources_by_fact ON fact_sources (fact_id);

CREATE TABLE IF NOT EXISTS mentions (
    episode_id TEXT NOT NULL REFERENCES episodes (id) ON DELETE CASCADE,
    entity_id TEXT NOT NULL REFERENCES entities (id) ON DELETE CASCADE,
    PRIMARY KEY (episode_id, entity_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mentions_by_entity ON mentions (entity_id);

CREATE TABLE IF NOT EXISTS audit (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    at TEXT NOT NULL,
    action TEXT NOT NULL,
    owner TEXT,
    actor TEXT,
    target_ids TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_by_owner ON audit (owner, at);

CREATE TABLE IF NOT EXISTS index_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    item_rowid INTEGER NOT NULL,
    op TEXT NOT NULL
);

-- Every change to a fact row, for the in-memory edge cache of searches (rowids only:
-- the cache re-reads the rows). Compacted to the newest entries as it grows.
CREATE TABLE IF NOT EXISTS fact_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    fact_rowid INTEGER NOT NULL
);
CREATE TRIGGER IF NOT EXISTS facts_log_insert AFTER INSERT ON facts BEGIN
    INSERT INTO fact_log (fact_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS facts_log_update AFTER UPDATE ON facts BEGIN
    INSERT INTO fact_log (fact_rowid) VALUES (new.rowid);
END;
CREATE TRIGGER IF NOT EXISTS facts_log_delete AFTER DELETE ON facts BEGIN
    INSERT INTO fact_log (fact_rowid) VALUES (old.rowid);
END;

CREATE TABLE IF NOT EXISTS retention_policies (
    scope_key TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, run_id TEXT,
    max_age_seconds REAL NOT NULL,
    created_at TEXT NOT NULL
);
"""

# Columns added after the first release, as (table, column, type). Indexes on them are
# created after the columns exist, which an old store's file only guarantees after
# :func:`migrate_schema`.
ADDED_COLUMNS = (("episodes", "expires_at", "TEXT"), ("facts", "expires_at", "TEXT"))
EXPIRY_INDEXES = (
    "CREATE INDEX IF NOT EXISTS episodes_by_expiry ON episodes (expires_at) "
    "WHERE expires_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS facts_by_expiry ON facts (expires_at) WHERE expires_at IS NOT NULL",
)


def migrate_schema(conn: sqlite3.Connection) -> None:
    """Bring a store written by an older graphmem up to :data:`SCHEMA_VERSION`.

    Runs inside the opening transaction, after :data:`TABLES`. A new store has no
    ``schema_version`` yet (it is written with the embedder identity) and needs nothing.
    """
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    version = int(row[0]) if row is not None else SCHEMA_VERSION
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store was written by a newer graphmem (schema {version}; this version "
            f"reads up to {SCHEMA_VERSION}): upgrade graphmem to open it"
        )
    for table, column, sql_type in ADDED_COLUMNS:
        existing = {info[1] for info in conn.execute(f"PRAGMA table_info({table})")}
        if column not in existing:
            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")
    for statement in EXPIRY_INDEXES:
        conn.execute(statement)
    if row is not None and version < SCHEMA_VERSION:
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)]
        )


# The keyword index: FTS5 tables kept in sync by triggers, inside each write transaction.
# ``scope`` holds one opaque token per owner so that a search intersects the owner's
# postings instead of filtering every owner's matches afterwards.
KEYWORD_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS episodes_fts USING fts5 (
    scope, content, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS entities_fts USING fts5 (
    scope, names, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE VIRTUAL TABLE IF NOT EXISTS facts_fts USING fts5 (
    scope, fact, tokenize = 'porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER IF NOT EXISTS episodes_fts_insert AFTER INSERT ON episodes BEGIN
    INSERT INTO episodes_fts (rowid, scope, content)
    VALUES (new.rowid, scope_token(new.owner), new.content);
END;
CREATE TRIGGER IF NOT EXISTS episodes_fts_delete AFTER DELETE ON episodes BEGIN
    DELETE FROM episodes_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS episodes_fts_update AFTER UPDATE OF content, owner ON episodes BEGIN
    UPDATE episodes_fts SET scope = scope_token(new.owner), content = new.content
    WHERE rowid = new.rowid;
END;

CREATE TRIGGER IF NOT EXISTS entities_fts_insert AFTER INSERT ON entities BEGIN
    INSERT INTO entities_fts (rowid, scope, names)
    VALUES (new.rowid, scope_token(new.owner), names_text(new.name, new.aliases));
END;
CREATE TRIGGER IF NOT EXISTS entities_fts_delete AFTER DELETE ON entities BEGIN
    DELETE FROM entities_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS entities_fts_update AFTER UPDATE OF name, aliases, owner ON entities
BEGIN
    UPDATE entities_fts SET scope = scope_token(new.owner),
        names = names_text(new.name, new.aliases)
    WHERE rowid = new.rowid;
END;

CREATE TRIGGER IF NOT EXISTS facts_fts_insert AFTER INSERT ON facts BEGIN
    INSERT INTO facts_fts (rowid, scope, fact) VALUES (new.rowid, scope_token(new.owner), new.fact);
END;
CREATE TRIGGER IF NOT EXISTS facts_fts_delete AFTER DELETE ON facts BEGIN
    DELETE FROM facts_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER IF NOT EXISTS facts_fts_update AFTER UPDATE OF fact, owner ON facts BEGIN
    UPDATE facts_fts SET scope = scope_token(new.owner), fact = new.fact WHERE rowid = new.rowid;
END;
"""

# Every change to an embedding is logged for the vector index, by the same transaction.
VECTOR_LOG = "".join(
    f"""
CREATE TRIGGER IF NOT EXISTS {table}_vec_insert AFTER INSERT ON {table}
WHEN new.embedding IS NOT NULL BEGIN
    INSERT INTO index_log (kind, item_rowid, op) VALUES ('{kind}', new.rowid, 'add');
END;
CREATE TRIGGER IF NOT EXISTS {table}_vec_update AFTER UPDATE OF embedding ON {table}
WHEN new.embedding IS NOT old.embedding BEGIN
    INSERT INTO index_log (kind, item_rowid, op)
    VALUES ('{kind}', new.rowid, CASE WHEN new.embedding IS NULL THEN 'remove' ELSE 'add' END);
END;
CREATE TRIGGER IF NOT EXISTS {table}_vec_delete AFTER DELETE ON {table}
WHEN old.embedding IS NOT NULL BEGIN
    INSERT INTO index_log (kind, item_rowid, op) VALUES ('{kind}', old.rowid, 'remove');
END;
"""
    for kind, table in (("episode", "episodes"), ("entity", "entities"), ("fact", "facts"))
)

KEYWORD_TABLES = {"episode": "episodes_fts", "entity": "entities_fts", "fact": "facts_fts"}
KEYWORD_SOURCES = {
    "episodes_fts": "SELECT rowid, scope_token(owner), content FROM episodes",
    "entities_fts": "SELECT rowid, scope_token(owner), names_text(name, aliases) FROM entities",
    "facts_fts": "SELECT rowid, scope_token(owner), fact FROM facts",
}
RECORD_TABLES = {"episode": "episodes", "entity": "entities", "fact": "facts"}
