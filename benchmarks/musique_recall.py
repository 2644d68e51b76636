"""MuSiQue passage recall: multi-hop questions over 1,890 passages and their OpenIE triples.

Every passage becomes an episode (``infer=False``: no extraction) and its triples are
added with ``add_facts`` citing that episode, so graph expansion can hop from the
entities a question names to the passages that answer it. For each of the dev
questions, the top-k episodes are mapped back to passages (through the episode
metadata set on add) and compared with the supporting passages: recall@2 and @5 over
the whole corpus, next to BM25, dense and RRF baselines computed in the same run.
Search latency is measured with and without embedding the query.

    .venv/bin/python benchmarks/musique_recall.py --data ../shared/data/musique
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
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
from graphmem.errors import InvalidInputError
from graphmem.models.scope import Scope
from graphmem.resolution.names import normalize_name
from graphmem.retrieval import RetrievalSettings, Retriever
from graphmem.temporal.predicates import normalize_predicate
from graphmem.writing.triples import parse_triples

USER = "musique"
KS = (2, 5)


def load(data: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Passages, their triples (aligned by position) and the dev questions."""
    corpus = json.loads((data / "musique-corpus.json").read_text(encoding="utf-8"))
    triples = json.loads((data / "musique-corpus-openie-triples.json").read_text(encoding="utf-8"))
    questions = json.loads((data / "musique-dev-questions.json").read_text(encoding="utf-8"))
    docs = triples["docs"]
    if len(docs) != len(corpus):
        sys.exit(f"{len(corpus)} passages but triples for {len(docs)}")
    for passage, doc in zip(corpus, docs, strict=True):
        if doc["title"] != passage["title"]:
            sys.exit(f"triples out of step with the corpus at {passage['title']!r}")
    return corpus, docs, questions


def passage_text(passage: dict[str, Any]) -> str:
    return f"{passage['title']}\n{passage['text']}"


def usable(triple: list[Any]) -> bool:
    """False for the ~1% of OpenIE outputs graphmem rejects: truncated triples, empty,
    symbol-only or over-long names, predicates that are not identifiers."""
    if len(triple) != 3 or not all(normalize_name(str(part)) for part in triple):
        return False
    try:
        normalize_predicate(str(triple[1]))
        parse_triples([tuple(str(part) for part in triple)], max_chars=100_000)
    except InvalidInputError:
        return False
    return True


def ingest(
    memory: Memory, corpus: list[dict[str, Any]], docs: list[dict[str, Any]], batch: int = 100
) -> float:
    """Write passages and triples; returns seconds taken. Skips a store already filled.

    One ``add`` per passage (its metadata names the passage); triples go in batches
    of ``batch`` passages, each triple citing its own passage's episode as source.
    """
    if memory.stats(user_id=USER).episodes >= len(corpus):
        return 0.0
    start = time.perf_counter()
    for first in range(0, len(corpus), batch):
        triples: list[dict[str, Any]] = []
        for index in range(first, min(first + batch, len(corpus))):
            added = memory.add(
                {"role": "document", "content": passage_text(corpus[index])},
                user_id=USER,
                infer=False,
                metadata={"passage": index},
            )
            source = added.episodes[0].id
            for triple in docs[index]["extracted_triples"]:
                if usable(triple):
                    subject, predicate, obj = (str(part) for part in triple)
                    triples.append(
                        {
                            "subject": subject,
                            "predicate": predicate,
                            "object": obj,
                            "source": source,
                        }
                    )
        if triples:
            memory.add_facts(triples, user_id=USER)
        print(f"  ingested {min(first + batch, len(corpus))}/{len(corpus)}", file=sys.stderr)
    return time.perf_counter() - start


def supporting(question: dict[str, Any], text_index: dict[str, list[int]]) -> set[int]:
    """Corpus positions of the question's supporting passages (matched by their text:
    some titles name several passages)."""
    gold: set[int] = set()
    for paragraph in question["paragraphs"]:
        if paragraph["is_supporting"]:
            gold.update(text_index.get(paragraph["paragraph_text"], []))
    return gold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, required=True, help="directory of the MuSiQue files")
    parser.add_argument("--store", type=Path, help="store directory to (re)use; default: temp")
    parser.add_argument("--no-record", action="store_true", help="do not append to RESULTS.md")
    parser.add_argument("--threads", type=int, help="torch threads of the embedder")
    args = parser.parse_args()

    corpus, docs, questions = load(args.data)
    text_index: dict[str, list[int]] = {}
    for index, passage in enumerate(corpus):
        text_index.setdefault(passage["text"], []).append(index)

    with tempfile.TemporaryDirectory() as scratch:
        path = args.store or Path(scratch)
        config = MemoryConfig(path=path, use_llm=False, embedder_threads=args.threads)
        memory = Memory(config)
        ingest_seconds = ingest(memory, corpus, docs)
        retriever = Retriever(memory.store, memory.embedder, settings=RetrievalSettings())
        cold = Retriever(memory.store, UncachedEmbedder(memory.embedder))
        embedder = memory.embedder
        texts = [passage_text(p) for p in corpus]
        bm25 = Bm25Ranker(texts)
        dense = DenseRanker(embedder.embed(texts))
        scope = Scope.of(user_id=USER)

        methods = ("BM25", "dense (MiniLM)", "RRF(BM25, dense)", "graphmem")
        recalls: dict[str, dict[int, list[float]]] = {m: {k: [] for k in KS} for m in methods}
        with_embedding: list[float] = []
        without_embedding: list[float] = []
        for question in questions:
            gold = supporting(question, text_index)
            if not gold:
                continue
            text = question["question"]
            vector = embedder.embed_query(text)
            lexical = bm25.rank(text, 20)
            semantic = dense.rank_vector(vector, 20)
            fused = rrf([lexical, semantic])
            result = retriever.search(text, scope, limit=max(KS), query_vector=vector)
            ranked = [int(e.episode.metadata["passage"]) for e in result.episodes]
            for method, order in zip(methods, (lexical, semantic, fused, ranked), strict=True):
                for k in KS:
                    recalls[method][k].append(recall_at(order, gold, k))
            _, ms = timed(partial(cold.search, text, scope, limit=max(KS)))
            with_embedding.append(ms)
            _, ms = timed(
                partial(retriever.search, text, scope, limit=max(KS), query_vector=vector)
            )
            without_embedding.append(ms)
        memory.close()

    count = len(recalls["graphmem"][KS[0]])
    rows = [[m, *(float(np.mean(recalls[m][k])) for k in KS)] for m in methods]
    table = markdown_table(["method", *(f"R@{k}" for k in KS)], rows)
    latency = latency_table(with_embedding, without_embedding)
    notes = (
        f"{count} questions, {len(corpus)} passages, "
        f"{sum(usable(t) for d in docs for t in d['extracted_triples'])} of "
        f"{sum(len(d['extracted_triples']) for d in docs)} triples usable; "
        f"ingestion {ingest_seconds:.0f} s (0 = reused store)."
    )
    body = f"{notes}\n\n{table}\n\n{latency}\n"
    print(body)
    if not args.no_record:
        append_results("MuSiQue passage recall (dev, 50 questions)", body)


if __name__ == "__main__":
    main()
