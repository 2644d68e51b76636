"""Lexical evidence about two names: misspellings, shared words, abbreviations.

Similarity scores (fuzzy or embedding) say how alike two names look; these checks
say whether the difference is one that matters. ``Horizon River Festival`` and
``Horizon Raven Festival`` are 91 % alike and different events; ``Windows 10`` and
``Windows 11`` are different products; ``Abigail Gomez`` and ``Abigail Garcia`` embed
close together and are different people. All functions take normalized names.
"""

from __future__ import annotations

import re

from rapidfuzz.distance import OSA

from graphmem.resolution.entity_types import type_family

MIN_FUZZY_LENGTH = 4
"""Names shorter than this (``Jon``, ``Ann``) match only exactly or by alias."""

MIN_MISSPELLED_WORD = 5
"""Shorter words are never taken for misspellings: ``Chen`` and ``Cohen`` are two names."""

_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")
_STOPWORDS = frozenset(
    {"a", "an", "and", "at", "de", "del", "der", "for", "in", "la", "le", "of", "on", "the", "to"}
)
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame"})
_MIN_ABBREVIATION = 3


def name_tokens(normalized: str) -> list[str]:
    """Words of a normalized name, punctuation dropped (``"at&t inc."`` -> at, t, inc)."""
    return _TOKEN.findall(normalized)


def fuzzy_key(normalized: str) -> str:
    """The form compared by fuzzy matching: words joined by single spaces."""
    return " ".join(name_tokens(normalized))


def compact_length(normalized: str) -> int:
    """Number of letters and digits in a name (what the short-name rule counts)."""
    return sum(len(token) for token in name_tokens(normalized))


def person_tokens(normalized: str) -> list[str]:
    """Words of a person's name without leading honorifics (``Dr. Ann Lee`` -> ann, lee)."""
    tokens = name_tokens(normalized)
    while len(tokens) > 1 and tokens[0] in _HONORIFICS:
        tokens = tokens[1:]
    return tokens


def is_person_type(type_name: str) -> bool:
    """True for ``Person`` and its family (``Human``, ``Character``...)."""
    return type_family(type_name) == "person"


def misspelled(a: str, b: str) -> bool:
    """True if two different words are one typo apart (two, for words of 9+ letters).

    A typo is an inserted, deleted, replaced or swapped letter (optimal string alignment).

    Words under :data:`MIN_MISSPELLED_WORD` letters, words with digits, and words that
    start differently (``Anna``/``Hanna``, ``Mike``/``Nike``) never count as typos.
    """
    shortest = min(len(a), len(b))
    if a == b or shortest < MIN_MISSPELLED_WORD or a[0] != b[0]:
        return False
    if any(ch.isdigit() for ch in a + b):
        return False
    allowed = 1 if shortest < 9 else 2
    return OSA.distance(a, b, score_cutoff=allowed) <= allowed


def same_words_one_typo(a: str, b: str) -> bool:
    """True if the names have the same words in the same order, at most one misspelled.

    This is what a fuzzy match may accept: ``Melanie Adamz`` for ``Melanie Adams``, not
    ``Horizon Raven Festival`` for ``Horizon River Festival`` (another word) nor
    ``Willow Alpine Park`` for ``Alpine Willow Park`` (another order).
    """
    tokens_a, tokens_b = name_tokens(a), name_tokens(b)
    if len(tokens_a) != len(tokens_b):
        return False
    differing = [(x, y) for x, y in zip(tokens_a, tokens_b, strict=True) if x != y]
    return len(differing) <= 1 and all(misspelled(x, y) for x, y in differing)


def numbers_agree(a: str, b: str) -> bool:
    """True unless the names carry different numbers (``iPhone 14`` vs ``iPhone 15``)."""
    return set(_DIGITS.findall(a)) == set(_DIGITS.findall(b))


def full_names_agree(a: str, b: str) -> bool:
    """False for two full person names with another first name or another surname.

    Middle names are ignored (``John F. Kennedy`` / ``John Kennedy``); a surname may be
    misspelled. A one-word name agrees with any full name (see the first-name rules).
    """
    tokens_a, tokens_b = person_tokens(a), person_tokens(b)
    if len(tokens_a) < 2 or len(tokens_b) < 2:
        return True
    last_a, last_b = tokens_a[-1], tokens_b[-1]
    return tokens_a[0] == tokens_b[0] and (last_a == last_b or misspelled(last_a, last_b))


def clearly_different(a: str, type_a: str, b: str, type_b: str) -> bool:
    """True when the names differ in a way no similarity score can outweigh.

    Different numbers always separate; for people (either side typed as a person)
    different first names or surnames do too.
    """
    if not numbers_agree(a, b):
        return True
    person = is_person_type(type_a) or is_person_type(type_b)
    return person and not full_names_agree(a, b)


def _initials(tokens: list[str]) -> set[str]:
    forms = {"".join(token[0] for token in tokens)}
    content = [token for token in tokens if token not in _STOPWORDS]
    if content:
        forms.add("".join(token[0] for token in content))
    return forms


def abbreviates(short: str, long: str) -> bool:
    """True if ``short`` is the initials of ``long`` (``nyc`` / ``new york city``).

    Dots in the short form are ignored (``u.s.``), and initials are tried with and
    without small words (``boa`` for bank of america).
    """
    compact = "".join(name_tokens(short))
    long_tokens = name_tokens(long)
    return len(compact) >= 2 and len(long_tokens) >= 2 and compact in _initials(long_tokens)


def _explains(word: str, other: str) -> bool:
    """``other`` accounts for ``word``: equal, a misspelling, or ``word`` abbreviates it."""
    if word == other or misspelled(word, other):
        return True
    return len(word) >= _MIN_ABBREVIATION and other.startswith(word) and not word.isdigit()


def words_contained(a: str, b: str) -> bool:
    """True if every word of the name with fewer words is accounted for in the other.

    ``New York`` / ``New York City`` and ``Acme Corp`` / ``Acme Corporation`` are
    contained; ``Alpine Granite Bakery`` / ``Alpine Silver Bakery`` are not (a word is
    replaced, not added). Small words (``of``, ``the``) are not counted.
    """
    words_a = [token for token in name_tokens(a) if token not in _STOPWORDS]
    words_b = [token for token in name_tokens(b) if token not in _STOPWORDS]
    shorter, longer = sorted((words_a, words_b), key=len)
    if not shorter:
        return False
    return all(any(_explains(word, other) for other in longer) for word in shorter)


def lexically_related(a: str, b: str, b_aliases: list[str] | tuple[str, ...] = ()) -> bool:
    """True if one name abbreviates the other or its words are contained in the other's.

    ``b_aliases`` count as forms of ``b``. This is the evidence an embedding match
    needs on top of its score.
    """
    return any(
        words_contained(a, form) or abbreviates(a, form) or abbreviates(form, a)
        for form in (b, *b_aliases)
    )
