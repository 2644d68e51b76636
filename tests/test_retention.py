"""Expiry, retention policies, gc and deletion records: what an operator relies on
to keep data only as long as allowed and to prove that it is gone."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from graphmem import Memory, MemoryConfig
from graphmem.errors import InvalidInputError, ScopeRequiredError
from graphmem.lifecycle import is_expired, parse_expiration, without_expired
from graphmem.lifecycle.neo4j import (
    audit_events_statement,
    created_before_statement,
    delete_policy_statement,
    expired_statement,
    put_policy_statement,
)
from graphmem.lifecycle.policy import RetentionPolicy
from graphmem.models.records import AuditAction, Episode
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.store.embedded.schema import SCHEMA_VERSION

PAST = datetime(2020, 1, 1, tzinfo=UTC)


def _fact_texts(memory: Memory, **scope: Any) -> set[str]:
    return {f.fact for f in memory.get_all(**scope).facts}


# -- expiration_date ---------------------------------------------------------------------
def test_expired_turns_and_their_facts_leave_default_reads(memory: Memory) -> None:
    memory.add("I work at Acme.", user_id="alice")
    memory.add("I live in Paris.", user_id="alice", expiration_date=PAST)

    snapshot = memory.get_all(user_id="alice")
    assert [e.content for e in snapshot.episodes] == ["I work at Acme."]
    assert all("Paris" not in fact.fact for fact in snapshot.facts)
    assert any("Acme" in fact.fact for fact in snapshot.facts)
    result = memory.search("where does alice live? Paris", user_id="alice")
    assert all("Paris" not in hit.fact.fact for hit in result.facts)
    assert all("Paris" not in hit.episode.content for hit in result.episodes)
    assert "Paris" not in memory.context("Paris", user_id="alice")


def test_future_expiry_is_stored_on_episodes_and_inherited_by_facts(memory: Memory) -> None:
    result = memory.add("I live in Lisbon.", user_id="alice", expiration_date="2998-12-31")

    end = datetime(2999, 1, 1, tzinfo=UTC)  # a date is kept through that whole day
    assert result.episodes[0].expires_at == end
    stored = memory.get(result.facts_added[0].id, user_id="alice")
    assert stored.expires_at == end
    assert memory.get_all(user_id="alice").facts  # not expired yet


def test_a_restatement_without_expiry_makes_the_fact_permanent(memory: Memory) -> None:
    first = memory.add("I live in Rome.", user_id="alice", expiration_date=PAST)
    fact_id = first.facts_added[0].id
    again = memory.add("I live in Rome.", user_id="alice")

    assert [f.id for f in again.facts_reinforced] == [fact_id]
    assert memory.get(fact_id).expires_at is None
    assert any(f.id == fact_id for f in memory.get_all(user_id="alice").facts)
    report = memory.gc()
    assert report.episodes == 1
    assert report.facts == 0  # the fact lost one source and kept the other
    survivor = memory.get(fact_id)
    assert survivor.episode_ids == [again.episodes[0].id]


def test_expiration_date_forms() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert parse_expiration(None) is None
    assert parse_expiration(timedelta(days=2), now=now) == now + timedelta(days=2)
    assert parse_expiration(date(2026, 5, 3)) == datetime(2026, 5, 4, tzinfo=UTC)
    assert parse_expiration("2026-05-03T10:00:00+02:00") == datetime(2026, 5, 3, 8, tzinfo=UTC)
    for bad in ("2026-02-30", "soon", datetime(2026, 5, 3), timedelta(0), 5, "2999-12-31"):
        with pytest.raises(InvalidInputError):
            parse_expiration(bad)


def test_bad_expiration_date_writes_nothing(memory: Memory) -> None:
    with pytest.raises(InvalidInputError, match="expiration_date"):
        memory.add("I live in Oslo.", user_id="alice", expiration_date="next week")
    assert memory.stats(user_id="alice").episodes == 0


def test_add_facts_expiry_applies_to_facts_citing_a_lasting_episode(memory: Memory) -> None:
    source = memory.add("Bob mentioned his plans.", user_id="alice", infer=False).episodes[0]
    added = memory.add_facts(
        [("Bob", "visits", "Tokyo")], user_id="alice", source=source.id, expiration_date=PAST
    )
    assert added.facts_added[0].expires_at is not None
    assert memory.get_all(user_id="alice").facts == []

    report = memory.gc()
    assert (report.episodes, report.facts) == (0, 1)
    assert memory.stats(user_id="alice").episodes == 1  # the lasting source stays


def test_visibility_helper_filters_search_results() -> None:
    from graphmem.models.results import ScoredEpisode, SearchResult

    live = Episode(content="kept")
    gone = Episode(content="gone", expires_at=PAST)
    result = SearchResult(
        query="q",
        episodes=[ScoredEpisode(episode=live, score=1.0), ScoredEpisode(episode=gone, score=0.5)],
    )
    assert is_expired(gone)
    assert not is_expired(live)
    assert [hit.episode.content for hit in without_expired(result).episodes] == ["kept"]


# -- gc ----------------------------------------------------------------------------------
def test_gc_purges_expired_episodes_undoes_their_effects_and_drops_orphan_names(
    memory: Memory,
) -> None:
    memory.add("I live in Boston.", user_id="alice", timestamp=datetime(2024, 1, 1, tzinfo=UTC))
    moved = memory.add(
        "I moved to Denver.",
        user_id="alice",
        timestamp=datetime(2024, 6, 1, tzinfo=UTC),
        expiration_date=PAST,
    )
    assert moved.facts_closed  # the expiring statement superseded Boston

    dry = memory.gc(dry_run=True)
    assert dry.dry_run
    assert dry.episodes == 1
    assert memory.stats(user_id="alice").episodes == 2

    report = memory.gc()
    assert report.episodes == 1
    assert report.facts >= 1
    assert report.entities >= 1  # "Denver" is no longer named anywhere
    names = {e.name for e in memory.get_all(user_id="alice").entities}
    assert "Denver" not in names
    current = _fact_texts(memory, user_id="alice")
    assert any("Boston" in text for text in current)  # undone: Boston is current again
    assert memory.gc().episodes == 0  # idempotent


def test_retention_policy_is_stored_and_applied_by_gc(memory_factory: Any) -> None:
    memory: Memory = memory_factory()
    memory.add("I work at Acme.", user_id="alice")
    memory.add("I work at Globex.", user_id="bob")
    policy = memory.set_retention(user_id="alice", max_age=timedelta(days=90))
    assert policy is not None
    assert policy.max_age == timedelta(days=90)
    assert memory.set_retention(user_id="carol", max_age=30) is not None  # days

    assert memory.gc().episodes == 0  # nothing is 90 days old yet
    later = utcnow() + timedelta(days=91)
    report = memory.gc(now=later)
    assert report.episodes == 1
    assert report.owners["user:alice"].episodes_retention == 1
    assert memory.stats(user_id="alice").episodes == 0
    assert memory.stats(user_id="alice").entities == 0
    assert memory.stats(user_id="bob").episodes == 1  # another scope, no policy

    # The policy lives in the store: another process sees it.
    memory.close()
    reopened: Memory = memory_factory()
    policies = reopened.retention_policies()
    assert [(p.user_id, p.max_age) for p in policies] == [
        ("alice", timedelta(days=90)),
        ("carol", timedelta(days=30)),
    ]
    assert reopened.set_retention(user_id="alice", max_age=None) is None
    assert [p.user_id for p in reopened.retention_policies()] == ["carol"]


def test_narrow_policy_only_purges_its_agent(memory: Memory) -> None:
    memory.add("I like tea.", user_id="alice", agent_id="helper")
    memory.add("I like coffee.", user_id="alice", agent_id="coach")
    memory.set_retention(user_id="alice", agent_id="helper", max_age=timedelta(days=1))

    report = memory.gc(now=utcnow() + timedelta(days=2))
    assert report.episodes == 1
    assert memory.stats(user_id="alice", agent_id="helper").episodes == 0
    assert memory.stats(user_id="alice", agent_id="coach").episodes == 1


def test_retention_needs_a_scope_and_a_positive_age(memory: Memory) -> None:
    with pytest.raises(ScopeRequiredError):
        memory.set_retention(max_age=timedelta(days=1))
    for bad in (timedelta(0), -3, "90d", True):
        with pytest.raises(InvalidInputError):
            memory.set_retention(user_id="alice", max_age=bad)  # type: ignore[arg-type]
    assert memory.retention_policies() == []


# -- deletion records --------------------------------------------------------------------
def test_forget_and_gc_leave_content_free_deletion_records(memory: Memory) -> None:
    memory.add("My secret project is Falcon.", user_id="alice", expiration_date=PAST)
    memory.add("I live in Paris.", user_id="bob")
    memory.gc()
    counts = memory.forget(user_id="bob")

    records = memory.deletion_records()
    by_action = {r.action: r for r in records}
    purge = by_action[AuditAction.PURGE]
    assert purge.owner == "user:alice"
    assert purge.reason == "expired"
    assert purge.scope == {"user_id": "alice"}
    assert purge.counts["episodes"] == 1
    forget = by_action[AuditAction.FORGET]
    assert forget.owner == "user:bob"
    assert forget.reason == "forget"
    assert forget.counts == {
        "episodes": counts.episodes, "facts": counts.facts, "entities": counts.entities
    }  # fmt: skip
    assert [r.action for r in memory.deletion_records(user_id="bob")] == [AuditAction.FORGET]
    dumped = " ".join(r.model_dump_json() for r in records)
    for secret in ("Falcon", "Paris", "secret"):
        assert secret not in dumped
    for event in memory.audit_log(user_id="alice", limit=1000):
        assert "Falcon" not in event.model_dump_json()


def test_gc_purge_content_is_gone_from_the_database_file(tmp_path: Path, embedder: Any) -> None:
    store = tmp_path / "store"
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        memory.add("Zanzibarian codeword quokka.", user_id="alice", expiration_date=PAST)
        memory.gc()
    with sqlite3.connect(store / "graph.sqlite3") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        rows = conn.execute(
            "SELECT count(*) FROM episodes WHERE content LIKE '%quokka%'"
        ).fetchone()
    assert rows == (0,)


# -- schema migration ----------------------------------------------------------------------
def test_an_older_store_gains_the_new_columns_on_open(tmp_path: Path, embedder: Any) -> None:
    store = tmp_path / "store"
    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        memory.add("I work at Acme.", user_id="alice")
    with sqlite3.connect(store / "graph.sqlite3") as conn:  # make it look like schema 1
        conn.execute("DROP INDEX episodes_by_expiry")
        conn.execute("DROP INDEX facts_by_expiry")
        conn.execute("ALTER TABLE episodes DROP COLUMN expires_at")
        conn.execute("ALTER TABLE facts DROP COLUMN expires_at")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")

    with Memory(MemoryConfig(path=store, use_llm=False), embedder=embedder) as memory:
        assert [e.content for e in memory.get_all(user_id="alice").episodes] == ["I work at Acme."]
        memory.add("I live in Oslo.", user_id="alice", expiration_date=PAST)
        assert memory.gc().episodes == 1
    with sqlite3.connect(store / "graph.sqlite3") as conn:
        version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    assert version == (str(SCHEMA_VERSION),)


# -- Neo4j statements ----------------------------------------------------------------------
def test_neo4j_lifecycle_statements_carry_every_value_as_a_parameter() -> None:
    scope = Scope.of(user_id="o'brien } DETACH DELETE n //", agent_id="a")
    policy = RetentionPolicy(user_id=scope.user_id, agent_id="a", max_age=timedelta(days=3))
    statements = [
        expired_statement("Episode", PAST, 10),
        expired_statement("FactRecord", PAST, 10),
        created_before_statement(scope, PAST, 10),
        put_policy_statement(policy),
        delete_policy_statement(scope),
        audit_events_statement(scope.owner, [AuditAction.FORGET], 5),
    ]
    for statement in statements:
        assert "o'brien" not in statement.text
        assert "2020" not in statement.text
    assert statements[2].params["owner"] == scope.owner
    assert statements[3].params["max_age_seconds"] == 3 * 86400
    with pytest.raises(ValueError, match="do not expire"):
        expired_statement("Entity", PAST, 10)
