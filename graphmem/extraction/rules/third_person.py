"""Statements about someone clearly named: "my sister Anna lives in Paris", "Caroline works at ...".

The subject must be named: a relative introduced with a name ("my sister Anna"), a
participant of the conversation, or a known person of the scope. "My sister lives in
Paris" says nothing about an entity memory could hold, so it yields nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphmem.extraction.rules import readers
from graphmem.extraction.rules.lexicon import NOT_NAMES, PETS, RELATIVES
from graphmem.extraction.rules.readers import Reader
from graphmem.extraction.rules.statements import Speech, Statement, article

_KINDS = "|".join(re.escape(k) for k in sorted({*RELATIVES, *PETS}, key=len, reverse=True))
_NAMED_RELATIVE = re.compile(
    rf"(?<![\w'])(?P<who>[Mm]y|[Yy]our)\s+(?:(?:little|big|older|younger|best)\s+)?(?:{_KINDS})"
    r"\s*,?\s+(?P<name>(?-i:[A-Z][a-z'\-]+(?:\s+[A-Z][a-z'\-]+)?))\s*,?"
)
_CONFIDENCE = 0.65
_TRIGGER = re.compile(r"\b(?:lives|moved|works|studies|studying|from|born)\b")


@dataclass(frozen=True, slots=True)
class _Verb:
    predicate: str
    regex: re.Pattern[str]
    read: Reader
    template: str


def _v(predicate: str, pattern: str, read: Reader, template: str) -> _Verb:
    adverbs = r"(?:\s+(?:now|currently|still|also|actually|just|recently))?"
    return _Verb(predicate, re.compile(adverbs + pattern), read, template)


_VERBS: tuple[_Verb, ...] = (
    _v("lives_in", r"\s+lives\s+in\s+", readers.place, "{s} lives in {o}."),
    _v("lives_in", r"\s+(?:has\s+)?moved\s+to\s+", readers.place, "{s} moved to {o}."),
    _v("works_at", r"\s+works\s+(?:at|for)\s+", readers.organization, "{s} works at {o}."),
    _v("works_as", r"\s+works\s+as\s+(?:an?\s+)?", readers.any_job, "{s} works as {a} {o}."),
    _v("studies_at", r"\s+(?:studies|is\s+studying)\s+at\s+", readers.organization,
       "{s} studies at {o}."),
    _v("hometown", r"\s+is\s+(?:originally\s+)?from\s+", readers.place, "{s} is from {o}."),
    _v("born_in", r"\s+was\s+born\s+in\s+", readers.place, "{s} was born in {o}."),
)  # fmt: skip


def subjects(sentence: str, speech: Speech) -> list[tuple[str, int, int]]:
    """(name, start, end) of clearly named people in ``sentence`` who may be subjects."""
    found: list[tuple[str, int, int]] = []
    for match in _NAMED_RELATIVE.finditer(sentence):
        name = match["name"]
        if name.lower() not in NOT_NAMES and (match["who"].lower() == "my" or speech.addressee):
            found.append((name, match.start(), match.end("name")))
    for start, end, name, kind in speech.known.find(sentence):
        if kind == "Person" and name != speech.speaker:
            found.append((name, start, end))
    return found


def match_third_person(sentence: str, speech: Speech) -> list[Statement]:
    """Facts whose subject is a named person other than the speaker."""
    statements: list[Statement] = []
    if not _TRIGGER.search(sentence):
        return statements
    for name, start, end in subjects(sentence, speech):
        for verb in _VERBS:
            match = verb.regex.match(sentence, end)
            if match is None:
                continue
            obj = verb.read(match, speech)
            if obj is None or obj.name == name:
                continue
            fact = verb.template.format(s=name, o=obj.name, a=article(obj.name))
            statements.append(
                Statement(name, verb.predicate, obj.name, obj.type or "Thing", fact,
                          _CONFIDENCE, start)
            )  # fmt: skip
    return statements
