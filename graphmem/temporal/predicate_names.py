"""Predicate names: free text to safe snake_case, relationship types, and lookup keys.

Every predicate that reaches the graph passes through :func:`normalize_predicate`, so
this is where relationship types are kept to ``[A-Z][A-Z0-9_]*``; the catalogue
(:mod:`graphmem.temporal.predicates`) compares phrasings by :func:`phrase_key`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from graphmem.errors import InvalidIdentifierError

MAX_PREDICATE_LENGTH = 64
"""Longest canonical predicate accepted (characters, after normalization)."""
RESERVED_PREDICATES = frozenset({"mentions"})
"""Predicates no fact may use, on any backend: the graph's own episode-to-entity edges."""

_RELATIONSHIP_TYPE = re.compile(r"[A-Z][A-Z0-9_]*")
_APOSTROPHES = frozenset("'`\u2018\u2019\u02bc")
_VOWELS = frozenset("aeiou")


def normalize_predicate(text: str) -> str:
    """Free text to a snake_case predicate: ``"Works For"`` -> ``"works_for"``.

    Case is folded, accents are removed (``"café"`` -> ``"cafe"``), compatibility forms
    are folded (full-width letters, ligatures), apostrophes vanish (``"doesn't"`` ->
    ``"doesnt"``), invisible format characters are dropped, and any other punctuation,
    symbol or space separates words. Letters or digits of non-Latin scripts are
    rejected rather than transliterated: a look-alike such as Cyrillic ``о`` in
    ``"wоrks"`` must never become part of a relationship type. The result matches
    ``[a-z][a-z0-9_]*`` with single underscores between words.

    Raises :class:`~graphmem.errors.InvalidIdentifierError` when nothing usable is
    left, when the result starts with a digit (a relationship type cannot), or when it
    is longer than :data:`MAX_PREDICATE_LENGTH`.
    """
    if not isinstance(text, str):
        raise InvalidIdentifierError(f"a predicate must be a string, got {type(text).__name__}")
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    chars: list[str] = []
    for char in folded:
        category = unicodedata.category(char)
        if char in _APOSTROPHES or category == "Cf" or unicodedata.combining(char):
            continue
        if char.isascii():
            chars.append(char if char.isalnum() else " ")
        elif category[0] in "LNM":
            raise InvalidIdentifierError(
                f"predicate {text!r} contains {char!r} "
                f"({unicodedata.name(char, 'unnamed character')}); "
                "predicates must be written in Latin letters and digits"
            )
        else:
            chars.append(" ")
    name = "_".join("".join(chars).split())
    if not name:
        raise InvalidIdentifierError(f"predicate {text!r} has no letters or digits")
    if name[0].isdigit():
        raise InvalidIdentifierError(f"predicate {text!r} must start with a letter")
    if len(name) > MAX_PREDICATE_LENGTH:
        raise InvalidIdentifierError(
            f"predicate {text!r} is longer than {MAX_PREDICATE_LENGTH} characters"
        )
    if name in RESERVED_PREDICATES:
        raise InvalidIdentifierError(
            f"predicate {text!r} is reserved: graphmem links episodes to the entities they "
            "mention with it; rename it (for example 'talks_about')"
        )
    return name


def relationship_type(predicate: str) -> str:
    """The graph relationship type of a predicate: ``works_at`` -> ``WORKS_AT``.

    The result is always ASCII and matches ``[A-Z][A-Z0-9_]*``, so it can be placed
    in a Cypher query (relationship types cannot be parameters).
    """
    rel_type = normalize_predicate(predicate).upper()
    if not (rel_type.isascii() and _RELATIONSHIP_TYPE.fullmatch(rel_type)):
        raise InvalidIdentifierError(f"{predicate!r} does not give a valid relationship type")
    return rel_type


def stem_word(word: str) -> str:
    """A deliberately small stemmer: enough to make "lived", "lives" and "living" meet."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word.endswith("y"):
        word = word[:-1] + "i"
    if len(word) > 3 and word.endswith("e"):
        word = word[:-1]
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in _VOWELS:
        word = word[:-1]
    return word


def phrase_key(words: Sequence[str]) -> str:
    """The key under which a phrasing's words are looked up: every word stemmed."""
    return " ".join(stem_word(word) for word in words)
