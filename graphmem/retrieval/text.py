"""Text helpers of retrieval: query tokens and exact name-mention matching."""

from __future__ import annotations

import functools
import re
import unicodedata

_WORD = re.compile(r"\w+", re.UNICODE)
_ARTICLES = frozenset({"the", "a", "an"})

# Words that never make a name on their own ("I", "me", "it"): an entity named by
# nothing but these would "match" almost every query.
_STOPWORD_TEXT = """
    a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don didn doesn isn wasn aren weren won ll ve re d m o y user
    assistant
"""
STOPWORDS = frozenset(_STOPWORD_TEXT.split())


def tokens(text: str) -> list[str]:
    """Case- and accent-insensitive word tokens, in order."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(stripped.casefold())


@functools.lru_cache(maxsize=65536)
def name_tokens(name: str) -> tuple[str, ...]:
    """Tokens of an entity name for mention matching; empty if it cannot be matched.

    A leading article is dropped ("The Beatles" is mentioned by "beatles"); names made
    only of stopwords or single characters are unmatchable.
    """
    words = tokens(name)
    if len(words) > 1 and words[0] in _ARTICLES:
        words = words[1:]
    if not words or all(w in STOPWORDS or len(w) < 2 for w in words):
        return ()
    return tuple(words)


def find_spans(query_tokens: list[str], name: tuple[str, ...]) -> list[tuple[int, int]]:
    """Where ``name`` occurs as a contiguous run of ``query_tokens`` (token offsets)."""
    width = len(name)
    if width == 0 or width > len(query_tokens):
        return []
    first = name[0]
    return [
        (start, start + width)
        for start in range(len(query_tokens) - width + 1)
        if query_tokens[start] == first and tuple(query_tokens[start : start + width]) == name
    ]
