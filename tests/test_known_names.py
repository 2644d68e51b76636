"""The known-names matcher finds exactly what one big alternation of the names would."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.extraction.rules.names import KnownNames

WORDS = ["mel", "melanie", "st.", "louis", "jean-luc", "o'brien", "at&t", "new", "york", "ny"]


Reference = tuple[re.Pattern[str] | None, dict[str, tuple[str, str]]]


def reference(surfaces: list[tuple[str, str, str]]) -> Reference:
    """The behaviour being preserved: one case-insensitive alternation, longest first."""
    canonical: dict[str, tuple[str, str]] = {}
    for surface, name, kind in surfaces:
        key = " ".join(surface.split()).lower()
        if len(key) > 1 and key not in canonical:
            canonical[key] = (name, kind)
    if not canonical:
        return None, canonical
    keys = sorted(canonical, key=len, reverse=True)
    alternatives = "|".join(r"\s+".join(map(re.escape, key.split())) for key in keys)
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE), canonical


def reference_find(ref: Reference, text: str) -> list[tuple[int, int, str, str]]:
    pattern, canonical = ref
    if pattern is None:
        return []
    return [
        (m.start(), m.end(), *canonical[" ".join(m.group().split()).lower()])
        for m in pattern.finditer(text)
    ]


def reference_match_at(ref: Reference, text: str, position: int) -> tuple[int, str, str] | None:
    pattern, canonical = ref
    match = pattern.match(text, position) if pattern is not None else None
    if match is None:
        return None
    return (match.end(), *canonical[" ".join(match.group().split()).lower()])


def test_longest_name_wins_and_words_are_not_split() -> None:
    known = KnownNames(
        [("Mel", "Melanie", "Person"), ("New York", "New York", "Place"), ("York", "York", "Place")]
    )
    text = "Mel moved to new   York; Melanie's friend from York and Mel's cat."
    assert [(name, text[a:b]) for a, b, name, _ in known.find(text)] == [
        ("Melanie", "Mel"),
        ("New York", "new   York"),
        ("York", "York"),
        ("Melanie", "Mel"),
    ]
    assert known.match_at(text, text.index("new")) == (text.index(";"), "New York", "Place")
    assert known.match_at(text, 1) is None  # inside a word


def test_names_starting_with_a_symbol_are_found() -> None:
    known = KnownNames([("'Salem's Lot", "'Salem's Lot", "Work")])
    assert known.find("I read 'Salem's Lot twice.")[0][2] == "'Salem's Lot"


names = st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join)
texts = st.lists(
    st.sampled_from([*WORDS, "MEL", "Louis", "a", "the", ",", ".", "'s", "-", "  ", "\n", "x"]),
    max_size=25,
).map(lambda parts: " ".join(parts).replace(" ,", ",").replace(" 's", "'s"))


@settings(max_examples=300, deadline=None)
@given(st.lists(names, max_size=8), texts)
def test_matches_a_single_alternation_of_the_names(keys: list[str], text: str) -> None:
    surfaces = [(key, key.title(), "Thing") for key in keys]
    known, ref = KnownNames(surfaces), reference(surfaces)
    assert known.find(text) == reference_find(ref, text)
    for position in range(len(text)):
        assert known.match_at(text, position) == reference_match_at(ref, text, position)
