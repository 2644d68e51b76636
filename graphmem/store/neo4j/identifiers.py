"""Safe graph identifiers: relationship types from predicates, labels from entity types.

Cypher cannot take labels or relationship types as parameters, so they are the only
parts of a statement built from data. They are therefore derived by these functions
alone and validated against a strict ASCII grammar before any statement text is built:
no backticks, spaces, quotes, look-alike letters (a Cyrillic ``А`` in ``WORKS_АT``) or
Cypher keywords can reach the server.
"""

from __future__ import annotations

import hashlib
import re

from graphmem.errors import InvalidIdentifierError

MAX_IDENTIFIER_LENGTH = 100

# re.ASCII: \w and friends would otherwise accept letters of every script.
_PREDICATE = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_RELATIONSHIP_TYPE = re.compile(r"[A-Z][A-Z0-9_]*", re.ASCII)
_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_TYPE_WORDS = re.compile(r"[A-Za-z0-9]+(?:[ _\-][A-Za-z0-9]+)*", re.ASCII)
_WORD = re.compile(r"[A-Za-z0-9]+", re.ASCII)

CYPHER_KEYWORDS = frozenset(
    """
    ACCESS ACTIVE ADD ADMIN ALL ALTER AND ANY AS ASC ASCENDING ASSERT BY CALL CASE
    COLLECT COMMIT CONSTRAINT CONTAINS COUNT CREATE CSV DATABASE DEFAULT DELETE DENY
    DESC DESCENDING DETACH DISTINCT DO DROP ELSE END ENDS EXISTS FALSE FIELDTERMINATOR
    FINISH FOR FOREACH FROM GRANT IF IN INDEX INSERT IS KEY LIMIT LOAD MANDATORY MATCH
    MERGE NODE NONE NOT NULL OF OFFSET ON OPTIONAL OR ORDER PERIODIC REMOVE RENAME
    REQUIRE RETURN REVOKE SCALAR SET SHOW SINGLE SKIP START STARTS STOP TERMINATE THEN
    TRANSACTIONS TRUE UNION UNIQUE UNWIND USE USING WHEN WHERE WITH XOR YIELD
    """.split()  # noqa: SIM905 - a word list reads better than 90 quoted strings
)
"""Reserved and clause words of Cypher 5, compared case-insensitively."""

STRUCTURAL_LABELS = frozenset(
    {"Entity", "Episode", "FactRecord", "FactSource", "AuditEvent", "GraphmemMeta"}
)
"""Labels graphmem itself uses; an entity type may never add one of them."""

STRUCTURAL_RELATIONSHIP_TYPES = frozenset({"MENTIONS"})
"""Relationship types graphmem itself uses; no fact predicate may map onto them."""


def relationship_type(predicate: str) -> str:
    """The Neo4j relationship type of a canonical predicate: ``works_at`` -> ``WORKS_AT``.

    The predicate must already be canonical ASCII (letters, digits, underscores,
    starting with a letter); anything else raises
    :class:`~graphmem.errors.InvalidIdentifierError` rather than being guessed at,
    because two different predicates must never share a relationship type.
    """
    if not isinstance(predicate, str):
        raise InvalidIdentifierError(
            f"a predicate must be a string, got {type(predicate).__name__}"
        )
    # Validate before upper-casing: str.upper() maps some non-ASCII letters onto
    # ASCII ones ("ı" -> "I", "ſ" -> "S"), which would let a look-alike through.
    if not _PREDICATE.fullmatch(predicate):
        raise InvalidIdentifierError(
            f"predicate {predicate!r} is not a safe relationship type: use ASCII letters, "
            "digits and underscores, starting with a letter (for example 'works_at')"
        )
    candidate = predicate.upper()
    _check_length(candidate, "relationship type")
    # A keyword such as IS or IN is a fine type once quoted (statements backtick every
    # relationship type), so "is" and "in" predicates are stored as on every backend.
    if candidate in STRUCTURAL_RELATIONSHIP_TYPES:
        raise InvalidIdentifierError(
            f"predicate {predicate!r} maps to {candidate}, which graphmem reserves for "
            "episode-to-entity edges; rename it (for example 'talks_about')"
        )
    return validate_relationship_type(candidate)


def validate_relationship_type(name: str) -> str:
    """Return ``name`` if it is a safe relationship type, else raise InvalidIdentifierError.

    A safe type has no character that could end a backtick-quoted name; statements
    always quote it, so Cypher keywords are allowed.
    """
    if not isinstance(name, str) or not _RELATIONSHIP_TYPE.fullmatch(name):
        raise InvalidIdentifierError(
            f"{name!r} is not a safe relationship type (expected [A-Z][A-Z0-9_]*)"
        )
    _check_length(name, "relationship type")
    return name


def validate_label(name: str) -> str:
    """Return ``name`` if it is a safe node label, else raise InvalidIdentifierError."""
    if not isinstance(name, str) or not _LABEL.fullmatch(name):
        raise InvalidIdentifierError(
            f"{name!r} is not a safe label (expected ASCII [A-Za-z][A-Za-z0-9_]*)"
        )
    _check_length(name, "label")
    if name.upper() in CYPHER_KEYWORDS:
        raise InvalidIdentifierError(f"{name!r} is a Cypher keyword, not a label")
    return name


def entity_label(entity_type: str) -> str | None:
    """The extra label an entity of this type carries, or None when it gets none.

    Entity types are open-ended text from extractors, so instead of rejecting an
    entity over its type, a type that cannot be a label simply adds none (the type
    stays a property). ASCII words become PascalCase (``"tech company"`` ->
    ``TechCompany``); keywords and graphmem's own labels are never produced.
    """
    if not isinstance(entity_type, str) or not _TYPE_WORDS.fullmatch(entity_type):
        return None
    if _LABEL.fullmatch(entity_type):
        candidate = entity_type[0].upper() + entity_type[1:]
    else:
        words = _WORD.findall(entity_type)
        candidate = "".join(word[0].upper() + word[1:] for word in words)
    if not candidate[0].isalpha() or len(candidate) > MAX_IDENTIFIER_LENGTH:
        return None
    if candidate.upper() in CYPHER_KEYWORDS:
        return None
    if candidate.casefold() in {label.casefold() for label in STRUCTURAL_LABELS}:
        return None
    return validate_label(candidate)


def owner_token(owner: str) -> str:
    """An opaque single-word stand-in for an owner, indexed in full-text indexes.

    Full-text queries require it, so that a search never scores or returns another
    owner's records. It ends in a digit so that no stemming analyzer alters it.
    """
    return "o" + hashlib.sha256(owner.encode("utf-8")).hexdigest()[:32] + "0"


def _check_length(name: str, what: str) -> None:
    if len(name) > MAX_IDENTIFIER_LENGTH:
        raise InvalidIdentifierError(
            f"{what} {name[:40]!r}... is longer than {MAX_IDENTIFIER_LENGTH} characters"
        )
