"""Finding names in text: capitalized spans, quoted titles, names already known.

Nothing here decides what a name means for memory; it only finds candidate spans and
guesses a type from the words around them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from graphmem.extraction.rules.lexicon import (
    EVENT_SUFFIXES,
    KNOWN_PLACES,
    NAME_CONNECTORS,
    NOT_NAMES,
    ORG_SUFFIXES,
    PERSON_TITLES,
    PETS,
    PLACE_SUFFIXES,
    RELATIVES,
)

WORD = re.compile(r"[^\W_](?:[\w&]|['\-.](?=[^\W_]))*")
_UPPER = "A-Z\u00c0-\u00d6\u00d8-\u00de"
_CAP_WORD = (
    rf"(?:(?:St|Mt|Ft|Dr|Mr|Mrs|Ms)\.|[A-Z]\.(?=\s+[A-Z])|[{_UPPER}](?:[\w&]|['\-.](?=[^\W_]))*)"
)
_CONNECTOR = r"(?:of|the|de|del|della|da|di|du|van|von|der|den|la|le|y)"
# A run of capitalized words, possibly joined by connectors ("University of Michigan").
_CAP_RUN = re.compile(rf"(?<![\w'\-.]){_CAP_WORD}(?:\s+(?:{_CONNECTOR}\s+)?{_CAP_WORD})*")
_RUN_TOKEN = re.compile(rf"{_CAP_WORD}|{_CONNECTOR}\b")
_MAX_SPAN_TOKENS = 6
_NAMED_PLACES = ORG_SUFFIXES | PLACE_SUFFIXES
_SENTENCE_PUNCTUATION = frozenset('.!?:;"\u2026')
_DOUBLE_QUOTED = re.compile(r'"([^"\n]{1,120})"')
_SINGLE_QUOTED = re.compile(r"(?<![\w'])'([A-Z0-9][^'\n]{0,118}?)'(?!\w)")
_MAX_TITLE_WORDS = 10
_TITLE_ABBREVIATION = re.compile(r"\b(?:Mr|Mrs|Ms|Dr|Prof|St|Mt|Jr|Sr)\.$")


@dataclass(frozen=True, slots=True)
class NameSpan:
    """A candidate name in a text."""

    name: str
    start: int
    end: int
    """End of the name itself (before a possessive ``'s``)."""
    initial: bool = False
    """True if the span starts a sentence (so its capital letter proves little)."""
    possessive: bool = False
    tokens: int = 1


def _possessive(word: str) -> bool:
    return word.endswith("'s") and len(word) > 2


def is_name_word(word: str) -> bool:
    """A capitalized word that can be part of a name (not a pronoun, day, interjection...)."""
    base = word[:-2] if _possessive(word) else word
    return len(base) > 1 and base[0].isupper() and base.lower() not in NOT_NAMES


def _starts_sentence(text: str, start: int) -> bool:
    """True if nothing but sentence punctuation, a symbol or a line break precedes ``start``."""
    index = start - 1
    while index >= 0 and text[index].isspace():
        if text[index] == "\n":
            return True
        index -= 1
    if index < 0:
        return True
    char = text[index]
    if char == "." and _TITLE_ABBREVIATION.search(text, max(0, index - 5), index + 1):
        return False  # "Dr. Smith"
    return char in _SENTENCE_PUNCTUATION or (
        ord(char) > 0x24F and not char.isalnum() and char not in "\u2013\u2014"
    )


def capitalized_spans(text: str) -> list[NameSpan]:
    """Runs of capitalized words ("New York City", "University of Michigan")."""
    spans: list[NameSpan] = []
    for run in _CAP_RUN.finditer(text):
        tokens = [(t.start(), t.end(), t.group()) for t in _RUN_TOKEN.finditer(run.group())]
        offset = run.start()
        index = 0
        while index < len(tokens):
            if not is_name_word(tokens[index][2]):
                index += 1
                continue
            last = index
            while last - index + 1 < _MAX_SPAN_TOKENS:
                following = last + 1
                if _possessive(tokens[last][2]) and not (
                    following < len(tokens) and tokens[following][2].lower() in _NAMED_PLACES
                ):
                    break  # "Tim's Harry Potter" is two names; "St. Mary's Hospital" is one
                if following < len(tokens) and is_name_word(tokens[following][2]):
                    last = following
                elif (
                    following + 1 < len(tokens)
                    and tokens[following][2] in NAME_CONNECTORS
                    and is_name_word(tokens[following + 1][2])
                ):
                    last = following + 1
                else:
                    break
            start = offset + tokens[index][0]
            possessive = _possessive(tokens[last][2])
            end = offset + tokens[last][1] - (2 if possessive else 0)
            initial = index == 0 and _starts_sentence(text, start)
            count = sum(1 for t in tokens[index : last + 1] if t[2] not in NAME_CONNECTORS)
            spans.append(NameSpan(text[start:end], start, end, initial, possessive, count))
            index = last + 1
    return spans


def quoted_titles(text: str) -> list[NameSpan]:
    """Quoted titles: "Becoming Nicole", 'Harry Potter' (capitalized, short, not speech)."""
    spans: list[NameSpan] = []
    for pattern in (_DOUBLE_QUOTED, _SINGLE_QUOTED):
        for match in pattern.finditer(text):
            content = match.group(1)
            title = content.strip()
            if (
                not title
                or not (title[0].isupper() or title[0].isdigit())
                or title[-1] in ".,?;:"
                or len(title.split()) > _MAX_TITLE_WORDS
            ):
                continue
            start = match.start(1) + (len(content) - len(content.lstrip()))
            spans.append(NameSpan(title, start, start + len(title), tokens=len(title.split())))
    return spans


class KnownNames:
    """Case-insensitive, word-bounded matcher for names and aliases already known.

    Behaves like one alternation of every name, longest first, but is indexed by each
    name's first word: an owner's names change with every write, and compiling one
    large pattern each time would cost more than the rest of a write's extraction.
    """

    __slots__ = ("_by_first_word", "_canonical", "_unindexed")

    def __init__(self, surfaces: Iterable[tuple[str, str, str]]) -> None:
        """``surfaces``: (surface form, canonical name, type), e.g. ("Mel", "Melanie", "Person")."""
        self._canonical: dict[str, tuple[str, str]] = {}
        for surface, canonical, kind in surfaces:
            key = " ".join(surface.split()).lower()
            if len(key) > 1 and key not in self._canonical:
                self._canonical[key] = (canonical, kind)
        self._by_first_word: dict[str, list[re.Pattern[str]]] = {}
        self._unindexed: list[re.Pattern[str]] = []
        for key in sorted(self._canonical, key=len, reverse=True):
            first_word, pattern = _name_pattern(key)
            if first_word is None:  # starts with a symbol: tried at every boundary
                self._unindexed.append(pattern)
            else:
                self._by_first_word.setdefault(first_word, []).append(pattern)

    def find(self, text: str) -> list[tuple[int, int, str, str]]:
        """(start, end, canonical name, type) of every known name in ``text``."""
        if self._unindexed:  # a name may start at any boundary, not only at a word
            starts: Iterable[int] = range(len(text))
        else:
            starts = (word.start() for word in _WORD_START.finditer(text))
        found: list[tuple[int, int, str, str]] = []
        taken = 0  # matches do not overlap: scanning resumes after the last one
        for start in starts:
            if start < taken:
                continue
            match = self._match(text, start)
            if match is not None:
                found.append((match.start(), match.end(), *self._lookup(match.group())))
                taken = match.end()
        return found

    def match_at(self, text: str, position: int) -> tuple[int, str, str] | None:
        """(end, canonical name, type) if a known name starts exactly at ``position``."""
        match = self._match(text, position)
        if match is None:
            return None
        return (match.end(), *self._lookup(match.group()))

    def type_of(self, name: str) -> str | None:
        """The type of a known name or alias, None if it is not known."""
        found = self._canonical.get(" ".join(name.split()).lower())
        return found[1] if found else None

    def _match(self, text: str, position: int) -> re.Match[str] | None:
        if position > 0 and _is_word_char(text[position - 1]):
            return None
        word = _LEADING_WORD.match(text, position)
        candidates = (
            self._unindexed if word is None else self._by_first_word.get(word.group().lower(), ())
        )
        for pattern in candidates:
            match = pattern.match(text, position)
            if match is not None:
                return match
        return None

    def _lookup(self, surface: str) -> tuple[str, str]:
        return self._canonical[" ".join(surface.split()).lower()]


_LEADING_WORD = re.compile(r"\w+")
_WORD_START = re.compile(r"(?<!\w)\w+")


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


@lru_cache(maxsize=65536)
def _name_pattern(key: str) -> tuple[str | None, re.Pattern[str]]:
    """A known name's first word (None if it starts with a symbol) and its pattern: any
    whitespace between its words, not inside a longer word."""
    first = _LEADING_WORD.match(key)
    words = r"\s+".join(map(re.escape, key.split()))
    pattern = re.compile(rf"(?:{words})(?!\w)", re.IGNORECASE)
    return (first.group() if first else None), pattern


_PLACE_CONTEXT = re.compile(
    r"(?:\blive[sd]?|\bliving|\bmov(?:ed|ing|e)|\btrip|\btravel(?:l?ed|l?ing)?|\bflew|\bfly(?:ing)?"
    r"|\bdrove|\bvisit(?:ed|ing|s)?|\bborn|\bgrew\s+up|\bvacation(?:ing)?|\bholiday|\bbased"
    r"|\brelocat\w+|\bfrom|\bback\s+(?:in|to|home\s+in)|\bhere\s+in|\bout\s+in|\baround"
    r"|\bnear|\bhometown(?:\s+of)?|\bcity\s+of|\bstreets\s+of)"
    r"\s+(?:(?:in|to|at|of)\s+)?(?:the\s+)?$"
)
_ORG_CONTEXT = re.compile(
    r"(?:\bwork(?:s|ed|ing)?\s+(?:at|for)|\bjoined|\bjob\s+(?:at|with)|\bhired\s+by"
    r"|\bemployed\s+(?:at|by)|\bintern(?:ed|ing|ship)?\s+(?:at|with)|\bsigned\s+with"
    r"|\bplay(?:s|ed|ing)?\s+for|\bstud(?:y|ies|ied|ying)\s+at|\bgraduated\s+from"
    r"|\bquit|\bteam|\bcompany)\s+(?:the\s+)?$"
)
_AUTHOR_CONTEXT = re.compile(r"(?:\bby|\bauthor|\bwriter|\bactor|\bactress|\bsinger)\s+$")
_WORK_CONTEXT = re.compile(
    r"(?:\bread(?:ing)?|\bwatch(?:ed|ing)?|\bthe\s+(?:book|movie|film|show|series|song"
    r"|album|novel|play|musical|game)|\blisten(?:ed|ing)?\s+to)\s+(?:the\s+)?$"
)
_PERSON_BEFORE = re.compile(
    r"(?:\b(?:hey|hi|hello|thanks|thank\s+you|thx|congrats|bye|dear|yo|sup|love\s+you)"
    r"[\s,!]*|\b(?:my|your|his|her|our|their)\s+(?:\w+\s+)?(?:"
    + "|".join(sorted(RELATIVES, key=len, reverse=True))
    + r")\s*,?\s+)$"
)
_PERSON_AFTER = re.compile(
    r"^(?:'s\s+(?:mom|dad|mother|father|wife|husband|sister|brother|son|daughter|family"
    r"|kids|house|place|birthday)\b|\s+(?:said|says|told|tells|asked|texted|thinks|and\s+i\b"
    r"|is\s+my\s+\w+)|,\s+(?:she|he|who)\b)"
)
_ANIMAL_BEFORE = re.compile(
    r"\b(?:" + "|".join(sorted(PETS, key=len, reverse=True)) + r")\s*,?\s+(?:named\s+|called\s+)?$"
)


def guess_type(span: NameSpan, text: str) -> str:
    """A sensible entity type for ``span`` from its own words and its neighbours."""
    words = span.name.lower().split()
    if words[0].rstrip(".") in PERSON_TITLES:
        return "Person"
    if words[-1] in ORG_SUFFIXES:
        return "Organization"
    if words[-1] in EVENT_SUFFIXES:
        return "Event"
    if words[-1] in PLACE_SUFFIXES or span.name.lower() in KNOWN_PLACES:
        return "Place"
    before = text[max(0, span.start - 60) : span.start].lower()
    after = text[span.end : span.end + 40].lower()
    if _ANIMAL_BEFORE.search(before):
        return "Animal"
    if _PERSON_BEFORE.search(before) or _PERSON_AFTER.match(after):
        return "Person"
    if _ORG_CONTEXT.search(before):
        return "Organization"
    if _AUTHOR_CONTEXT.search(before):  # "a book by Patrick Rothfuss"
        return "Person"
    if _WORK_CONTEXT.search(before):
        return "Work"
    if _PLACE_CONTEXT.search(before) or (len(words) > 1 and words[-1] in KNOWN_PLACES):
        return "Place"
    return "Thing"
