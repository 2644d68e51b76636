"""The extractor protocol: a batch of episodes in, a validated :class:`Extraction` out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from graphmem.extraction.models import Extraction
from graphmem.models.records import Episode
from graphmem.models.results import LLMUsage


@dataclass(frozen=True, slots=True)
class KnownEntity:
    """An entity already stored in the scope, offered to extractors as context."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class ExtractionRequest:
    """What an extractor sees: new episodes, a short window of earlier ones, known names."""

    episodes: list[Episode]
    recent: list[Episode] = field(default_factory=list)
    """Earlier episodes of the same scope, oldest first (context only; extract nothing)."""
    known_entities: list[KnownEntity] = field(default_factory=list)
    """Entities the owner already has, the most recently updated last (a bounded number
    of them)."""
    speakers: list[str] = field(default_factory=list)
    """Names of the conversation's participants, when known."""
    user_name: str | None = None
    """Name to use for the speaker of ``user`` turns that carry no name."""


@dataclass(slots=True)
class ExtractionOutcome:
    """An extraction and the LLM usage it cost (zero for offline extractors)."""

    extraction: Extraction
    usage: LLMUsage = field(default_factory=LLMUsage)


@runtime_checkable
class Extractor(Protocol):
    """Turns episodes into entities, facts and endings. Must not write anything."""

    @property
    def name(self) -> str:
        """Short identifier shown in stats and audit records (``rules``, ``anthropic``)."""
        ...

    def extract(self, request: ExtractionRequest) -> ExtractionOutcome:
        """Extract from ``request.episodes``; raise :class:`~graphmem.errors.ExtractionError`."""
        ...
