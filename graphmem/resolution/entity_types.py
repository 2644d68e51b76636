"""Entity type compatibility: which types may name the same entity, and which is sharper.

Types are open-ended strings (extractors may say ``City`` or ``Company``), so they are
grouped into families. Two types are compatible when either is generic (``Thing``)
or both fall in the same family: ``City`` and ``Place`` may be one entity, ``Person``
and ``Place`` never are. An unknown type forms its own family.
"""

from __future__ import annotations

import re
from functools import lru_cache

_GENERIC = frozenset({"thing", "entity", "object", "concept", "other", "unknown", "misc"})

_FAMILY_MEMBERS: dict[str, frozenset[str]] = {
    "person": frozenset(
        {"people", "human", "individual", "character", "contact", "relative", "friend"}
    ),
    "place": frozenset(
        {
            "location",
            "city",
            "town",
            "village",
            "country",
            "state",
            "region",
            "address",
            "venue",
            "building",
            "landmark",
            "neighborhood",
        }
    ),
    "organization": frozenset(
        {
            "organisation",
            "org",
            "company",
            "business",
            "corporation",
            "employer",
            "school",
            "university",
            "institution",
            "agency",
            "team",
            "band",
            "club",
            "nonprofit",
        }
    ),
    "event": frozenset({"meeting", "conference", "holiday", "trip", "festival", "party"}),
    "work": frozenset(
        {"book", "movie", "film", "song", "album", "artwork", "painting", "show", "series"}
    ),
    "product": frozenset({"device", "app", "software", "brand", "service"}),
}
_FAMILY_OF: dict[str, str] = {
    member: family for family, members in _FAMILY_MEMBERS.items() for member in members
}
_SEPARATORS = re.compile(r"[\s_\-]+")


@lru_cache(maxsize=1024)
def _key(type_name: str) -> str:
    return _SEPARATORS.sub("", type_name.casefold())


def is_generic_type(type_name: str) -> bool:
    """True for types that say nothing about the entity (``Thing``, ``Entity``...)."""
    return _key(type_name) in _GENERIC


@lru_cache(maxsize=1024)
def type_family(type_name: str) -> str | None:
    """The family a type belongs to (``city`` -> ``place``); None for generic types."""
    key = _key(type_name)
    if key in _GENERIC:
        return None
    return _FAMILY_OF.get(key, key)


@lru_cache(maxsize=4096)
def compatible_types(a: str, b: str) -> bool:
    """True if entities of types ``a`` and ``b`` may be the same entity.

    ``Thing`` is compatible with everything; ``Person`` and ``Place`` are not;
    ``City`` and ``Place`` are (same family). Case and separators are ignored.
    """
    family_a, family_b = type_family(a), type_family(b)
    return family_a is None or family_b is None or family_a == family_b


def type_specificity(type_name: str) -> int:
    """0 for generic types, 1 for a family's own name (``Place``), 2 for anything sharper."""
    key = _key(type_name)
    if key in _GENERIC:
        return 0
    return 1 if key in _FAMILY_MEMBERS else 2


def sharper_type(current: str, offered: str) -> str | None:
    """``offered`` if it is compatible with and more specific than ``current``, else None."""
    if compatible_types(current, offered) and type_specificity(offered) > type_specificity(current):
        return offered
    return None
