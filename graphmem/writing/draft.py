"""What one write will commit, assembled before its transaction.

Messages (:mod:`graphmem.writing.extraction_draft`) and triples
(:mod:`graphmem.writing.triple_draft`) are both drafted in terms of positions, not ids:
entities are only resolved, and facts only built, when the draft is committed
(:mod:`graphmem.writing.commit`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmem.models.records import AuditAction, Episode
from graphmem.models.results import LLMUsage
from graphmem.models.scope import Scope
from graphmem.resolution.resolver import EntityMention

DraftFact = tuple[int, int, str, str, datetime | None, datetime | None, float, int, dict[str, Any]]
"""(subject mention, object mention, predicate, sentence, valid_at, invalid_at,
confidence, episode position, metadata)."""

DraftEnding = tuple[int, str, int | None, datetime | None, int]
"""(subject mention, predicate, object mention or None, ended_at, episode position)."""


@dataclass(slots=True)
class WriteDraft:
    """What one write will commit; mentions and facts refer to entries by position."""

    scope: Scope
    episodes: list[Episode]
    mentions: list[EntityMention]
    mention_episodes: list[list[int]]
    """Per mention, the positions of the episodes that mention it."""
    facts: list[DraftFact]
    endings: list[DraftEnding]
    action: AuditAction
    usage: LLMUsage = field(default_factory=LLMUsage)
    fact_expiry: datetime | None = None
    """An expiry for this write's facts that overrides their episodes' (add_facts)."""
    stored_episode_ids: set[uuid.UUID] = field(default_factory=set)
    """Episodes of ``episodes`` already in the store (cited sources): not written again."""
