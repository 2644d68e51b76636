"""Names inside names: an episode that names "Nashville, Tennessee" also mentions Tennessee.

Extractors and pre-extracted triples often keep a qualified phrase as one entity
("Hiran region of Somalia", "Washington Psychoanalytic Institute in 1981",
"Santo Domingo, Dominican Republic"), so nothing links it to the entity the qualifier
names. A write therefore also records MENTIONS of the entities already known by a
*part* of such a name: a run of the name's pieces between its boundaries (commas,
semicolons, parentheses, a possessive "'s", and the connectives "of", "in", "at",
"from"). Only parts that read as proper names count (capitalized, not a bare number),
and only entities that exist: a part never creates an entity.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence

from graphmem.models.records import Entity
from graphmem.resolution.names import lookup_keys, normalize_name
from graphmem.retrieval.text import name_tokens
from graphmem.store.base import StoreTransaction
from graphmem.writing.draft import WriteDraft

_BOUNDARY = re.compile(r"\s*[,;()]\s*|\s+(?:of|in|at|from)\s+|['\u2019]s\s+")

MAX_PARTS = 16
"""Parts looked up per name: a long list-like name must not fan out without bound."""


def name_parts(name: str) -> list[str]:
    """Proper-name parts of ``name``, longest first, each once (by normalized form).

    ``"Nashville, Tennessee"`` -> ``["Nashville", "Tennessee"]``;
    ``"Hiran region of Somalia"`` -> ``["Somalia"]`` (a part with a lower-case word
    reads as a description, not a name); a name without boundaries has no parts.
    """
    text = name.strip()
    cuts = [(m.start(), m.end()) for m in _BOUNDARY.finditer(text)]
    if not cuts:
        return []
    starts = [0, *(end for _, end in cuts)]
    ends = [*(start for start, _ in cuts), len(text)]
    whole = normalize_name(text)
    found: dict[str, str] = {}
    for first in range(len(starts)):
        for last in range(first, len(ends)):
            part = text[starts[first] : ends[last]].strip()
            key = normalize_name(part)
            if key and key != whole and key not in found and _proper(part):
                found[key] = part
    return sorted(found.values(), key=len, reverse=True)[:MAX_PARTS]


def _proper(part: str) -> bool:
    """Capitalized words only (bar connectives), and not a bare number or date piece."""
    words = name_tokens(part)
    if not words or all(word.isdigit() for word in words):
        return False
    raw = [w for w in re.split(r"\s+", part) if w]
    return all(w[:1].isupper() or w[:1].isdigit() or w.casefold() in _CONNECTIVES for w in raw)


_CONNECTIVES = frozenset({"of", "in", "at", "from", "the", "and", "de", "von", "van", "der"})


def part_mentions(
    tx: StoreTransaction, owner: str, draft: WriteDraft, entities: Sequence[Entity]
) -> set[tuple[uuid.UUID, uuid.UUID]]:
    """``(episode id, entity id)`` MENTIONS implied by the parts of the draft's names.

    ``entities`` are the draft's resolved mentions, by position. A part names an
    entity of this write or, through one lookup in ``tx``, a stored one of ``owner``
    (by normalized name or alias).
    """
    wanted: dict[str, set[uuid.UUID]] = {}
    for slot, positions in enumerate(draft.mention_episodes):
        if not positions:
            continue
        episode_ids = {draft.episodes[p].id for p in positions}
        for part in name_parts(draft.mentions[slot].name):
            wanted.setdefault(normalize_name(part), set()).update(episode_ids)
    if not wanted:
        return set()
    known: dict[str, uuid.UUID] = {}
    for entity in entities:
        for key in lookup_keys(entity):
            known.setdefault(key, entity.id)
    missing = [key for key in wanted if key not in known]
    if missing:
        for entity in tx.entities_by_names(owner, missing):
            for key in lookup_keys(entity):
                known.setdefault(key, entity.id)
    return {
        (episode_id, known[key])
        for key, episode_ids in wanted.items()
        if key in known
        for episode_id in episode_ids
    }
