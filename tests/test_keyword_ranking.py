"""The embedded store's BM25: each owner's own statistics, and ranking that reads only
what can reach the top."""

from __future__ import annotations

import math
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphmem.models.records import Episode
from graphmem.models.scope import Scope
from graphmem.store.base import EmbedderInfo
from graphmem.store.embedded.keyword import KeywordRanking, idf, length_factor, varints
from graphmem.store.embedded.store import DATABASE_FILE, EmbeddedStore

INFO = EmbedderInfo("keyword-test-vectors", 4)
ALICE = Scope.of(user_id="alice")
BOB = Scope.of(user_id="bob")


def episode(scope: Scope, content: str) -> Episode:
    return Episode(
        content=content,
        user_id=scope.user_id,
        embedding=[1.0, 0.0, 0.0, 0.0],
        valid_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def put(store: EmbeddedStore, *episodes: tuple[Scope, str]) -> None:
    with store.transaction() as tx:
        tx.put_episodes([episode(scope, text) for scope, text in episodes])


def contents(store: EmbeddedStore, scope: Scope, query: str, k: int = 10) -> list[str]:
    hits = store.keyword_search("episode", scope, query, k)
    by_id = {e.id: e.content for e in store.get_episodes([i for i, _ in hits])}
    return [by_id[i] for i, _ in hits]


def test_another_users_documents_do_not_make_a_users_rare_term_common(tmp_path: Path) -> None:
    # For alice, "harbor" is the rarer word, so the harbor turn ranks first. Bob writing
    # "harbor" a hundred times makes it common store-wide; alice's ranking must not move.
    # (The average text length is the store's, so the scores themselves may.)
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        put(
            store,
            (ALICE, "we met near the harbor"),
            (ALICE, "the sunset was orange today"),
            (ALICE, "an orange scarf for winter"),
            (ALICE, "orange juice every morning"),
        )
        before = contents(store, ALICE, "orange harbor")
        assert before[0] == "we met near the harbor"
        put(store, *((BOB, f"harbor walk number {i}") for i in range(100)))
        assert contents(store, ALICE, "orange harbor") == before
        assert all(c.startswith("harbor walk") for c in contents(store, BOB, "orange harbor"))


def test_rarer_terms_more_terms_and_shorter_texts_rank_higher(tmp_path: Path) -> None:
    texts = [
        "coffee with Priya",
        "coffee again this morning",
        "more coffee before the meeting",
        "coffee at noon",
        "Priya and I planned the trip over a long dinner in town",
        "Priya called",
        *(f"nothing relevant here {i}" for i in range(6)),
    ]
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        put(store, *((ALICE, text) for text in texts))
        assert contents(store, ALICE, "coffee with Priya") == [
            "coffee with Priya",  # both terms
            "Priya called",  # the rarer term (3 of 12 texts against 4 of 12), short
            "coffee at noon",  # the common term: shortest text first
            "coffee again this morning",
            "more coffee before the meeting",
            # The rarer term, but in a text almost three times the average length.
            "Priya and I planned the trip over a long dinner in town",
        ]


def test_equal_scores_go_newest_first(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        for n in range(5):
            with store.transaction() as tx:
                tx.put_episodes([episode(ALICE, f"tea number {n}")])
        assert contents(store, ALICE, "tea", 3) == ["tea number 4", "tea number 3", "tea number 2"]


def test_document_lengths_are_read_once_until_another_connection_writes(
    tmp_path: Path,
) -> None:
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        put(store, *((ALICE, f"tea with friend {n}") for n in range(30)))
        statements: list[str] = []
        store._reader().set_trace_callback(statements.append)  # this thread's reader

        def length_reads() -> int:
            count = sum("_docsize" in s for s in statements)
            statements.clear()
            return count

        first = contents(store, ALICE, "tea friend")
        assert length_reads() > 0
        assert contents(store, ALICE, "tea friend") == first
        assert length_reads() == 0  # the same documents: lengths known
        put(store, (BOB, "tea"))
        assert contents(store, ALICE, "tea friend") == first
        assert length_reads() > 0  # a commit elsewhere: read again


def test_an_edited_text_ranks_by_its_new_length(tmp_path: Path) -> None:
    # An upsert keeps the record's rowid and rewrites its FTS row: a length kept from
    # before the edit would still rank the edited text as the short one.
    short, longer = episode(ALICE, "kayak"), episode(ALICE, "kayak trip with the club")
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        with store.transaction() as tx:
            tx.put_episodes([short, longer, *(episode(ALICE, f"filler {n}") for n in range(8))])
        assert contents(store, ALICE, "kayak") == ["kayak", "kayak trip with the club"]
        edited = short.model_copy(
            update={"content": "kayak " + " ".join(f"word{n}" for n in range(40))}
        )
        with store.transaction() as tx:
            tx.put_episodes([edited])
        assert contents(store, ALICE, "kayak") == ["kayak trip with the club", edited.content]


def test_statistics_come_from_fts5_size_records(tmp_path: Path) -> None:
    with EmbeddedStore(tmp_path / "store", INFO) as store, store.transaction() as tx:
        tx.put_episodes([episode(ALICE, "one two three"), episode(BOB, "four five")])
    with sqlite3.connect(tmp_path / "store" / DATABASE_FILE) as conn:
        sizes = [varints(blob) for (blob,) in conn.execute("SELECT sz FROM episodes_fts_docsize")]
        (totals,) = conn.execute("SELECT block FROM episodes_fts_data WHERE id = 1").fetchone()
    # One owner token and the text's tokens per document; rows, then per-column totals.
    assert sorted(sizes) == [[1, 2], [1, 3]]
    assert varints(totals) == [2, 2, 5]


def test_varints_decode_sqlite_encoding() -> None:
    assert varints(bytes.fromhex("868D20868D20A5E84A")) == [100_000, 100_000, 619_594]
    assert varints(bytes([0x7F, 0x81, 0x00])) == [127, 128]
    assert varints(bytes([0xFF] * 8 + [0x01])) == [(2**56 - 1) << 8 | 1]


def brute_force(
    postings: list[list[int]], documents: int, lengths: dict[int, int], average: float
) -> list[tuple[int, float]]:
    every = max([documents, *(len(p) for p in postings if p)])
    sums: dict[int, float] = {}
    for rowids in postings:
        for rowid in rowids:
            sums[rowid] = sums.get(rowid, 0.0) + idf(every, len(rowids))
    scored = [
        (rowid, s * float(length_factor(np.array([lengths[rowid]], dtype=float), average)[0]))
        for rowid, s in sums.items()
    ]
    return sorted(scored, key=lambda pair: (-pair[1], -pair[0]))


@settings(max_examples=200, deadline=None)
@given(
    documents=st.dictionaries(
        st.integers(1, 400), st.tuples(st.integers(1, 30), st.sets(st.integers(0, 4))), max_size=80
    ),
    n=st.integers(1, 40),
)
def test_ranking_equals_scoring_every_document(
    documents: dict[int, tuple[int, set[int]]], n: int
) -> None:
    postings = [sorted(r for r, (_, terms) in documents.items() if t in terms) for t in range(5)]
    lengths = {rowid: length for rowid, (length, _) in documents.items()}
    average = sum(lengths.values()) / len(lengths) if lengths else 1.0
    read: list[int] = []

    def lengths_of(rowids: np.ndarray) -> np.ndarray:
        read.extend(rowids.tolist())
        return np.array([lengths[r] for r in rowids.tolist()], dtype=np.float64)

    ranking = KeywordRanking(
        [np.array(p, dtype=np.int64) for p in postings], len(documents) + 3, average, lengths_of
    )
    expected = brute_force(postings, len(documents) + 3, lengths, average)[:n]
    got = ranking.best(n)
    assert [r for r, _ in got] == [r for r, _ in expected]
    assert all(math.isclose(a, b) for (_, a), (_, b) in zip(got, expected, strict=True))
    assert len(read) == len(set(read))  # no document's length is read twice


def test_ranking_reads_only_lengths_that_can_reach_the_top() -> None:
    # 10 documents hold the rare term, 5,000 only the common one: the common-only
    # documents cannot outscore the rare ones, so their lengths are never read.
    rare = np.arange(1, 11, dtype=np.int64)
    common = np.arange(1, 5001, dtype=np.int64)
    read: list[int] = []

    def lengths_of(rowids: np.ndarray) -> np.ndarray:
        read.extend(rowids.tolist())
        return np.full(len(rowids), 6.0)

    ranking = KeywordRanking([rare, common], 20_000, 6.0, lengths_of)
    best = ranking.best(5)
    assert [r for r, _ in best] == [10, 9, 8, 7, 6]
    assert len(read) <= 256


@pytest.mark.parametrize("query", ["", "the and of", 'AND OR NOT " * ^ :'])
def test_queries_without_content_words_match_nothing(tmp_path: Path, query: str) -> None:
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        with store.transaction() as tx:
            tx.put_episodes([episode(ALICE, "the and of AND OR NOT")])
        assert store.keyword_search("episode", ALICE, query, 5) == []


def test_owner_document_counts_are_kept_until_another_connection_commits(
    tmp_path: Path,
) -> None:
    with EmbeddedStore(tmp_path / "store", INFO) as store:
        put(store, (ALICE, "harbor at dawn"), (ALICE, "orange sky"), (BOB, "harbor lights"))
        statements: list[str] = []
        store._reader().set_trace_callback(statements.append)

        def counts() -> int:
            return sum("count(*)" in sql for sql in statements)

        contents(store, ALICE, "harbor")
        contents(store, ALICE, "orange harbor")
        assert counts() == 1
        contents(store, BOB, "harbor")  # another owner is counted on its own
        assert counts() == 2
        put(store, *((ALICE, f"harbor walk {i}") for i in range(3)))  # the writer's connection
        assert contents(store, ALICE, "harbor")[:3] == [f"harbor walk {i}" for i in (2, 1, 0)]
        assert counts() == 3
