"""The working state of one resolution call, shared by its stages."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from graphmem.models.records import Entity
from graphmem.models.scope import Scope
from graphmem.resolution.adjudication import Ambiguity
from graphmem.resolution.mentions import MentionGroup
from graphmem.resolution.outcome import MatchMethod, ResolutionStats


@dataclass(frozen=True, slots=True)
class ResolverSettings:
    """Thresholds and limits every stage reads."""

    fuzzy_threshold: float
    embedding_threshold: float
    ambiguous_low: float
    ambiguous_high: float
    candidates_per_mention: int


class ResolutionRun:
    """Which group is matched to what, which are ambiguous, and the entities seen so far.

    Every stored entity a stage looks at goes through :meth:`adopt`, which drops other
    owners' entities and makes sure one id maps to one shared object.
    """

    def __init__(self, owner: str, groups: list[MentionGroup], mention_count: int) -> None:
        self.owner = owner
        self.groups = groups
        self.matches: list[Entity | None] = [None] * len(groups)
        self.methods: list[MatchMethod] = [MatchMethod.NEW] * len(groups)
        self.ambiguities: dict[int, Ambiguity] = {}
        self.vectors: dict[int, list[float]] = {}
        self.known: dict[uuid.UUID, Entity] = {}
        self.stats = ResolutionStats(mentions=mention_count, groups=len(groups))

    def open_groups(self) -> list[int]:
        """Groups neither matched nor waiting for the LLM."""
        return [
            index
            for index, match in enumerate(self.matches)
            if match is None and index not in self.ambiguities
        ]

    def unmatched_groups(self) -> list[int]:
        """Groups without a match yet (open or ambiguous): those that may become new."""
        return [index for index, match in enumerate(self.matches) if match is None]

    def adopt(self, entities: Iterable[Entity]) -> dict[uuid.UUID, Entity]:
        """The owner's entities among ``entities``, one shared object per id."""
        adopted: dict[uuid.UUID, Entity] = {}
        for entity in entities:
            if entity.owner == self.owner:
                adopted[entity.id] = self.known.setdefault(entity.id, entity)
        return adopted

    def add_ambiguity(self, ambiguity: Ambiguity) -> None:
        """Leave a group for the LLM (or for its fallback when there is none)."""
        self.ambiguities[ambiguity.group] = ambiguity
        self.stats.ambiguous += 1

    def settled(self, group: int) -> Entity:
        """The entity a group was settled on (every group is, once resolution ends)."""
        entity = self.matches[group]
        if entity is None:
            raise AssertionError(f"group {group} was never settled")
        return entity

    def match(self, group: int, entity: Entity, method: MatchMethod) -> None:
        """Settle a group on an entity (the shared object for its id)."""
        self.matches[group] = self.known.setdefault(entity.id, entity)
        self.methods[group] = method
        self.stats.count(method)
        self.ambiguities.pop(group, None)


@dataclass(slots=True)
class PendingResolution:
    """A resolution whose store-only stages have run, waiting for the vectors of ``texts``.

    Returned by ``EntityResolver.begin``; ``texts`` are the names of the groups that may
    still become new entities (``embed_groups``, in the same order).
    """

    run: ResolutionRun
    assignment: list[int]
    """The group of each input mention, in input order."""
    scope: Scope
    embed_groups: list[int] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    finished: bool = False
