"""Statements that a relation no longer holds: "I quit my job at Acme", "we broke up".

An ending names the predicate it closes and, when the sentence names it, the object;
without an object it closes every current object of that predicate for the speaker.
"I moved from Boston to Denver" is both an ending (Boston) and a new fact (Denver).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from graphmem.extraction.rules import readers
from graphmem.extraction.rules.lexicon import NOT_NAMES, ORG_SUFFIXES, PETS
from graphmem.extraction.rules.objects import ObjectMatch, ends_cleanly
from graphmem.extraction.rules.patterns import compile_pattern
from graphmem.extraction.rules.readers import Reader
from graphmem.extraction.rules.statements import EndingStatement, Speech, Statement
from graphmem.extraction.rules.text import Sentence, is_speculative

_ANYMORE = re.compile(r"\s*(?:there\s+|here\s+)?any\s*more\b", re.IGNORECASE)
_THERE = re.compile(r"\s*(?:there|here)\b", re.IGNORECASE)
# Every ending pattern contains one of these words; most sentences contain none.
_TRIGGER = re.compile(
    r"no\s+longer|any\s*more|\b(?:quit|left|resigned|laid|fired|let\s+go|retired|moved|broke"
    r"|split|divorced|graduated|passed|died|sold|stopped|lost)\b",
    re.IGNORECASE,
)
_MOVED_ON_TO = re.compile(r"\s+to\s+")
# "Since I lost my job, ..." looks back at an ending already told; without an object it
# would close whatever job the speaker has now.
_LOOKING_BACK = re.compile(
    r"\b(?:since|after|before|when|until|because|cause)\b|'cause\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class EndingPattern:
    """One way of saying that something stopped."""

    predicate: str
    regex: re.Pattern[str]
    read: Reader | None
    """Reads the object; None for patterns that never name one."""
    object_required: bool = False
    needs_anymore: bool = False
    """For "I don't work at X anymore": the sentence must go on with "anymore"."""
    loose_end: bool = False
    """True if words may follow without an object ("I retired from teaching")."""


def _e(
    predicate: str,
    template: str,
    read: Reader | None = None,
    *,
    required: bool = False,
    anymore: bool = False,
    loose: bool = False,
) -> EndingPattern:
    return EndingPattern(predicate, compile_pattern(template), read, required, anymore, loose)


def _captured_name(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    return ObjectMatch(match["name"], match.end(), "Animal")


def _captured_person(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    name = match["name"]
    if name.lower() in NOT_NAMES or name in (speech.speaker, speech.addressee):
        return None
    return ObjectMatch(name, match.end(), "Person")


def _left_organization(match: re.Match[str], speech: Speech) -> ObjectMatch | None:
    """ "I left X" ends a job only when X is clearly an organization."""
    found = readers.organization(match, speech)
    if found is None:
        return None
    known_org = speech.known.type_of(found.name) == "Organization"
    if not known_org and found.name.lower().split()[-1] not in ORG_SUFFIXES:
        return None
    return found


_NO_LONGER = r"<I>\s+<ADV>no\s+longer\s+"
_AM_NO_LONGER = r"<I><AM>\s+<ADV>no\s+longer\s+"
_DONT = r"<I>\s+(?:don't|do\s+not)\s+"
_JOB = r"(?:my|the|this|that)\s+(?:\w+\s+)?(?:job|position|role|gig|internship|work)"
_PETS = "|".join(sorted(PETS, key=len, reverse=True))
_NAME = r"(?P<name>(?-i:[A-Z][a-z]+))"

ENDINGS: tuple[EndingPattern, ...] = (
    _e("lives_in", _NO_LONGER + r"(?:live|reside)\s+in\s*", readers.place),
    _e("works_at", _NO_LONGER + r"work\s*(?:at|for)?\s*", readers.organization),
    _e("studies_at", _NO_LONGER + r"(?:study|go\s+to\s+school)\s*(?:at)?\s*", readers.organization),
    _e("works_at", _AM_NO_LONGER + r"(?:working|employed)\s*(?:at|for|by)?\s*",
       readers.organization),
    _e("lives_in", _AM_NO_LONGER + r"(?:living|based)\s+in\s*", readers.place),
    _e("dating", _AM_NO_LONGER + r"(?:with|dating|seeing|together\s+with)\s*", readers.person),
    _e("married_to", _AM_NO_LONGER + r"married\s*(?:to)?\s*", readers.person),
    _e("diet", r"<I><AM>\s+(?:not|no\s+longer)\s+<A>?<DIET>(?![\w-])", readers.captured_diet,
       required=True, anymore=True),
    _e("diet", _AM_NO_LONGER + r"<A>?<DIET>(?![\w-])", readers.captured_diet, required=True),
    _e("diet", r"<I>(?:<HAVE>)?\s+<ADV>stopped\s+being\s+<A>?<DIET>(?![\w-])",
       readers.captured_diet, required=True),
    _e("lives_in", _DONT + r"(?:live|reside)\s+in\s*", readers.place, anymore=True),
    _e("works_at", _DONT + r"work\s*(?:at|for)?\s*", readers.organization, anymore=True),
    _e("studies_at", _DONT + r"(?:study|go\s+to\s+school)\s*(?:at)?\s*", readers.organization,
       anymore=True),
    _e("works_at", r"<I>(?:<HAVE>)?\s+<ADV>(?:quit|left|resigned\s+from)\s+" + _JOB
       + r"(?:\s+(?:at|with)\s+)?", readers.organization, loose=True),
    _e("works_at", r"<I>(?:<HAVE>)?\s+<ADV>(?:quit|resigned\s+from)\s+", readers.organization,
       required=True),
    _e("works_at", r"<I>(?:<HAVE>)?\s+<ADV>left\s+", _left_organization, required=True),
    _e("works_at", r"(?:<I>(?:<HAVE>)?\s+<ADV>|^)(?i:lost)\s+my\s+job(?:\s+(?:at|with)\s+)?",
       readers.organization, loose=True),
    _e("works_as", r"(?:<I>(?:<HAVE>)?\s+<ADV>|^)(?i:lost)\s+my\s+job\s+as\s+<A>?",
       readers.any_job, required=True),
    _e("works_at", r"<I>\s+(?:was|got|'ve\s+been|have\s+been)\s+<ADV>(?:laid\s+off|fired"
       r"|let\s+go)(?:\s+(?:from|by|at)\s+)?", readers.organization, loose=True),
    _e("works_at", r"<I>(?:<HAVE>|<AM>)?\s+<ADV>retired(?:\s+from\s+)?", readers.organization,
       loose=True),
    _e("lives_in", r"<I>(?:<HAVE>)?\s+<ADV>moved\s+out\s+of\s+", readers.place, required=True),
    _e("lives_in", r"<I>(?:<HAVE>)?\s+<ADV>moved\s+(?:away\s+)?from\s+", readers.place,
       required=True),
    _e("dating", r"<I>(?:<HAVE>)?\s+<ADV>broke\s+up\s+with\s+(?:(?:my|her|his)\s+"
       r"(?:boyfriend|girlfriend|partner)\b)?", readers.person, loose=True),
    _e("dating", r"(?:<WE>|[Mm]y\s+(?:boyfriend|girlfriend|partner)\s+and\s+I)\s+<ADV>"
       r"(?:broke\s+up|split\s+up)\b"),
    _e("dating", _NAME + r"\s+and\s+I\s+<ADV>(?:broke\s+up|split\s+up)\b", _captured_person),
    _e("married_to", r"<I>(?:<HAVE>)?\s+<ADV>(?:got\s+|am\s+|'m\s+|was\s+)?divorced"
       r"(?:\s+from)?\s*", readers.person),
    _e("married_to", r"(?:<WE>|[Mm]y\s+(?:husband|wife|spouse)\s+and\s+I)\s+<ADV>"
       r"(?:got\s+)?divorced\b"),
    _e("studies_at", r"<I>(?:<HAVE>)?\s+<ADV>graduated(?:\s+from\s+)?", readers.organization,
       loose=True),
    _e("has_pet", r"[Mm]y\s+(?:\w+\s+)?(?:" + _PETS + r")\s*,?\s+" + _NAME
       + r"\s*,?\s+(?:has\s+)?(?:passed\s+away|died)\b", _captured_name, required=True),
    _e("owns", r"<I>(?:<HAVE>)?\s+<ADV>sold\s+my\s+(?:old\s+)?", readers.owned, required=True),
)  # fmt: skip


def _read(
    pattern: EndingPattern, match: re.Match[str], speech: Speech
) -> tuple[bool, ObjectMatch | None]:
    """(accepted, object) for one match of ``pattern``."""
    found = pattern.read(match, speech) if pattern.read is not None else None
    end = found.end if found is not None else match.end()
    if found is None and pattern.object_required:
        return False, None
    if found is None and not pattern.loose_end:
        there = _THERE.match(match.string, end)
        end = there.end() if there else end
        if not pattern.needs_anymore and not ends_cleanly(match.string, end):
            return False, None
    if pattern.needs_anymore and not _ANYMORE.match(match.string, end):
        return False, None
    return True, found


def match_endings(
    sentence: Sentence, speech: Speech
) -> tuple[list[EndingStatement], list[Statement]]:
    """Endings stated in ``sentence``, and the new home of "moved from X to Y"."""
    endings: list[EndingStatement] = []
    statements: list[Statement] = []
    text = sentence.text
    if not _TRIGGER.search(text):
        return endings, statements
    for pattern in ENDINGS:
        for match in pattern.regex.finditer(text):
            if is_speculative(sentence, match.start()):
                continue
            accepted, found = _read(pattern, match, speech)
            if not accepted:
                continue
            if found is None and _LOOKING_BACK.search(text, 0, match.start()):
                continue
            obj = found.name if found is not None else None
            kind = found.type if found is not None and found.type else "Thing"
            endings.append(
                EndingStatement(speech.speaker, pattern.predicate, obj, kind, match.start())
            )
            if found is not None and pattern.predicate == "lives_in" and "from" in match.group():
                statements.extend(_moved_on(match, found, speech))
    return endings, statements


def _moved_on(match: re.Match[str], left: ObjectMatch, speech: Speech) -> list[Statement]:
    onward = _MOVED_ON_TO.match(match.string, left.end)
    if onward is None:
        return []
    found = readers.place_at(match.string, onward.end(), speech)
    if found is None:
        return []
    fact = f"{speech.speaker} moved from {left.name} to {found.name}."
    return [Statement(speech.speaker, "lives_in", found.name, found.type, fact, 0.8, match.start())]
