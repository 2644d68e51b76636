"""Reading every record of a Neo4j store in pages, embeddings included (for migration)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.store.neo4j import admin
from graphmem.store.neo4j.records import audit_from, entity_from, episode_from, fact_from
from graphmem.store.neo4j.statements import Statement

Reader = Callable[[Statement], list[dict[str, Any]]]


class Neo4jExport:
    """Pages of records in id order (keyset pagination on the unique id indexes).

    Pages are separate reads, not one snapshot: export a database nothing writes to.
    """

    def __init__(self, read: Reader) -> None:
        self._read = read

    def totals(self) -> dict[str, int]:
        """How many episodes, entities, facts, mentions and audit events there are."""
        return {key: int(value) for key, value in self._read(admin.EXPORT_TOTALS)[0].items()}

    def _pages(self, label: str, batch: int) -> Iterator[list[dict[str, Any]]]:
        after = ""
        while rows := self._read(admin.export_page(label, after, batch)):
            page = [row["props"] for row in rows]
            after = page[-1]["id"]
            yield page

    def episodes(self, batch: int) -> Iterator[list[Episode]]:
        """Every episode with its embedding."""
        for page in self._pages("Episode", batch):
            yield [episode_from(props, with_embedding=True) for props in page]

    def entities(self, batch: int) -> Iterator[list[Entity]]:
        """Every entity with its embedding."""
        for page in self._pages("Entity", batch):
            yield [entity_from(props, with_embedding=True) for props in page]

    def facts(self, batch: int) -> Iterator[list[Fact]]:
        """Every fact version with its embedding."""
        for page in self._pages("FactRecord", batch):
            yield [fact_from(props, with_embedding=True) for props in page]

    def mentions(self, batch: int) -> Iterator[list[tuple[uuid.UUID, uuid.UUID]]]:
        """Every MENTIONS edge, in pages of ``batch`` episodes."""
        after = ""
        while rows := self._read(admin.export_mentions_page(after, batch)):
            after = max(row["episode_id"] for row in rows)
            yield [
                (uuid.UUID(row["episode_id"]), uuid.UUID(entity_id))
                for row in rows
                for entity_id in row["entity_ids"]
            ]

    def audit(self, batch: int) -> Iterator[list[AuditEvent]]:
        """Every audit event, oldest first."""
        skip = 0
        while rows := self._read(admin.export_audit_page(skip, batch)):
            skip += len(rows)
            yield [audit_from(row["props"]) for row in rows]
