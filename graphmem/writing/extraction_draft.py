"""Translation of an extractor's output into a write draft.

Extractors are not trusted: output naming nothing, with a predicate that is no safe
identifier, or with an impossible interval is dropped here rather than stored.
"""

from __future__ import annotations

from typing import Any

from graphmem.errors import InvalidIdentifierError
from graphmem.extraction.models import ExtractedEntity, Extraction
from graphmem.resolution.names import normalize_name
from graphmem.resolution.resolver import EntityMention
from graphmem.temporal.predicates import PredicateCatalogue
from graphmem.writing.draft import WriteDraft


def draft_extraction(
    draft: WriteDraft,
    extraction: Extraction,
    positions: list[int],
    metadata: dict[str, Any],
    catalogue: PredicateCatalogue,
) -> None:
    """Add an extraction's entities, facts and endings to ``draft``.

    The extraction's episode positions are relative to the extracted episodes;
    ``positions`` maps them to positions in ``draft.episodes``. Every fact carries a
    copy of ``metadata``.
    """
    index: dict[str, int] = {}

    def mention(name: str, entity: ExtractedEntity | None = None) -> int:
        key = normalize_name(name)
        if key in index:
            return index[key]
        index[key] = len(draft.mentions)
        draft.mentions.append(
            EntityMention(
                name=name.strip(),
                type=entity.type if entity else "Thing",
                aliases=tuple(entity.aliases) if entity else (),
            )
        )
        draft.mention_episodes.append([])
        return index[key]

    def episode_at(position: int) -> int:
        return positions[min(position, len(positions) - 1)]

    for entity in extraction.entities:
        if not normalize_name(entity.name):
            continue
        slot = mention(entity.name, entity)
        where = entity.episodes or list(range(len(positions)))
        draft.mention_episodes[slot].extend(episode_at(p) for p in where)
    for fact in extraction.facts:
        if not normalize_name(fact.subject) or not normalize_name(fact.object):
            continue
        if not usable_predicate(catalogue, fact.predicate):
            continue
        if fact.valid_at and fact.invalid_at and fact.invalid_at <= fact.valid_at:
            continue  # an extractor's impossible interval is dropped, not stored
        subject, obj = mention(fact.subject), mention(fact.object)
        position = episode_at(fact.episode)
        draft.mention_episodes[subject].append(position)
        draft.mention_episodes[obj].append(position)
        draft.facts.append(
            (
                subject,
                obj,
                fact.predicate,
                fact.fact,
                fact.valid_at,
                fact.invalid_at,
                fact.confidence,
                position,
                dict(metadata),
            )
        )
    for ending in extraction.endings:
        if not normalize_name(ending.subject) or not usable_predicate(catalogue, ending.predicate):
            continue
        obj_slot = (
            mention(ending.object)
            if ending.object is not None and normalize_name(ending.object)
            else None
        )
        draft.endings.append(
            (
                mention(ending.subject),
                ending.predicate,
                obj_slot,
                ending.ended_at,
                episode_at(ending.episode),
            )
        )


def usable_predicate(catalogue: PredicateCatalogue, predicate: str) -> bool:
    """False for a predicate that is no safe identifier: extractor output naming it is
    skipped, not an error, since the rest of the extraction is still good."""
    try:
        catalogue.canonical(predicate)
    except InvalidIdentifierError:
        return False
    return True
