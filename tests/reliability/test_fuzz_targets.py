"""The fuzz targets of ``tests/fuzz``, run briefly: their seeds, bounded hypothesis
inputs, and (when atheris is installed) a short coverage-guided run of each script.

Longer runs are on demand: ``.venv/bin/python tests/fuzz/fuzz_X.py -atheris_runs=N``.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

FUZZ_DIR = Path(__file__).resolve().parents[1] / "fuzz"
TARGETS = ("messages", "identifiers", "cypher_guard", "filters")
FUZZ_SETTINGS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=250,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"graphmem_fuzz_{name}", FUZZ_DIR / f"fuzz_{name}.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


MESSAGES, IDENTIFIERS, GUARD, FILTERS = (_load(name) for name in TARGETS)

json_values: st.SearchStrategy[Any] = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["role", "content", "name", "type", "text", "OR", "user_id", "x"])
            | st.text(max_size=6),
            inner,
            max_size=4,
        )
    ),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool", "document", "pirate", ""])
     | json_values,
     "content": st.text(max_size=40) | json_values},
    optional={"name": st.text(max_size=20) | json_values},
)  # fmt: skip
cypher_words = st.sampled_from(
    ["MATCH", "(n)", "(a)-[r]->(b)", "RETURN", "n", "n.name", "WHERE", "=", "'x'", '"y"', "`z`",
     "CREATE", "DELETE", "SET", "CALL", "db.labels()", "apoc.do.it()", "count(n)", "LIMIT", "1",
     "//", "/*", "*/", "\n", ";", "{", "}", ":", "$p", "UNION", "WITH", "ORDER BY", ",", "."]
)  # fmt: skip


@pytest.mark.parametrize("name", TARGETS)
def test_seed_inputs_hold_the_properties(name: str) -> None:
    target = _load(name)
    assert target.SEEDS
    for seed in target.SEEDS:
        target.check_input(seed)


@FUZZ_SETTINGS
@given(data=st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
       | st.lists(messages, max_size=3).map(lambda v: json.dumps(v).encode())
       | messages.map(lambda v: json.dumps(v).encode()))  # fmt: skip
def test_message_parser(data: bytes) -> None:
    MESSAGES.check_input(data)


@FUZZ_SETTINGS
@given(
    text=st.text(max_size=120) | st.from_regex(r"[A-Za-z_][A-Za-z0-9_ \-]{0,30}", fullmatch=True)
)
def test_identifier_validators(text: str) -> None:
    IDENTIFIERS.check_input(text.encode("utf-8", "surrogatepass"))


@FUZZ_SETTINGS
@given(words=st.lists(cypher_words, max_size=14), raw=st.text(max_size=30))
def test_read_only_guard_on_any_text(words: list[str], raw: str) -> None:
    GUARD.check_input(b"\x00" + " ".join(words).encode())
    GUARD.check_input(b"\x00" + raw.encode("utf-8", "surrogatepass"))


@FUZZ_SETTINGS
@given(choices=st.binary(min_size=1, max_size=40))
def test_read_only_guard_on_disguised_writes(choices: bytes) -> None:
    GUARD.check_input(b"\x01" + choices)


@FUZZ_SETTINGS
@given(data=st.binary(max_size=200) | json_values.map(lambda v: json.dumps(v).encode()))
def test_filter_parser(data: bytes) -> None:
    FILTERS.check_input(data)


@pytest.mark.skipif(importlib.util.find_spec("atheris") is None, reason="atheris not installed")
@pytest.mark.parametrize("name", TARGETS)
def test_each_script_runs_under_atheris(name: str) -> None:
    done = subprocess.run(
        [sys.executable, str(FUZZ_DIR / f"fuzz_{name}.py"), "-atheris_runs=300"],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "Done 300 runs" in done.stderr or "Done 300 in" in done.stderr, done.stderr[-500:]
