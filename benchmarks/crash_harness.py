"""The long crash harness: SIGKILL writers many times during one long ingest.

Each kill lands at a random delay or at a chosen step of a vector snapshot save
(staged, renamed, published, before log compaction, mid-save) or inside a write
transaction before COMMIT. After every kill a copy of the store as the dead process
left it must open, pass ``check()``, hold every acknowledged write and no uncommitted
one, and answer searches; the next writer then recovers the original directory.

    .venv/bin/python benchmarks/crash_harness.py --kills 100 [--seed 1] [--out FILE]

Prints a summary (and writes it as JSON with ``--out``); exits 1 if any check failed.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from reliability.crash_kit import WriterPool, plan_kills, run_concurrent, run_harness

from graphmem.embedding import SentenceTransformerEmbedder


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-delay", type=float, default=2.5,
                        help="upper bound of a random kill delay, seconds")  # fmt: skip
    parser.add_argument("--searches", type=int, default=3, help="searches checked per kill")
    parser.add_argument(
        "--fault-share", type=float, default=0.4,
        help="share of kills at chosen fault points (the rest: random delays)",
    )  # fmt: skip
    parser.add_argument("--store", type=Path, help="store directory (default: a temp dir)")
    parser.add_argument("--out", type=Path, help="write the summary as JSON here")
    parser.add_argument(
        "--writers",
        type=int,
        default=0,
        help="instead of killing: run this many writer processes at once",
    )
    parser.add_argument("--writes", type=int, default=20, help="writes per concurrent writer")
    args = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="graphmem-crash-bench-"))
    store = args.store or scratch / "store"
    started = time.perf_counter()
    embedder = SentenceTransformerEmbedder(threads=1)
    if args.writers:
        return _concurrent(args, store, embedder, started)
    plans = plan_kills(
        args.kills, random.Random(args.seed), max_delay=args.max_delay,
        fault_share=args.fault_share,
    )  # fmt: skip
    with WriterPool() as pool:
        report = run_harness(
            store, embedder, pool, plans, seed=args.seed, searches_per_check=args.searches,
            scratch=scratch, log=lambda line: print(line, flush=True),
        )  # fmt: skip
    summary = {
        "kills": report.kills,
        "survived": report.survived,
        "acknowledged_writes": report.acks,
        "operations": dict(report.ledger.ops),
        "uncommitted_writes_checked_absent": len(report.ledger.uncommitted),
        "kill_points": dict(report.kill_points),
        "searches_checked": report.searches,
        "records_held": {
            "episodes": len(report.ledger.episodes),
            "entities": len(report.ledger.entities),
            "facts": len(report.ledger.facts),
            "deleted_facts": len(report.ledger.removed),
        },
        "recovery_open_seconds": {
            "median": statistics.median(report.open_seconds),
            "p95": _percentile(report.open_seconds, 0.95),
            "max": max(report.open_seconds),
        },
        "check_seconds_median": statistics.median(report.check_seconds),
        "wall_seconds": time.perf_counter() - started,
        "problems": report.problems,
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0 if not report.problems and report.survived == report.kills else 1


def _concurrent(
    args: argparse.Namespace, store: Path, embedder: SentenceTransformerEmbedder, started: float
) -> int:
    with WriterPool() as pool:
        ingest_started = time.perf_counter()
        report = run_concurrent(
            store, embedder, pool, writers=args.writers, writes=args.writes, seed=args.seed
        )
        ingest_seconds = time.perf_counter() - ingest_started
    summary = {
        "concurrent_writers": args.writers,
        "acknowledged_writes": report.acks,
        "operations": dict(report.ledger.ops),
        "rejected_or_lost": args.writers * args.writes - report.acks,
        "records_held": {
            "episodes": len(report.ledger.episodes),
            "entities": len(report.ledger.entities),
            "facts": len(report.ledger.facts),
        },
        "searches_checked": report.searches,
        "ingest_and_verify_seconds": ingest_seconds,
        "wall_seconds": time.perf_counter() - started,
        "problems": report.problems,
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out is not None:
        args.out.write_text(text + "\n")
    return 0 if not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
