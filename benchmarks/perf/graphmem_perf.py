"""graphmem side of the performance benchmark; each phase runs in its own process.

Phases (``python benchmarks/perf/graphmem_perf.py PHASE ...``):

* ``ingest``: real MiniLM embeddings, offline rules extractor; ``add()`` of chat turns
  (one call per turn, as an application does) and ``add_facts()`` of triples.
* ``build``: a large store written through the store protocol with synthetic vectors.
* ``measure``: open an existing store, search latency with and without embedding the
  query (graph expansion on: the default two hops), peak RSS, size on disk, reindex.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import synthetic
from embedding_floor import measure_embedding_floor

from graphmem import Memory, MemoryConfig
from graphmem.embedding.base import Embedder, Vectors
from graphmem.models.records import Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.resolution.names import normalize_name
from graphmem.retrieval import Retriever

MODEL = "sentence-transformers/all-MiniLM-L6-v2"
SESSION_TURNS = 10


def peak_rss_mib() -> float:
    """Peak resident set size of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def disk_mib(path: Path) -> float:
    """Total size of the files under ``path``."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def percentiles(samples_s: Sequence[float]) -> dict[str, float]:
    """p50/p95/p99/mean in milliseconds."""
    ms = np.asarray(samples_s) * 1000
    return {
        "p50": float(np.percentile(ms, 50)),
        "p95": float(np.percentile(ms, 95)),
        "p99": float(np.percentile(ms, 99)),
        "mean": float(ms.mean()),
        "n": len(samples_s),
    }


class TimedEmbedder:
    """Wraps an embedder and accumulates the time spent embedding."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.seconds = 0.0

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        start = time.perf_counter()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - start

    def embed_query(self, text: str) -> Vectors:
        start = time.perf_counter()
        try:
            return self.inner.embed_query(text)
        finally:
            self.seconds += time.perf_counter() - start


def _real_embedder(threads: int) -> Embedder:
    from graphmem.embedding.sentence_transformers import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(MODEL, threads=threads, query_cache_size=1)


def ingest(work: Path, turns: int, triples: int, threads: int) -> dict[str, Any]:
    """Throughput of add() (chat turns) and add_facts() (triples) on a fresh store."""
    embedder = TimedEmbedder(_real_embedder(threads))
    embedder.embed(["warm up the model"])
    embedder.seconds = 0.0
    result: dict[str, Any] = {}
    with Memory(MemoryConfig(path=work / "ingest-turns", use_llm=False), embedder=embedder) as m:
        chat = synthetic.chat_turns(turns, users=max(1, turns // 50))
        start = time.perf_counter()
        for speaker, text in chat:
            m.add([{"role": "user", "content": text}], user_id=speaker)
        wall = time.perf_counter() - start
        counts = m.store.counts()
        result["add"] = _rate(len(chat), wall, embedder.seconds, counts.facts)
    embedder.seconds = 0.0
    # The same turns, one add() per conversation of SESSION_TURNS turns.
    with Memory(MemoryConfig(path=work / "ingest-sessions", use_llm=False), embedder=embedder) as m:
        start = time.perf_counter()
        for speaker, texts in synthetic.sessions(chat, SESSION_TURNS):
            m.add([{"role": "user", "content": t} for t in texts], user_id=speaker)
        wall = time.perf_counter() - start
        result["add_session"] = _rate(len(chat), wall, embedder.seconds, m.store.counts().facts)
    embedder.seconds = 0.0
    data = synthetic.generate(triples, users=max(1, triples // 100), seed=21)
    with Memory(MemoryConfig(path=work / "ingest-facts", use_llm=False), embedder=embedder) as m:
        start = time.perf_counter()
        for user in data:
            for i in range(0, len(user.triples), 10):
                batch = user.triples[i : i + 10]
                m.add_facts(
                    [(t.subject, t.predicate, t.object, t.sentence) for t in batch],
                    user_id=user.user_id,
                )
        wall = time.perf_counter() - start
        result["add_facts"] = _rate(triples, wall, embedder.seconds, m.store.counts().facts)
    # The same turn texts through the bare embedder: the ceiling on add() throughput.
    result["embedding_floor"] = measure_embedding_floor(embedder.inner, [t for _, t in chat])
    result["peak_rss_mib"] = peak_rss_mib()
    return result


def _rate(items: int, wall: float, embed: float, facts: int) -> dict[str, float]:
    return {
        "items": items,
        "wall_s": wall,
        "embed_s": embed,
        "per_s": items / wall,
        "per_s_without_embedding": items / max(wall - embed, 1e-9),
        "facts_stored": facts,
    }


def build(
    store_dir: Path, total: int, users: int, queries_path: Path, export: Path | None
) -> dict[str, Any]:
    """Write ``total`` synthetic facts (plus entities, episodes, mentions) with vectors.

    With ``export``, the fact sentences and vectors are also written there for the peer.
    """
    data = synthetic.generate(total, users)
    exported = None
    if export is not None:
        export.mkdir(parents=True, exist_ok=True)
        (export / "sentences.json").write_text(
            json.dumps([[u.user_id, t.sentence] for u in data for t in u.triples])
        )
        exported = np.lib.format.open_memmap(
            export / "vectors.npy", mode="w+", dtype=np.float32, shape=(total, synthetic.DIM)
        )
    space = synthetic.VectorSpace()
    qs = synthetic.queries(data, 400)
    fact_vectors: dict[int, np.ndarray] = {}
    wanted = {q.fact_index for q in qs}
    config = MemoryConfig(path=store_dir, use_llm=False)
    start = time.perf_counter()
    offset = 0
    with Memory(config) as memory:
        store = memory.store
        for chunk in synthetic.iter_chunks(data, 20_000):
            episodes: list[Episode] = []
            entities: list[Entity] = []
            facts: list[Fact] = []
            mentions: list[tuple[uuid.UUID, uuid.UUID]] = []
            for user in chunk:
                vectors = space.facts(user.triples)
                if exported is not None:
                    exported[offset : offset + len(vectors)] = vectors
                for i in range(len(user.triples)):
                    if offset + i in wanted:
                        fact_vectors[offset + i] = vectors[i]
                _user_records(user, vectors, space, episodes, entities, facts, mentions)
                offset += len(user.triples)
            with store.transaction() as tx:
                tx.put_entities(entities)
                tx.put_episodes(episodes)
                tx.put_facts(facts)
                tx.put_mentions(mentions)
    elapsed = time.perf_counter() - start
    if exported is not None:
        exported.flush()
    query_vectors = space.near(np.stack([fact_vectors[q.fact_index] for q in qs]))
    queries_path.write_text(
        json.dumps(
            [
                {"user_id": q.user_id, "text": q.text, "vector": [round(float(x), 6) for x in v]}
                for q, v in zip(qs, query_vectors, strict=True)
            ]
        )
    )
    return {
        "facts": total,
        "users": users,
        "build_s": elapsed,
        "peak_rss_mib": peak_rss_mib(),
        "largest_user_facts": max(len(u.triples) for u in data),
    }


def _user_records(
    user: synthetic.UserData,
    vectors: np.ndarray,
    space: synthetic.VectorSpace,
    episodes: list[Episode],
    entities: list[Entity],
    facts: list[Fact],
    mentions: list[tuple[uuid.UUID, uuid.UUID]],
) -> None:
    owner = f"user:{user.user_id}"
    by_name: dict[str, Entity] = {}

    def entity(name: str, kind: str) -> Entity:
        found = by_name.get(name)
        if found is None:
            found = Entity(
                owner=owner,
                name=name,
                normalized_name=normalize_name(name),
                type=kind,
                embedding=space.name(name, kind).tolist(),
            )
            by_name[name] = found
            entities.append(found)
        return found

    for start in range(0, len(user.triples), 3):
        group = user.triples[start : start + 3]
        episode = Episode(
            content=" ".join(t.sentence for t in group),
            user_id=user.user_id,
            embedding=vectors[start : start + len(group)].mean(axis=0).tolist(),
        )
        episodes.append(episode)
        seen: set[uuid.UUID] = set()
        for offset, t in enumerate(group):
            s, o = entity(t.subject, t.subject_type), entity(t.object, t.object_type)
            facts.append(
                Fact(
                    user_id=user.user_id,
                    subject_id=s.id,
                    predicate=t.predicate,
                    object_id=o.id,
                    fact=t.sentence,
                    subject_name=s.name,
                    object_name=o.name,
                    episode_ids=[episode.id],
                    valid_at=episode.valid_at,
                    embedding=vectors[start + offset].tolist(),
                )
            )
            for e in (s, o):
                if e.id not in seen:
                    seen.add(e.id)
                    mentions.append((episode.id, e.id))


def _timed_with_vectors(
    retriever: Retriever, queries: list[dict[str, Any]], include: list[str] | None = None
) -> tuple[list[float], int]:
    """Wall seconds of each query's search with its stored vector, and how many of the
    searches found facts (results are not kept: the run measures peak RSS)."""
    timings, with_facts = [], 0
    for q in queries:
        t0 = time.perf_counter()
        result = retriever.search(
            q["text"], Scope.of(user_id=q["user_id"]), query_vector=q["vector"], include=include
        )
        timings.append(time.perf_counter() - t0)
        with_facts += bool(result.facts)
    return timings, with_facts


def _timed_embedded(
    memory: Memory, queries: list[dict[str, Any]], tag: str, include: list[str] | None = None
) -> list[float]:
    """Wall seconds of each query's search, its text embedded; ``tag`` and the query's
    position make every text distinct, so no search is answered from the query cache."""
    timings = []
    for n, q in enumerate(queries):
        text = f"{q['text']} ({tag}{n})"
        t0 = time.perf_counter()
        memory.search(text, user_id=q["user_id"], include=include)
        timings.append(time.perf_counter() - t0)
    return timings


def measure(
    store_dir: Path,
    queries_path: Path,
    threads: int,
    embed_queries: int,
    reindex: bool,
    edge_cache_facts: int | None = None,
    edge_cache_gc_freeze: bool = False,
) -> dict[str, Any]:
    """Open time, search latency (graph expansion on), RSS, disk size, reindex time.

    ``edge_cache_facts`` overrides :attr:`MemoryConfig.edge_cache_facts` (None: the
    default), to measure what a larger or smaller search cache buys;
    ``edge_cache_gc_freeze`` sets :attr:`MemoryConfig.edge_cache_gc_freeze`.
    """
    qs = json.loads(queries_path.read_text())
    config = MemoryConfig(path=store_dir, use_llm=False, edge_cache_gc_freeze=edge_cache_gc_freeze)
    if edge_cache_facts is not None:
        config = config.model_copy(update={"edge_cache_facts": edge_cache_facts})
    start = time.perf_counter()
    memory = Memory(config)
    opened = time.perf_counter() - start
    retriever = memory._retriever
    rss_open = peak_rss_mib()
    for q in qs[:20]:
        retriever.search(q["text"], Scope.of(user_id=q["user_id"]), query_vector=q["vector"])
    cpu0 = time.process_time()
    timings, found = _timed_with_vectors(retriever, qs)
    cpu_ms = (time.process_time() - cpu0) * 1000 / len(qs)
    # The same queries again: every owner searched above now has its edges in memory.
    warm, _ = _timed_with_vectors(retriever, qs)
    # Facts only (what Mem0 returns), still with graph expansion: after the warm pass.
    facts_only, _ = _timed_with_vectors(retriever, qs, include=["facts"])
    result: dict[str, Any] = {
        "open_s": opened,
        "rss_after_open_mib": rss_open,
        "search_vector": percentiles(timings),
        "search_vector_warm": percentiles(warm),
        "search_facts_vector": percentiles(facts_only),
        "queries_with_facts": found / len(qs),
        "cpu_ms_per_search": cpu_ms,
    }
    if embed_queries:
        embedder = _real_embedder(threads)
        embedder.embed(["warm up"])
        # The real embedder in place of the lazy one, after the open was timed.
        retriever._embedder = embedder
        chosen = qs[:embed_queries]
        result["search_embed"] = percentiles(_timed_embedded(memory, chosen, ""))
        facts_embed = _timed_embedded(memory, chosen, "facts ", include=["facts"])
        result["search_facts_embed"] = percentiles(facts_embed)
    result["peak_rss_mib"] = peak_rss_mib()
    counts = memory.store.counts()
    result["counts"] = {
        "facts": counts.facts,
        "entities": counts.entities,
        "episodes": counts.episodes,
    }
    result["disk_mib"] = disk_mib(store_dir)
    if reindex:
        t0 = time.perf_counter()
        memory.reindex()
        result["reindex_s"] = time.perf_counter() - t0
        result["peak_rss_reindex_mib"] = peak_rss_mib()
    memory.close()
    return result


def main() -> None:
    """Command-line entry point; prints one JSON object."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("phase", choices=("ingest", "build", "measure"))
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--facts", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--queries", type=Path)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--embed-queries", type=int, default=100)
    parser.add_argument("--reindex", action="store_true")
    parser.add_argument("--edge-cache-facts", type=int, help="MemoryConfig.edge_cache_facts")
    parser.add_argument(
        "--edge-cache-gc-freeze", action="store_true", help="MemoryConfig.edge_cache_gc_freeze"
    )
    parser.add_argument("--export", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.phase == "ingest":
        out = ingest(args.dir, args.turns, args.facts, args.threads)
    elif args.phase == "build":
        out = build(args.dir, args.facts, args.users, args.queries, args.export)
    else:
        out = measure(
            args.dir,
            args.queries,
            args.threads,
            args.embed_queries,
            args.reindex,
            args.edge_cache_facts,
            args.edge_cache_gc_freeze,
        )
    args.out.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
