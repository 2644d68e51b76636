"""Sentence splitting and the guards that keep questions and hypotheticals out of memory."""

from __future__ import annotations

import re
from dataclasses import dataclass

# Same-length replacements, so offsets into the normalized text are offsets into the input.
_TYPOGRAPHY = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})

_SENTENCE_END = re.compile(r"[.!?\u2026]+[\"')\]]*(?=\s|$)|\n+")
_ABBREVIATION = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Prof|vs|etc|Mt|Ave|Inc|Co|Corp|Ltd|No)|\b[A-Z])\.$"
)
_INVERTED_QUESTION = re.compile(
    r"^\W*(?:(?:so|and|but|oh|hey|wait|also|btw)\W+)*"
    r"(?:do|does|did|are|is|was|were|have|has|had|can|could|would|will|should|shall|may"
    r"|might|must|am|ain't|don't|doesn't|didn't|aren't|isn't|wasn't|weren't|haven't"
    r"|hasn't|won't|wouldn't|couldn't|shouldn't|can't)\s+(?:i|you|he|she|it|we|they|there"
    r"|your|my|his|her|our|their|anyone|anybody|someone)\b",
    re.IGNORECASE,
)
_WH_QUESTION = re.compile(
    r"^\W*(?:what|where|when|why|how|who|which|whose)\s+(?:do|does|did|is|are|was|were"
    r"|have|has|can|could|would|will|should)\b",
    re.IGNORECASE,
)
HYPOTHETICAL = re.compile(
    r"\b(?:if|unless|whether|would|could|should|might|maybe|perhaps|wish|wished|imagine"
    r"|suppose|supposed|pretend|hopefully|someday|dream|dreams|dreaming|what\s+if|in\s+case"
    r"|(?-i:may))\b|'d\b",
    re.IGNORECASE,
)
NEGATION = re.compile(
    r"n't\b|\b(?:not|never|no|nor|neither|without|hardly|barely|cannot|nobody|nothing|none)\b",
    re.IGNORECASE,
)
_CLAUSE_BREAK = re.compile(r"[,;:()\u2013\u2014]|\s-\s|\b(?:but|and|so|because|though|although)\b")
# "the things I love makes ...": the subject's object lies before it, not after.
_RELATIVE_HEAD = re.compile(
    r"\b(?:what|whatever|something|everything|anything|nothing|things|thing|stuff|ones|one"
    r"|all|whom|which)\s+$",
    re.IGNORECASE,
)
_REPORTED = re.compile(
    r"\b(?:said|says|told\s+me|tells\s+me|thinks|thought|claims|claimed|heard|according\s+to)"
    r"(?:\s+that)?\s*$",
    re.IGNORECASE,
)


def normalize(text: str) -> str:
    """Straighten typographic quotes; offsets are preserved (one char for one char)."""
    return text.translate(_TYPOGRAPHY)


@dataclass(frozen=True, slots=True)
class Sentence:
    """A sentence of an episode, with its offset in the normalized episode text."""

    text: str
    start: int
    is_question: bool


def split_sentences(text: str) -> list[Sentence]:
    """Split ``text`` (already normalized) into sentences, flagging questions."""
    sentences: list[Sentence] = []
    begin = 0
    for match in _SENTENCE_END.finditer(text):
        if match.group().startswith(".") and _ABBREVIATION.search(
            text, max(0, match.start() - 6), match.start() + 1
        ):
            continue
        _append(sentences, text, begin, match.end())
        begin = match.end()
    _append(sentences, text, begin, len(text))
    return sentences


def _append(sentences: list[Sentence], text: str, begin: int, end: int) -> None:
    chunk = text[begin:end]
    stripped = chunk.strip()
    if not stripped:
        return
    offset = begin + (len(chunk) - len(chunk.lstrip()))
    question = (
        stripped.rstrip("\"')] ").endswith("?")
        or _INVERTED_QUESTION.match(stripped) is not None
        or _WH_QUESTION.match(stripped) is not None
    )
    sentences.append(Sentence(stripped, offset, question))


def clause_prefix(sentence: str, position: int) -> str:
    """The part of ``sentence``'s clause that comes before ``position``."""
    start = 0
    for match in _CLAUSE_BREAK.finditer(sentence, 0, position):
        start = match.end()
    return sentence[start:position]


def is_asserted(sentence: Sentence, position: int) -> bool:
    """True if a statement starting at ``position`` is asserted, not asked or imagined.

    Rejects questions, anything after a hypothetical marker in the sentence ("if",
    "would", "I wish"), negations in the same clause ("I don't think I ..."), and
    reported speech ("she said I ...").
    """
    if sentence.is_question:
        return False
    before = sentence.text[:position]
    if HYPOTHETICAL.search(before):
        return False
    prefix = clause_prefix(sentence.text, position)
    return not NEGATION.search(prefix) and not _REPORTED.search(before)


def is_speculative(sentence: Sentence, position: int) -> bool:
    """True if the sentence is a question or a hypothetical before ``position``.

    Used by endings, whose own wording is a negation ("I no longer ...").
    """
    return sentence.is_question or HYPOTHETICAL.search(sentence.text[:position]) is not None


def in_relative_clause(sentence: Sentence, position: int) -> bool:
    """True if the subject at ``position`` opens a relative clause ("something I love")."""
    return _RELATIVE_HEAD.search(sentence.text[max(0, position - 12) : position]) is not None
