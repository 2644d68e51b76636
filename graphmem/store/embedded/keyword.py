"""BM25 keyword search over the FTS5 tables, always restricted to one owner."""

from __future__ import annotations

import hashlib
import json
import re

# A compact English stopword list: words that carry no topic and would make every
# document match. (Queries are natural-language questions.) A word list reads best as text.
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in
    into is it its itself just me more most my myself no nor not now of off on once only or
    other our ours ourselves out over own same she should so some such than that the their
    theirs them themselves then there these they this those through to too under until up
    very was we were what when where which while who whom why will with would you your yours
    yourself yourselves s t don didn doesn isn wasn aren weren won ll ve re d m o y""".split()  # noqa: SIM905
)

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
