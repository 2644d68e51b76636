"""What the pattern families produce before time and episode bookkeeping is added."""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphmem.extraction.rules.names import KnownNames

_VOWEL_SOUND = re.compile(r"^(?:[aeio]|u(?![nr]i|se|sa|ti|ni)|hour|honest|heir)", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Speech:
    """Who is talking in an episode, and to whom."""

    speaker: str
    addressee: str | None
    """The other participant, when the conversation has exactly two."""
    known: KnownNames


@dataclass(frozen=True, slots=True)
class Statement:
    """A fact stated in one sentence, with names instead of pronouns."""

    subject: str
    predicate: str
    object: str
    object_type: str
    fact: str
    confidence: float
    position: int
    """Offset in the sentence where the statement starts (for guards and dates)."""
    ended: bool = False
    """True for "used to ..." statements: true once, not any more."""
    subject_type: str = "Person"
    stand_in: bool = False
    """True if the object stands in for someone unnamed ("Melanie's husband")."""
    dated: bool = True
    """True if a time expression in the sentence dates the fact ("I moved here in 2019");
    False for incidental mentions ("my daughter Sara's birthday last year")."""


@dataclass(frozen=True, slots=True)
class EndingStatement:
    """A statement that a relation no longer holds."""

    subject: str
    predicate: str
    object: str | None
    object_type: str
    position: int


def article(phrase: str) -> str:
    """ "a" or "an" for ``phrase`` (by its first sound, roughly)."""
    return "an" if _VOWEL_SOUND.match(phrase) else "a"


def possessive(name: str) -> str:
    """``name``'s, as in "Melanie's son"."""
    return f"{name}'s"
