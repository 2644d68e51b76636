"""BM25 keyword search over the FTS5 tables, always restricted to one owner."""

from __future__ import annotations

import hashlib
import json
import re

from graphmem.stopwords import ENGLISH_STOPWORDS

# Queries are natural-language questions: their stopwords would make every document match.
STOPWORDS = ENGLISH_STOPWORDS

_WORD = re.compile(r"\w+", re.UNICODE)
MAX_QUERY_TERMS = 32


def scope_token(owner: str) -> str:
    """An opaque single-token stand-in for an owner, indexed in the FTS ``scope`` column."""
    return "s" + hashlib.sha1(owner.encode("utf-8")).hexdigest()[:24]


def names_text(name: str, aliases_json: str) -> str:
    """The text indexed for an entity: its name and aliases."""
    aliases = json.loads(aliases_json) if aliases_json else []
    return " ".join([name, *aliases])


def query_terms(text: str) -> list[str]:
    """Distinct lower-case content words of a query, in order, stopwords removed."""
    seen: dict[str, None] = {}
    for word in _WORD.findall(text.lower()):
        if word not in STOPWORDS and word not in seen:
            seen[word] = None
    return list(seen)[:MAX_QUERY_TERMS]


def match_expression(owner: str, text: str, column: str) -> str | None:
    """An FTS5 MATCH expression: the owner's token AND any of the query's terms.

    Every term is quoted, so FTS5 operators and punctuation in user text are inert.
    Returns None when the query has no content words.
    """
    terms = query_terms(text)
    if not terms:
        return None
    any_term = " OR ".join('"' + term.replace('"', '""') + '"' for term in terms)
    return f'{{scope}}:"{scope_token(owner)}" AND {{{column}}}:({any_term})'
