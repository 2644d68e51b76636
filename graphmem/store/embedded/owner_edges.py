"""One owner's facts as in-memory adjacency: the unit the edge cache holds.

Built once from an owner's rows and never mutated, so a reader may keep using one
while a writer's changes are applied to a copy (see :mod:`.edge_cache`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from graphmem.models.edges import FactEdge
from graphmem.models.scope import Scope

Touching = tuple[int, ...]
"""Rowids of the facts touching one entity, the most recently learned first (plain ints:
a tuple of them is not tracked by the garbage collector, a tuple of edges would be)."""


@dataclass(frozen=True, slots=True)
class OwnerEdges:
    """One owner's facts (every version): by rowid, and by the entities they touch.

    Never mutated once built: a reader may hold it while a writer's changes are
    applied to a copy.
    """

    by_rowid: dict[int, FactEdge]
    touching: dict[uuid.UUID, Touching]

    @classmethod
    def build(cls, rows: Iterable[tuple[int, FactEdge]]) -> OwnerEdges:
        """Index edges by rowid and by both of their ends."""
        by_rowid = dict(rows)
        return cls(by_rowid, _touching(by_rowid, None))

    def changed(self, updates: dict[int, FactEdge | None]) -> OwnerEdges:
        """A copy with rows replaced, added or (``None``) removed."""
        by_rowid = dict(self.by_rowid)
        entities: set[uuid.UUID] = set()
        for rowid, edge in updates.items():
            old = by_rowid.pop(rowid, None)
            if old is not None:
                entities.update((old.subject_id, old.object_id))
            if edge is not None:
                by_rowid[rowid] = edge
                entities.update((edge.subject_id, edge.object_id))
        touching = dict(self.touching)
        for entity in entities:
            touching.pop(entity, None)
        touching.update(_touching(by_rowid, entities))
        return OwnerEdges(by_rowid, touching)

    def around(
        self,
        scope: Scope,
        entity_ids: Sequence[uuid.UUID],
        *,
        include_expired: bool,
        per_entity: int | None,
    ) -> list[FactEdge]:
        """What :meth:`EmbeddedStore.fact_edges_of_entities` returns, from memory."""
        agent_id, run_id = scope.agent_id, scope.run_id
        by_rowid = self.by_rowid
        seen: set[int] = set()
        found: list[FactEdge] = []
        for entity_id in entity_ids:
            taken = 0
            for rowid in self.touching.get(entity_id, ()):
                if per_entity is not None and taken >= per_entity:
                    break
                edge = by_rowid[rowid]
                if (
                    (not include_expired and edge.expired_at is not None)
                    or (agent_id is not None and edge.agent_id != agent_id)
                    or (run_id is not None and edge.run_id != run_id)
                ):
                    continue
                taken += 1
                if rowid not in seen:
                    seen.add(rowid)
                    found.append(edge)
        return found


def _touching(
    by_rowid: dict[int, FactEdge], only: set[uuid.UUID] | None
) -> dict[uuid.UUID, Touching]:
    """Entity -> its facts, newest first (``only``: just these entities)."""
    pairs = [
        (rowid, edge)
        for rowid, edge in by_rowid.items()
        if only is None or edge.subject_id in only or edge.object_id in only
    ]
    # The order SQLite's per-entity bound uses: learned time, then id, descending (the
    # text of a UUID sorts as its integer). One sort orders every entity's list.
    pairs.sort(key=lambda pair: (pair[1].created_at, pair[1].id.int), reverse=True)
    lists: dict[uuid.UUID, list[int]] = {}
    for rowid, edge in pairs:
        subject, obj = edge.subject_id, edge.object_id
        if only is None or subject in only:
            lists.setdefault(subject, []).append(rowid)
        if obj != subject and (only is None or obj in only):
            lists.setdefault(obj, []).append(rowid)
    return {entity: tuple(found) for entity, found in lists.items()}
