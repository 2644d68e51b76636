"""How a search embeds its query: one batch for the query and its name-less rest,
computed on a worker thread while the keyword indexes are searched."""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from hashing_embedder import HashingEmbedder
from retrieval_fixtures import add_employers

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder, Vectors
from graphmem.embedding.base import embed_queries
from graphmem.errors import EmbeddingShapeError
from graphmem.models.results import SearchResult
from graphmem.models.scope import Scope
from graphmem.retrieval import Retriever


class PlainEmbedder:
    """The embedder protocol and nothing more: one query per call."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.model = inner.model
        self.dim = inner.dim
        self.queries: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> Vectors:
        self.queries.append(text)
        vector: Vectors = self.inner.embed([text])[0]
        return vector


class BatchingEmbedder(PlainEmbedder):
    """Also embeds several queries at once, and records each batch and its thread."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        super().__init__(inner)
        self.batches: list[list[str]] = []
        self.threads: list[str] = []

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        self.batches.append(list(texts))
        self.threads.append(threading.current_thread().name)
        return self.inner.embed(texts)


def ids(result: SearchResult) -> tuple[list[str], list[str], list[str]]:
    return (
        [str(f.fact.id) for f in result.facts],
        [str(e.entity.id) for e in result.entities],
        [str(e.episode.id) for e in result.episodes],
    )


def test_a_query_naming_an_entity_is_embedded_with_its_name_less_rest_in_one_batch(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    add_employers(memory, "u1")
    batching = BatchingEmbedder(embedder)
    result = Retriever(memory.store, batching).search("Where does Alice work?", Scope.of("u1"))

    assert len(batching.batches) == 1
    query, rest = batching.batches[0]
    assert query == "Where does Alice work?"
    assert "alice" not in rest.lower() and "work" in rest
    assert batching.threads[0] != threading.current_thread().name  # off the caller's thread
    assert batching.queries == []
    assert result.facts[0].fact.fact == "Alice works at Acme Corp."


def test_an_embedder_without_batches_gets_the_same_result_one_query_at_a_time(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    add_employers(memory, "u1")
    plain, batching = PlainEmbedder(embedder), BatchingEmbedder(embedder)
    query = "Where is the company Carol works at headquartered?"
    one_by_one = Retriever(memory.store, plain).search(query, Scope.of("u1"))
    batched = Retriever(memory.store, batching).search(query, Scope.of("u1"))

    assert plain.queries == batching.batches[0] and len(plain.queries) == 2
    assert ids(one_by_one) == ids(batched)
    assert [f.score for f in one_by_one.facts] == pytest.approx([f.score for f in batched.facts])


def test_a_given_query_vector_leaves_only_the_name_less_rest_to_embed(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    add_employers(memory, "u1")
    batching = BatchingEmbedder(embedder)
    query = "Where does Alice work?"
    Retriever(memory.store, batching).search(
        query, Scope.of("u1"), query_vector=embedder.embed([query])[0]
    )
    assert len(batching.batches) == 1 and len(batching.batches[0]) == 1
    assert "alice" not in batching.batches[0][0].lower()


def test_a_query_naming_nothing_embeds_only_itself_and_a_given_vector_nothing(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    add_employers(memory, "u1")
    batching = BatchingEmbedder(embedder)
    retriever = Retriever(memory.store, batching)
    query = "Which company builds rockets?"
    retriever.search(query, Scope.of("u1"))
    assert batching.batches == [[query]]

    retriever.search(query, Scope.of("u1"), query_vector=embedder.embed([query])[0])
    assert batching.batches == [[query]]


def test_an_embedding_failure_reaches_the_caller_as_raised(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    add_employers(memory, "u1")

    class Failing(BatchingEmbedder):
        def embed_queries(self, texts: Sequence[str]) -> Vectors:
            raise ConnectionError("embedding service unreachable")

    with pytest.raises(ConnectionError, match="unreachable"):
        Retriever(memory.store, Failing(embedder)).search("Where does Alice work?", Scope.of("u1"))


def test_too_few_vectors_from_the_embedder_is_a_typed_error(
    memory: Memory, embedder: SentenceTransformerEmbedder
) -> None:
    add_employers(memory, "u1")

    class Short(BatchingEmbedder):
        def embed_queries(self, texts: Sequence[str]) -> Vectors:
            return self.inner.embed(list(texts)[:1])

    with pytest.raises(EmbeddingShapeError, match="shape"):
        Retriever(memory.store, Short(embedder)).search("Where does Alice work?", Scope.of("u1"))


def test_concurrent_searches_of_two_users_each_see_only_their_own_memories(
    memory: Memory,
) -> None:
    """The embedding worker threads are shared by every search: nothing may cross."""
    for user, company in (("u1", "Acme Corp"), ("u2", "Globex")):
        fact = f"Alice works at {company}."
        memory.add_facts([("Alice", "works_at", company, fact)], user_id=user)
    queries = [(f"Where does Alice work? ({n})", f"u{1 + n % 2}") for n in range(24)]

    def search(query: str, user: str) -> tuple[str, SearchResult]:
        return user, memory.search(query, user_id=user)

    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(pool.map(lambda q: search(*q), queries))

    for user, result in results:
        assert {f.fact.user_id for f in result.facts} == {user}
        assert {e.episode.user_id for e in result.episodes} <= {user}
        company = "Acme Corp" if user == "u1" else "Globex"
        assert result.facts[0].fact.fact == f"Alice works at {company}."


def test_embed_queries_batches_what_the_cache_lacks_and_matches_embed_query(
    embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = ["who is Dana's sister? (batch test)", "who is sister? (batch test)"]
    model_calls: list[list[str]] = []
    real_embed = embedder.embed

    def counting(batch: Sequence[str]) -> Vectors:
        model_calls.append(list(batch))
        return real_embed(batch)

    monkeypatch.setattr(embedder, "embed", counting)
    vectors = embedder.embed_queries([texts[0], texts[1], texts[0]])
    assert model_calls == [texts]  # one call, each distinct text once
    assert vectors.shape == (3, embedder.dim) and not vectors.flags.writeable
    np.testing.assert_array_equal(vectors[0], vectors[2])

    again = embedder.embed_queries(texts)
    assert model_calls == [texts]  # both answered from the query cache
    np.testing.assert_array_equal(again, vectors[:2])
    for text, row in zip(texts, vectors, strict=False):
        np.testing.assert_allclose(embedder.embed_query(text), row, atol=1e-6)
    assert embedder.embed_queries([]).shape == (0, embedder.dim)


def test_the_helper_falls_back_to_one_embed_query_per_text(
    embedder: SentenceTransformerEmbedder,
) -> None:
    plain = PlainEmbedder(embedder)
    vectors = embed_queries(plain, ["first query", "second query"])
    assert plain.queries == ["first query", "second query"]
    assert vectors.shape == (2, embedder.dim)
    assert embed_queries(plain, []).shape == (0, embedder.dim)


def _search_once(path: Path) -> str:
    with Memory(MemoryConfig(path=path, use_llm=False), embedder=HashingEmbedder()) as memory:
        memory.add_facts(
            [("Alice", "works_at", "Acme Corp", "Alice works at Acme Corp.")], user_id="u1"
        )
        return memory.search("Where does Alice work?", user_id="u1").facts[0].fact.fact


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_a_process_forked_after_searching_can_search(tmp_path: Path) -> None:
    """A forked child inherits the embedding worker pool without its threads."""
    assert _search_once(tmp_path / "parent") == "Alice works at Acme Corp."
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report what its own search found, then leave at once
        try:
            os.write(write, _search_once(tmp_path / "child").encode())
        finally:
            os._exit(0)
    os.close(write)
    deadline = time.monotonic() + 60
    while os.waitpid(pid, os.WNOHANG) == (0, 0):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            pytest.fail("the forked child's search never finished")
        time.sleep(0.05)
    with os.fdopen(read, "rb") as answer:
        assert answer.read().decode() == "Alice works at Acme Corp."
