"""Behaviour of the embedded store's owner-partitioned vector index."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graphmem.errors import InvalidInputError, StoreError
from graphmem.store.embedded.vector_index import VectorIndex
from graphmem.store.embedded.vector_partitions import ExactPartition, HnswPartition

DIM = 32
THRESHOLD = 500


def unit_rows(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    rows = rng.standard_normal((n, dim)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def brute_force(keys: np.ndarray, rows: np.ndarray, query: np.ndarray, k: int) -> list[int]:
    """Keys of the k best rows by cosine, computed in float64 independently of the index."""
    q = query.astype(np.float64) / np.linalg.norm(query)
    scores = rows.astype(np.float64) @ q
    order = np.lexsort((keys, -scores))[:k]
    return [int(key) for key in keys[order]]


def partition_kind(index: VectorIndex, owner: str) -> type:
    # White-box: which search strategy serves an owner is not part of the public API.
    return type(index._partitions[owner])


def assert_matches_brute_force(
    hits: list[tuple[int, float]],
    truth: dict[int, np.ndarray],
    query: np.ndarray,
    k: int,
    tolerance: float = 1e-5,
) -> None:
    """Exact search must return the brute-force top-k (equal scores may swap places).

    ``tolerance`` bounds how far a stored vector may be from the one given: float32
    rounding, or half precision for a partition that went through an HNSW graph.
    """
    keys = np.array(sorted(truth), dtype=np.int64)
    rows = np.stack([truth[int(key)] for key in keys]) if len(keys) else np.empty((0, DIM))
    expected = brute_force(keys, rows, query, k)
    assert len(hits) == len(expected)
    q = query / np.linalg.norm(query)
    true_scores = {int(key): float(truth[int(key)] @ q) for key in keys}
    for (key, score), expected_key in zip(hits, expected, strict=True):
        assert score == pytest.approx(true_scores[key], abs=tolerance)
        assert true_scores[key] == pytest.approx(true_scores[expected_key], abs=2 * tolerance)
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True)


# -- exact search ----------------------------------------------------------------------


def test_small_partitions_return_exact_brute_force_top_k() -> None:
    rng = np.random.default_rng(1)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    data = {owner: unit_rows(rng, n) for owner, n in [("user:a", 300), ("user:b", 40)]}
    offset = 0
    truth: dict[str, dict[int, np.ndarray]] = {}
    for owner, rows in data.items():
        keys = np.arange(offset, offset + len(rows))
        index.add(owner, keys, rows * rng.uniform(0.5, 3.0, (len(rows), 1)))  # unnormalized
        truth[owner] = dict(zip(keys.tolist(), rows, strict=True))
        offset += len(rows)
    for owner in data:
        assert partition_kind(index, owner) is ExactPartition
        for k in (1, 10, 39, 40, 41, 1000):
            query = rng.standard_normal(DIM)
            assert_matches_brute_force(index.search(owner, query, k), truth[owner], query, k)


def test_extreme_magnitudes_are_normalized_without_overflow() -> None:
    rng = np.random.default_rng(15)
    direction = unit_rows(rng, 1)
    index = VectorIndex(DIM)
    index.add("user:a", [1, 2], np.concatenate([direction * 1e30, direction * 1e-40]))
    for key, score in index.search("user:a", direction[0], 2):
        assert key in (1, 2)
        assert score == pytest.approx(1.0, abs=1e-5)


def test_search_edge_cases() -> None:
    rng = np.random.default_rng(2)
    index = VectorIndex(DIM)
    index.add("user:a", [7], unit_rows(rng, 1))
    query = rng.standard_normal(DIM)
    assert index.search("user:nobody", query, 5) == []
    assert index.search("user:a", query, 0) == []
    assert index.search("user:a", query, -3) == []
    assert [key for key, _ in index.search("user:a", query.reshape(1, DIM), 5)] == [7]
    assert index.dim == DIM


# -- HNSW ------------------------------------------------------------------------------


def test_large_partition_uses_hnsw_with_high_recall() -> None:
    rng = np.random.default_rng(3)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    rows = unit_rows(rng, 4000)
    keys = np.arange(10_000, 14_000)
    for start in range(0, 4000, 700):  # grows across the threshold in batches
        index.add("user:big", keys[start : start + 700], rows[start : start + 700])
    index.add("user:small", np.arange(100), unit_rows(rng, 100))
    assert partition_kind(index, "user:big") is HnswPartition
    assert index.count("user:big") == 4000

    found = 0
    for query in unit_rows(rng, 100):
        hits = index.search("user:big", query, 10)
        expected = brute_force(keys, rows, query, 10)
        found += len({key for key, _ in hits} & set(expected))
        assert all(10_000 <= key < 14_000 for key, _ in hits)
        for key, score in hits:  # reported similarity is the true cosine (half precision)
            assert score == pytest.approx(float(rows[key - 10_000] @ query), abs=5e-3)
    assert found / 1000 >= 0.95


def test_hnsw_keeps_full_int64_key_range() -> None:
    rng = np.random.default_rng(4)
    index = VectorIndex(DIM, exact_threshold=50)
    keys = np.array([-(2**63) + 1, -1, 0, 2**63 - 1, *range(1, 97)], dtype=np.int64)
    rows = unit_rows(rng, len(keys))
    index.add("user:a", keys, rows)
    assert partition_kind(index, "user:a") is HnswPartition
    for key, row in zip(keys.tolist(), rows, strict=True):
        assert index.search("user:a", row, 1)[0][0] == key
        assert key in index


# -- owner isolation (property) ---------------------------------------------------------

OWNERS = ["user:a", "user:b", "agent:x"]
_operation = st.one_of(
    st.tuples(
        st.just("add"),
        st.sampled_from(OWNERS),
        st.lists(st.integers(0, 80), min_size=1, max_size=40),
        st.integers(0, 2**31),
    ),
    st.tuples(st.just("remove"), st.lists(st.integers(0, 90), max_size=30)),
    st.tuples(st.just("remove_owner"), st.sampled_from(OWNERS)),
)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(operations=st.lists(_operation, max_size=25), k=st.integers(1, 60), seed=st.integers(0, 99))
def test_searches_stay_inside_their_owner(
    operations: list[tuple[object, ...]], k: int, seed: int
) -> None:
    index = VectorIndex(8, exact_threshold=12)
    model: dict[int, tuple[str, np.ndarray]] = {}
    was_graph: set[str] = set()  # owners whose vectors went through half precision
    for operation in operations:
        if operation[0] == "add":
            _, owner, keys, vector_seed = operation
            assert isinstance(owner, str)
            assert isinstance(keys, list)
            rows = np.random.default_rng(int(str(vector_seed))).standard_normal((len(keys), 8))
            index.add(owner, keys, rows)
            for key, row in zip(keys, rows, strict=True):
                model[key] = (owner, row / np.linalg.norm(row))
            if sum(1 for o, _ in model.values() if o == owner) > 12:
                was_graph.add(owner)
        elif operation[0] == "remove":
            keys = operation[1]
            assert isinstance(keys, list)
            index.remove(keys)
            for key in keys:
                model.pop(key, None)
        else:
            index.remove_owner(str(operation[1]))
            model = {key: value for key, value in model.items() if value[0] != operation[1]}
        was_graph &= {owner for owner, _ in model.values()}  # an emptied owner starts over

    assert len(index) == len(model)
    assert sorted(index.owners()) == sorted({owner for owner, _ in model.values()})
    query = np.random.default_rng(seed).standard_normal(8)
    for owner in OWNERS:
        owned = {key: row for key, (o, row) in model.items() if o == owner}
        assert index.count(owner) == len(owned)
        hits = index.search(owner, query, k)
        assert {key for key, _ in hits} <= set(owned)
        if owner in index.owners() and partition_kind(index, owner) is ExactPartition:
            tolerance = 2e-3 if owner in was_graph else 1e-5
            assert_matches_brute_force(hits, owned, query, k, tolerance)
        else:
            assert len(hits) == min(k, len(owned))
    for key in range(91):
        assert (key in index) == (key in model)


# -- writes ----------------------------------------------------------------------------


def test_upsert_replaces_vector_and_owner() -> None:
    rng = np.random.default_rng(5)
    index = VectorIndex(DIM)
    first, second, third = unit_rows(rng, 3)
    index.add("user:a", [1, 2], np.stack([first, first]))
    index.add("user:a", [1], second.reshape(1, DIM))
    assert index.count("user:a") == 2
    [(key, score)] = index.search("user:a", second, 1)
    assert key == 1
    assert score == pytest.approx(1.0, abs=1e-6)
    assert index.search("user:a", first, 1)[0][0] == 2

    index.add("user:b", [1], third.reshape(1, DIM))  # the key moves owner
    assert index.count("user:a") == 1
    assert index.count("user:b") == 1
    assert [key for key, _ in index.search("user:a", third, 5)] == [2]
    assert len(index) == 2

    index.add("user:c", [9, 9], np.stack([first, third]))  # the last row of a key wins
    assert index.count("user:c") == 1
    assert index.search("user:c", third, 1)[0][1] == pytest.approx(1.0, abs=1e-6)


def test_upsert_in_hnsw_partition_replaces() -> None:
    rng = np.random.default_rng(6)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    rows = unit_rows(rng, 800)
    index.add("user:a", np.arange(800), rows)
    replacement = unit_rows(rng, 1)
    index.add("user:a", [17], replacement)
    assert index.count("user:a") == 800
    assert index.search("user:a", replacement[0], 1)[0][0] == 17
    assert 17 not in {key for key, _ in index.search("user:a", rows[17], 3)}


def test_remove_from_exact_and_hnsw_partitions() -> None:
    rng = np.random.default_rng(7)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    small, big = unit_rows(rng, 200), unit_rows(rng, 1500)
    index.add("user:small", np.arange(200), small)
    index.add("user:big", np.arange(1000, 2500), big)
    index.remove([*range(0, 200, 2), *range(1000, 1100), 99_999])  # 99_999 is unknown
    assert index.count("user:small") == 100
    assert index.count("user:big") == 1400
    assert len(index) == 1500
    assert 0 not in index
    assert 1 in index
    assert 1000 not in index

    truth = {key: small[key] for key in range(1, 200, 2)}
    for query in unit_rows(rng, 5):
        assert_matches_brute_force(index.search("user:small", query, 20), truth, query, 20)
    for key in range(1000, 1100):
        assert all(hit != key for hit, _ in index.search("user:big", big[key - 1000], 5))
    assert index.search("user:big", big[200], 1)[0][0] == 1200


def test_large_removal_compacts_exact_partition() -> None:
    rng = np.random.default_rng(8)
    index = VectorIndex(DIM)
    rows = unit_rows(rng, 400)
    index.add("user:a", np.arange(400), rows)
    index.remove(np.arange(0, 400, 4)[::-1])  # more than a quarter: the bulk path
    index.remove(range(1, 40, 4))  # a few: the swap path
    index.add("user:a", [0, 4], rows[:2])  # writes after compaction keep working
    kept = {key: rows[key] for key in range(400) if key % 4 != 0 and key not in range(1, 40, 4)}
    kept.update({0: rows[0], 4: rows[1]})
    assert index.count("user:a") == len(kept)
    for query in unit_rows(rng, 5):
        assert_matches_brute_force(index.search("user:a", query, 50), kept, query, 50)


def test_hnsw_partition_shrinking_below_threshold_stays_correct() -> None:
    rng = np.random.default_rng(9)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    rows = unit_rows(rng, 1200)
    index.add("user:a", np.arange(1200), rows)
    assert partition_kind(index, "user:a") is HnswPartition

    index.remove(range(0, 900))  # 300 left: under the threshold, above half of it
    assert index.count("user:a") == 300
    query = rng.standard_normal(DIM)
    assert sorted(key for key, _ in index.search("user:a", query, 300)) == list(range(900, 1200))

    index.remove(range(900, 1100))  # 100 left: exact search again
    assert partition_kind(index, "user:a") is ExactPartition
    truth = {key: rows[key] for key in range(1100, 1200)}
    hits = index.search("user:a", query, 10)
    expected = brute_force(np.arange(1100, 1200), rows[1100:], query, 10)
    assert [key for key, _ in hits] == expected or {k for k, _ in hits} == set(expected)
    for key, score in hits:  # vectors went through half precision: compare loosely
        assert score == pytest.approx(float(truth[key] @ (query / np.linalg.norm(query))), abs=5e-3)


def test_remove_owner_forgets_partition() -> None:
    rng = np.random.default_rng(10)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    index.add("user:a", np.arange(600), unit_rows(rng, 600))
    index.add("user:b", np.arange(600, 610), unit_rows(rng, 10))
    index.remove_owner("user:a")
    index.remove_owner("user:unknown")
    assert index.owners() == ["user:b"]
    assert len(index) == 10
    assert 5 not in index
    assert 605 in index
    assert index.search("user:a", rng.standard_normal(DIM), 5) == []
    index.add("user:a", [5], unit_rows(rng, 1))  # the key is free to come back
    assert index.count("user:a") == 1


@pytest.mark.parametrize(
    ("keys", "vectors"),
    [
        ([1, 2], np.ones((3, DIM))),  # count mismatch
        ([1], np.ones((1, DIM + 1))),  # wrong dim
        ([1], np.ones(DIM)),  # not a matrix
        ([1], np.full((1, DIM), np.nan)),
        ([1], np.full((1, DIM), np.inf)),
        ([1], np.zeros((1, DIM))),  # no direction: cosine undefined
        ([1], np.ones((1, DIM), dtype=np.int64)),
        ([1.5], np.ones((1, DIM))),
        ([2**64], np.ones((1, DIM))),
        ([-(2**63)], np.ones((1, DIM))),  # reserved
        ([[1]], np.ones((1, DIM))),
    ],
)
def test_bad_input_is_rejected_and_leaves_index_unchanged(keys: object, vectors: object) -> None:
    index = VectorIndex(DIM)
    index.add("user:a", [1], np.ones((1, DIM)))
    with pytest.raises(InvalidInputError):
        index.add("user:a", keys, vectors)  # type: ignore[arg-type]
    assert len(index) == 1
    assert index.search("user:a", np.ones(DIM), 5)[0][1] == pytest.approx(1.0, abs=1e-6)


def test_bad_owner_query_and_constructor_arguments() -> None:
    index = VectorIndex(DIM)
    with pytest.raises(InvalidInputError):
        index.add("", [1], np.ones((1, DIM)))
    with pytest.raises(InvalidInputError):
        index.search("user:a", np.ones(DIM + 1), 3)
    with pytest.raises(InvalidInputError):
        index.search("user:a", np.zeros(DIM), 3)
    with pytest.raises(InvalidInputError):
        index.search("user:a", np.ones((2, DIM)), 3)
    with pytest.raises(InvalidInputError, match="dim"):
        VectorIndex(0)
    with pytest.raises(InvalidInputError, match="exact_threshold"):
        VectorIndex(DIM, exact_threshold=-1)


# -- snapshots -------------------------------------------------------------------------


def build_mixed_index(seed: int = 11) -> VectorIndex:
    rng = np.random.default_rng(seed)
    index = VectorIndex(DIM, exact_threshold=THRESHOLD)
    index.add("user:big", np.arange(1000), unit_rows(rng, 1000))
    index.add("user:small", np.arange(1000, 1050), unit_rows(rng, 50))
    index.add("agent:ünï", np.arange(2000, 2003), unit_rows(rng, 3))
    index.remove([1, 2, 1001])
    return index


def snapshot_folder(directory: Path) -> Path:
    name = json.loads((directory / "CURRENT").read_text())["snapshot"]
    assert isinstance(name, str)
    return directory / name


def test_save_load_round_trip_preserves_results(tmp_path: Path) -> None:
    index = build_mixed_index()
    index.save(tmp_path, 12345)
    loaded = VectorIndex.load(tmp_path, DIM, exact_threshold=THRESHOLD)
    assert loaded is not None
    copy, applied_seq = loaded
    assert applied_seq == 12345
    assert len(copy) == len(index)
    assert copy.owners() == index.owners()
    queries = unit_rows(np.random.default_rng(12), 10)
    for owner in index.owners():
        assert copy.count(owner) == index.count(owner)
        for query in queries:
            assert copy.search(owner, query, 10) == index.search(owner, query, 10)
    assert 1 not in copy
    assert 3 in copy

    copy.add("user:small", [1000], queries[:1])  # a loaded index is fully writable
    copy.remove([1002])
    assert copy.search("user:small", queries[0], 1)[0][0] == 1000
    assert copy.count("user:small") == 48
    copy.add("user:big", [5000], queries[1:2])
    copy.remove([3])
    assert copy.search("user:big", queries[1], 1)[0][0] == 5000
    assert copy.count("user:big") == 998


def test_loaded_index_survives_its_snapshot_being_replaced(tmp_path: Path) -> None:
    build_mixed_index().save(tmp_path, 1)
    loaded = VectorIndex.load(tmp_path, DIM, exact_threshold=THRESHOLD)
    assert loaded is not None
    index = loaded[0]
    queries = unit_rows(np.random.default_rng(14), 5)
    before = {owner: [index.search(owner, q, 10) for q in queries] for owner in index.owners()}

    opened_from = snapshot_folder(tmp_path)
    index.save(tmp_path, 2)  # deletes the files the loaded index was opened from
    after = {owner: [index.search(owner, q, 10) for q in queries] for owner in index.owners()}
    assert after == before
    maps = Path("/proc/self/maps")
    if maps.exists():  # the deleted files are no longer mapped, so their space is freed
        assert str(opened_from) not in maps.read_text()
    reloaded = VectorIndex.load(tmp_path, DIM, exact_threshold=THRESHOLD)
    assert reloaded is not None
    assert reloaded[1] == 2
    for owner, results in before.items():
        assert [reloaded[0].search(owner, q, 10) for q in queries] == results


def test_a_saved_index_is_served_from_its_snapshot_and_stays_writable(tmp_path: Path) -> None:
    # After a save the vectors live once, in the mapped snapshot (the OS page cache),
    # not a second time in private memory; writes then copy only what they change.
    index, twin = build_mixed_index(), build_mixed_index()
    index.save(tmp_path, 1)
    assert all(partition.borrowed for partition in index._partitions.values())
    maps = Path("/proc/self/maps")
    if maps.exists():
        assert str(snapshot_folder(tmp_path)) in maps.read_text()
    queries = unit_rows(np.random.default_rng(15), 5)
    for owner in twin.owners():
        for query in queries:
            assert index.search(owner, query, 10) == twin.search(owner, query, 10)

    for changed in (index, twin):
        changed.add("user:small", [7000], queries[:1])
        changed.add("user:big", [7001], queries[1:2])
        changed.remove([3, 1002])
    assert not index._partitions["user:small"].borrowed
    assert index._partitions["agent:ünï"].borrowed  # untouched: still mapped
    for owner in twin.owners():
        assert index.count(owner) == twin.count(owner)
        for query in queries:
            assert index.search(owner, query, 10) == twin.search(owner, query, 10)


def test_a_snapshot_written_owner_by_owner_loads_as_the_index_of_those_vectors(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(16)
    data = {
        "user:big": (np.arange(1000), unit_rows(rng, 1000)),  # over THRESHOLD: a graph
        "agent:ünï": (np.arange(2000, 2003), unit_rows(rng, 3)),
        "user:small": (np.arange(1000, 1050), unit_rows(rng, 50) * 3.0),  # unnormalized
    }
    built = VectorIndex(DIM, exact_threshold=THRESHOLD)
    for owner, (keys, rows) in data.items():
        built.add(owner, keys, rows)

    def groups() -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        for owner, (keys, rows) in data.items():
            yield owner, keys, rows

    counts = {owner: len(keys) for owner, (keys, _) in data.items()}
    VectorIndex.write_snapshot_of(tmp_path, DIM, 7, counts, groups(), exact_threshold=THRESHOLD)
    loaded = VectorIndex.load(tmp_path, DIM, exact_threshold=THRESHOLD)
    assert loaded is not None
    index, applied_seq = loaded
    assert applied_seq == 7
    assert index.owners() == built.owners()
    assert partition_kind(index, "user:big") is HnswPartition
    assert partition_kind(index, "user:small") is ExactPartition
    for query in unit_rows(rng, 5):
        for owner in ("agent:ünï", "user:small"):
            assert index.search(owner, query, 10) == built.search(owner, query, 10)
        keys, rows = data["user:big"]
        truth = dict(zip(keys.tolist(), rows, strict=True))
        assert_matches_brute_force(index.search("user:big", query, 5), truth, query, 5, 2e-3)


def test_a_failed_owner_by_owner_snapshot_leaves_the_live_one(tmp_path: Path) -> None:
    build_mixed_index().save(tmp_path, 1)
    rng = np.random.default_rng(17)
    bad = unit_rows(rng, 4)
    bad[2] = np.nan

    def groups(rows: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        yield "user:a", np.arange(4), unit_rows(rng, 4)
        yield "user:b", np.arange(4, 8), rows

    counts = {"user:a": 4, "user:b": 4}
    with pytest.raises(InvalidInputError, match="NaN"):
        VectorIndex.write_snapshot_of(tmp_path, DIM, 2, counts, groups(bad))
    good = unit_rows(rng, 4)
    with pytest.raises(StoreError, match="do not match"):  # counts that lie
        VectorIndex.write_snapshot_of(tmp_path, DIM, 2, {"user:a": 4, "user:b": 5}, groups(good))
    with pytest.raises(InvalidInputError, match="4 keys for 3 vectors"):
        VectorIndex.write_snapshot_of(tmp_path, DIM, 2, counts, groups(good[:3]))
    loaded = VectorIndex.load(tmp_path, DIM, exact_threshold=THRESHOLD)
    assert loaded is not None
    assert loaded[1] == 1
    assert loaded[0].owners() == build_mixed_index().owners()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".partial-")] == []


def test_second_save_replaces_the_first(tmp_path: Path) -> None:
    index = build_mixed_index()
    index.save(tmp_path, 1)
    index.remove_owner("user:big")
    index.save(tmp_path, 2)
    loaded = VectorIndex.load(tmp_path, DIM)
    assert loaded is not None
    assert loaded[1] == 2
    assert loaded[0].owners() == ["agent:ünï", "user:small"]
    assert len([p for p in tmp_path.iterdir() if p.name.startswith("snapshot-")]) == 1


def test_empty_index_round_trips(tmp_path: Path) -> None:
    VectorIndex(DIM).save(tmp_path / "new" / "dir", 0)
    loaded = VectorIndex.load(tmp_path / "new" / "dir", DIM)
    assert loaded is not None
    assert len(loaded[0]) == 0
    assert loaded[1] == 0


def test_load_without_snapshot_returns_none(tmp_path: Path) -> None:
    assert VectorIndex.load(tmp_path / "missing", DIM) is None
    assert VectorIndex.load(tmp_path, DIM) is None


def test_load_with_other_dim_returns_none(tmp_path: Path) -> None:
    build_mixed_index().save(tmp_path, 1)
    assert VectorIndex.load(tmp_path, DIM + 1) is None


@pytest.mark.parametrize("victim", ["exact.npy", "keys.npy", "graph-0.usearch", "manifest.json"])
def test_load_of_truncated_file_returns_none(tmp_path: Path, victim: str) -> None:
    build_mixed_index().save(tmp_path, 1)
    path = snapshot_folder(tmp_path) / victim
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    assert VectorIndex.load(tmp_path, DIM) is None


@pytest.mark.parametrize("victim", ["exact.npy", "keys.npy", "graph-0.usearch", "manifest.json"])
def test_load_of_corrupted_file_returns_none(tmp_path: Path, victim: str) -> None:
    build_mixed_index().save(tmp_path, 1)
    path = snapshot_folder(tmp_path) / victim
    data = bytearray(path.read_bytes())
    data[len(data) * 3 // 4] ^= 0x40  # one flipped bit, size unchanged
    path.write_bytes(bytes(data))
    assert VectorIndex.load(tmp_path, DIM) is None


@pytest.mark.parametrize(
    "pointer",
    [b"", b"{not json", b"[]", b'{"format": 1}', b'{"format": 1, "snapshot": "../../etc"}'],
)
def test_load_with_bad_pointer_returns_none(tmp_path: Path, pointer: bytes) -> None:
    build_mixed_index().save(tmp_path, 1)
    (tmp_path / "CURRENT").write_bytes(pointer)
    assert VectorIndex.load(tmp_path, DIM) is None


def test_load_with_missing_snapshot_folder_returns_none(tmp_path: Path) -> None:
    build_mixed_index().save(tmp_path, 1)
    shutil.rmtree(snapshot_folder(tmp_path))
    assert VectorIndex.load(tmp_path, DIM) is None


def test_interrupted_save_leaves_previous_snapshot_loadable(tmp_path: Path) -> None:
    index = build_mixed_index()
    index.save(tmp_path, 7)
    old = snapshot_folder(tmp_path)

    # A save killed while writing files: a partial staging folder, pointer untouched.
    partial = tmp_path / ".partial-0123456789abcdef0123456789abcdef"
    partial.mkdir()
    (partial / "exact.npy").write_bytes((old / "exact.npy").read_bytes()[:100])
    # A save killed after publishing its folder but before switching the pointer.
    shutil.copytree(old, tmp_path / "snapshot-fedcba9876543210fedcba9876543210")
    (tmp_path / ".CURRENT.fedcba9876543210fedcba9876543210").write_bytes(b'{"half')

    loaded = VectorIndex.load(tmp_path, DIM, exact_threshold=THRESHOLD)
    assert loaded is not None
    assert loaded[1] == 7
    query = unit_rows(np.random.default_rng(13), 1)[0]
    assert loaded[0].search("user:big", query, 5) == index.search("user:big", query, 5)

    index.save(tmp_path, 8)  # the next save clears the leftovers
    names = {path.name for path in tmp_path.iterdir()}
    assert names == {"CURRENT", ".lock", snapshot_folder(tmp_path).name}


def test_save_into_unusable_path_raises_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    with pytest.raises(StoreError, match="could not write vector snapshot"):
        build_mixed_index().save(blocker, 4)
