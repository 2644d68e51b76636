"""LoCoMo evidence recall: which conversation turns does search bring back for a question?

Each conversation is one scope (``user_id`` = its sample id); each turn is one episode
(the session's date as timestamp, the speaker as name, ``metadata={"dia_id": ...}``),
ingested with the default offline extractor. For every question of categories 1-4
the top-k episodes are mapped back to turn ids and compared with the question's
evidence turns: recall@5/10/20 overall and per category, next to BM25, dense and RRF
baselines over the same turns, computed in the same run. Search latency is measured
with and without embedding the query.

    .venv/bin/python benchmarks/locomo_recall.py --data ../shared/data/locomo/locomo-dev.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from baselines import (
    Bm25Ranker,
    DenseRanker,
    UncachedEmbedder,
    append_results,
    latency_table,
    markdown_table,
    recall_at,
    rrf,
    timed,
)

from graphmem import Memory, MemoryConfig
from graphmem.models.scope import Scope
from graphmem.retrieval import RetrievalSettings, Retriever

KS = (5, 10, 20)
CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop"}
METHODS = ("BM25 over turns", "dense over turns", "RRF(BM25, dense)", "graphmem")


@dataclass(frozen=True, slots=True)
class Turn:
    dia_id: str
    speaker: str
    text: str
    said_at: datetime


def parse_date(text: str) -> datetime:
    """LoCoMo session dates look like ``1:56 pm on 8 May, 2023``; read them as UTC."""
    return datetime.strptime(text.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)


def turns_of(conversation: dict[str, Any]) -> list[Turn]:
    """Every turn in session order (date keys of sessions that do not exist are ignored)."""
    turns: list[Turn] = []
    number = 1
    while isinstance(conversation.get(f"session_{number}"), list):
        said_at = parse_date(conversation[f"session_{number}_date_time"])
        for turn in conversation[f"session_{number}"]:
            text = turn["text"]
            if turn.get("blip_caption"):  # the photo a speaker shared is part of the turn
                text = f"{text} [shares a photo of {turn['blip_caption']}]"
            turns.append(Turn(turn["dia_id"], turn["speaker"], text, said_at))
        number += 1
    return turns


def evidence_of(question: dict[str, Any], known: set[str]) -> set[str]:
    """Evidence turn ids, with malformed entries ("D8:6; D9:17") split, unknown ids dropped."""
    ids = {
        part.strip()
        for entry in question.get("evidence", [])
        for part in str(entry).replace(",", ";").split(";")
    }
    return ids & known


def baseline_text(turn: Turn) -> str:
    """What the baselines index: the turn with its date and speaker, as graphmem has them."""
    return f"{turn.said_at:%d %B %Y} {turn.speaker}: {turn.text}"


def ingest(memory: Memory, scope_id: str, turns: list[Turn]) -> None:
    """One ``add`` per turn, so that each episode's metadata names its turn."""
    if memory.stats(user_id=scope_id).episodes >= len(turns):
        return
    for turn in turns:
        memory.add(
            {"role": "user", "content": turn.text, "name": turn.speaker},
            user_id=scope_id,
            timestamp=turn.said_at,
            metadata={"dia_id": turn.dia_id},
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="locomo-dev.json")
    parser.add_argument("--store", type=Path, help="store directory to (re)use; default: temp")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--threads", type=int, help="torch threads of the embedder")
    args = parser.parse_args()
    conversations = json.loads(args.data.read_text(encoding="utf-8"))

    recalls: dict[str, dict[int, list[float]]] = {m: {k: [] for k in KS} for m in METHODS}
    per_category: dict[str, dict[int, list[float]]] = {m: {} for m in METHODS}
    with_embedding: list[float] = []
    without_embedding: list[float] = []
    ingest_seconds = 0.0
    with tempfile.TemporaryDirectory() as scratch:
        config = MemoryConfig(
            path=args.store or Path(scratch), use_llm=False, embedder_threads=args.threads
        )
        memory = Memory(config)
        embedder = memory.embedder
        retriever = Retriever(memory.store, embedder, settings=RetrievalSettings())
        cold = Retriever(memory.store, UncachedEmbedder(embedder))
        for conversation in conversations:
            scope_id = conversation["sample_id"]
            turns = turns_of(conversation["conversation"])
            start = time.perf_counter()
            ingest(memory, scope_id, turns)
            ingest_seconds += time.perf_counter() - start
            print(f"  {scope_id}: {len(turns)} turns ingested", file=sys.stderr)
            ids = [t.dia_id for t in turns]
            texts = [baseline_text(t) for t in turns]
            bm25 = Bm25Ranker(texts)
            dense = DenseRanker(embedder.embed(texts))
            scope = Scope.of(user_id=scope_id)
            for question in conversation["qa"]:
                category = question.get("category")
                gold = evidence_of(question, set(ids))
                if category not in CATEGORIES or not gold:
                    continue
                text = str(question["question"])
                vector = embedder.embed_query(text)
                lexical = [ids[i] for i in bm25.rank(text, max(KS))]
                semantic = [ids[i] for i in dense.rank_vector(vector, max(KS))]
                fused = rrf([lexical, semantic])
                search = partial(retriever.search, text, scope, limit=max(KS), query_vector=vector)
                result = search()
                ranked = [str(e.episode.metadata["dia_id"]) for e in result.episodes]
                orders = (lexical, semantic, fused, ranked)
                for method, order in zip(METHODS, orders, strict=True):
                    for k in KS:
                        recalls[method][k].append(recall_at(order, gold, k))
                    per_category[method].setdefault(category, []).append(recall_at(order, gold, 10))
                _, ms = timed(partial(cold.search, text, scope, limit=max(KS)))
                with_embedding.append(ms)
                _, ms = timed(search)  # every query vector precomputed (or cached)
                without_embedding.append(ms)
        memory.close()

    count = len(recalls["graphmem"][KS[0]])
    header = ["method", *(f"R@{k}" for k in KS), *(f"{n} R@10" for n in CATEGORIES.values())]
    rows = [
        [
            method,
            *(float(np.mean(recalls[method][k])) for k in KS),
            *(float(np.mean(per_category[method].get(c, [np.nan]))) for c in CATEGORIES),
        ]
        for method in METHODS
    ]
    counts = ", ".join(
        f"{name} {len(per_category['graphmem'].get(c, []))}" for c, name in CATEGORIES.items()
    )
    latency = latency_table(with_embedding, without_embedding)
    notes = (
        f"{count} questions ({counts}) over {len(conversations)} conversations; "
        f"ingestion {ingest_seconds:.0f} s (0 = reused store). Baselines index "
        "'<date> <speaker>: <text>' per turn."
    )
    body = f"{notes}\n\n{markdown_table(header, rows)}\n\n{latency}\n"
    print(body)
    if not args.no_record:
        append_results("LoCoMo evidence recall (dev, categories 1-4)", body)


if __name__ == "__main__":
    main()
