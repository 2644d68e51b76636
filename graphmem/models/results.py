"""What reads and writes return: scored search hits, add summaries, history entries."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from graphmem.errors import InvalidInputError
from graphmem.models.records import Entity, Episode, Fact


class _Result(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PathHop(_Result):
    """One step of a path: from an entity, over a fact, to the next entity."""

    from_entity: str
    fact_id: uuid.UUID
    predicate: str
    to_entity: str


class ScoredFact(_Result):
    """A fact returned by search, with why and how well it matched."""

    fact: Fact
    score: float
    valid: bool = True
    """True if the fact holds at the query's ``as_of``; False for superseded history."""
    paths: list[list[PathHop]] = Field(default_factory=list)
    """Paths from an entry entity to this fact (empty for facts matched directly)."""
    sources: list[str] = Field(default_factory=list)
    """Which retrievers found it: ``vector``, ``keyword``, ``mention``, ``graph``."""


class ScoredEntity(_Result):
    """An entity returned by search."""

    entity: Entity
    score: float
    sources: list[str] = Field(default_factory=list)


class ScoredEpisode(_Result):
    """An episode (raw turn or passage) returned by search."""

    episode: Episode
    score: float
    sources: list[str] = Field(default_factory=list)


class ResultKind(StrEnum):
    """What a search can return; ``include`` names the kinds a caller wants."""

    FACTS = "facts"
    ENTITIES = "entities"
    EPISODES = "episodes"

    @classmethod
    def parse(cls, include: Iterable[str] | None) -> frozenset[ResultKind]:
        """The kinds named in ``include`` (None: all of them).

        Raises :class:`~graphmem.errors.InvalidInputError` for an empty selection or an
        unknown kind, naming the valid ones.
        """
        if include is None:
            return frozenset(cls)
        if isinstance(include, str):
            include = [include]
        names = list(include)
        unknown = [name for name in names if name not in cls._value2member_map_]
        if unknown or not names:
            valid = ", ".join(repr(kind.value) for kind in cls)
            problem = f"unknown kind {unknown[0]!r}" if unknown else "nothing selected"
            raise InvalidInputError(f"include: {problem}; choose from {valid}")
        return frozenset(cls(name) for name in names)


class SearchResult(_Result):
    """Ranked facts, entities and episodes for one query."""

    query: str
    as_of: datetime | None = None
    known_at: datetime | None = None
    facts: list[ScoredFact] = Field(default_factory=list)
    entities: list[ScoredEntity] = Field(default_factory=list)
    episodes: list[ScoredEpisode] = Field(default_factory=list)


class LLMUsage(_Result):
    """Token usage of the LLM calls one operation made."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def __add__(self, other: LLMUsage) -> LLMUsage:
        return LLMUsage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
        )


class AddResult(_Result):
    """What one ``add`` or ``add_facts`` call wrote."""

    episodes: list[Episode] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    """Entities created or matched by this call."""
    facts_added: list[Fact] = Field(default_factory=list)
    facts_reinforced: list[Fact] = Field(default_factory=list)
    """Existing facts restated by this call (provenance merged, no new edge)."""
    facts_closed: list[Fact] = Field(default_factory=list)
    """Facts this call superseded or ended (their closed state)."""
    usage: LLMUsage = Field(default_factory=LLMUsage)


class VersionStatus(StrEnum):
    """Where a fact version stands now."""

    CURRENT = "current"
    SUPERSEDED = "superseded"
    ENDED = "ended"
    ARRIVED_CLOSED = "arrived_closed"
    CORRECTED = "corrected"
    RETRACTED = "retracted"
    FUTURE = "future"


class HistoryEntry(_Result):
    """One version of a fact, in the order the versions took effect."""

    fact: Fact
    status: VersionStatus
    supersedes: list[uuid.UUID] = Field(default_factory=list)
    """Versions this one replaced."""


class MemorySnapshot(_Result):
    """What ``Memory.get_all`` returns: a scope's facts, entities and episodes."""

    facts: list[Fact] = Field(default_factory=list)
    entities: list[Entity] = Field(default_factory=list)
    episodes: list[Episode] = Field(default_factory=list)
