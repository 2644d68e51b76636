"""One embedding call per write, reused vectors, and the padding-free BERT encoder.

``embedder`` is the session-wide MiniLM fixture from ``conftest.py``; ``Counting``
wraps it to record every call the write path makes.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder, Vectors
from graphmem.embedding.batch import EmbeddingBatch, EmbeddingShapeError
from graphmem.embedding.cache import VectorCache
from graphmem.embedding.packed_bert import PackedBertEncoder
from graphmem.errors import InvalidInputError
from graphmem.models.scope import Scope
from graphmem.resolution.resolver import EntityMention, EntityResolver
from graphmem.store.base import EmbedderInfo
from graphmem.store.embedded.store import EmbeddedStore

TOLERANCE = 1e-5
"""Float32 rounding between batches of different composition."""


class Counting:
    """The real embedder, with a record of every ``embed`` call's texts."""

    def __init__(self, inner: SentenceTransformerEmbedder) -> None:
        self.inner = inner
        self.calls: list[list[str]] = []

    @property
    def model(self) -> str:
        return self.inner.model

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.calls.append(list(texts))
        return self.inner.embed(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


class Failing(Counting):
    """An embedder whose model is unavailable at write time."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        raise RuntimeError("model crashed")


class WrongShape(Counting):
    """An embedder that drops the last vector."""

    def embed(self, texts: Sequence[str]) -> Vectors:
        return self.inner.embed(texts)[:-1]


@pytest.fixture
def counting(embedder: SentenceTransformerEmbedder) -> Counting:
    return Counting(embedder)


@pytest.fixture
def memory_counting(tmp_path: Path, counting: Counting) -> Iterator[Memory]:
    with Memory(MemoryConfig(path=tmp_path / "store", use_llm=False), embedder=counting) as mem:
        yield mem


def fresh(embedder: SentenceTransformerEmbedder, text: str) -> list[float]:
    vector: list[float] = embedder.embed([text])[0].tolist()
    return vector


# -- one call per write ------------------------------------------------------------------------


def test_one_add_of_several_turns_calls_the_embedder_once(
    memory_counting: Memory, counting: Counting, embedder: SentenceTransformerEmbedder
) -> None:
    result = memory_counting.add(
        [
            {"role": "user", "content": "I live in Lisbon these days."},
            {"role": "user", "content": "I work at Acme Corp as an engineer."},
            {"role": "user", "content": "My sister Vera lives in Tallinn."},
        ],
        user_id="alice",
    )

    assert len(counting.calls) == 1
    assert len(result.episodes) == 3
    assert len(result.facts_added) >= 3
    for episode in result.episodes:
        assert episode.embedding == pytest.approx(fresh(embedder, episode.content), abs=TOLERANCE)
    for entity in result.entities:
        assert entity.embedding == pytest.approx(fresh(embedder, entity.name), abs=TOLERANCE)
    for fact in result.facts_added:
        assert fact.embedding == pytest.approx(fresh(embedder, fact.fact), abs=TOLERANCE)
    (texts,) = counting.calls
    assert len(texts) == len(set(texts)), "a text is embedded once per write"


def test_add_facts_calls_the_embedder_once(
    memory_counting: Memory, counting: Counting, embedder: SentenceTransformerEmbedder
) -> None:
    result = memory_counting.add_facts(
        [
            ("Ben", "works_at", "Globex", "Ben works at Globex."),
            ("Globex", "located_in", "Oslo", "Globex is located in Oslo."),
            ("Ben", "knows", "Carla", "Ben knows Carla."),
        ],
        user_id="alice",
    )

    assert len(counting.calls) == 1
    assert {f.fact for f in result.facts_added} == {
        "Ben works at Globex.",
        "Globex is located in Oslo.",
        "Ben knows Carla.",
    }
    for fact in result.facts_added:
        assert fact.embedding == pytest.approx(fresh(embedder, fact.fact), abs=TOLERANCE)
    (episode,) = result.episodes
    assert episode.embedding == pytest.approx(fresh(embedder, episode.content), abs=TOLERANCE)


def test_add_without_inference_embeds_only_the_episodes(
    memory_counting: Memory, counting: Counting
) -> None:
    memory_counting.add("I live in Lisbon these days.", user_id="alice", infer=False)

    assert counting.calls == [["I live in Lisbon these days."]]


# -- reuse -------------------------------------------------------------------------------------


def test_names_and_sentences_embedded_before_are_reused_exactly(
    memory_counting: Memory, counting: Counting, embedder: SentenceTransformerEmbedder
) -> None:
    first = memory_counting.add_facts(
        [("Ben", "lives_in", "Boston", "Ben lives in Boston.")], user_id="alice"
    )
    second = memory_counting.add_facts(
        [("Ben", "lives_in", "Boston", "Ben lives in Boston.")], user_id="bob"
    )

    assert len(counting.calls) == 2
    assert "Boston" in counting.calls[0] and "Ben lives in Boston." in counting.calls[0]
    assert "Boston" not in counting.calls[1]
    assert "Ben lives in Boston." not in counting.calls[1]
    alices, bobs = (next(e for e in r.entities if e.name == "Boston") for r in (first, second))
    assert alices.id != bobs.id, "owners never share entities"
    assert bobs.embedding == alices.embedding
    assert bobs.embedding == pytest.approx(fresh(embedder, "Boston"), abs=TOLERANCE)
    assert second.facts_added[0].embedding == first.facts_added[0].embedding


def test_forget_drops_cached_vectors(memory_counting: Memory, counting: Counting) -> None:
    memory_counting.add_facts([("Ben", "lives_in", "Boston")], user_id="alice")
    memory_counting.forget(user_id="alice")

    memory_counting.add_facts([("Ben", "lives_in", "Boston")], user_id="bob")

    assert "Boston" in counting.calls[-1]


def test_a_failing_embedder_leaves_the_store_unchanged(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with Memory(
        MemoryConfig(path=tmp_path / "store", use_llm=False), embedder=Failing(embedder)
    ) as mem:
        with pytest.raises(RuntimeError, match="model crashed"):
            mem.add("I live in Lisbon these days.", user_id="alice")

        counts = mem.stats()
        assert (counts.episodes, counts.entities, counts.facts) == (0, 0, 0)


def test_an_embedder_returning_too_few_vectors_is_a_clear_error(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with Memory(
        MemoryConfig(path=tmp_path / "store", use_llm=False), embedder=WrongShape(embedder)
    ) as mem:
        with pytest.raises(EmbeddingShapeError, match="shape"):
            mem.add("I live in Lisbon these days.", user_id="alice")

        assert mem.stats().episodes == 0


# -- the batch and the cache -------------------------------------------------------------------


def test_batch_embeds_duplicates_once_and_returns_parts_in_order(counting: Counting) -> None:
    cache = VectorCache()
    batch = EmbeddingBatch(cache)
    episodes = batch.add(["Lisbon is sunny.", "Lisbon"])
    names = batch.add(["Lisbon", "Vera", "Lisbon"], reuse=True)
    empty = batch.add([], reuse=True)

    batch.run(counting)

    assert counting.calls == [["Lisbon is sunny.", "Lisbon", "Vera"]]
    assert batch.model_calls == 1 and batch.embedded == 3
    lisbon = batch.vectors(episodes)[1]
    assert batch.vectors(names)[0] == lisbon == batch.vectors(names)[2]
    assert batch.vectors(empty) == []
    assert len(cache) == 2, "only texts of reusable parts are kept"


def test_batch_of_cached_texts_makes_no_call(counting: Counting) -> None:
    cache = VectorCache()
    first = EmbeddingBatch(cache)
    part = first.add(["Vera", "Tallinn"], reuse=True)
    first.run(counting)

    second = EmbeddingBatch(cache)
    again = second.add(["Tallinn", "Vera"], reuse=True)
    second.run(counting)

    assert len(counting.calls) == 1
    assert second.model_calls == 0
    assert second.vectors(again) == first.vectors(part)[::-1]
    assert (cache.hits, cache.misses) == (2, 2)


def test_batch_runs_once_and_is_read_after_running(counting: Counting) -> None:
    batch = EmbeddingBatch()
    part = batch.add(["Vera"])
    with pytest.raises(RuntimeError, match="not run"):
        batch.vectors(part)
    batch.run(counting)
    with pytest.raises(RuntimeError, match="only once"):
        batch.run(counting)
    with pytest.raises(RuntimeError, match="already run"):
        batch.add(["Tallinn"])
    with pytest.raises(IndexError):
        batch.vectors(5)


def test_cache_evicts_least_recently_used_and_skips_long_texts() -> None:
    cache = VectorCache(max_entries=2, max_text_chars=10)
    one, two, three = (np.full(4, value, dtype=np.float32) for value in (1.0, 2.0, 3.0))
    cache.put("m", "one", one)
    cache.put("m", "two", two)
    assert cache.get("m", "one") is not None  # "two" is now the least recently used
    cache.put("m", "three", three)
    cache.put("m", "a text longer than ten", one)

    assert cache.get("m", "two") is None
    kept = cache.get("m", "one")
    assert kept is not None and kept.tolist() == [1.0] * 4
    assert not kept.flags.writeable
    assert cache.get("other model", "one") is None, "vectors are kept per model"
    assert len(cache) == 2
    cache.clear()
    assert len(cache) == 0


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_cache_refuses_bad_limits(bad: object) -> None:
    with pytest.raises(InvalidInputError):
        VectorCache(max_entries=bad)  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError):
        VectorCache(max_text_chars=bad)  # type: ignore[arg-type]


# -- resolution in two steps -------------------------------------------------------------------


def test_resolution_in_two_steps_checks_the_vectors_it_gets(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    store = EmbeddedStore(tmp_path / "memory", EmbedderInfo(embedder.model, embedder.dim))
    try:
        resolver = EntityResolver(store, embedder)
        alice = Scope(user_id="alice")
        mentions = [EntityMention("Vera", "Person"), EntityMention("Tallinn", "Place")]

        pending = resolver.begin(alice.owner, mentions, scope=alice)
        assert pending.texts == ["Vera", "Tallinn"]
        with pytest.raises(InvalidInputError, match="expected 2 vectors"):
            resolver.finish(pending, [])
        vectors = embedder.embed(pending.texts).tolist()
        result = resolver.finish(pending, vectors)
        with pytest.raises(InvalidInputError, match="already been finished"):
            resolver.finish(pending, vectors)

        assert [e.name for e in result.entities] == ["Vera", "Tallinn"]
        assert result.is_new == [True, True]
        assert [e.embedding for e in result.entities] == vectors
        assert result.stats.embedded_texts == 2
    finally:
        store.close()


# -- the padding-free encoder ------------------------------------------------------------------


@pytest.fixture(scope="module")
def unpacked() -> SentenceTransformerEmbedder:
    """The same model run through ``SentenceTransformer.encode`` only."""
    return SentenceTransformerEmbedder(threads=1, packed=False)


def test_packed_encoder_reproduces_sentence_transformers(
    embedder: SentenceTransformerEmbedder, unpacked: SentenceTransformerEmbedder
) -> None:
    # More texts than one chunk of 64, of mixed lengths, so that chunks are padded.
    texts = [
        "Vera",
        "",
        "I moved to Lisbon last week and started working at Acme Corp.",
        "Zoë visited 東京 and São Paulo.",
        "line one\nline two\ttabbed",
    ] + [f"Turn {i}: colleague {i} lives in city {i * 7}" + " really" * (i % 9) for i in range(70)]

    assert embedder.packed and not unpacked.packed
    packed = embedder.embed(texts)
    reference = unpacked.embed(texts)

    assert packed.shape == reference.shape == (len(texts), 384)
    assert float(np.abs(packed - reference).max()) <= TOLERANCE
    assert np.allclose(np.linalg.norm(packed, axis=1), 1.0, atol=1e-5)
    assert embedder.embed([]).shape == (0, 384)


def test_packed_encoder_truncates_long_texts_like_sentence_transformers(
    embedder: SentenceTransformerEmbedder, unpacked: SentenceTransformerEmbedder
) -> None:
    long_text = "word " * 400  # more than the model's 256 tokens
    longer = long_text + "and then something else entirely"

    packed = embedder.embed([long_text, longer])

    assert float(np.abs(packed - unpacked.embed([long_text, longer])).max()) <= TOLERANCE
    assert np.allclose(packed[0], packed[1], atol=1e-6), "only the first 256 tokens count"


def test_packed_encoder_declines_models_of_another_layout() -> None:
    assert PackedBertEncoder.of(object()) is None
    assert PackedBertEncoder.of([]) is None
