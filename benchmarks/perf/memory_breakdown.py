"""Where a store's resident memory is: after open, after the searches, after a reindex.

Prints, at each step, the process's resident memory split into anonymous (private)
memory and pages of mapped files, its high-water mark, and the largest mappings (the
database, each vector snapshot file, the heap), from ``/proc/self/smaps`` (Linux).

    .venv/bin/python benchmarks/perf/memory_breakdown.py \
        --store benchmarks/out/perf/store-1000000 \
        --queries benchmarks/out/perf/queries-1000000.json --reindex

``--reindex`` rewrites the store's derived indexes in place (the truth is untouched);
point it at a copy to keep the original snapshot files.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

from profile_search import run as search_all

from graphmem import Memory, MemoryConfig
from graphmem.retrieval import Retriever

_ROLLUP_FIELDS = ("Rss", "Anonymous", "Private_Clean", "Shared_Clean")


def report(step: str, top: int) -> None:
    """Print the memory split and the ``top`` largest mappings, in MiB."""
    rollup: dict[str, int] = {}
    with open("/proc/self/smaps_rollup") as handle:
        for line in handle:
            name, _, rest = line.partition(":")
            if name in _ROLLUP_FIELDS:
                rollup[name] = int(rest.split()[0]) // 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024
    print(f"{step}: " + ", ".join(f"{k} {v}" for k, v in rollup.items()) + f", peak {peak}")
    by_mapping: dict[str, int] = {}
    current = "[anon]"
    with open("/proc/self/smaps") as handle:
        for line in handle:
            fields = line.split()
            if fields[0] == "Rss:":
                by_mapping[current] = by_mapping.get(current, 0) + int(fields[1])
            elif not fields[0].endswith(":"):  # a mapping's header line
                current = fields[5] if len(fields) > 5 else "[anon]"
    for mapping, kib in sorted(by_mapping.items(), key=lambda item: -item[1])[:top]:
        print(f"  {kib // 1024:6d} MiB  {mapping}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="a store from the build phase")
    parser.add_argument("--queries", type=Path, required=True, help="its queries JSON")
    parser.add_argument("--reindex", action="store_true", help="also measure a reindex")
    parser.add_argument("--top", type=int, default=8, help="largest mappings to list")
    args = parser.parse_args()
    queries = json.loads(args.queries.read_text())
    report("before open", args.top)
    start = time.perf_counter()
    with Memory(MemoryConfig(path=args.store, use_llm=False)) as memory:
        print(f"open took {time.perf_counter() - start:.2f} s")
        report("after open", args.top)
        search_all(Retriever(memory.store, memory.embedder), queries)
        report(f"after {len(queries)} searches", args.top)
        if args.reindex:
            start = time.perf_counter()
            memory.reindex()
            print(f"reindex took {time.perf_counter() - start:.1f} s")
            report("after reindex", args.top)


if __name__ == "__main__":
    main()
