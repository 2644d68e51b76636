"""Benchmark of the embedded store's owner-partitioned vector index.

Builds a synthetic index whose owner sizes follow a Zipf law (a few owners with tens or
hundreds of thousands of vectors, most with a few hundred or less), then reports add
throughput, save time, load time, memory, search latency per owner size and recall of
HNSW partitions against brute force.

Loading, searching and recall run in a fresh child process, so its memory figures show
what a store that opens the snapshot pays, without the build's leftovers.

Vectors are drawn around per-owner topics in a low-dimensional latent space, like
sentence embeddings; ``--data uniform`` draws isotropic noise instead, a worst case no
approximate index handles well (all neighbours are nearly equidistant).

    python benchmarks/vector_index_bench.py --total 1000000 --dim 384 --owners 2000
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from graphmem.store.embedded.vector_index import VectorIndex

_LATENT = 32
_BATCH = 5_000
_SIZE_TARGETS = (200_000, 50_000, 20_000, 5_000, 500, 50)


def owner_sizes(total: int, owners: int, exponent: float) -> list[int]:
    """Sizes proportional to rank**-exponent, at least 1 each, summing to ``total``."""
    weights = np.arange(1, owners + 1, dtype=np.float64) ** -exponent
    sizes = np.maximum(1, np.floor(total * weights / weights.sum())).astype(np.int64)
    sizes[0] += total - int(sizes.sum())
    return [int(size) for size in sizes]


class Generator:
    """Deterministic rows per owner and batch: the same arguments give the same rows."""

    def __init__(self, dim: int, seed: int, kind: str) -> None:
        self.dim, self.seed, self.kind = dim, seed, kind
        rng = np.random.default_rng([seed, 0])
        self.basis = (rng.standard_normal((_LATENT, dim)) / np.sqrt(_LATENT)).astype(np.float32)

    def rows(self, rank: int, owner_size: int, batch: int, count: int) -> np.ndarray:
        """Batch ``batch`` of the owner of ``rank`` (negative batches: query rows)."""
        rng = np.random.default_rng([self.seed, rank, batch + 2**20])
        if self.kind == "uniform":
            return rng.standard_normal((count, self.dim), dtype=np.float32)
        topics_rng = np.random.default_rng([self.seed, rank])
        topics = topics_rng.standard_normal((8 + owner_size // 500, _LATENT), dtype=np.float32)
        chosen = topics[rng.integers(0, len(topics), count)]
        latent = chosen + 0.6 * rng.standard_normal((count, _LATENT), dtype=np.float32)
        noise = 0.35 * rng.standard_normal((count, self.dim), dtype=np.float32)
        rows: np.ndarray = latent @ self.basis + noise
        return rows

    def owner(self, rank: int, size: int) -> np.ndarray:
        """Every row of an owner, in insertion order."""
        batches = [
            self.rows(rank, size, start // _BATCH, min(_BATCH, size - start))
            for start in range(0, size, _BATCH)
        ]
        return np.concatenate(batches)


def first_key(sizes: list[int], rank: int) -> int:
    return 1 + sum(sizes[:rank])


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process in MiB."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    with open("/proc/self/statm") as statm:
        current = int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    return current, peak


def build_and_save(args: argparse.Namespace, directory: Path) -> None:
    sizes = owner_sizes(args.total, args.owners, args.zipf)
    generator = Generator(args.dim, args.seed, args.data)
    index = VectorIndex(args.dim, exact_threshold=args.exact_threshold)
    key = 1
    add_seconds = {"exact": 0.0, "hnsw": 0.0}  # by the kind the owner ends up with
    for rank, size in enumerate(sizes):
        kind = "hnsw" if size > args.exact_threshold else "exact"
        for start in range(0, size, _BATCH):
            count = min(_BATCH, size - start)
            rows = generator.rows(rank, size, start // _BATCH, count)
            keys = np.arange(key, key + count, dtype=np.int64)
            began = time.perf_counter()
            index.add(f"user:{rank}", keys, rows)
            add_seconds[kind] += time.perf_counter() - began
            key += count
    graphs = [size for size in sizes if size > args.exact_threshold]
    total_seconds = sum(add_seconds.values())
    print(f"owners: {len(sizes)} (largest {sizes[0]:,}, median {sizes[len(sizes) // 2]:,})")
    print(f"HNSW partitions: {len(graphs)} holding {sum(graphs):,} vectors; the rest exact")
    rate = len(index) / total_seconds
    print(f"add: {len(index):,} vectors in {total_seconds:.1f} s = {rate:,.0f}/s")
    for kind, in_kind in (("exact", len(index) - sum(graphs)), ("hnsw", sum(graphs))):
        if in_kind:
            rate = in_kind / add_seconds[kind]
            print(f"  {kind} owners: {in_kind:,} in {add_seconds[kind]:.1f} s = {rate:,.0f}/s")
    current, peak = rss_mib()
    print(f"build process RSS: {current:,.0f} MiB now, {peak:,.0f} MiB peak")
    began = time.perf_counter()
    index.save(directory, 1)
    print(f"save: {time.perf_counter() - began:.2f} s")
    on_disk = sum(path.stat().st_size for path in directory.rglob("*") if path.is_file())
    print(f"snapshot on disk: {on_disk / 2**20:,.0f} MiB")


def load_and_search(args: argparse.Namespace, directory: Path) -> dict[str, object]:
    sizes = owner_sizes(args.total, args.owners, args.zipf)
    generator = Generator(args.dim, args.seed, args.data)
    load_seconds: list[float] = []
    index: VectorIndex | None = None
    for _ in range(2):  # the second load shows the cost once memory pages are warm
        index = None  # drop the first copy before loading the second
        began = time.perf_counter()
        loaded = VectorIndex.load(directory, args.dim, exact_threshold=args.exact_threshold)
        load_seconds.append(time.perf_counter() - began)
        if loaded is None:
            raise SystemExit("snapshot did not load")
        index = loaded[0]
        del loaded
    assert index is not None
    current, peak = rss_mib()
    report: dict[str, object] = {
        "load_seconds": load_seconds,
        "rss_mib": current,
        "peak_rss_mib": peak,
        "vectors": len(index),
    }

    latencies: list[dict[str, object]] = []
    chosen: list[int] = []
    for target in _SIZE_TARGETS:
        rank = min(range(len(sizes)), key=lambda r: abs(sizes[r] - target))
        if rank in chosen:
            continue
        chosen.append(rank)
        queries = generator.rows(rank, sizes[rank], -1, args.queries)
        timed = [timed_search(index, f"user:{rank}", query) for query in queries]
        latencies.append({"owner_size": sizes[rank], **percentiles(timed)})
    report["search_ms"] = latencies
    report["mixed_ms"] = mixed_latency(index, generator, sizes, args.queries)
    report["recall"] = [
        {"owner_size": sizes[rank], "recall_at_10": recall(index, generator, sizes, rank, args)}
        for rank in sorted({0, *(r for r in chosen if sizes[r] > args.exact_threshold)})
    ]
    return report


def mixed_latency(
    index: VectorIndex, generator: Generator, sizes: list[int], count: int
) -> dict[str, float]:
    """Latency over owners drawn with probability proportional to their size."""
    rng = np.random.default_rng(7)
    ranks = rng.choice(len(sizes), size=count, p=np.array(sizes) / sum(sizes))
    timed = [
        timed_search(index, f"user:{rank}", generator.rows(rank, sizes[rank], -2, 1)[0])
        for rank in ranks.tolist()
    ]
    return percentiles(timed)


def timed_search(index: VectorIndex, owner: str, query: np.ndarray) -> tuple[float, float]:
    """(wall, CPU) seconds of one k=10 search; CPU time excludes waiting for a busy core."""
    wall, cpu = time.perf_counter(), time.thread_time()
    index.search(owner, query, 10)
    return time.perf_counter() - wall, time.thread_time() - cpu


def percentiles(timed: list[tuple[float, float]]) -> dict[str, float]:
    walls, cpus = (np.array(column) * 1e3 for column in zip(*timed, strict=True))
    p50, p95, p99 = np.percentile(walls, [50, 95, 99])
    cpu50, cpu95 = np.percentile(cpus, [50, 95])
    return {"p50": p50, "p95": p95, "p99": p99, "cpu_p50": cpu50, "cpu_p95": cpu95}


def recall(
    index: VectorIndex, generator: Generator, sizes: list[int], rank: int, args: argparse.Namespace
) -> float:
    """Recall@10 of the index against float32 brute force over the owner's rows."""
    rows = generator.owner(rank, sizes[rank])
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    base = first_key(sizes, rank)
    queries = generator.rows(rank, sizes[rank], -3, min(args.queries, 200))
    found = 0
    for query in queries:
        truth = np.argpartition(rows @ (query / np.linalg.norm(query)), -10)[-10:] + base
        hits = {key for key, _ in index.search(f"user:{rank}", query, 10)}
        found += len(hits & set(truth.tolist()))
    return found / (10 * len(queries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--owners", type=int, default=2000)
    parser.add_argument("--zipf", type=float, default=1.1, help="Zipf exponent of owner sizes")
    parser.add_argument("--exact-threshold", type=int, default=20_000)
    parser.add_argument("--queries", type=int, default=300, help="queries per owner measured")
    parser.add_argument("--data", choices=("clustered", "uniform"), default="clustered")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dir", type=Path, help="snapshot directory (default: a temp dir)")
    parser.add_argument("--search-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.search_only:
        print(json.dumps(load_and_search(args, args.dir)))
        return
    with tempfile.TemporaryDirectory(prefix="vector-bench-") as scratch:
        directory = args.dir or Path(scratch) / "index"
        build_and_save(args, directory)
        child = subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], "--dir", str(directory), "--search-only"],
            check=True,
            capture_output=True,
            text=True,
        )
        print_report(json.loads(child.stdout.strip().splitlines()[-1]))


def print_report(report: dict[str, Any]) -> None:
    first, again = report["load_seconds"]
    print(f"load: {first:.2f} s (again: {again:.2f} s) for {report['vectors']:,} vectors")
    print(f"loaded process RSS: {report['rss_mib']:,.0f} MiB (peak {report['peak_rss_mib']:,.0f})")
    print("search k=10 latency (ms):")
    for row in report["search_ms"]:
        print(f"  owner of {row['owner_size']:>7,}: {format_latency(row)}")
    print(f"  size-weighted mix: {format_latency(report['mixed_ms'])}")
    for row in report["recall"]:
        print(
            f"recall@10 vs brute force, owner of {row['owner_size']:,}: {row['recall_at_10']:.3f}"
        )


def format_latency(row: dict[str, float]) -> str:
    return (
        f"p50 {row['p50']:.3f}  p95 {row['p95']:.3f}  p99 {row['p99']:.3f}"
        f"   (CPU time p50 {row['cpu_p50']:.3f}  p95 {row['cpu_p95']:.3f})"
    )


if __name__ == "__main__":
    main()
