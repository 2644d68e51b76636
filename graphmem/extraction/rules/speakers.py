"""Who says "I" and who is "you" in a conversation."""

from __future__ import annotations

from graphmem.extraction.base import ExtractionRequest
from graphmem.models.records import Episode

MAX_NAME_LENGTH = 200
_ROLE_NAMES = {"user": "User", "assistant": "Assistant"}
_MIN_NICKNAME = 3


def speaker_name(episode: Episode, user_name: str | None = None) -> str:
    """The name of whoever said ``episode``: its ``name``, else one taken from its role.

    A nameless ``user`` turn is said by ``user_name`` when given, else by "User".
    """
    name = " ".join((episode.name or "").split())
    if name:
        return name[:MAX_NAME_LENGTH]
    role = " ".join(episode.role.split()).lower()
    user = " ".join((user_name or "").split())
    if role == "user" and user:
        return user[:MAX_NAME_LENGTH]
    return _ROLE_NAMES.get(role, role.capitalize() or "User")[:MAX_NAME_LENGTH]


def participants(request: ExtractionRequest) -> list[str]:
    """The conversation's participants: ``request.speakers``, else everyone who spoke."""
    named = [" ".join(s.split()) for s in request.speakers if s.strip()]
    if named:
        return list(dict.fromkeys(named))
    spoken = [speaker_name(e, request.user_name) for e in (*request.recent, *request.episodes)]
    return list(dict.fromkeys(spoken))


def addressee(speaker: str, people: list[str]) -> str | None:
    """The other participant when there are exactly two, else None ("you" is unclear)."""
    if len(people) != 2 or speaker not in people:
        return None
    return people[1] if people[0] == speaker else people[0]


def nickname_of(word: str, people: list[str]) -> str | None:
    """The participant whose first name ``word`` shortens ("Mel" -> "Melanie"), if just one."""
    if len(word) < _MIN_NICKNAME or not word[0].isupper():
        return None
    matches = [
        person
        for person in people
        if (first := person.split()[0]) != word and first.startswith(word)
    ]
    return matches[0] if len(matches) == 1 else None
