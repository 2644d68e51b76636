"""Entity mentions: speakers, known names, proper nouns and titles, collected per episode."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from graphmem.extraction.models import ExtractedEntity
from graphmem.extraction.rules.lexicon import NOT_NAMES
from graphmem.extraction.rules.names import (
    KnownNames,
    NameSpan,
    capitalized_spans,
    guess_type,
    quoted_titles,
)
from graphmem.extraction.rules.speakers import MAX_NAME_LENGTH, nickname_of
from graphmem.extraction.rules.text import normalize

_GENERIC = "Thing"
_MY_NAME = re.compile(r"\b[Mm]y\s+name\s+is\s+(?-i:([A-Z][\w'-]+(?:\s+[A-Z][\w'-]+)?))")


@dataclass(slots=True)
class _Entry:
    name: str
    type: str
    settled: bool
    """True once the type comes from something firmer than a guess (speaker, known, fact)."""
    aliases: list[str] = field(default_factory=list)
    episodes: list[int] = field(default_factory=list)


class EntityBook:
    """Entities of one batch, deduplicated by name (case-insensitive), in first-seen order."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}

    def add(self, name: str, kind: str, episode: int | None, *, settled: bool = False) -> None:
        """Record a mention of ``name`` (with a type guess, or a settled type)."""
        name = " ".join(name.split())
        if not name or len(name) > MAX_NAME_LENGTH:
            return
        key = name.lower()
        entry = self._entries.get(key)
        if entry is None:
            entry = _Entry(name, kind or _GENERIC, settled)
            self._entries[key] = entry
        elif (
            kind and kind != _GENERIC and not entry.settled and (settled or entry.type == _GENERIC)
        ):
            entry.type, entry.settled = kind, settled
        if episode is not None and episode not in entry.episodes:
            entry.episodes.append(episode)

    def add_alias(self, name: str, alias: str) -> None:
        """Record another name of an entity already in the book."""
        entry = self._entries.get(name.lower())
        if entry is not None and alias.lower() != entry.name.lower() and alias not in entry.aliases:
            entry.aliases.append(alias)

    def entities(self) -> list[ExtractedEntity]:
        """The book as validated entities (episodes sorted)."""
        return [
            ExtractedEntity(
                name=e.name, type=e.type, aliases=e.aliases, episodes=sorted(e.episodes)
            )
            for e in self._entries.values()
        ]


def context_names(texts: list[str]) -> frozenset[str]:
    """Names written capitalized in mid-sentence somewhere in ``texts`` (raw episode texts).

    A sentence-initial capitalized word counts as a name only if it is seen like this
    elsewhere: "Luna" after "Oliver and Luna", not "Sounds" at the start of a sentence.
    """
    return frozenset(name for text in texts for name in _mid_sentence_names(text))


@lru_cache(maxsize=4096)
def _mid_sentence_names(text: str) -> frozenset[str]:
    # Cached on the raw text: consecutive requests share most of their context window.
    spans = capitalized_spans(normalize(text))
    return frozenset(span.name for span in spans if not span.initial)


def collect_mentions(
    text: str,
    episode: int,
    book: EntityBook,
    *,
    speaker: str,
    known: KnownNames,
    people: list[str],
    seen_names: frozenset[str],
) -> None:
    """Add every entity ``text`` (normalized) mentions to ``book``."""
    taken: list[tuple[int, int]] = []
    for start, end, name, kind in known.find(text):
        surface = text[start:end]
        if surface.islower() and surface in NOT_NAMES:
            continue  # "will", "may": a known name that is also a common word
        book.add(name, kind, episode, settled=True)
        taken.append((start, end))
    for title in quoted_titles(text):
        if not _overlaps(title, taken):
            book.add(title.name, "Work", episode, settled=True)
            taken.append((title.start, title.end))
    for span in capitalized_spans(text):
        if _overlaps(span, taken):
            continue
        nickname = nickname_of(span.name, people) if span.tokens == 1 else None
        if nickname is not None:
            book.add(nickname, "Person", episode, settled=True)
            book.add_alias(nickname, span.name)
            continue
        if span.initial and span.tokens < 2 and span.name not in seen_names:
            continue
        book.add(span.name, guess_type(span, text), episode)
    for match in _MY_NAME.finditer(text):
        own_name = match.group(1)
        if own_name.lower() not in NOT_NAMES and own_name != speaker:
            book.add(speaker, "Person", episode, settled=True)
            book.add_alias(speaker, own_name)


def _overlaps(span: NameSpan, taken: list[tuple[int, int]]) -> bool:
    return any(span.start < end and start < span.end for start, end in taken)
