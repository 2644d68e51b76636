"""Name normalization shared by storage lookups and entity resolution."""

from __future__ import annotations

import re
import unicodedata

from graphmem.models.records import Entity

_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$", re.UNICODE)
_LEADING_ARTICLE = re.compile(r"^(the|a|an)\s+")


def normalize_name(name: str) -> str:
    """Case-, accent-, whitespace- and article-insensitive form of an entity name.

    ``"  The Acme Corp. "`` and ``"acme corp"`` normalize alike; ``"Zoë"`` matches
    ``"Zoe"``. Inner punctuation is kept (``"AT&T"`` stays distinct from ``"AT T"``).
    """
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = _SPACE.sub(" ", stripped.casefold()).strip()
    text = _EDGE_PUNCT.sub("", text)
    return _LEADING_ARTICLE.sub("", text)


def lookup_keys(entity: Entity) -> set[str]:
    """The normalized forms an entity is found by: its name and its aliases."""
    keys = {entity.normalized_name}
    keys.update(normalize_name(alias) for alias in entity.aliases)
    keys.discard("")
    return keys
