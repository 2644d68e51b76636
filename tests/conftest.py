"""Shared fixtures: the real MiniLM embedder (loaded once) and fresh memories."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Test modules both import this helper and load it as a plugin: register it for
# assertion rewriting before either happens.
pytest.register_assert_rewrite("neo4j_server")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# Provider keys in a developer's shell must never turn tests into network calls.
for _key in ("ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENAI_BASE_URL", "GRAPHMEM_LLM"):
    os.environ.pop(_key, None)

from graphmem.embedding import SentenceTransformerEmbedder  # noqa: E402

if TYPE_CHECKING:
    from graphmem import Memory


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default embedder, shared by the whole run (it takes seconds to load).

    One torch thread: tests also start writer and server subprocesses, and torch's
    thread pool degrades badly when the cores are oversubscribed.
    """
    return SentenceTransformerEmbedder(threads=1)


@pytest.fixture
def memory(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[Memory]:
    """A fresh embedded-store memory with the offline rules extractor."""
    from graphmem import Memory, MemoryConfig

    with Memory(MemoryConfig(path=tmp_path / "store", use_llm=False), embedder=embedder) as mem:
        yield mem


@pytest.fixture
def memory_factory(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[object]:
    """Opens memories on numbered store directories; closes them all afterwards."""
    from graphmem import Memory, MemoryConfig

    opened: list[Memory] = []

    def make(name: str = "store") -> Memory:
        mem = Memory(MemoryConfig(path=tmp_path / name, use_llm=False), embedder=embedder)
        opened.append(mem)
        return mem

    yield make
    for mem in opened:
        mem.close()
