"""Reading the object of a statement, starting where its verb pattern ended.

Each reader either returns a clean object (a name, a short phrase, a job title...) and
where it ends, or None when the words that follow do not make a clean object; the
caller then drops the statement rather than store a muddled fact.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from graphmem.extraction.rules.dates import find_time_expressions
from graphmem.extraction.rules.lexicon import (
    EVENT_NOUNS,
    GENERIC_EVENT_NOUNS,
    HOBBIES,
    JOB_MODIFIERS,
    JOBS,
    JOBS_NEEDING_MODIFIER,
    PRONOUNS,
    VAGUE_OBJECT_WORDS,
    VAGUE_PLAN_VERBS,
    word_set,
)
from graphmem.extraction.rules.names import (
    KnownNames,
    NameSpan,
    capitalized_spans,
    guess_type,
    quoted_titles,
)

_THE = re.compile(r"the\s+", re.IGNORECASE)
_WORD = re.compile(r"\s*([A-Za-z](?:[\w']|-(?=\w))*)")
_DETERMINERS = frozenset({"a", "an", "the", "some", "my", "our", "this", "that", "these"})
# Words that end a phrase object: conjunctions, most prepositions, time and degree words.
_PHRASE_STOPS = word_set(
    """and but or so because since with for in at on from as when while after before until
    last this next yesterday today tonight tomorrow now recently lately too again ago every
    back during where which who that together though although already yet right soon
    anymore more very really even also lol haha by than like if then there here
    sometimes always often whenever just i not these those nowadays"""
)
# After a proper name, these may follow too ("I moved to Paris two years ago").
_NAME_FOLLOWERS = word_set(
    """a an the one two three four five six seven eight nine ten few couple several to
    over around once twice is was were has had it"""
)
_COORDINATORS = frozenset({"and", "or"})
_ARTICLES = frozenset({"a", "an", "the", "this", "that"})
_EVENT_INNER_WORDS = frozenset({"of", "in", "for", "on"})
# A phrase ending in one of these is cut short ("curling up", "escaping to").
_DANGLING = word_set(
    """to up out off with of about into onto on in for at from over around down through by
    the a an my your our their his her some any"""
)
_BOUNDARY = re.compile(r"\s*(?:$|[.,!?;:)\]\"\u2026\-\u2013\u2014]|[^\x00-\u024f\s])")
_VERB_PHRASE_STOPS = word_set(
    """and but or so because since when while after before until if though although
    which who whenever than lol haha"""
)
# Words that make a plan refer back into the conversation or say nothing concrete.
_VAGUE_IN_PLANS = word_set("there vibe vibes moment moments stuff things thing it")
_POSSESSIVE_AHEAD = re.compile(r"'s\b")
# Only the span of a trailing time expression matters here, not its value.
_ANY_REFERENCE = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class ObjectMatch:
    """An object read from a sentence."""

    name: str
    end: int
    type: str
    """Entity type guessed for the object."""
    named: bool = True
    """True for proper names, titles and known entities; False for common phrases."""


def ends_cleanly(text: str, position: int, *, after_name: bool = False) -> bool:
    """True if ``position`` is followed by punctuation, an emoji, a stop word or the end."""
    if _BOUNDARY.match(text, position):
        return True
    word = _WORD.match(text, position)
    if word is None:
        return text[position:].lstrip()[:1].isdigit() and after_name
    lower = word.group(1).lower()
    return lower in _PHRASE_STOPS or (after_name and lower in _NAME_FOLLOWERS)


def named_object(text: str, position: int, known: KnownNames) -> ObjectMatch | None:
    """A proper name, quoted title or known name starting at ``position`` ("the" allowed).

    A capitalized span must end the clause or be followed by a stop word: in "a fan of
    Nintendo games" the name only modifies the object, so nothing is read.
    """
    while position < len(text) and text[position].isspace():
        position += 1
    the = _THE.match(text, position)
    if the is not None:
        position = the.end()
    hit = known.match_at(text, position)
    if hit is not None:
        end, name, kind = hit
        if _POSSESSIVE_AHEAD.match(text, end) or not ends_cleanly(text, end, after_name=True):
            return None
        return ObjectMatch(name, end, kind)
    if position < len(text) and text[position] in "\"'":
        titles = [t for t in quoted_titles(text[position : position + 130]) if t.start == 1]
        if titles:
            title = titles[0]
            return ObjectMatch(title.name, position + title.end + 1, "Work")
    spans = capitalized_spans(text[position : position + 120])
    if not spans or spans[0].start != 0 or spans[0].possessive:
        return None
    span = spans[0]
    end = position + span.end
    if not ends_cleanly(text, end, after_name=True):
        return None
    placed = NameSpan(span.name, position, end, False, False, span.tokens)
    return ObjectMatch(span.name, end, guess_type(placed, text))


def _phrase_words(text: str, position: int, limit: int) -> tuple[list[str], int] | None:
    """Words from ``position`` up to a stop word; None if more than ``limit``."""
    words: list[str] = []
    end = position
    while True:
        match = _WORD.match(text, end)
        if match is None:
            break
        word = match.group(1)
        if word.lower() in _PHRASE_STOPS or (word[0].isupper() and not words):
            break
        words.append(word)
        end = match.end()
        if len(words) > limit:
            return None
    return words, end


def phrase_object(
    text: str, position: int, *, max_words: int = 3, allow_determiner: bool = False
) -> ObjectMatch | None:
    """A short common-noun or gerund phrase ("painting", "action and sci-fi movies").

    Rejects phrases that point at something in the conversation (pronouns, "the pic",
    "that"), that run on past ``max_words`` words, that dangle ("curling up"), that are a
    bare gerund too vague to be a taste ("playing"), or that do not end cleanly.
    """
    first = _WORD.match(text, position)
    if first is not None and first.group(1).lower() in _DETERMINERS:
        if not allow_determiner or first.group(1).lower() not in _ARTICLES:
            return None
        position = first.end()
    read = _phrase_words(text, position, max_words)
    if read is None or not read[0]:
        return None
    words, end = read
    joiner = _WORD.match(text, end)
    if joiner is not None and joiner.group(1).lower() in _COORDINATORS:
        more = _phrase_words(text, joiner.end(), max_words)
        if more is not None and more[0] and len(words) + len(more[0]) < max_words + 2:
            words = [*words, joiner.group(1).lower(), *more[0]]
            end = more[1]
    lowered = [w.lower() for w in words]
    if not ends_cleanly(text, end) or lowered[-1] in _DANGLING:
        return None
    if text[end : end + 1] == "," and any(w in ("a", "an", "the") for w in lowered):
        return None  # "creating a safe, inviting place": the comma splits adjectives
    if lowered[0] in VAGUE_OBJECT_WORDS or any(w in PRONOUNS for w in lowered):
        return None
    if len(words) == 1 and lowered[0].endswith("ing") and lowered[0] not in HOBBIES:
        return None
    return ObjectMatch(" ".join(words), end, "Thing", named=False)


def job_object(text: str, position: int, *, require_known_job: bool) -> ObjectMatch | None:
    """A job title ("nurse", "freelance graphic designer") that ends cleanly."""
    words: list[str] = []
    end = position
    while len(words) < 4:
        match = _WORD.match(text, end)
        if match is None:
            break
        lower = match.group(1).lower()
        if lower in _PHRASE_STOPS:
            break
        words.append(lower)
        end = match.end()
        if lower in JOBS and ends_cleanly(text, end):
            break
    if not words or not ends_cleanly(text, end):
        return None
    if require_known_job:
        head, modifiers = words[-1], words[:-1]
        if head not in JOBS or any(m not in JOB_MODIFIERS for m in modifiers):
            return None
        if head in JOBS_NEEDING_MODIFIER and not modifiers:
            return None
    elif words[0] in VAGUE_OBJECT_WORDS or any(w in PRONOUNS for w in words):
        return None
    return ObjectMatch(" ".join(words), end, "Role", named=False)


def event_object(text: str, position: int) -> ObjectMatch | None:
    """An event named by its kind ("a transgender conference", "my cousin's wedding")."""
    words: list[str] = []
    end = position
    first = True
    while len(words) < 5:
        match = _WORD.match(text, end)
        if match is None:
            return None
        word = match.group(1)
        lower = word.lower()
        end = match.end()
        if first and lower in _DETERMINERS:
            first = False
            continue
        first = False
        inner = words and lower in _EVENT_INNER_WORDS  # "Women in Tech conference"
        if (lower in _PHRASE_STOPS and not inner) or lower in PRONOUNS:
            return None
        words.append(word)
        noun = lower.removesuffix("s")
        if noun in EVENT_NOUNS and ends_cleanly(text, end):
            if noun in GENERIC_EVENT_NOUNS and len(words) == 1:
                return None
            return ObjectMatch(" ".join(words), end, "Event", named=False)
    return None


def verb_phrase(text: str, position: int, speaker: str, *, max_words: int = 7) -> str | None:
    """A plan's verb phrase ("visit Paris", "start a Harry Potter fan project").

    "my" becomes the speaker's name; a phrase with other pronouns, a vague head verb
    ("try", "be"), or more than ``max_words`` words is rejected. A trailing time
    expression ("next week") is cut off: it dates the fact instead.
    """
    words: list[str] = []
    end = position
    while True:
        match = _WORD.match(text, end)
        if match is None:
            break
        lower = match.group(1).lower()
        if lower in _VERB_PHRASE_STOPS:
            break
        words.append(match.group(1))
        end = match.end()
        if len(words) > max_words + 3:
            return None
    if not words or not ends_cleanly(text, end):
        return None
    phrase = " ".join(words)
    cut = find_time_expressions(phrase, _ANY_REFERENCE, limit=1)
    if cut:
        phrase = phrase[: cut[0].start].strip()
    words = phrase.split()
    if not words or len(words) > max_words:
        return None
    head = words[0].lower()
    if head in _DETERMINERS or words[0][0].isupper():
        words = ["go", "to", *words]
    elif head in VAGUE_PLAN_VERBS or not head.isalpha():
        return None
    if len(words) < 2:
        return None
    rewritten: list[str] = []
    for word in words:
        lower = word.lower()
        if lower == "my":
            rewritten.append(f"{speaker}'s")
        elif lower in PRONOUNS or lower in _VAGUE_IN_PLANS:
            return None
        else:
            rewritten.append(word)
    return " ".join(rewritten)
