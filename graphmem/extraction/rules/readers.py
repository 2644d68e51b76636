"""Object readers for statement patterns: given a pattern match, read a clean object.

A reader gets the match (its string is the sentence, its end is where the object starts)
and who is speaking; it returns the object or None to drop the statement.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from graphmem.extraction.rules import objects
from graphmem.extraction.rules.lexicon import (
    BUSINESSES,
    EVENT_SUFFIXES,
    NOT_TASTE_CATEGORIES,
    ORG_SUFFIXES,
    word_set,
)
from graphmem.extraction.rules.objects import ObjectMatch
from graphmem.extraction.rules.statements import Speech

Reader = Callable[[re.Match[str], Speech], ObjectMatch | None]

_SCHOOL_WORDS = frozenset({"university", "college", "school", "academy", "institute", "uni"})
_GROUP_WORDS = word_set(
    """club team band choir orchestra league group crew squad society union church gym
    community association organization organisation nonprofit charity brigade troupe
    corps army navy guild ensemble network collective"""
)
_AGE = re.compile(r"\s*(\d{1,3})(?:\s+(?:years?|yrs?)(?:\s+old)?|\s*y/?o)?")


def _named(match: re.Match[str], speech: Speech, *, reject: frozenset[str]) -> ObjectMatch | None:
    return _named_at(match.string, match.end(), speech, reject=reject)


def _named_at(
    text: str, position: int, speech: Speech, *, reject: frozenset[str]
) -> ObjectMatch | None:
    found = objects.named_object(text, position, speech.known)
    if found is None or found.type in reject:
        return None
    if found.name in (speech.speaker, speech.addressee):
        return None
    return found


_NOT_PLACE = frozenset({"Person", "Work", "Animal", "Event", "Organization"})
_NOT_ORG = frozenset({"Person", "Place", "Work", "Animal", "Event"})
_NOT_EMPLOYER = _NOT_ORG - {"Event"}
_NOT_VISITED = frozenset({"Person", "Work", "Animal", "Event"})
_NOT_PERSON = frozenset({"Place", "Organization", "Work", "Animal", "Event"})


def place(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A named place ("Paris", "the Grand Canyon")."""
    return place_at(match.string, match.end(), speech)


def place_at(text: str, position: int, speech: Speech) -> ObjectMatch | None:
    """A named place starting at ``position``."""
    found = _named_at(text, position, speech, reject=_NOT_PLACE)
    return None if found is None else _with_type(found, "Place")


def organization(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A named organization ("Acme", "Google")."""
    # "Event" is allowed: after "work at", "Orbit Games" is a company, not a tournament.
    found = _named(match, speech, reject=_NOT_EMPLOYER)
    return None if found is None else _with_type(
        found if found.type != "Event" else ObjectMatch(found.name, found.end, "Organization"),
        "Organization",
    )


def school(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A named school, college or university."""
    found = _named(match, speech, reject=_NOT_ORG)
    if found is None:
        return None
    words = found.name.lower().split()
    if not _SCHOOL_WORDS.intersection(words) and found.type != "Organization":
        return None
    return _with_type(found, "Organization")


def visited_place(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A named place or venue that can be visited (not a person, title or event)."""
    found = _named(match, speech, reject=_NOT_VISITED)
    if found is None or found.name.lower().split()[-1] in EVENT_SUFFIXES:
        return None
    return found if found.type in ("Organization",) else _with_type(found, "Place")


def liked(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A taste: a name or title ("Harry Potter"), or a bare noun or gerund ("painting")."""
    named = _named(match, speech, reject=frozenset({"Animal"}))
    if named is not None:
        return named
    found = objects.phrase_object(match.string, match.end(), max_words=4)
    if found is None or found.name.lower().split()[0] == "to":
        return None  # "I love to paint": too rare and too loose to be worth reading
    return found


def liked_title(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A named thing or quoted title only (for past-tense "I loved ...")."""
    found = _named(match, speech, reject=frozenset({"Person", "Animal", "Place"}))
    if found is None or found.type not in ("Work", "Thing", "Organization", "Event"):
        return None
    return found


def phrase(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A short common-noun phrase."""
    return objects.phrase_object(match.string, match.end(), max_words=3)


def known_job(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A job title from the lexicon ("I'm a nurse", not "I'm a big fan")."""
    return objects.job_object(match.string, match.end(), require_known_job=True)


def any_job(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """Any short role after "work as" ("volunteer coordinator")."""
    return objects.job_object(match.string, match.end(), require_known_job=False)


def event(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """An event: by its kind ("a book conference") or by a name ending like one."""
    found = objects.event_object(match.string, match.end())
    if found is not None:
        return found
    named = _named(match, speech, reject=frozenset({"Person", "Place", "Animal"}))
    if named is not None and named.name.lower().split()[-1] in EVENT_SUFFIXES:
        return _with_type(named, "Event")
    return None


def group(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A club, team or organization joined ("a book club", "the Minnesota Wolves")."""
    named = _named(match, speech, reject=_NOT_ORG)
    if named is not None:
        return _with_type(named, "Organization")
    found = objects.phrase_object(match.string, match.end(), max_words=4, allow_determiner=True)
    if found is None or found.name.lower().split()[-1] not in _GROUP_WORDS | ORG_SUFFIXES:
        return None
    name = found.name.removeprefix("new ")  # "a new team": new to the speaker, not its name
    return ObjectMatch(name, found.end, "Organization", named=False)


def plan(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """What the speaker plans to do ("visit Paris")."""
    found = objects.verb_phrase(match.string, match.end(), speech.speaker)
    return None if found is None else ObjectMatch(found, match.end(), "Activity", named=False)


def age(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """An age in years (1 to 120) that ends cleanly ("I'm 32.", not "I'm 32 minutes late")."""
    found = _AGE.match(match.string, match.end())
    if found is None or not objects.ends_cleanly(match.string, found.end()):
        return None
    years = int(found.group(1))
    if not 1 <= years <= 120 or match.string[found.end() : found.end() + 1] in ("%", ":"):
        return None
    return ObjectMatch(str(years), found.end(), "Quantity", named=False)


def captured_diet(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """The diet word the pattern captured ("vegetarian"), if the sentence ends cleanly there."""
    if not objects.ends_cleanly(match.string, match.end()):
        return None
    return ObjectMatch(match["diet"].lower(), match.end(), "Diet", named=False)


def captured_food(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A diet stated by food ("I eat fish now" -> "eats fish")."""
    if not objects.ends_cleanly(match.string, match.end()):
        return None
    food = match["food"].lower()
    label = f"no {food}" if match["neg"] else f"eats {food}"
    return ObjectMatch(label, match.end(), "Diet", named=False)


def owned(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A bought or owned thing ("a new car" -> "car")."""
    return objects.phrase_object(match.string, match.end(), max_words=2)


def person(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A person's name ("John")."""
    found = _named(match, speech, reject=_NOT_PERSON)
    return None if found is None else _with_type(found, "Person")


def _with_type(found: ObjectMatch, kind: str) -> ObjectMatch:
    if found.type and found.type not in ("Thing", ""):
        return found
    return ObjectMatch(found.name, found.end, kind, found.named)


def business(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """A business the speaker runs ("online clothing store", "dance studio")."""
    found = objects.phrase_object(match.string, match.end(), max_words=4)
    if found is None or found.name.lower().split()[-1] not in BUSINESSES:
        return None
    return ObjectMatch(found.name, found.end, "Organization", named=False)


def favorite(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """The favourite in "my favorite book is ..." (not "my favorite part was ...")."""
    if match["cat"].lower().split()[-1] in NOT_TASTE_CATEGORIES:
        return None
    named = _named(match, speech, reject=frozenset({"Animal"}))
    if named is not None:
        return named
    return objects.phrase_object(match.string, match.end(), max_words=4, allow_determiner=True)
