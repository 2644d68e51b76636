"""The predicate catalogue: phrasings to canonical predicates, cardinality, safe identifiers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.errors import InvalidIdentifierError, InvalidInputError
from graphmem.temporal.predicates import (
    MAX_PREDICATE_LENGTH,
    PredicateCatalogue,
    PredicateSpec,
    default_catalogue_text,
    normalize_predicate,
    relationship_type,
)

CATALOGUE = PredicateCatalogue.default()


# --- normalization -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Works For", "works_for"),
        ("  lives   in \t", "lives_in"),
        ("works-for!!", "works_for"),
        ("WORKS_AT", "works_at"),
        ("doesn't like", "doesnt_like"),
        ("doesn\u2019t like", "doesnt_like"),
        ("café owner", "cafe_owner"),
        ("\uff37\uff4f\uff52\uff4b\uff53 \uff41\uff54", "works_at"),  # full-width letters
        ("wo\u200brks", "works"),  # zero-width space is invisible, not a separator
        ("favourite 2nd album", "favourite_2nd_album"),
        ("x" * MAX_PREDICATE_LENGTH, "x" * MAX_PREDICATE_LENGTH),
    ],
)
def test_normalize_predicate_produces_snake_case(text: str, expected: str) -> None:
    assert normalize_predicate(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!! ???",
        "3d_prints",
        "x" * (MAX_PREDICATE_LENGTH + 1),
        "w\u043erks_\u0430t",  # Cyrillic o and a that look like Latin ones
        "\u03bfwns",  # Greek omicron
        "住在",
    ],
)
def test_normalize_predicate_rejects_unusable_text(text: str) -> None:
    with pytest.raises(InvalidIdentifierError):
        normalize_predicate(text)


def test_normalize_predicate_rejects_non_strings() -> None:
    with pytest.raises(InvalidIdentifierError, match="must be a string"):
        normalize_predicate(42)  # type: ignore[arg-type]


def test_relationship_type_mirrors_the_stored_predicate() -> None:
    assert relationship_type("works_at") == "WORKS_AT"
    assert CATALOGUE.relationship_type("lives_in") == "LIVES_IN"
    # Synonyms are not applied: the type must match Fact.predicate exactly.
    assert CATALOGUE.relationship_type("works for") == "WORKS_FOR"


def test_lookalike_letters_never_reach_a_relationship_type() -> None:
    with pytest.raises(InvalidIdentifierError, match="Latin"):
        CATALOGUE.relationship_type("WORKS_\u0410T")  # Cyrillic capital A
    with pytest.raises(InvalidIdentifierError):
        CATALOGUE.canonical("lives \u0456n")  # Ukrainian i


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=80))
def test_any_text_gives_a_safe_relationship_type_or_a_typed_error(text: str) -> None:
    try:
        rel_type = relationship_type(text)
    except InvalidIdentifierError:
        return
    assert rel_type.isascii()
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", rel_type)
    assert len(rel_type) <= MAX_PREDICATE_LENGTH


# --- canonical names ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("works for", "works_at"),
        ("employed by", "works_at"),
        ("employed at", "works_at"),
        ("job at", "works_at"),
        ("worked at", "works_at"),
        ("is working at", "works_at"),
        ("resides in", "lives_in"),
        ("lives at", "lives_in"),
        ("based in", "lives_in"),
        ("home is", "lives_in"),
        ("moved to", "lives_in"),
        ("has been living in", "lives_in"),
        ("Lives_In", "lives_in"),
        ("is married to", "married_to"),
        ("partner_of", "dating"),
        ("has a girlfriend", "dating"),
        ("sister of", "sibling_of"),
        ("brother_of", "sibling_of"),
        ("my sister is", "sibling_of"),
        ("has_child", "parent_of"),
        ("daughter of", "child_of"),
        ("friends with", "friend_of"),
        ("eats", "diet"),
        ("doesn't like", "dislikes"),
        ("likes to", "enjoys"),
        ("has been to", "visited"),
        ("is studying", "studies"),
        ("attends school", "studies_at"),
        ("Favourite Colour", "favorite_color"),
        ("is a citizen of", "nationality"),
    ],
)
def test_phrasings_map_to_their_canonical_predicate(text: str, expected: str) -> None:
    assert CATALOGUE.canonical(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Collects", "collects"),
        ("is obsessed with", "obsessed_with"),
        ("currently drives", "drives"),
        ("is 3d printing", "is_3d_printing"),  # dropping "is" would leave a leading digit
    ],
)
def test_unknown_phrasings_keep_their_normalized_text(text: str, expected: str) -> None:
    assert CATALOGUE.canonical(text) == expected
    assert CATALOGUE.spec(text) == PredicateSpec(name=expected, cardinality="many")


def test_every_shipped_phrasing_resolves_to_its_own_predicate() -> None:
    for spec in CATALOGUE.specs():
        if spec.is_pattern:
            continue
        assert CATALOGUE.canonical(spec.name) == spec.name
        for synonym in spec.synonyms:
            assert CATALOGUE.canonical(synonym) == spec.name, synonym
            assert CATALOGUE.canonical(CATALOGUE.canonical(synonym)) == spec.name
        for ending in spec.ends:
            assert CATALOGUE.ending_predicate(ending) == spec.name, ending


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    st.one_of(
        st.text(max_size=60),
        st.lists(
            st.sampled_from(
                [
                    "is",
                    "has",
                    "been",
                    "works",
                    "at",
                    "no",
                    "longer",
                    "my",
                    "living",
                    "in",
                    "not",
                    "anymore",
                    "favourite",
                    "3d",
                    "x",
                ]
            ),
            max_size=6,
        ).map(" ".join),
    )
)
def test_canonical_names_are_safe_fixed_points(text: str) -> None:
    try:
        name = CATALOGUE.canonical(text)
    except InvalidIdentifierError:
        return
    assert normalize_predicate(name) == name
    assert CATALOGUE.canonical(name) == name
    assert CATALOGUE.spec(name).name == name
    assert re.fullmatch(r"[A-Z][A-Z0-9_]*", relationship_type(name))
    ended = CATALOGUE.ending_predicate(text)
    assert ended is None or ended in CATALOGUE


# --- behaviour of predicates -------------------------------------------------------------

ONE_VALUED = [
    "lives_in",
    "works_at",
    "works_as",
    "studies_at",
    "married_to",
    "dating",
    "engaged_to",
    "born_in",
    "age",
    "diet",
]
MANY_VALUED = [
    "likes",
    "loves",
    "enjoys",
    "dislikes",
    "has_pet",
    "parent_of",
    "child_of",
    "sibling_of",
    "friend_of",
    "plans_to",
    "visited",
    "attended",
    "member_of",
    "owns",
    "nationality",
    "knows",
]


@pytest.mark.parametrize("name", ONE_VALUED)
def test_one_valued_predicates(name: str) -> None:
    assert CATALOGUE.spec(name).cardinality == "one"
    assert name in CATALOGUE


@pytest.mark.parametrize("name", MANY_VALUED)
def test_many_valued_predicates(name: str) -> None:
    assert CATALOGUE.spec(name).cardinality == "many"
    assert name in CATALOGUE


def test_symmetric_and_inverse_predicates() -> None:
    symmetric = {spec.name for spec in CATALOGUE.specs() if spec.symmetric}
    assert {"married_to", "dating", "engaged_to", "sibling_of", "friend_of", "knows"} <= symmetric
    assert "works_at" not in symmetric
    assert CATALOGUE.spec("parent_of").inverse == "child_of"
    assert CATALOGUE.spec("child_of").inverse == "parent_of"
    assert CATALOGUE.spec("married_to").inverse is None


def test_favorite_pattern_gives_one_valued_predicates() -> None:
    spec = CATALOGUE.spec("favourite band")
    assert (spec.name, spec.cardinality) == ("favorite_band", "one")
    assert CATALOGUE.spec("favorite").cardinality == "many"  # the prefix alone is no match
    assert "favorite_band" not in CATALOGUE


def test_unknown_predicates_default_to_many() -> None:
    spec = CATALOGUE.spec("collects")
    assert (spec.cardinality, spec.symmetric, spec.inverse) == ("many", False, None)


# --- endings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("quit", "works_at"),
        ("resigned from", "works_at"),
        ("no longer works at", "works_at"),
        ("I no longer work at", "works_at"),
        ("stopped working for", "works_at"),
        ("moved out of", "lives_in"),
        ("used to live in", "lives_in"),
        ("doesn't live in anymore", "lives_in"),
        ("broke up with", "dating"),
        ("is no longer married to", "married_to"),
        ("stopped liking", "likes"),
        ("graduated from", "studies_at"),
        ("quit smoking", None),
        ("works_at", None),
    ],
)
def test_ending_phrasings(text: str, expected: str | None) -> None:
    assert CATALOGUE.ending_predicate(text) == expected


def test_resolve_ending_accepts_canonical_names_and_ending_phrasings() -> None:
    assert CATALOGUE.resolve_ending("works_at") == "works_at"
    assert CATALOGUE.resolve_ending("quit") == "works_at"
    assert CATALOGUE.resolve_ending("collects") == "collects"


# --- loading and extending -----------------------------------------------------------------


def test_default_is_loaded_once_from_the_shipped_file() -> None:
    assert PredicateCatalogue.default() is CATALOGUE
    text, source = default_catalogue_text()
    assert source.endswith("predicates.yaml")
    assert "lives_in:" in text


def test_from_file_reads_a_user_catalogue(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text(
        "predicates:\n"
        "  owns_car:\n"
        "    cardinality: one\n"
        "    synonyms: [drives]\n"
        "  favorite_*:\n"
        "    cardinality: one\n",
        encoding="utf-8",
    )
    catalogue = PredicateCatalogue.from_file(path)
    assert list(catalogue) == ["owns_car"]
    assert catalogue.canonical("drives") == "owns_car"
    assert catalogue.spec("favorite_tea").cardinality == "one"
    assert catalogue.canonical("works for") == "works_for"  # nothing shipped is included


def test_extension_adds_predicates_and_completes_inverses() -> None:
    catalogue = CATALOGUE.extended(
        {
            "mentors": {"inverse": "mentored_by", "synonyms": ["is mentor of"]},
            "mentored_by": {"cardinality": "one"},
        }
    )
    assert catalogue.canonical("is a mentor of") == "mentors"
    assert catalogue.spec("mentored_by").inverse == "mentors"
    assert catalogue.spec("mentored_by").cardinality == "one"
    assert catalogue.canonical("works for") == "works_at"
    assert "mentors" not in CATALOGUE  # the original is unchanged


def test_extension_overrides_only_the_fields_it_gives() -> None:
    catalogue = CATALOGUE.extended({"predicates": {"likes": {"cardinality": "one"}}})
    likes = catalogue.spec("likes")
    assert likes.cardinality == "one"
    assert likes.synonyms == CATALOGUE.spec("likes").synonyms
    assert catalogue.canonical("fond of") == "likes"
    assert CATALOGUE.spec("likes").cardinality == "many"


def test_extension_takes_over_phrasings_it_lists() -> None:
    catalogue = CATALOGUE.extended({"employed_by": {"synonyms": ["employed at"]}})
    assert catalogue.canonical("employed by") == "employed_by"
    assert catalogue.canonical("employed at") == "employed_by"
    assert catalogue.canonical("works for") == "works_at"
    assert "employed at" not in catalogue.spec("works_at").synonyms


def test_extension_can_replace_an_entry(tmp_path: Path) -> None:
    path = tmp_path / "extra.yaml"
    path.write_text("predicates:\n  works_at:\n    replace: true\n", encoding="utf-8")
    catalogue = CATALOGUE.extended(path)
    assert catalogue.spec("works_at") == PredicateSpec(
        name="works_at", cardinality="many", inverse="employs"
    )
    assert catalogue.canonical("employed by") == "employed_by"


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        (
            "predicates:\n  a_rel:\n    synonyms: [rel x]\n  b_rel:\n    synonyms: [rel x]\n",
            "a_rel and b_rel",
        ),
        ("predicates:\n  a_rel:\n    cardinalty: one\n", "cardinalty"),
        ("predicates:\n  a_rel:\n    cardinality: several\n", "cardinality"),
        ("predicates:\n  a_rel:\n    symmetric: maybe\n", "symmetric"),
        ("predicates:\n  a_rel:\n    inverse: b_rel\n", "does not name a_rel back"),
        (
            "predicates:\n  a_rel:\n    inverse: b_rel\n  b_rel:\n    inverse: c_rel\n"
            "  c_rel:\n    inverse: b_rel\n",
            "does not name a_rel back",
        ),
        (
            "predicates:\n  a_rel:\n    symmetric: true\n    inverse: b_rel\n  b_rel: {}\n",
            "symmetric",
        ),
        ("predicates:\n  Works At:\n    cardinality: one\n", "snake_case"),
        ("predicates:\n  fav_*:\n    synonyms: [fave]\n", "pattern"),
        ("predicates:\n  a_rel:\n    synonyms: [x]\n    ends: [x]\n", "both a phrasing"),
        ("word_forms:\n  two words: one\n", "single word"),
        ("- just\n- a list\n", "mapping"),
        ("predicates: [\n", "not valid YAML"),
        ("version: 2\n", "version"),
    ],
)
def test_invalid_catalogues_are_rejected(tmp_path: Path, yaml_text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text, encoding="utf-8")
    with pytest.raises(InvalidInputError, match=message):
        PredicateCatalogue.from_file(path)


def test_missing_catalogue_file_is_a_typed_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="cannot read"):
        PredicateCatalogue.from_file(tmp_path / "absent.yaml")
    with pytest.raises(InvalidInputError, match="mapping or a path"):
        CATALOGUE.extended(["likes"])  # type: ignore[arg-type]


def test_the_mentions_predicate_is_reserved_on_every_backend() -> None:
    with pytest.raises(InvalidIdentifierError, match="reserved"):
        normalize_predicate("Mentions")
