"""Drafting pre-extracted triples (``add_facts``): provenance episodes and mentions.

A triple's ``source`` is the id of a stored episode of the same scope (cited, not
copied), or text that becomes a new document episode; triples without one share an
episode whose content is the triples themselves, so every fact keeps provenance.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphmem.errors import NotFoundError
from graphmem.models.records import AuditAction, Episode
from graphmem.models.scope import Scope
from graphmem.models.time import utcnow
from graphmem.resolution.names import normalize_name
from graphmem.resolution.resolver import EntityMention
from graphmem.store.base import GraphStore
from graphmem.writing.draft import WriteDraft


@dataclass(slots=True)
class TripleInput:
    """A validated pre-extracted triple (see ``Memory.add_facts``)."""

    subject: str
    predicate: str
    object: str
    fact: str | None = None
    valid_at: datetime | None = None
    invalid_at: datetime | None = None
    confidence: float = 1.0
    source: uuid.UUID | str | None = None
    subject_type: str = "Thing"
    object_type: str = "Thing"
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class TripleDefaults:
    """What applies to every triple of one ``add_facts`` call unless a triple says otherwise."""

    source: uuid.UUID | str | None
    """Provenance of the triples without a ``source`` of their own."""
    timestamp: datetime | None
    """Event time of new source episodes; None for the time of the call."""
    metadata: dict[str, Any]
    """Metadata of new source episodes, and of every fact under the triple's own."""
    expires_at: datetime | None = None
    """Expiry of new source episodes and of every triple's fact, also of facts citing
    a stored episode that does not expire."""


def draft_triples(
    store: GraphStore, triples: Sequence[TripleInput], scope: Scope, defaults: TripleDefaults
) -> WriteDraft:
    """The draft of writing ``triples`` into ``scope``.

    Raises :class:`~graphmem.errors.NotFoundError` when a source id names no episode
    of ``scope``.
    """
    now = utcnow()
    episodes: list[Episode] = []
    by_source: dict[uuid.UUID | str | None, int] = {}
    existing = _existing_sources(store, triples, defaults.source, scope)
    draft = WriteDraft(
        scope,
        episodes,
        [],
        [],
        [],
        [],
        AuditAction.ADD_FACTS,
        fact_expiry=defaults.expires_at,
        stored_episode_ids={episode.id for episode in existing.values()},
    )
    index: dict[str, int] = {}

    def mention(name: str, entity_type: str) -> int:
        key = normalize_name(name)
        if key not in index:
            index[key] = len(draft.mentions)
            draft.mentions.append(EntityMention(name=name.strip(), type=entity_type))
            draft.mention_episodes.append([])
        return index[key]

    def episode_for(triple: TripleInput) -> int:
        source = triple.source if triple.source is not None else defaults.source
        if source not in by_source:
            by_source[source] = len(episodes)
            episodes.append(
                existing.get(source)
                or _source_episode(
                    source,
                    triples,
                    scope,
                    defaults.timestamp or now,
                    now,
                    defaults.metadata,
                    defaults.expires_at,
                )
            )
        return by_source[source]

    for triple in triples:
        position = episode_for(triple)
        subject = mention(triple.subject, triple.subject_type)
        obj = mention(triple.object, triple.object_type)
        # The source episode mentions both ends (as an extracted episode would).
        for slot in (subject, obj):
            if position not in draft.mention_episodes[slot]:
                draft.mention_episodes[slot].append(position)
        sentence = (
            triple.fact or f"{triple.subject} {triple.predicate.replace('_', ' ')} {triple.object}."
        )
        draft.facts.append(
            (
                subject,
                obj,
                triple.predicate,
                sentence,
                triple.valid_at,
                triple.invalid_at,
                triple.confidence,
                position,
                {**defaults.metadata, **triple.metadata},
            )
        )
    return draft


def _existing_sources(
    store: GraphStore,
    triples: Sequence[TripleInput],
    default_source: uuid.UUID | str | None,
    scope: Scope,
) -> dict[uuid.UUID | str | None, Episode]:
    """Sources that name stored episodes of this scope."""
    candidates = {t.source for t in triples if isinstance(t.source, uuid.UUID)}
    if isinstance(default_source, uuid.UUID):
        candidates.add(default_source)
    found = {e.id: e for e in store.get_episodes(list(candidates))} if candidates else {}
    for source in candidates:
        episode = found.get(source)
        if episode is None or not scope.contains(episode.user_id, episode.agent_id, episode.run_id):
            raise NotFoundError(f"no episode {source} in scope {scope.describe()}")
    return {source: found[source] for source in candidates}


def _source_episode(
    source: uuid.UUID | str | None,
    triples: Sequence[TripleInput],
    scope: Scope,
    valid_at: datetime,
    now: datetime,
    metadata: dict[str, Any],
    expires_at: datetime | None = None,
) -> Episode:
    if isinstance(source, str):
        content = source
    else:  # no source given: the triples themselves are the raw input
        content = "\n".join(
            f"{t.subject} | {t.predicate} | {t.object}" for t in triples if t.source is None
        )
    return Episode(
        content=content,
        role="document",
        valid_at=valid_at,
        created_at=now,
        metadata=dict(metadata),
        user_id=scope.user_id,
        agent_id=scope.agent_id,
        run_id=scope.run_id,
        expires_at=expires_at,
    )
