"""The expression tree of a parsed metadata filter, and how it is evaluated.

A filter is a tree: :class:`Condition` leaves under :class:`AllOf`, :class:`AnyOf` and
:class:`Not`. :func:`compile_expression` turns the tree once into nested closures, so
matching a record costs a handful of function calls and never re-reads the spec. Every
storage backend evaluates filters with this one implementation, over its candidate records.

Value semantics shared by all operators:

* JSON types do not mix: ``true`` is not ``1`` and ``"1"`` is not ``1``; ints and floats
  compare numerically (``1 == 1.0``).
* A string that is an ISO-8601 datetime with a timezone is compared as an instant when the
  other side is one too (``"2024-05-01T12:00:00+02:00"`` equals
  ``"2024-05-01T10:00:00Z"``); otherwise strings compare as strings.
* Comparing incomparable values (a string with a number, anything with a list in ``gt``)
  is false, never an error.
* A key missing from the metadata never satisfies ``eq``, ``gt``/``gte``/``lt``/``lte``,
  ``in``, ``contains``, ``icontains`` or the ``"*"`` wildcard, and always satisfies ``ne``
  and ``nin`` ("not equal to x" holds for a record that has no value at all), as in Mem0.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final, Literal, TypeAlias

from graphmem.errors import InvalidFilterError

Metadata: TypeAlias = Mapping[str, Any]
Predicate: TypeAlias = Callable[[Metadata], bool]
ValueTest: TypeAlias = Callable[[Any], bool]

Operator: TypeAlias = Literal[
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "nin", "contains", "icontains", "exists"
]

_ORDERINGS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}
# Operators that hold for a record lacking the key (Mem0's convention).
_HOLD_WHEN_MISSING: Final = frozenset({"ne", "nin"})


_MISSING: Final = object()  # a key absent from the metadata (None is a JSON value)


@dataclass(frozen=True, slots=True, eq=False)
class Condition:
    """The metadata value at ``key`` tested against ``operand`` with ``operator``.

    ``key`` may be a dotted path into nested objects; ``exists`` takes no operand.
    Operands are validated and frozen (lists become tuples, objects read-only
    mappings) by :func:`graphmem.filters.parse_filter`, which is how conditions are built.
    """

    key: str
    operator: Operator
    operand: Any = None

    def __eq__(self, other: object) -> bool:
        # Python's 1 == True would make conditions that match differently compare equal.
        if not isinstance(other, Condition):
            return NotImplemented
        return (
            self.key == other.key
            and self.operator == other.operator
            and _typed(self.operand) == _typed(other.operand)
        )

    def __hash__(self) -> int:
        return hash((self.key, self.operator))


def _typed(operand: Any) -> Any:
    if isinstance(operand, bool):
        return (bool, operand)
    if isinstance(operand, tuple):
        return tuple(_typed(item) for item in operand)
    if isinstance(operand, Mapping):
        return frozenset((key, _typed(item)) for key, item in operand.items())
    return operand


@dataclass(frozen=True, slots=True)
class AllOf:
    """Holds when every part holds."""

    parts: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class AnyOf:
    """Holds when at least one part holds."""

    parts: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """Holds when its part does not."""

    part: Expression


Expression: TypeAlias = Condition | AllOf | AnyOf | Not


def compile_expression(expression: Expression) -> Predicate:
    """Turn an expression tree into one predicate over a metadata mapping."""
    if isinstance(expression, Condition):
        return _compile_condition(expression)
    if isinstance(expression, Not):
        inner = compile_expression(expression.part)
        return lambda metadata: not inner(metadata)
    parts = tuple(compile_expression(part) for part in expression.parts)
    if len(parts) == 1:
        return parts[0]
    if isinstance(expression, AllOf):
        return _all_of(parts)
    return _any_of(parts)


def _all_of(parts: tuple[Predicate, ...]) -> Predicate:
    def all_hold(metadata: Metadata) -> bool:
        # A plain loop, not all(): no generator object per record on the hot path.
        for part in parts:  # noqa: SIM110
            if not part(metadata):
                return False
        return True

    return all_hold


def _any_of(parts: tuple[Predicate, ...]) -> Predicate:
    def any_holds(metadata: Metadata) -> bool:
        for part in parts:  # noqa: SIM110
            if part(metadata):
                return True
        return False

    return any_holds


def _compile_condition(condition: Condition) -> Predicate:
    test = value_test(condition.operator, condition.operand)
    when_missing = condition.operator in _HOLD_WHEN_MISSING
    key = condition.key
    if "." not in key:

        def flat(metadata: Metadata) -> bool:
            value = metadata.get(key, _MISSING)
            return when_missing if value is _MISSING else test(value)

        return flat

    lookup = _dotted_lookup(key)

    def nested(metadata: Metadata) -> bool:
        value = lookup(metadata)
        return when_missing if value is _MISSING else test(value)

    return nested


def _dotted_lookup(key: str) -> Callable[[Metadata], Any]:
    """Read ``a.b.c`` as a literal top-level key if present, else as a nested path."""
    segments = tuple(key.split("."))

    def lookup(metadata: Metadata) -> Any:
        value = metadata.get(key, _MISSING)
        if value is not _MISSING:
            return value
        current: Any = metadata
        for segment in segments:
            # The exact-type check skips the slow ABC isinstance for plain dicts.
            if current.__class__ is not dict and not isinstance(current, Mapping):
                return _MISSING
            current = current.get(segment, _MISSING)
            if current is _MISSING:
                return _MISSING
        return current

    return lookup


def value_test(op: Operator, operand: Any) -> ValueTest:
    """A test of one present metadata value; raises for operands the parser rejects."""
    if op == "exists":
        return _always
    if op == "eq":
        return equality_test(operand)
    if op == "ne":
        return _negated(equality_test(operand))
    if op == "in":
        return membership_test(operand)
    if op == "nin":
        return _negated(membership_test(operand))
    if op == "contains":
        return contains_test(operand)
    if op == "icontains":
        return icontains_test(operand)
    if op in _ORDERINGS:
        return ordering_test(_ORDERINGS[op], operand)
    raise InvalidFilterError(f"unknown operator {op!r}")


def _always(value: Any) -> bool:
    return True


def _negated(test: ValueTest) -> ValueTest:
    return lambda value: not test(value)


def is_number(value: Any) -> bool:
    """True for ints and floats; False for bools, which JSON keeps apart from numbers."""
    kind = value.__class__
    return kind is int or kind is float or (isinstance(value, int | float) and kind is not bool)


_INSTANT_MIN_LENGTH: Final = 10
# The longest form datetime.fromisoformat accepts has 42 chars (microseconds on the
# time and on the offset); longer strings are not datetimes and stay out of the cache.
_INSTANT_MAX_LENGTH: Final = 48


@lru_cache(maxsize=8192)
def _parse_instant(text: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(text)
    except (ValueError, OverflowError):
        return None
    return _aware_utc(parsed)


def _aware_utc(value: datetime) -> datetime | None:
    if value.tzinfo is None or value.utcoffset() is None:
        return None  # naive: an instant only with a timezone
    try:
        return value.astimezone(UTC)
    except OverflowError:  # year 1 or 9999 shifted past the representable range
        return None


def instant_of(value: Any) -> datetime | None:
    """The UTC instant of a timezone-aware datetime or ISO-8601 string, else None."""
    if isinstance(value, str):
        length = len(value)
        if _INSTANT_MIN_LENGTH <= length <= _INSTANT_MAX_LENGTH and value[:4].isdigit():
            return _parse_instant(str.__str__(value))
        return None
    if isinstance(value, datetime):
        return _aware_utc(value)
    return None


def equality_test(operand: Any) -> ValueTest:
    """Equality under the filter language's value semantics (see the module docstring)."""
    if operand is None:
        return lambda value: value is None
    if isinstance(operand, bool):
        return lambda value: value is operand
    if is_number(operand):
        return lambda value: is_number(value) and value == operand
    instant = instant_of(operand)
    if instant is not None:
        return lambda value: instant_of(value) == instant
    if isinstance(operand, str):
        return lambda value: isinstance(value, str) and value == operand
    if isinstance(operand, tuple):
        return _sequence_equality(tuple(equality_test(item) for item in operand))
    if isinstance(operand, Mapping):
        return _object_equality(tuple((k, equality_test(v)) for k, v in operand.items()))
    raise InvalidFilterError(f"cannot compare with a {type(operand).__name__}")


def _sequence_equality(item_tests: tuple[ValueTest, ...]) -> ValueTest:
    length = len(item_tests)

    def test(value: Any) -> bool:
        if not isinstance(value, list | tuple) or len(value) != length:
            return False
        return all(item_test(item) for item_test, item in zip(item_tests, value, strict=True))

    return test


def _object_equality(entry_tests: tuple[tuple[str, ValueTest], ...]) -> ValueTest:
    size = len(entry_tests)

    def test(value: Any) -> bool:
        if not isinstance(value, Mapping) or len(value) != size:
            return False
        for key, entry_test in entry_tests:
            entry = value.get(key, _MISSING)
            if entry is _MISSING or not entry_test(entry):
                return False
        return True

    return test


# Hash-set keys for bools, so that True never collides with 1; _NO_KEY: not a scalar.
_TRUE_KEY: Final = object()
_FALSE_KEY: Final = object()
_NO_KEY: Final = object()


def _scalar_key(value: Any) -> Any:
    """A hashable key equal across values that are equal scalars, else ``_NO_KEY``.

    Datetime strings are excluded: they are equal by instant, not by text.
    """
    kind = value.__class__
    if kind is str:
        return _NO_KEY if instant_of(value) is not None else value
    if kind is int or kind is float or value is None:
        return value
    if kind is bool:
        return _TRUE_KEY if value else _FALSE_KEY
    if isinstance(value, str):  # str enums hash by name; key them by their text
        return _scalar_key(str.__str__(value))
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return _NO_KEY


def membership_test(operand: tuple[Any, ...]) -> ValueTest:
    """``value`` equals one of ``operand``: scalars by hash lookup, the rest one by one."""
    keys: set[Any] = set()
    slow_tests: list[ValueTest] = []
    for item in operand:
        key = _scalar_key(item)
        if key is _NO_KEY:
            slow_tests.append(equality_test(item))
        else:
            keys.add(key)
    frozen_keys, others = frozenset(keys), tuple(slow_tests)

    def test(value: Any) -> bool:
        key = _scalar_key(value)
        if key is not _NO_KEY and key in frozen_keys:
            return True
        return any(other(value) for other in others)

    return test


def ordering_test(compare: Callable[[Any, Any], bool], operand: Any) -> ValueTest:
    """``compare(value, operand)`` for numbers, strings and instants; false otherwise."""
    if is_number(operand):

        def numeric(value: Any) -> bool:
            kind = value.__class__
            if kind is int or kind is float:  # inlined common case of is_number
                return compare(value, operand)
            return is_number(value) and compare(value, operand)

        return numeric
    instant = instant_of(operand)
    if instant is None:
        if not isinstance(operand, str):
            raise InvalidFilterError(f"cannot order against a {type(operand).__name__}")
        return lambda value: isinstance(value, str) and compare(value, operand)
    text = operand if isinstance(operand, str) else operand.isoformat()

    def test(value: Any) -> bool:
        value_instant = instant_of(value)
        if value_instant is not None:
            return compare(value_instant, instant)
        return isinstance(value, str) and compare(value, text)

    return test


def contains_test(operand: Any) -> ValueTest:
    """Substring of a string value (string operand), or equal to an item of a list value."""
    item_test = equality_test(operand)

    def in_list(value: Any) -> bool:
        return isinstance(value, list | tuple) and any(item_test(item) for item in value)

    if not isinstance(operand, str):
        return in_list
    if instant_of(operand) is None:
        # A plain string equals exactly the equal strings, so list.__contains__ (in C)
        # gives the same answer as item_test.
        def in_text_or_list(value: Any) -> bool:
            if isinstance(value, str):
                return operand in value
            return isinstance(value, list | tuple) and operand in value

        return in_text_or_list
    return lambda value: operand in value if isinstance(value, str) else in_list(value)


def icontains_test(operand: str) -> ValueTest:
    """Case-insensitive ``contains``: substring of a string, equal to a string list item."""
    if not isinstance(operand, str):
        raise InvalidFilterError("icontains needs a string")
    folded = operand.casefold()

    def test(value: Any) -> bool:
        if isinstance(value, str):
            return folded in value.casefold()
        if isinstance(value, list | tuple):
            return any(isinstance(item, str) and item.casefold() == folded for item in value)
        return False

    return test
