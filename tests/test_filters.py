"""The metadata filter language: operators, combinators, errors and algebraic properties."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.errors import InvalidFilterError, InvalidInputError
from graphmem.filters import MAX_DEPTH, OPERATORS, AllOf, Condition, Filter, Not, parse_filter

PROPERTY_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow],
)


def matches(spec: Mapping[str, Any], metadata: Mapping[str, Any]) -> bool:
    parsed = parse_filter(spec)
    assert parsed is not None
    return parsed.matches(metadata)


def error_of(spec: Any) -> str:
    with pytest.raises(InvalidFilterError) as raised:
        parse_filter(spec)
    return str(raised.value)


# --- empty filters, shorthand equality ---------------------------------------------------


@pytest.mark.parametrize("spec", [None, {}])
def test_absent_or_empty_filter_means_match_all(spec: Any) -> None:
    assert parse_filter(spec) is None


def test_equality_shorthand_requires_every_key() -> None:
    spec = {"category": "food", "meal": "lunch"}
    assert matches(spec, {"category": "food", "meal": "lunch", "other": 1})
    assert not matches(spec, {"category": "food", "meal": "dinner"})
    assert not matches(spec, {"category": "food"})


@pytest.mark.parametrize(
    ("operand", "value", "expected"),
    [
        (1, 1, True),
        (1, 1.0, True),  # ints and floats compare numerically
        (1, True, False),  # JSON keeps booleans apart from numbers
        (True, 1, False),
        (True, True, True),
        (False, 0, False),
        ("1", 1, False),
        (1, "1", False),
        (None, None, True),
        (None, "null", False),
        ("food", "Food", False),
        ([1, 2], [1, 2], True),
        ([1, 2], [2, 1], False),
        ([1, 2], [1, 2, 3], False),
        ({"x": [1, {"y": True}]}, {"x": [1.0, {"y": True}]}, True),
        ({"x": 1}, {"x": 1, "z": 2}, False),
        ({"x": 1}, {"x": True}, False),
    ],
)
def test_eq_value_semantics(operand: Any, value: Any, expected: bool) -> None:
    assert matches({"k": {"eq": operand}}, {"k": value}) is expected
    assert matches({"k": {"ne": operand}}, {"k": value}) is not expected


def test_shorthand_null_matches_only_an_explicit_null() -> None:
    assert matches({"k": None}, {"k": None})
    assert not matches({"k": None}, {})


def test_ne_and_nin_hold_for_a_missing_key_and_the_rest_do_not() -> None:
    holds_when_missing = {
        "eq": False,
        "ne": True,
        "gt": False,
        "gte": False,
        "lt": False,
        "lte": False,
        "in": False,
        "nin": True,
        "contains": False,
        "icontains": False,
    }
    assert set(holds_when_missing) == set(OPERATORS)
    operands: dict[str, Any] = {"in": ["x"], "nin": ["x"]}
    for op, expected in holds_when_missing.items():
        assert matches({"k": {op: operands.get(op, "x")}}, {"other": "x"}) is expected, op


# --- ordering ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("op", "value", "expected"),
    [
        ("gt", 5, False),
        ("gt", 5.5, True),
        ("gte", 5, True),
        ("gte", 4.999, False),
        ("lt", 5, False),
        ("lt", 4, True),
        ("lte", 5.0, True),
        ("lte", 6, False),
    ],
)
def test_numeric_ordering_at_the_boundary(op: str, value: Any, expected: bool) -> None:
    assert matches({"score": {op: 5}}, {"score": value}) is expected


def test_several_operators_on_one_key_must_all_hold() -> None:
    spec = {"score": {"gte": 3, "lt": 10}}
    assert [matches(spec, {"score": s}) for s in (2, 3, 9.5, 10)] == [False, True, True, False]


def test_strings_order_lexicographically() -> None:
    assert matches({"name": {"gt": "apple"}}, {"name": "banana"})
    assert not matches({"name": {"gt": "banana"}}, {"name": "apple"})
    assert matches({"name": {"lte": "b"}}, {"name": "b"})


@pytest.mark.parametrize("value", ["10", True, None, [11], {"v": 11}, "zzz"])
def test_ordering_incomparable_values_is_false_not_an_error(value: Any) -> None:
    for op in ("gt", "gte", "lt", "lte"):
        assert not matches({"score": {op: 5}}, {"score": value})


def test_iso_datetimes_with_timezone_compare_as_instants() -> None:
    noon_in_paris = {"when": "2024-05-01T12:00:00+02:00"}  # 10:00 UTC
    assert matches({"when": {"gte": "2024-05-01T10:00:00Z"}}, noon_in_paris)
    assert not matches({"when": {"gt": "2024-05-01T10:00:00Z"}}, noon_in_paris)
    assert matches({"when": {"lt": "2024-05-01T10:30:00+00:00"}}, noon_in_paris)
    # As plain strings "2024-05-01T12..." > "2024-05-01T10:30", so this proves instants.
    assert matches({"when": {"eq": "2024-05-01T10:00:00Z"}}, noon_in_paris)
    assert matches({"when": {"in": ["2024-05-01T10:00:00.000+00:00"]}}, noon_in_paris)


def test_datetimes_without_timezone_compare_as_strings() -> None:
    naive = {"when": "2024-05-01T12:00:00"}
    assert matches({"when": {"gt": "2024-05-01T10:00:00Z"}}, naive)
    assert not matches({"when": {"eq": "2024-05-01T12:00:00Z"}}, naive)
    assert matches({"day": {"lt": "2024-05-02"}}, {"day": "2024-05-01"})


def test_aware_datetime_objects_are_accepted_as_operands() -> None:
    cutoff = datetime(2024, 5, 1, 12, tzinfo=timezone(timedelta(hours=2)))  # 10:00 UTC
    assert matches({"when": {"gte": cutoff}}, {"when": "2024-05-01T12:00:00+02:00"})
    assert not matches({"when": {"gt": cutoff}}, {"when": "2024-05-01T11:59:59+02:00"})
    assert matches({"when": {"eq": cutoff}}, {"when": "2024-05-01T10:00:00Z"})
    assert matches({"when": {"eq": "2024-05-01T10:00:00Z"}}, {"when": cutoff.astimezone(UTC)})


# --- membership and containment ------------------------------------------------------------


def test_in_and_nin() -> None:
    spec_in = {"category": {"in": ["food", "travel", 3]}}
    assert matches(spec_in, {"category": "travel"})
    assert matches(spec_in, {"category": 3.0})
    assert not matches(spec_in, {"category": "work"})
    assert not matches({"flag": {"in": [1, 0]}}, {"flag": True})
    assert matches({"flag": {"in": [True]}}, {"flag": True})
    assert matches({"tags": {"in": [["a", "b"], "c"]}}, {"tags": ["a", "b"]})
    spec_nin = {"status": {"nin": ["deleted", "archived"]}}
    assert matches(spec_nin, {"status": "active"})
    assert not matches(spec_nin, {"status": "archived"})


def test_empty_in_matches_nothing_and_empty_nin_everything() -> None:
    assert not matches({"k": {"in": []}}, {"k": 1})
    assert matches({"k": {"nin": []}}, {"k": 1})


def test_contains_is_substring_on_strings_and_membership_on_lists() -> None:
    assert matches({"title": {"contains": "meet"}}, {"title": "team meeting"})
    assert not matches({"title": {"contains": "Meet"}}, {"title": "team meeting"})
    assert matches({"tags": {"contains": "work"}}, {"tags": ["home", "work"]})
    assert not matches({"tags": {"contains": "wor"}}, {"tags": ["home", "work"]})
    assert matches({"ids": {"contains": 7}}, {"ids": [1, 7.0]})
    assert not matches({"ids": {"contains": 1}}, {"ids": [True]})
    assert not matches({"n": {"contains": "1"}}, {"n": 12})
    assert not matches({"n": {"contains": 1}}, {"n": "12"})


def test_icontains_ignores_case() -> None:
    assert matches({"title": {"icontains": "MEET"}}, {"title": "Team Meeting"})
    assert matches({"street": {"icontains": "STRASSE"}}, {"street": "Hauptstraße"})
    assert matches({"tags": {"icontains": "WORK"}}, {"tags": ["home", "Work"]})
    assert not matches({"tags": {"icontains": "wor"}}, {"tags": ["home", "work"]})
    assert not matches({"n": {"icontains": "1"}}, {"n": 1})


# --- wildcard and dotted keys ------------------------------------------------------------


def test_wildcard_means_the_key_exists_with_any_value() -> None:
    assert matches({"k": "*"}, {"k": None})
    assert matches({"k": "*"}, {"k": [1]})
    assert not matches({"k": "*"}, {"other": 1})
    assert matches({"k": {"eq": "*"}}, {"k": "*"})
    assert not matches({"k": {"eq": "*"}}, {"k": "anything"})


def test_dotted_keys_read_nested_objects() -> None:
    spec = {"author.address.city": "Paris"}
    assert matches(spec, {"author": {"address": {"city": "Paris"}}})
    assert not matches(spec, {"author": {"address": "Paris"}})
    assert not matches(spec, {"author": ["address"]})
    assert matches({"author.address.city": {"ne": "Paris"}}, {"author": 1})


def test_a_literal_dotted_top_level_key_wins() -> None:
    metadata = {"a.b": 1, "a": {"b": 2}}
    assert matches({"a.b": 1}, metadata)
    assert not matches({"a.b": 2}, metadata)


def test_enum_values_compare_as_their_plain_values() -> None:
    class Color(StrEnum):
        RED = "red"

    class Level(IntEnum):
        HIGH = 3

    assert matches({"color": Color.RED}, {"color": "red"})
    assert matches({"color": {"in": ["red"]}}, {"color": Color.RED})
    assert matches({"level": {"in": [Level.HIGH]}}, {"level": 3})
    assert matches({"level": {"gte": 3}}, {"level": Level.HIGH})


# --- logical combinators -----------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["AND", "and"])
def test_and(spelling: str) -> None:
    spec = {spelling: [{"a": 1}, {"b": {"gt": 1}}]}
    assert matches(spec, {"a": 1, "b": 2})
    assert not matches(spec, {"a": 1, "b": 1})


@pytest.mark.parametrize("spelling", ["OR", "or"])
def test_or(spelling: str) -> None:
    spec = {spelling: [{"a": 1}, {"b": 2}]}
    assert matches(spec, {"a": 1})
    assert matches(spec, {"b": 2})
    assert not matches(spec, {"a": 2, "b": 1})


@pytest.mark.parametrize("spelling", ["NOT", "not"])
def test_not_of_an_object_and_of_a_list(spelling: str) -> None:
    assert matches({spelling: {"a": 1}}, {"a": 2})
    assert not matches({spelling: {"a": 1}}, {"a": 1})
    both = {spelling: [{"a": 1}, {"b": 2}]}  # NOT (a == 1 AND b == 2)
    assert matches(both, {"a": 1, "b": 3})
    assert not matches(both, {"a": 1, "b": 2})


def test_logical_keys_next_to_field_keys_must_all_hold() -> None:
    spec = {"user": "alice", "OR": [{"priority": {"gte": 7}}, {"urgent": True}]}
    assert matches(spec, {"user": "alice", "urgent": True})
    assert not matches(spec, {"user": "bob", "urgent": True})
    assert not matches(spec, {"user": "alice", "priority": 3})


def test_nested_combinators() -> None:
    spec = {
        "AND": [
            {"OR": [{"category": "work"}, {"category": "urgent"}]},
            {"NOT": {"status": {"in": ["done", "cancelled"]}}},
        ]
    }
    assert matches(spec, {"category": "work", "status": "open"})
    assert not matches(spec, {"category": "work", "status": "done"})
    assert not matches(spec, {"category": "home", "status": "open"})


def nested_not(levels: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"a": 1}
    for _ in range(levels - 1):
        spec = {"NOT": spec}
    return spec


def test_nesting_is_bounded() -> None:
    deepest = parse_filter(nested_not(MAX_DEPTH))
    assert deepest is not None
    assert deepest.matches({"a": 1}) is (MAX_DEPTH % 2 == 1)
    message = error_of(nested_not(MAX_DEPTH + 1))
    assert message.startswith("filters" + ".NOT" * MAX_DEPTH + ": ")
    assert f"deeper than {MAX_DEPTH} levels" in message


def test_operand_nesting_is_bounded() -> None:
    operand: Any = 1
    for _ in range(MAX_DEPTH):
        operand = [operand]
    assert "deeper than" in error_of({"k": {"eq": operand}})


# --- errors --------------------------------------------------------------------------------

OPERATOR_LIST = "eq, ne, gt, gte, lt, lte, in, nin, contains, icontains"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([{"a": 1}], "filters: expected an object (dict) of conditions, got list"),
        ("a", "filters: expected an object (dict) of conditions, got str"),
        ({1: "a"}, "filters: keys must be strings, got int 1"),
        ({"": 1}, 'filters[""]: empty field name'),
        ({"AND": {"a": 1}}, "filters.AND: expected a non-empty list of filter objects, got dict"),
        ({"OR": []}, "filters.OR: empty list; give at least one filter object"),
        ({"AND": [{"a": 1}, [1]]}, "filters.AND[1]: expected a filter object (dict), got list"),
        ({"AND": [{}]}, "filters.AND[0]: empty filter object; give at least one condition"),
        ({"NOT": "a"}, "filters.NOT: expected a filter object or a non-empty list of them"),
        ({"NOT": []}, "filters.NOT: empty list"),
        ({"And": [{"a": 1}]}, "filters.And: 'And' is reserved for the logical operator"),
        ({"AND": [{"a": 1}], "and": [{"b": 1}]}, "filters: both 'AND' and 'and' given"),
        (
            {"AND": [{"a": 1}, {"score": {"gteq": 3}}]},
            f"filters.AND[1].score: unknown operator 'gteq'; expected one of {OPERATOR_LIST}; "
            "did you mean 'gte'?",
        ),
        ({"score": {"$lte": 3}}, "did you mean 'lte'?"),
        ({"odd key": {"zzz": 3}}, "filters[\"odd key\"]: unknown operator 'zzz'"),
        (
            {"score": {}},
            f"filters.score: empty operator object; expected one or more of {OPERATOR_LIST}",
        ),
        ({"score": {1: 3}}, "filters.score: operator names must be strings, got int 1"),
        (
            {"score": {"gte": 1, "OR": [{"score": 5}]}},
            "filters.score: logical operator 'OR' cannot appear among a field's operators",
        ),
        ({"tags": ["a", "b"]}, "filters.tags: a list value is ambiguous; use {'in': [...]}"),
        ({"score": {"gt": True}}, "filters.score.gt: expected a number, a string or an ISO"),
        ({"score": {"lte": None}}, "filters.score.lte: expected a number, a string or an ISO"),
        ({"score": {"lt": [1]}}, "filters.score.lt: expected a number, a string or an ISO"),
        ({"tag": {"in": "food"}}, "filters.tag.in: expected a list of values, got str"),
        ({"tag": {"nin": {"a": 1}}}, "filters.tag.nin: expected a list of values, got dict"),
        ({"tag": {"icontains": 3}}, "filters.tag.icontains: expected a string, got int"),
        ({"tag": {"in": [1, object()]}}, "filters.tag.in[1]: unsupported value of type object"),
        ({"score": {"eq": float("nan")}}, "filters.score.eq: NaN equals and orders against"),
        ({"k": {"eq": {"a": {2: 1}}}}, "filters.k.eq.a: object keys must be strings, got int"),
        ({"k": b"bytes"}, "filters.k: unsupported value of type bytes"),
        (
            {"when": {"gt": datetime(2024, 5, 1)}},
            "filters.when.gt: naive datetime 2024-05-01T00:00:00 is ambiguous",
        ),
    ],
)
def test_malformed_filters_are_rejected_with_the_offending_path(spec: Any, message: str) -> None:
    assert message in error_of(spec)


def test_long_keys_are_shortened_in_messages() -> None:
    message = error_of({"k" * 500: {"bad": 1}})
    assert message.startswith('filters["' + "k" * 61 + '..."]: unknown operator')


def test_errors_name_the_callers_parameter_and_are_input_errors() -> None:
    with pytest.raises(InvalidFilterError, match=r"^where: expected an object") as raised:
        parse_filter([], name="where")  # type: ignore[arg-type]
    assert isinstance(raised.value, InvalidInputError)
    assert isinstance(raised.value, ValueError)


# --- the parsed filter ---------------------------------------------------------------------


def test_parsed_filter_is_immutable_and_independent_of_the_spec() -> None:
    operand = ["food"]
    spec: dict[str, Any] = {"category": {"in": operand}}
    parsed = parse_filter(spec)
    assert parsed is not None
    operand.append("travel")
    spec["other"] = 1
    assert not parsed.matches({"category": "travel"})
    with pytest.raises(dataclasses.FrozenInstanceError):
        parsed.expression = Condition("x", "eq", 1)  # type: ignore[misc]


def test_parse_builds_the_expected_tree() -> None:
    parsed = parse_filter({"a": 1, "NOT": [{"b": "*"}, {"c": {"in": [1, 2]}}]})
    assert parsed == Filter(
        AllOf(
            (
                Condition("a", "eq", 1),
                Not(AllOf((Condition("b", "exists"), Condition("c", "in", (1, 2))))),
            )
        )
    )


def test_filters_are_equal_only_when_they_match_alike() -> None:
    assert parse_filter({"a": 1}) == parse_filter({"a": {"eq": 1.0}})
    assert parse_filter({"a": 1}) != parse_filter({"a": True})
    assert parse_filter({"a": {"in": [1]}}) != parse_filter({"a": {"in": [True]}})
    assert parse_filter({"a": {"eq": {"x": 0}}}) != parse_filter({"a": {"eq": {"x": False}}})
    assert len({parse_filter({"a": 1}), parse_filter({"a": {"eq": 1}})}) == 1


def test_to_spec_spells_the_filter_canonically() -> None:
    parsed = parse_filter({"score": {"gte": 3, "lt": 10}, "tag": "*", "NOT": {"a": 1}})
    assert parsed is not None
    assert parsed.to_spec() == {
        "score": {"gte": 3, "lt": 10},
        "tag": "*",
        "NOT": {"a": {"eq": 1}},
    }
    assert json.loads(json.dumps(parsed.to_spec())) == parsed.to_spec()


# --- properties ----------------------------------------------------------------------------

FIELDS = ("a", "b", "tags", "nested.x", "when")
INSTANTS = ("2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00", "2024-05-01T11:00:00+00:00")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.5, 1.0, -2.5]),
    st.sampled_from(["x", "X", "xy", "", "*", *INSTANTS]),
)
orderable = st.one_of(st.integers(-3, 3), st.sampled_from([0.5, "x", "xy", *INSTANTS]))


def condition_specs() -> st.SearchStrategy[dict[str, Any]]:
    field = st.sampled_from(FIELDS)
    operators = st.one_of(
        st.tuples(st.sampled_from(["eq", "ne", "contains"]), scalars),
        st.tuples(st.sampled_from(["gt", "gte", "lt", "lte"]), orderable),
        st.tuples(st.sampled_from(["in", "nin"]), st.lists(scalars, max_size=3)),
        st.tuples(st.just("icontains"), st.sampled_from(["x", "Y", ""])),
    )
    with_operators = st.builds(
        lambda key, ops: {key: dict(ops)}, field, st.lists(operators, min_size=1, max_size=2)
    )
    shorthand = st.builds(lambda key, value: {key: value}, field, scalars)
    return st.one_of(with_operators, shorthand)


def combine(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    parts = st.lists(children, min_size=1, max_size=3)
    return st.one_of(
        st.builds(lambda ps: {"AND": ps}, parts),
        st.builds(lambda ps: {"or": ps}, parts),
        st.builds(lambda p: {"NOT": p}, children),
        st.builds(lambda ps: {"not": ps}, parts),
    )


valid_specs = st.recursive(condition_specs(), combine, max_leaves=8)
metadata_values = st.one_of(scalars, st.lists(scalars, max_size=3))
metadata = st.fixed_dictionaries(
    {},
    optional={
        "a": metadata_values,
        "b": metadata_values,
        "tags": metadata_values,
        "nested": st.one_of(scalars, st.fixed_dictionaries({}, optional={"x": metadata_values})),
        "when": st.sampled_from([*INSTANTS, "2024-05-01T11:00:00", 5]),
    },
)
json_keys = st.one_of(
    st.sampled_from([*OPERATORS, "AND", "OR", "NOT", "and", "not", "Or", "*", *FIELDS]),
    st.text(max_size=4),
)
json_like = st.recursive(
    st.one_of(scalars, st.floats(), st.integers(), st.text(max_size=6)),
    lambda children: st.one_of(
        st.lists(children, max_size=3), st.dictionaries(json_keys, children, max_size=3)
    ),
    max_leaves=20,
)


@PROPERTY_SETTINGS
@given(json_like, st.lists(metadata, min_size=1, max_size=3))
def test_arbitrary_input_parses_or_raises_invalid_filter_error(spec: Any, records: Any) -> None:
    try:
        parsed = parse_filter(spec)
    except InvalidFilterError:
        return
    if parsed is None:
        assert spec is None or spec == {}
        return
    for record in records:
        assert parsed.matches(record) in (True, False)


@PROPERTY_SETTINGS
@given(valid_specs, metadata)
def test_not_matches_exactly_when_the_filter_does_not(spec: Any, record: Any) -> None:
    assert matches({"NOT": spec}, record) is not matches(spec, record)


@PROPERTY_SETTINGS
@given(st.lists(valid_specs, min_size=1, max_size=4), metadata)
def test_and_or_agree_with_all_and_any(specs: Any, record: Any) -> None:
    each = [matches(spec, record) for spec in specs]
    assert matches({"AND": specs}, record) is all(each)
    assert matches({"OR": specs}, record) is any(each)
    assert matches({"NOT": specs}, record) is not all(each)


@PROPERTY_SETTINGS
@given(valid_specs, st.lists(metadata, min_size=1, max_size=4))
def test_to_spec_round_trips_to_the_same_meaning(spec: Any, records: Any) -> None:
    parsed = parse_filter(spec)
    assert parsed is not None
    again = parse_filter(parsed.to_spec())
    assert again is not None
    assert [again.matches(r) for r in records] == [parsed.matches(r) for r in records]


@pytest.fixture(scope="module")
def fuzz_check() -> Callable[[bytes], None]:
    path = Path(__file__).with_name("fuzz_filters.py")
    spec = importlib.util.spec_from_file_location("fuzz_filters", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    check: Callable[[bytes], None] = module.check_input
    return check


@PROPERTY_SETTINGS
@given(data=st.binary(max_size=200))
def test_fuzz_target_property_holds_on_random_bytes(
    fuzz_check: Callable[[bytes], None], data: bytes
) -> None:
    fuzz_check(data)


def test_fuzz_target_property_holds_on_json_documents(
    fuzz_check: Callable[[bytes], None],
) -> None:
    documents: list[Any] = [
        {"when": {"gte": "2024-05-01T10:00:00Z"}},
        [{"a.b": {"in": [1, [2]]}}, {"a": {"b": [2]}}, {"a.b": 1}],
        [nested_not(MAX_DEPTH), {"a": 2}],
        {"OR": [{"a": 1}, {"NOT": [{"b": "*"}, {"c": {"icontains": "Q"}}]}]},
    ]
    for document in documents:
        fuzz_check(json.dumps(document).encode())
    fuzz_check(b"[1, 2, {")  # not JSON: drives the byte-level generator instead
