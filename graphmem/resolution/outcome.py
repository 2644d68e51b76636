"""What entity resolution returns, and counters of how it decided."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import StrEnum

from graphmem.models.records import Entity
from graphmem.models.results import LLMUsage


class MatchMethod(StrEnum):
    """The stage that settled a mention."""

    EXACT = "exact"
    """Same normalized name or alias as a stored entity."""
    FUZZY = "fuzzy"
    """A near-identical spelling of a stored name or alias (rapidfuzz)."""
    FIRST_NAME = "first_name"
    """A lone first name matching exactly one stored person's full name."""
    EMBEDDING = "embedding"
    """A close embedding neighbour sharing a word or an abbreviation."""
    LLM = "llm"
    """Chosen by the LLM among ambiguous candidates."""
    NEW = "new"
    """No stored entity matched: a new entity."""


@dataclass(slots=True)
class ResolutionStats:
    """Counters of resolution work: decisions per stage (per distinct entity, not per
    mention), and the expensive operations they cost."""

    mentions: int = 0
    groups: int = 0
    """Distinct entities the mentions collapsed into."""
    exact: int = 0
    fuzzy: int = 0
    first_name: int = 0
    embedding: int = 0
    llm: int = 0
    new: int = 0
    ambiguous: int = 0
    """Decisions the scores left open (settled by the LLM, or by fallback without one)."""
    embedded_texts: int = 0
    """Names that needed a vector (the model embeds only those not cached already)."""
    vector_searches: int = 0
    llm_calls: int = 0
    llm_failures: int = 0
    """LLM calls that failed or stayed invalid; their mentions used the fallback."""

    def count(self, method: MatchMethod) -> None:
        """Count one decision made by ``method``."""
        setattr(self, method.value, getattr(self, method.value) + 1)

    def merge(self, other: ResolutionStats) -> None:
        """Add another set of counters to this one."""
        for counter in fields(self):
            setattr(self, counter.name, getattr(self, counter.name) + getattr(other, counter.name))


@dataclass(slots=True)
class Resolution:
    """The entity each mention refers to.

    ``entities`` has one entry per input mention, in input order; mentions of the
    same entity share one object. New entities are not stored yet: they carry their
    embedding, owner, normalized name and aliases, ready for ``put_entities``.
    """

    entities: list[Entity]
    is_new: list[bool]
    changed: list[Entity]
    """Stored entities that gained aliases or a more specific type (store them again)."""
    methods: list[MatchMethod] = field(default_factory=list)
    """How each mention was resolved (parallel to ``entities``)."""
    stats: ResolutionStats = field(default_factory=ResolutionStats)
    llm_usage: LLMUsage = field(default_factory=LLMUsage)

    @property
    def new_entities(self) -> list[Entity]:
        """The distinct new entities, in order of first mention."""
        unique: dict[object, Entity] = {}
        for entity, new in zip(self.entities, self.is_new, strict=True):
            if new:
                unique.setdefault(entity.id, entity)
        return list(unique.values())
