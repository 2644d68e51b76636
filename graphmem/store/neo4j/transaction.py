"""The Neo4j store's write transaction: one explicit Neo4j transaction per unit of work.

Each method sends a handful of ``UNWIND`` statements whatever the batch size, and
reads see the transaction's own writes (Neo4j transactions do).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

import neo4j

from graphmem.errors import StoreError
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.store.neo4j import reads, statements
from graphmem.store.neo4j.connection import run
from graphmem.store.neo4j.records import entity_from, fact_from
from graphmem.store.neo4j.statements import Statement, id_list

BATCH = 2_000
"""Rows per statement: large batches stay well under Neo4j's message and memory limits."""


def _chunks(items: Sequence[Any], size: int = BATCH) -> list[Sequence[Any]]:
    return [items[start : start + size] for start in range(0, len(items), size)]


class Neo4jTransaction:
    """Reads and writes inside one Neo4j transaction (see ``StoreTransaction``)."""

    def __init__(self, tx: neo4j.Transaction, dim: int) -> None:
        self._tx = tx
        self._dim = dim

    def run(self, statement: Statement) -> list[dict[str, Any]]:
        """Run one statement in this transaction."""
        return run(self._tx, statement)

    # -- reads -------------------------------------------------------------------------------
    def entities_by_names(self, owner: str, normalized_names: Sequence[str]) -> list[Entity]:
        """Entities of ``owner`` with one of these normalized names or aliases."""
        if not normalized_names:
            return []
        rows = self.run(reads.entities_by_names(owner, normalized_names))
        return [entity_from(row["props"]) for row in rows]

    def facts_touching(
        self, owner: str, entity_ids: Sequence[uuid.UUID], predicates: Sequence[str]
    ) -> list[Fact]:
        """All versions of ``owner``'s facts with these predicates touching the entities."""
        if not entity_ids or not predicates:
            return []
        rows = self.run(reads.facts_touching(owner, id_list(entity_ids), predicates))
        return [fact_from(row["props"]) for row in rows]

    def get_facts(self, ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts by id."""
        found: list[Fact] = []
        for chunk in _chunks(id_list(ids)):
            found.extend(fact_from(row["props"]) for row in self.run(reads.facts_by_ids(chunk)))
        return found

    def facts_citing_episodes(self, episode_ids: Sequence[uuid.UUID]) -> list[Fact]:
        """Facts whose provenance or closure refers to one of the episodes."""
        found: dict[uuid.UUID, Fact] = {}
        for chunk in _chunks(id_list(episode_ids)):
            for row in self.run(reads.facts_citing_episodes(chunk)):
                fact = fact_from(row["props"])
                found[fact.id] = fact
        return list(found.values())

    # -- writes ------------------------------------------------------------------------------
    def put_episodes(self, episodes: Sequence[Episode]) -> None:
        """Insert or replace episodes."""
        for chunk in _chunks(episodes):
            self.run(statements.put_episodes(chunk, self._dim))

    def put_entities(self, entities: Sequence[Entity]) -> None:
        """Insert or replace entities; a changed type moves the entity to its new label."""
        for chunk in _chunks(entities):
            stale: dict[str, list[str]] = {}
            for statement in statements.put_entities(chunk, self._dim):
                for row in self.run(statement):
                    previous = row["previous_label"]
                    if previous is not None and previous != row["label"]:
                        stale.setdefault(previous, []).append(row["id"])
            for label, ids in stale.items():
                self.run(statements.remove_entity_label(label, ids))

    def put_facts(self, facts: Sequence[Fact]) -> None:
        """Insert or replace facts: record, typed relationship and provenance.

        A replaced fact's old relationship is deleted and created afresh, so a fact
        whose endpoints or predicate changed never leaves a stale edge behind.
        """
        for chunk in _chunks(list({fact.id: fact for fact in facts}.values())):
            ids = id_list(fact.id for fact in chunk)
            groups = statements.fact_relationship_groups(chunk)  # validates before writing
            self.run(statements.delete_fact_relationships(ids))
            self.run(statements.delete_fact_sources(ids))
            self.run(statements.put_fact_records(chunk, self._dim))
            for rel_type, rows in groups.items():
                result = self.run(statements.create_fact_relationships(rel_type, rows))
                created = set(result[0]["created"])
                missing = [row["id"] for row in rows if row["id"] not in created]
                if missing:
                    raise StoreError(
                        f"fact {missing[0]} refers to an entity that does not exist "
                        f"({len(missing)} such facts); write entities before their facts"
                    )
            self.run(statements.put_fact_sources(chunk))

    def put_mentions(self, mentions: Sequence[tuple[uuid.UUID, uuid.UUID]]) -> None:
        """Record MENTIONS edges; duplicates are ignored."""
        pairs = list(dict.fromkeys(mentions))
        for chunk in _chunks(pairs):
            matched = self.run(statements.put_mentions(chunk))[0]["matched"]
            if matched != len(chunk):
                raise StoreError(
                    f"{len(chunk) - matched} MENTIONS edges refer to an episode or entity "
                    "that does not exist"
                )

    def delete_facts(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete facts (relationship, record and provenance)."""
        for chunk in _chunks(id_list(ids)):
            for statement in statements.delete_facts(chunk):
                self.run(statement)

    def delete_episodes(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete episodes and their MENTIONS edges."""
        for chunk in _chunks(id_list(ids)):
            self.run(statements.delete_episodes(chunk))

    def delete_entities(self, ids: Sequence[uuid.UUID]) -> None:
        """Hard-delete entities, their MENTIONS edges and every fact touching them."""
        for chunk in _chunks(id_list(ids)):
            fact_ids = [row["id"] for row in self.run(statements.facts_touching_entities(chunk))]
            for fact_chunk in _chunks(fact_ids):
                for statement in statements.delete_facts(fact_chunk):
                    self.run(statement)
            self.run(statements.delete_entities(chunk))

    def append_audit(self, events: Sequence[AuditEvent]) -> None:
        """Append entries to the audit log."""
        for start in range(0, len(events), BATCH):
            self.run(statements.append_audit(events[start : start + BATCH], first_seq=start))
