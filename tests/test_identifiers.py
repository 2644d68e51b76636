"""Graph identifiers: only safe ASCII names ever reach Cypher text."""

from __future__ import annotations

import pytest

from graphmem.errors import InvalidIdentifierError, InvalidInputError
from graphmem.store.neo4j import statements
from graphmem.store.neo4j.identifiers import (
    entity_label,
    owner_token,
    relationship_type,
    validate_label,
    validate_relationship_type,
)


@pytest.mark.parametrize(
    ("predicate", "expected"),
    [
        ("works_at", "WORKS_AT"),
        ("lives_in", "LIVES_IN"),
        ("parent_of", "PARENT_OF"),
        ("favorite_color", "FAVORITE_COLOR"),
        ("WORKS_AT", "WORKS_AT"),
        ("visited2", "VISITED2"),
    ],
)
def test_canonical_predicates_become_upper_case_types(predicate: str, expected: str) -> None:
    assert relationship_type(predicate) == expected


@pytest.mark.parametrize(
    "predicate",
    [
        "works`at",  # backtick would close a quoted identifier
        "works at",  # space
        "works'at",
        'works"at',
        "works_at]->(x) DETACH DELETE x //",
        "WORKS_\u0410T",  # Cyrillic capital A, looks like Latin A
        "works_\u0430t",  # Cyrillic small a
        "l\u0131kes",  # dotless i: upper-cases to ASCII "LIKES"
        "\u017ftudies",  # long s: upper-cases to ASCII "STUDIES"
        "works_at\u200b",  # zero-width space
        "ｗｏｒｋｓ",  # fullwidth letters
        "_works",  # must start with a letter
        "2nd_home",
        "",
        "works-at",
        "works.at",
    ],
)
def test_unsafe_predicates_are_rejected(predicate: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        relationship_type(predicate)


@pytest.mark.parametrize("predicate", ["match", "create", "delete", "return", "is", "in"])
def test_predicates_that_are_cypher_keywords_become_quoted_types(predicate: str) -> None:
    rel_type = relationship_type(predicate)
    assert rel_type == predicate.upper()
    created = statements.create_fact_relationships(rel_type, [])
    assert f"CREATE (s)-[r:`{rel_type}`]->(o)" in created.text


def test_the_mentions_edge_type_is_reserved() -> None:
    with pytest.raises(InvalidIdentifierError, match="reserves"):
        relationship_type("mentions")


def test_overlong_predicates_are_rejected() -> None:
    with pytest.raises(InvalidIdentifierError, match="longer than"):
        relationship_type("a" * 101)


def test_non_string_predicate_is_rejected() -> None:
    with pytest.raises(InvalidIdentifierError):
        relationship_type(42)  # type: ignore[arg-type]


def test_identifier_errors_are_input_errors() -> None:
    with pytest.raises(InvalidInputError):
        relationship_type("works at")


@pytest.mark.parametrize(
    ("entity_type", "label"),
    [
        ("Person", "Person"),
        ("person", "Person"),
        ("Organization", "Organization"),
        ("tech company", "TechCompany"),
        ("music-band", "MusicBand"),
        ("TV_Show", "TV_Show"),
    ],
)
def test_entity_types_become_labels(entity_type: str, label: str) -> None:
    assert entity_label(entity_type) == label


@pytest.mark.parametrize(
    "entity_type",
    [
        "Entity",  # graphmem's own labels
        "episode",
        "FactRecord",
        "Ville à la campagne",  # non-ASCII
        "Pers\u043en",  # Cyrillic o
        "Person`) DETACH DELETE n //",
        "Per son:Admin",
        "Match",  # keyword
        "123",
        "",
    ],
)
def test_entity_types_that_cannot_be_labels_add_none(entity_type: str) -> None:
    assert entity_label(entity_type) is None


@pytest.mark.parametrize("name", ["A`B", "A B", "Ä", "A'B", "MATCH", "1A", "A\nB"])
def test_label_validation_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        validate_label(name)


@pytest.mark.parametrize("name", ["works_at", "WORKS AT", "WORKS_\u0410T", "A`B", "A`", ""])
def test_relationship_type_validation_rejects_unsafe_names(name: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        validate_relationship_type(name)


def test_owner_tokens_are_single_opaque_words_distinct_per_owner() -> None:
    alice, bob = owner_token("user:alice"), owner_token("user:bob")
    assert alice != bob
    assert alice == owner_token("user:alice")
    assert alice.isalnum()
    assert alice.isascii()
    assert alice[-1].isdigit()
    assert "alice" not in alice
