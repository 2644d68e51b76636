"""Where search spends its CPU: cProfile over the perf benchmark's queries.

Runs every query of a ``build`` phase once to warm up, times them (CPU ms per search,
wall p50/p95), then profiles a second pass and prints the top functions.

    .venv/bin/python benchmarks/perf/profile_search.py \
        --store benchmarks/out/perf/store-10000 --queries benchmarks/out/perf/queries-10000.json

The store is copied to a temporary directory first, so the original is never touched.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from graphmem import Memory, MemoryConfig
from graphmem.models.scope import Scope
from graphmem.retrieval import Retriever


@contextmanager
def copy_of(
    store: Path, edge_cache_facts: int | None = None, embedder_threads: int | None = None
) -> Iterator[Retriever]:
    """A retriever over a temporary copy of ``store`` (the original is never touched)."""
    with tempfile.TemporaryDirectory() as scratch:
        copy = Path(scratch) / "store"
        shutil.copytree(store, copy)
        config = MemoryConfig(path=copy, use_llm=False, embedder_threads=embedder_threads)
        if edge_cache_facts is not None:
            config = config.model_copy(update={"edge_cache_facts": edge_cache_facts})
        with Memory(config) as memory:
            yield Retriever(memory.store, memory.embedder)


def run(
    retriever: Retriever,
    queries: list[dict[str, Any]],
    embed_tag: int | None = None,
    include: list[str] | None = None,
) -> list[float]:
    """Wall seconds of each search, default settings, with the precomputed query vectors.

    With ``embed_tag``, the query texts are embedded instead, each with the tag and its
    position appended so that neither it nor its name-less part (embedded too) is in
    the query cache, as in ``run.py``. ``include`` is passed to every search (None:
    facts, entities and episodes).
    """
    timings = []
    for n, query in enumerate(queries):
        scope = Scope.of(user_id=query["user_id"])
        start = time.perf_counter()
        if embed_tag is None:
            retriever.search(
                query["text"], scope, query_vector=query["vector"], include=include
            )
        else:
            retriever.search(f"{query['text']} ({embed_tag}.{n})", scope, include=include)
        timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a store from the build phase")
    parser.add_argument("--queries", type=Path, required=True, help="its queries JSON")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key")
    parser.add_argument("--top", type=int, default=40, help="functions to print")
    parser.add_argument(
        "--edge-cache-facts",
        type=int,
        default=MemoryConfig().edge_cache_facts,
        help="MemoryConfig.edge_cache_facts (0: every neighbourhood read from SQLite)",
    )
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text())
    with copy_of(args.store, args.edge_cache_facts) as retriever:
        run(retriever, queries)  # warm up: vector index, page cache, id caches
        cpu = time.process_time()
        timings = np.asarray(run(retriever, queries)) * 1000
        cpu_ms = (time.process_time() - cpu) * 1000 / len(queries)
        print(
            f"{len(queries)} searches: {cpu_ms:.1f} CPU ms each; wall p50 "
            f"{np.percentile(timings, 50):.1f} ms, p95 {np.percentile(timings, 95):.1f} ms"
        )
        profile = cProfile.Profile()
        profile.enable()
        run(retriever, queries)
        profile.disable()
    pstats.Stats(profile).sort_stats(args.sort).print_stats(args.top)


if __name__ == "__main__":
    main()
