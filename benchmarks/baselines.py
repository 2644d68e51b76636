"""Shared code of the recall benchmarks: baseline retrievers, metrics, report tables.

The baselines are the reference points every recall benchmark prints next to
graphmem's own numbers, computed in the same run over the same texts:

- BM25 (``bm25s``, its English stopword list, default tokenizer, no stemming);
- dense: cosine similarity of the same MiniLM embedder graphmem uses;
- RRF of the two (reciprocal rank fusion, k = 60).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
import shlex
import sys
import time
from collections.abc import Callable, Hashable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import bm25s
import numpy as np
import numpy.typing as npt

from graphmem.embedding.base import Embedder, Vectors

H = TypeVar("H", bound=Hashable)
R = TypeVar("R")

RRF_K = 60
RESULTS_FILE = Path(__file__).resolve().parent / "RESULTS.md"


class Bm25Ranker:
    """BM25 over a fixed list of texts; ranks their positions."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._size = len(texts)
        self._retriever = bm25s.BM25()
        tokens = bm25s.tokenize(list(texts), stopwords="en", show_progress=False)
        self._retriever.index(tokens, show_progress=False)

    def rank(self, query: str, k: int) -> list[int]:
        """Positions of the ``k`` best texts, best first (texts with no shared term last)."""
        tokens = bm25s.tokenize([query], stopwords="en", show_progress=False, return_ids=False)
        k = min(k, self._size)
        if not tokens[0]:
            return []
        docs, _scores = self._retriever.retrieve(tokens, k=k, show_progress=False)
        return [int(i) for i in docs[0]]


class DenseRanker:
    """Cosine similarity over precomputed unit vectors."""

    def __init__(self, vectors: npt.NDArray[np.float32]) -> None:
        self._vectors = vectors

    def rank_vector(self, query: npt.NDArray[np.float32], k: int) -> list[int]:
        """Positions of the ``k`` nearest vectors, best first."""
        scores = self._vectors @ query
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        return [int(i) for i in top[np.argsort(-scores[top], kind="stable")]]


class UncachedEmbedder:
    """An embedder that computes every query vector afresh (no query cache), to time
    searches that include embedding the query."""

    def __init__(self, inner: Embedder) -> None:
        self._inner = inner

    @property
    def model(self) -> str:
        return self._inner.model

    @property
    def dim(self) -> int:
        return self._inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self._inner.embed(texts)

    def embed_query(self, text: str) -> Vectors:
        vectors: Vectors = self._inner.embed([text])[0]
        return vectors

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        """Several queries in one model call, as the default embedder does for texts
        it has not cached."""
        return self._inner.embed(texts)


def rrf(rankings: Iterable[Sequence[H]], k: int = RRF_K) -> list[H]:
    """Reciprocal rank fusion of several rankings (ties keep first-seen order)."""
    scores: dict[H, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank + 1)
    return sorted(scores, key=lambda item: -scores[item])


def recall_at(ranked: Sequence[Any], gold: set[Any], k: int) -> float:
    """Share of ``gold`` among the first ``k`` of ``ranked``."""
    if not gold:
        return 0.0
    return len(gold.intersection(ranked[:k])) / len(gold)


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation; NaN when empty."""
    if not values:
        return math.nan
    return float(np.percentile(np.asarray(values, dtype=np.float64), q))


def timed(fn: Callable[[], R]) -> tuple[R, float]:
    """Run ``fn``; return its result and the elapsed wall time in milliseconds."""
    start = time.perf_counter()
    value = fn()
    return value, (time.perf_counter() - start) * 1000.0


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table; floats printed with three decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "n/a" if math.isnan(value) else f"{value:.3f}"
        return str(value)

    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines.extend("| " + " | ".join(cell(v) for v in row) + " |" for row in rows)
    return "\n".join(lines)


def command_line() -> str:
    """The command that started this process, as it could be pasted into a shell."""
    program = Path(sys.argv[0])
    with contextlib.suppress(ValueError):  # a script outside the working directory
        program = program.resolve().relative_to(Path.cwd())
    return shlex.join([".venv/bin/python", str(program), *sys.argv[1:]])


def append_results(title: str, body: str, path: Path = RESULTS_FILE) -> None:
    """Append a dated section (title, command line, body) to ``benchmarks/RESULTS.md``."""
    stamp = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not path.exists():
        path.write_text(
            "# Benchmark results\n\nEach run appends a section: when, the exact command, "
            "and its table.\n",
            encoding="utf-8",
        )
    section = f"\n## {title} — {stamp}\n\n```\n{command_line()}\n```\n\n{body.rstrip()}\n"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(section)


def latency_table(with_embedding: Sequence[float], precomputed: Sequence[float]) -> str:
    """p50/p95 of search latencies with and without embedding the query."""
    return markdown_table(
        ["graphmem search latency (ms)", "p50", "p95"],
        [
            [
                "with query embedding",
                percentile(with_embedding, 50),
                percentile(with_embedding, 95),
            ],
            ["precomputed query vector", percentile(precomputed, 50), percentile(precomputed, 95)],
        ],
    )
