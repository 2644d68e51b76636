"""The metadata filter language of ``search(filters=...)`` and ``get_all(filters=...)``.

It is Mem0's filter syntax, so Mem0 filters work unchanged. A filter is a dict evaluated
against a record's ``metadata`` object:

``{"category": "food"}``
    equality shorthand; several keys in one dict must all hold.
``{"score": {"gte": 3, "lt": 10}}``
    operators ``eq ne gt gte lt lte in nin contains icontains``; several on one key
    must all hold. ``gt``/``gte``/``lt``/``lte`` take a number, a string or an ISO-8601
    datetime (string or timezone-aware ``datetime``); ``in``/``nin`` take a list;
    ``icontains`` takes a string; ``eq``/``ne``/``contains`` take any JSON value.
    ``contains`` is substring for string values and membership for list values;
    ``icontains`` is the same, case-insensitively, for strings and lists of strings.
``{"tags": ["a", "b"]}``
    rejected as ambiguous: write ``{"tags": {"in": [...]}}`` (any of the items) or
    ``{"tags": {"eq": [...]}}`` (the list itself).
``{"tag": "*"}``
    the key exists, with any value (including null). ``{"tag": {"eq": "*"}}`` matches
    the literal string ``"*"``.
``{"AND": [f, ...]}``, ``{"OR": [f, ...]}``, ``{"NOT": f}``, ``{"NOT": [f, ...]}``
    logical combinators (also spelled ``and``/``or``/``not``), nestable up to
    :data:`MAX_DEPTH` filter objects deep; ``NOT`` of a list negates their conjunction.
    Logical keys may sit next to field keys; all of them must hold.
``{"a.b.c": 1}``
    a dotted key reads the nested object ``metadata["a"]["b"]["c"]``, unless the
    metadata has a top-level key literally named ``"a.b.c"``, which wins.

A key missing from the metadata matches only ``ne`` and ``nin``, as in Mem0: a record
with no ``status`` is "not archived". Comparisons between incomparable values (a string
and a number) are false; ``true`` never equals ``1``; ints and floats compare
numerically; ISO-8601 datetime strings with a timezone compare as instants when both
sides are such strings. See :mod:`graphmem.filters.expressions` for the exact rules.

Every mistake is reported by :func:`parse_filter` as an
:class:`~graphmem.errors.InvalidFilterError` naming where it is, for example
``filters.AND[1].score: unknown operator 'gteq'; ...``; a parsed filter never raises
while matching. The key names ``AND``/``OR``/``NOT`` (in any letter case) are reserved
for the combinators and cannot name metadata fields.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Final, TypeGuard, get_args

from graphmem.errors import InvalidFilterError
from graphmem.filters.expressions import (
    AllOf,
    AnyOf,
    Condition,
    Expression,
    Not,
    Operator,
    Predicate,
    compile_expression,
)

MAX_DEPTH: Final = 32
"""How deeply filter objects (and JSON operand values) may nest."""

WILDCARD: Final = "*"
"""As a key's value: the key exists, with any value."""

OPERATORS: Final[tuple[str, ...]] = tuple(op for op in get_args(Operator) if op != "exists")
"""The operator names accepted in ``{"key": {operator: operand}}``."""

_LOGICAL: Final = {"AND": "AND", "and": "AND", "OR": "OR", "or": "OR", "NOT": "NOT", "not": "NOT"}
_ORDERING_OPERATORS: Final = frozenset({"gt", "gte", "lt", "lte"})
_PLAIN_KEY: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_\-]*(?:\.[A-Za-z0-9_\-]+)*")
_SHOWN_KEY_LENGTH: Final = 64
_OPERATOR_LIST: Final = ", ".join(OPERATORS)


@dataclass(frozen=True, slots=True)
class Filter:
    """An immutable metadata filter, compiled for fast repeated matching.

    Build one with :func:`graphmem.filters.parse_filter`; equal expressions give equal
    filters.
    """

    expression: Expression
    _predicate: Predicate = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_predicate", compile_expression(self.expression))

    def matches(self, metadata: Mapping[str, Any]) -> bool:
        """Whether a record with this ``metadata`` object satisfies the filter."""
        return self._predicate(metadata)

    def to_spec(self) -> dict[str, Any]:
        """The filter in the canonical spelling of the filter language.

        ``parse_filter(f.to_spec())`` gives a filter that matches exactly the same records.
        """
        return expression_to_spec(self.expression)


def parse_filter(spec: Mapping[str, Any] | None, *, name: str = "filters") -> Filter | None:
    """Validate and compile a filter spec; ``None`` or ``{}`` means "match everything".

    ``name`` is how error messages refer to the spec (the caller's parameter name).

    Raises:
        InvalidFilterError: the spec is malformed; the message names the offending part.
    """
    if spec is None:
        return None
    if not isinstance(spec, Mapping):
        raise InvalidFilterError(
            f"{name}: expected an object (dict) of conditions, got {_kind(spec)}"
        )
    if not spec:
        return None
    return Filter(_parse_object(spec, name, depth=1))


def _parse_object(spec: Any, path: str, depth: int) -> Expression:
    if not isinstance(spec, Mapping):
        raise InvalidFilterError(f"{path}: expected a filter object (dict), got {_kind(spec)}")
    if not spec:
        raise InvalidFilterError(f"{path}: empty filter object; give at least one condition")
    if depth > MAX_DEPTH:
        raise InvalidFilterError(f"{path}: filters nest deeper than {MAX_DEPTH} levels")
    parts: list[Expression] = []
    seen_logical: dict[str, str] = {}
    for key, value in spec.items():
        if not isinstance(key, str):
            raise InvalidFilterError(
                f"{path}: keys must be strings, got {_kind(key)} {_shorten(repr(key))}"
            )
        child = _child_path(path, key)
        logical = _LOGICAL.get(key)
        if logical is None:
            _reject_miscased_logical(key, child)
            parts.extend(_parse_field(key, value, child))
            continue
        if logical in seen_logical:
            raise InvalidFilterError(
                f"{path}: both {seen_logical[logical]!r} and {key!r} given; "
                f"merge them into one {logical!r} list"
            )
        seen_logical[logical] = key
        if logical == "NOT":
            parts.append(Not(_parse_negated(value, child, depth)))
        elif logical == "AND":
            parts.append(AllOf(_parse_list(value, child, depth)))
        else:
            parts.append(AnyOf(_parse_list(value, child, depth)))
    return parts[0] if len(parts) == 1 else AllOf(tuple(parts))


def _parse_list(value: Any, path: str, depth: int) -> tuple[Expression, ...]:
    if not isinstance(value, list | tuple):
        raise InvalidFilterError(
            f"{path}: expected a non-empty list of filter objects, got {_kind(value)}"
        )
    if not value:
        raise InvalidFilterError(f"{path}: empty list; give at least one filter object")
    return tuple(
        _parse_object(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)
    )


def _parse_negated(value: Any, path: str, depth: int) -> Expression:
    if isinstance(value, Mapping):
        return _parse_object(value, path, depth + 1)
    if isinstance(value, list | tuple):
        parts = _parse_list(value, path, depth)
        return parts[0] if len(parts) == 1 else AllOf(parts)
    raise InvalidFilterError(
        f"{path}: expected a filter object or a non-empty list of them, got {_kind(value)}"
    )


def _reject_miscased_logical(key: str, path: str) -> None:
    folded = key.casefold()
    if folded in ("and", "or", "not"):
        raise InvalidFilterError(
            f"{path}: {key!r} is reserved for the logical operator; "
            f"write {folded.upper()!r} or {folded!r}"
        )


def _parse_field(key: str, value: Any, path: str) -> list[Condition]:
    if not key:
        raise InvalidFilterError(f"{path}: empty field name")
    if isinstance(value, str) and value == WILDCARD:
        return [Condition(key, "exists")]
    if isinstance(value, Mapping):
        return _parse_operators(key, value, path)
    if isinstance(value, list | tuple | set | frozenset):
        raise InvalidFilterError(
            f"{path}: a list value is ambiguous; use {{'in': [...]}} to match any of its "
            "items or {'eq': [...]} to match the list itself"
        )
    return [Condition(key, "eq", _json_value(value, path, depth=1))]


def _parse_operators(key: str, operators: Mapping[Any, Any], path: str) -> list[Condition]:
    if not operators:
        raise InvalidFilterError(
            f"{path}: empty operator object; expected one or more of {_OPERATOR_LIST}"
        )
    conditions: list[Condition] = []
    for name, operand in operators.items():
        if not isinstance(name, str):
            raise InvalidFilterError(
                f"{path}: operator names must be strings, got {_kind(name)} {_shorten(repr(name))}"
            )
        if name.casefold() in ("and", "or", "not"):
            raise InvalidFilterError(
                f"{path}: logical operator {name!r} cannot appear among a field's operators; "
                f"combine whole conditions instead, e.g. "
                f"{{{name.upper()!r}: [{{{_shorten(repr(key))}: ...}}, ...]}}"
            )
        if not _is_operator(name):
            raise InvalidFilterError(
                f"{path}: unknown operator {_shorten(repr(name))}; expected one of "
                f"{_OPERATOR_LIST}{_suggestion(name)}"
            )
        conditions.append(Condition(key, name, _operand(name, operand, f"{path}.{name}")))
    return conditions


def _is_operator(name: str) -> TypeGuard[Operator]:
    return name in OPERATORS


def _suggestion(name: str) -> str:
    guesses = difflib.get_close_matches(name.lstrip("$").lower(), OPERATORS, n=1, cutoff=0.6)
    return f"; did you mean {guesses[0]!r}?" if guesses else ""


def _operand(op: Operator, operand: Any, path: str) -> Any:
    if op in ("in", "nin"):
        if not isinstance(operand, list | tuple | set | frozenset):
            raise InvalidFilterError(f"{path}: expected a list of values, got {_kind(operand)}")
        return tuple(
            _json_value(item, f"{path}[{index}]", depth=2) for index, item in enumerate(operand)
        )
    if op in _ORDERING_OPERATORS:
        if isinstance(operand, bool) or not isinstance(operand, int | float | str | datetime):
            raise InvalidFilterError(
                f"{path}: expected a number, a string or an ISO-8601 datetime, got {_kind(operand)}"
            )
        return _json_value(operand, path, depth=1)
    if op == "icontains" and not isinstance(operand, str):
        raise InvalidFilterError(f"{path}: expected a string, got {_kind(operand)}")
    return _json_value(operand, path, depth=1)


def _json_value(value: Any, path: str, depth: int) -> Any:
    """Validate a JSON-like operand and return a frozen copy (tuples, read-only dicts)."""
    if depth > MAX_DEPTH:
        raise InvalidFilterError(f"{path}: value nests deeper than {MAX_DEPTH} levels")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str.__str__(value)  # plain str, also for str enums
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise InvalidFilterError(f"{path}: NaN equals and orders against nothing")
        return float.__float__(value)
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidFilterError(
                f"{path}: naive datetime {value.isoformat()} is ambiguous; give it a tzinfo"
            )
        return value
    if isinstance(value, list | tuple):
        return tuple(
            _json_value(item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value)
        )
    if isinstance(value, Mapping):
        frozen: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidFilterError(
                    f"{path}: object keys must be strings, got {_kind(key)} {_shorten(repr(key))}"
                )
            frozen[key] = _json_value(item, _child_path(path, key), depth + 1)
        return MappingProxyType(frozen)
    raise InvalidFilterError(
        f"{path}: unsupported value of type {_kind(value)}; use null, booleans, numbers, "
        "strings, lists, objects or timezone-aware datetimes"
    )


def _child_path(path: str, key: str) -> str:
    if len(key) <= _SHOWN_KEY_LENGTH and _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(_shorten(key), ensure_ascii=False)}]"


def _shorten(text: str) -> str:
    return text if len(text) <= _SHOWN_KEY_LENGTH else text[: _SHOWN_KEY_LENGTH - 3] + "..."


def _kind(value: Any) -> str:
    return type(value).__name__


def expression_to_spec(expression: Expression) -> dict[str, Any]:
    """The filter-language dict that parses back to an equivalent expression."""
    if isinstance(expression, Condition):
        if expression.operator == "exists":
            return {expression.key: "*"}
        return {expression.key: {expression.operator: _thaw(expression.operand)}}
    if isinstance(expression, Not):
        if isinstance(expression.part, AllOf):
            return {"NOT": [expression_to_spec(part) for part in expression.part.parts]}
        return {"NOT": expression_to_spec(expression.part)}
    if isinstance(expression, AllOf):
        return _conjunction_spec(expression.parts)
    return {"OR": [expression_to_spec(part) for part in expression.parts]}


def _conjunction_spec(parts: tuple[Expression, ...]) -> dict[str, Any]:
    """One dict of all parts when their keys do not clash, as a user would write it.

    This keeps the spec no deeper than the one it was parsed from, so it parses again
    within the nesting limit.
    """
    rendered = [expression_to_spec(part) for part in parts]
    merged: dict[str, Any] = {}
    for spec in rendered:
        for key, value in spec.items():
            if key not in merged:
                merged[key] = value
                continue
            existing = merged[key]
            if (
                key in _LOGICAL
                or not isinstance(existing, dict)
                or not isinstance(value, dict)
                or not existing.keys().isdisjoint(value)
            ):
                return {"AND": rendered}
            merged[key] = {**existing, **value}
    return merged


def _thaw(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    return value
