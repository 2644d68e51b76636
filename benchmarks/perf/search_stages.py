"""Where a search's time goes, stage by stage, without a profiler's distortion.

Puts a wall-clock timer around each step of :class:`~graphmem.retrieval.Retriever`'s
pipeline and around each store call it makes, runs the stored queries (one untimed
warm-up pass, then ``--rounds`` timed passes) and prints the mean milliseconds per
search spent in each. Nested timers overlap: a pipeline step includes the store calls
it makes. Only the timed functions pay for the measurement (about a microsecond per
call), so small, hot Python code is not overstated as it is under cProfile, and a
change to one stage can be judged by that stage's time rather than by CPU per search,
which moves by 20% between runs on a shared machine.

    .venv/bin/python benchmarks/perf/search_stages.py \\
        --store benchmarks/out/perf/store-100000 --queries benchmarks/out/perf/queries-100000.json

``--user`` keeps the queries of one user (the largest owners set the p95).
"""

from __future__ import annotations

import argparse
import functools
import json
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from profile_search import copy_of, run

from graphmem.retrieval import pipeline
from graphmem.retrieval.query_vectors import QueryVectors
from graphmem.store.embedded.store import EmbeddedStore

PIPELINE_FUNCTIONS = (
    "find_entry_points",
    "relevance_of",
    "seeds_of",
    "fetch_subgraph",
    "expand",
    "rank_facts",
    "trace_paths",
    "rank_entities",
    "candidate_ids",
    "rank_episodes",
    "bridge_scores",
)
RETRIEVER_METHODS = (
    "search",
    "_direct_facts",
    "_fact_records",
    "_rank_episodes",
    "_visible_episodes",
    "_bridge",
    "_episode_records",
)
STORE_METHODS = (
    "vector_search",
    "keyword_search",
    "get_entities",
    "get_fact_edges",
    "fact_edges_of_entities",
    "get_facts",
    "get_episode_headers",
    "get_episodes",
    "mentions_of_episodes",
    "episodes_mentioning",
    "episode_vectors",
)


@contextmanager
def timed_stages() -> Iterator[defaultdict[str, float]]:
    """Seconds spent in each stage while the block runs (the timers are removed after)."""
    spent: defaultdict[str, float] = defaultdict(float)
    targets = (
        [(pipeline, name, name) for name in PIPELINE_FUNCTIONS]
        + [(pipeline.Retriever, name, f"Retriever.{name}") for name in RETRIEVER_METHODS]
        + [(EmbeddedStore, name, f"store.{name}") for name in STORE_METHODS]
        + [(QueryVectors, "_embedded", "waiting for the query embedding")]
    )
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in targets]
    for owner, name, label in targets:
        setattr(owner, name, _timer(getattr(owner, name), label, spent))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def _timer(
    function: Callable[..., Any], label: str, spent: defaultdict[str, float]
) -> Callable[..., Any]:
    @functools.wraps(function)
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[label] += time.perf_counter() - start

    return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a store from the build phase")
    parser.add_argument("--queries", type=Path, required=True, help="its queries JSON")
    parser.add_argument("--rounds", type=int, default=2, help="timed passes over the queries")
    parser.add_argument("--user", help="only the queries of this user id")
    parser.add_argument(
        "--include", help="comma-separated kinds to return (default: facts,entities,episodes)"
    )
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text())
    if args.user is not None:
        queries = [q for q in queries if q["user_id"] == args.user]
        if not queries:
            parser.error(f"no query of user {args.user!r} in {args.queries}")
    include = args.include.split(",") if args.include else None
    with copy_of(args.store) as retriever:
        run(retriever, queries, include=include)  # warm up: vector index, caches
        with timed_stages() as spent:
            for _ in range(args.rounds):
                run(retriever, queries, include=include)
    searches = args.rounds * len(queries)
    print(f"mean ms per search over {searches} searches (nested stages overlap)")
    for label, seconds in sorted(spent.items(), key=lambda item: -item[1]):
        print(f"  {label:32s} {seconds * 1000 / searches:8.2f}")


if __name__ == "__main__":
    main()
