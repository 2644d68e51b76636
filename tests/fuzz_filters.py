"""Fuzz target for the metadata filter language.

Property: whatever a caller passes, ``parse_filter`` either returns a filter or raises
``InvalidFilterError``; a parsed filter's ``matches`` returns a bool for any metadata and
its ``to_spec()`` parses back to a filter that matches the same records.

Each input is decoded as JSON ``spec`` or ``[spec, metadata, ...]``; input that is not
JSON drives a small generator that builds filter-shaped values from the bytes, so the
fuzzer reaches deep into the grammar without having to discover JSON syntax first.

    .venv/bin/python tests/fuzz_filters.py -atheris_runs=10000 [CORPUS_DIR]

Without atheris installed the script says so and exits successfully.
"""

from __future__ import annotations

import importlib
import json
import struct
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

atheris: Any = None
if __name__ == "__main__":  # imported by the test suite, the harness runs without atheris
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository's package
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        atheris = None

if atheris is not None:
    with atheris.instrument_imports():
        from graphmem.errors import InvalidFilterError
        from graphmem.filters import OPERATORS, parse_filter
else:
    from graphmem.errors import InvalidFilterError
    from graphmem.filters import OPERATORS, parse_filter

VOCABULARY: tuple[str, ...] = (
    *OPERATORS,
    "AND", "OR", "NOT", "and", "or", "not", "And", "*", "", "a", "b", "a.b", "tags",
    "when", "2024-05-01T10:00:00Z", "2024-05-01T12:00:00+02:00", "2024-05-01", "x",
)  # fmt: skip

SAMPLE_METADATA: tuple[Mapping[str, Any], ...] = (
    {},
    {"a": 1, "b": "x", "tags": ["x", "Y"], "when": "2024-05-01T12:00:00+02:00"},
    {"a": True, "b": None, "a.b": 2.5, "tags": "xyz"},
    {"a": {"b": [1, {"c": None}]}, "b": ["2024-05-01T10:00:00Z"], "when": 3},
)

_MAX_GENERATED_DEPTH = 40  # beyond the language's limit, to exercise that error too


class _Bytes:
    """Reads the fuzz input as a stream of choices; zeros once it runs out."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._position = 0

    def byte(self) -> int:
        if self._position >= len(self._data):
            return 0
        self._position += 1
        return self._data[self._position - 1]

    def text(self) -> str:
        length = self.byte() % 8
        raw = bytes(self.byte() for _ in range(length))
        return raw.decode("utf-8", "replace")


def _generate(source: _Bytes, depth: int) -> Any:
    choice = source.byte() % 12
    if depth >= _MAX_GENERATED_DEPTH or choice == 0:
        return None
    if choice == 1:
        return bool(source.byte() & 1)
    if choice == 2:
        return source.byte() - 128
    if choice == 3:
        raw = bytes(source.byte() for _ in range(8))
        return struct.unpack("<d", raw)[0]  # includes NaN, infinities, subnormals
    if choice in (4, 5):
        return VOCABULARY[source.byte() % len(VOCABULARY)]
    if choice == 6:
        return source.text()
    if choice == 7:
        return [_generate(source, depth + 1) for _ in range(source.byte() % 4)]
    return {_key(source): _generate(source, depth + 1) for _ in range(source.byte() % 4)}


def _key(source: _Bytes) -> Any:
    choice = source.byte() % 8
    if choice == 0:
        return source.text()
    if choice == 1:
        return source.byte()  # not a string: must be rejected
    return VOCABULARY[source.byte() % len(VOCABULARY)]


def _decode(data: bytes) -> tuple[Any, list[Mapping[str, Any]]]:
    try:
        document = json.loads(data)
    except (ValueError, RecursionError):
        source = _Bytes(data)
        spec = _generate(source, 0)
        extra = _generate(source, 0)
        return spec, [extra] if isinstance(extra, dict) else []
    if isinstance(document, list) and len(document) >= 2:
        return document[0], [item for item in document[1:] if isinstance(item, dict)]
    return document, []


def check_input(data: bytes) -> None:
    """Raise AssertionError (or the unexpected exception) if the property fails."""
    spec, metadata = _decode(data)
    try:
        parsed = parse_filter(spec)
    except InvalidFilterError:
        return
    if parsed is None:
        assert spec is None or spec == {}, f"non-empty spec parsed to None: {spec!r}"
        return
    reparsed = parse_filter(parsed.to_spec())
    assert reparsed is not None, f"to_spec() of {spec!r} parsed to None"
    for record in (*SAMPLE_METADATA, *metadata):
        result = parsed.matches(record)
        assert type(result) is bool, f"matches returned {result!r}"
        assert reparsed.matches(record) is result, f"to_spec() changed meaning of {spec!r}"


def main() -> None:
    if atheris is None:
        print("atheris is not installed; install it with: .venv/bin/pip install atheris")
        return
    atheris.Setup(sys.argv, check_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
