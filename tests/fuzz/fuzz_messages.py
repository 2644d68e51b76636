"""Fuzz target for what ``add`` accepts: messages, metadata and timestamps.

Property: whatever a caller passes, ``parse_messages``, ``check_metadata`` and
``check_timestamp`` either return well-formed values or raise ``InvalidInputError``;
nothing else escapes. A parsed message has a known role, non-empty text without NUL
that encodes as UTF-8 and fits the length limit; checked metadata survives a JSON round
trip; a checked timestamp is timezone-aware UTC.

Each input is decoded as JSON when it is JSON, else as text (invalid UTF-8 becomes lone
surrogates, the way hostile input reaches Python), so the fuzzer explores both shapes.

    .venv/bin/python tests/fuzz/fuzz_messages.py -atheris_runs=100000 [CORPUS_DIR]
"""

from __future__ import annotations

import importlib
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

atheris: Any = None
if __name__ == "__main__":  # imported by the test suite, the harness runs without atheris
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        atheris = importlib.import_module("atheris")
    except ImportError:
        atheris = None

if atheris is not None:
    with atheris.instrument_imports(include=["graphmem"]):  # not torch, numpy, lark...
        from graphmem.errors import InvalidInputError
        from graphmem.writing.messages import (
            MAX_NAME_CHARS,
            ROLES,
            check_metadata,
            check_timestamp,
            parse_messages,
        )
else:
    from graphmem.errors import InvalidInputError
    from graphmem.writing.messages import (
        MAX_NAME_CHARS,
        ROLES,
        check_metadata,
        check_timestamp,
        parse_messages,
    )

MAX_CHARS = 2_000
SEEDS: tuple[bytes, ...] = (
    b'"I live in Lisbon"',
    b'{"role": "user", "content": "hi", "name": "Maya"}',
    b'[{"role": "assistant", "content": "ok"}, {"role": "tool", "content": "x"}]',
    b'[{"role": "user", "content": [{"type": "text", "text": "look"}]}]',
    b'{"role": ["user"], "content": "x"}',
    b'"2024-05-01T10:00:00+02:00"',
    b"1714550400.5",
    b'{"tags": ["a", {"b": null}], "n": 1e308}',
    b"\xff\xfe lone bytes \xed\xa0\x80",
    b'"\\u0000"',
)


def decode(data: bytes) -> Any:
    """JSON if the bytes are JSON, else text with invalid bytes as lone surrogates."""
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        return data.decode("utf-8", "surrogateescape")


def _check_messages(value: Any) -> None:
    try:
        messages = parse_messages(value, max_chars=MAX_CHARS)
    except InvalidInputError:
        return
    assert messages, "an accepted input produced no message"
    for message in messages:
        assert message.role in ROLES, message.role
        assert isinstance(message.content, str)
        assert message.content.strip()
        assert "\x00" not in message.content
        message.content.encode("utf-8")  # raises on a lone surrogate
        if message.name is not None:
            assert len(message.name) <= MAX_NAME_CHARS
            assert "\x00" not in message.name


def _check_metadata(value: Any) -> None:
    try:
        checked = check_metadata(value)
    except InvalidInputError:
        return
    encoded = json.dumps(checked, allow_nan=False, ensure_ascii=False)
    assert json.loads(encoded) == checked
    assert "\\u0000" not in encoded
    encoded.encode("utf-8")


def _check_timestamp(value: Any) -> None:
    try:
        checked = check_timestamp(value)
    except InvalidInputError:
        return
    assert checked is None or (isinstance(checked, datetime) and checked.tzinfo == UTC)


def check_input(data: bytes) -> None:
    """Raise AssertionError (or the unexpected exception) if a property fails."""
    value = decode(data)
    _check_messages(value)
    _check_metadata(value)
    _check_timestamp(value)
    if isinstance(value, str):
        _check_messages({"role": "user", "content": value, "name": value[:300]})


def main() -> None:
    if atheris is None:
        print("atheris is not installed; install it with: .venv/bin/pip install atheris")
        return
    atheris.Setup(with_seed_corpus(sys.argv, SEEDS), check_input)
    atheris.Fuzz()


def with_seed_corpus(argv: list[str], seeds: tuple[bytes, ...]) -> list[str]:
    """``argv`` plus a corpus directory holding ``seeds`` when none was given."""
    if any(not arg.startswith("-") for arg in argv[1:]):
        return argv
    corpus = Path(tempfile.mkdtemp(prefix="graphmem-fuzz-"))
    for number, seed in enumerate(seeds):
        (corpus / f"seed-{number}").write_bytes(seed)
    return [*argv, str(corpus)]


if __name__ == "__main__":
    main()
