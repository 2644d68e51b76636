"""Before/after check of a search change: same results, and CPU per search.

Writes every result of the stored queries (fact, entity and episode ids, scores to
1e-9, sources and paths) to ``--out`` and prints the CPU ms per search of ``--rounds``
timed passes. ``--compare`` checks the results against another run's file. To compare
two commits, run it alternately from each (``PYTHONPATH=<a checkout of the other>``):

    .venv/bin/python benchmarks/perf/search_ab.py --store benchmarks/out/perf/store-100000 \\
        --queries benchmarks/out/perf/queries-100000.json --out /tmp/after.json \\
        --compare /tmp/before.json

Each timed pass prints wall p50/p95 too: work overlapped on two threads shows in
wall time, not CPU. With ``--embed`` the queries are embedded by the real model (one
torch thread), as an application's searches are. Each pass appends its
number to every query, so no pass is answered from the query-vector cache.

The store is copied to a temporary directory first, so the original is never touched.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from profile_search import copy_of, run

from graphmem.models.results import SearchResult
from graphmem.models.scope import Scope


def summary(result: SearchResult) -> dict[str, Any]:
    """What a search returned, in a form two runs can be compared by."""
    return {
        "facts": [
            [
                str(f.fact.id),
                round(f.score, 9),
                f.sources,
                [[h.fact_id.hex for h in p] for p in f.paths],
            ]
            for f in result.facts
        ],
        "entities": [[str(e.entity.id), round(e.score, 9), e.sources] for e in result.entities],
        "episodes": [[str(e.episode.id), round(e.score, 9), e.sources] for e in result.episodes],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a store from the build phase")
    parser.add_argument("--queries", type=Path, required=True, help="its queries JSON")
    parser.add_argument("--out", type=Path, required=True, help="where to write the results")
    parser.add_argument("--rounds", type=int, default=3, help="timed passes over the queries")
    parser.add_argument("--compare", type=Path, help="results of another run to compare with")
    parser.add_argument(
        "--embed", action="store_true", help="embed the query texts instead of using stored vectors"
    )
    parser.add_argument(
        "--include", help="comma-separated kinds to return (default: facts,entities,episodes)"
    )
    args = parser.parse_args()
    include = args.include.split(",") if args.include else None
    queries = json.loads(args.queries.read_text())
    with copy_of(args.store, embedder_threads=1 if args.embed else None) as retriever:
        results = [
            summary(
                retriever.search(
                    q["text"],
                    Scope.of(user_id=q["user_id"]),
                    query_vector=None if args.embed else q["vector"],
                    include=include,
                )
            )
            for q in queries
        ]
        cpu_ms = []
        for round_number in range(args.rounds):
            start = time.process_time()
            tag = round_number if args.embed else None
            wall = np.asarray(run(retriever, queries, tag, include=include))
            print(
                f"round {round_number}: wall p50 {np.percentile(wall, 50) * 1000:.1f} "
                f"p95 {np.percentile(wall, 95) * 1000:.1f} ms"
            )
            cpu_ms.append((time.process_time() - start) * 1000 / len(queries))
    print("CPU ms per search, by round:", " ".join(f"{ms:.1f}" for ms in cpu_ms))
    args.out.write_text(json.dumps(results))
    if args.compare is not None:
        other = json.loads(args.compare.read_text())
        differing = [i for i, (a, b) in enumerate(zip(results, other, strict=True)) if a != b]
        print(f"results differ for {len(differing)} of {len(results)} queries", differing[:10])
        sys.exit(1 if differing else 0)


if __name__ == "__main__":
    main()
