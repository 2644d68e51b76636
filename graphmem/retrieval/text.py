"""Text helpers of retrieval: query tokens and exact name-mention matching."""

from __future__ import annotations

import functools
import re
import unicodedata

from graphmem.stopwords import ENGLISH_STOPWORDS

_WORD = re.compile(r"\w+", re.UNICODE)
_ARTICLES = frozenset({"the", "a", "an"})

# Words that never make a name on their own ("I", "me", "it"): an entity named by
# nothing but these would "match" almost every query. Chat roles are among them.
STOPWORDS = ENGLISH_STOPWORDS | {"user", "assistant"}


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
