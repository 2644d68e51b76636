"""Fuzz target for the metadata filter language, run like the other targets here.

The property and the input decoding live in ``tests/fuzz_filters.py`` (``parse_filter``
accepts or raises ``InvalidFilterError``; a parsed filter matches with a bool and
round-trips through ``to_spec()``); this script adds a seed corpus that reaches deep
into the grammar at once, including filters that name scope fields.

    .venv/bin/python tests/fuzz/fuzz_filters.py -atheris_runs=100000 [CORPUS_DIR]
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

TARGET = Path(__file__).resolve().parents[1] / "fuzz_filters.py"
SEEDS: tuple[bytes, ...] = (
    b'{"user_id": "bob"}',
    b'[{"OR": [{"owner": "user:bob"}, {"run_id": {"ne": "r1"}}]}, {"owner": "user:bob"}]',
    b'{"NOT": {"AND": [{"tags": {"in": ["a", "b"]}}, {"score": {"gte": 3, "lt": 10}}]}}',
    b'{"when": {"gt": "2024-05-01T10:00:00Z"}, "a.b.c": "*"}',
    b'{"name": {"icontains": "ANNA"}, "and": [{"x": {"nin": [1, 2.5, null]}}]}',
    b"\x08\x04\x05\x07\x02\x0b\x01",
)


def _load_target() -> ModuleType:
    spec = importlib.util.spec_from_file_location("graphmem_fuzz_filters", TARGET)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def check_input(data: bytes) -> None:
    """Raise AssertionError (or the unexpected exception) if a property fails."""
    _TARGET.check_input(data)


_TARGET = _load_target()


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        atheris: Any = importlib.import_module("atheris")
    except ImportError:
        print("atheris is not installed; install it with: .venv/bin/pip install atheris")
        return
    global _TARGET
    with atheris.instrument_imports(include=["graphmem"]):  # not torch, numpy, lark...
        for name in [m for m in sys.modules if m.startswith("graphmem.filters")]:
            del sys.modules[name]
        _TARGET = _load_target()
    argv = sys.argv
    if not any(not arg.startswith("-") for arg in argv[1:]):
        corpus = Path(tempfile.mkdtemp(prefix="graphmem-fuzz-"))
        for number, seed in enumerate(SEEDS):
            (corpus / f"seed-{number}").write_bytes(seed)
        argv = [*argv, str(corpus)]
    atheris.Setup(argv, check_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
