"""Crash-safe snapshot files of a :class:`VectorIndex`.

Layout of a snapshot directory::

    CURRENT                      pointer: which snapshot is live + checksum of its manifest
    .lock                        serializes saves from several processes (flock)
    snapshot-<id>/manifest.json  dim, applied_seq, partition table, size + crc32 of each file
    snapshot-<id>/keys.npy       int64 keys of every partition, in manifest order
    snapshot-<id>/exact.npy      float32 rows of the exact partitions, in manifest order
    snapshot-<id>/graph-N.usearch  one usearch HNSW file per large partition

A save writes a complete new ``snapshot-<id>`` (under a temporary name, every file and
directory fsynced), then replaces ``CURRENT`` atomically, then deletes older snapshots.
A process killed at any point leaves ``CURRENT`` naming a complete snapshot (or no
``CURRENT`` at all before the first save). Loading checks sizes and checksums before
trusting a byte, so a damaged snapshot reads as "no snapshot" and the store rebuilds.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import logging
import os
import re
import shutil
import uuid
import zlib
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from graphmem.errors import InvalidInputError, StoreError
from graphmem.store.embedded.vector_files import (
    checksum_file,
    fsync_dir,
    map_checked,
    npy_segments,
    seal_file,
    write_npy,
    write_small,
)
from graphmem.store.embedded.vector_partitions import (
    AnyPartition,
    ExactPartition,
    HnswPartition,
    KeyArray,
)

logger = logging.getLogger(__name__)

FORMAT = 1
POINTER = "CURRENT"
MANIFEST = "manifest.json"
KEYS_FILE = "keys.npy"
EXACT_FILE = "exact.npy"
LOCK_FILE = ".lock"
_SNAPSHOT_NAME = re.compile(r"snapshot-[0-9a-f]{32}")
_GARBAGE_PREFIXES = ("snapshot-", ".partial-", f".{POINTER}.")
_LOAD_ATTEMPTS = 3
_LOAD_ERRORS = (OSError, ValueError, LookupError, TypeError, RuntimeError, OverflowError)
"""What damaged files can raise while loading (json and npy header errors are ValueErrors)."""


@dataclass(frozen=True)
class LoadedSnapshot:
    """The partitions and log position read back from disk."""

    applied_seq: int
    partitions: dict[str, AnyPartition]


# -- saving ----------------------------------------------------------------------------


def write_snapshot(
    directory: Path, dim: int, applied_seq: int, partitions: Mapping[str, AnyPartition]
) -> None:
    """Write a new snapshot of ``partitions`` and make it the live one (see module doc).

    Raises :class:`~graphmem.errors.StoreError` if the files cannot be written; the
    previous snapshot then stays live.
    """
    exact_rows = sum(p.count for p in partitions.values() if isinstance(p, ExactPartition))
    write_partitions(directory, dim, applied_seq, exact_rows, partitions.items())


def write_partitions(
    directory: Path,
    dim: int,
    applied_seq: int,
    exact_rows: int,
    partitions: Iterable[tuple[str, AnyPartition]],
) -> None:
    """:func:`write_snapshot` for partitions that may be produced one at a time (a
    generator): each is written as it comes, so only one needs to be in memory.

    ``exact_rows`` is the total count of the exact partitions, which the file header
    needs up front; a different total is a StoreError and nothing is published.
    """
    snapshot_id = uuid.uuid4().hex
    staging = directory / f".partial-{snapshot_id}"
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with _save_lock(directory):
            staging.mkdir()
            manifest_bytes = _write_files(staging, dim, applied_seq, exact_rows, partitions)
            _publish(directory, staging, snapshot_id, manifest_bytes)
    except BaseException as exc:  # a failing generator must not leave a partial snapshot
        shutil.rmtree(staging, ignore_errors=True)
        # usearch reports failed writes as RuntimeError; a wrong row total is a ValueError.
        failed_write = isinstance(exc, OSError | RuntimeError | ValueError)
        if failed_write and not isinstance(exc, InvalidInputError):
            raise StoreError(f"could not write vector snapshot in {directory}: {exc}") from exc
        raise


@contextmanager
def _save_lock(directory: Path) -> Iterator[None]:
    # Two processes saving into one directory must not delete each other's new files.
    with open(directory / LOCK_FILE, "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _write_files(
    staging: Path,
    dim: int,
    applied_seq: int,
    exact_rows: int,
    partitions: Iterable[tuple[str, AnyPartition]],
) -> bytes:
    """Write and fsync every file of a snapshot; return the manifest's bytes."""
    table: list[dict[str, Any]] = []
    keys: list[KeyArray] = []
    files: dict[str, dict[str, int]] = {}
    graph_numbers = itertools.count()

    def exact_vectors() -> Iterator[np.ndarray]:
        # Exact rows stream into one file; each graph gets its own file on the way.
        for owner, partition in partitions:
            keys.append(partition.keys())
            row: dict[str, Any] = {"owner": owner, "count": partition.count}
            if isinstance(partition, ExactPartition):
                row["kind"] = "exact"
                yield partition.vectors()
            else:
                name = f"graph-{next(graph_numbers)}.usearch"
                partition.save(staging / name)
                files[name] = seal_file(staging / name)
                row.update(kind="hnsw", file=name)
            table.append(row)

    files[EXACT_FILE] = write_npy(
        staging / EXACT_FILE, np.dtype(np.float32), (exact_rows, dim), exact_vectors()
    )
    files[KEYS_FILE] = write_npy(
        staging / KEYS_FILE, np.dtype(np.int64), (sum(len(k) for k in keys),), keys
    )
    manifest = {
        "format": FORMAT,
        "dim": dim,
        "applied_seq": applied_seq,
        "partitions": table,
        "files": files,
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=True).encode()
    write_small(staging / MANIFEST, manifest_bytes)
    fsync_dir(staging)
    return manifest_bytes


def _publish(directory: Path, staging: Path, snapshot_id: str, manifest_bytes: bytes) -> None:
    """Make a fully written snapshot live, then delete the ones it replaces."""
    live_name = f"snapshot-{snapshot_id}"
    os.rename(staging, directory / live_name)
    fsync_dir(directory)
    pointer = {
        "format": FORMAT,
        "snapshot": live_name,
        "manifest_bytes": len(manifest_bytes),
        "manifest_crc32": zlib.crc32(manifest_bytes),
    }
    pointer_tmp = directory / f".{POINTER}.{snapshot_id}"
    write_small(pointer_tmp, json.dumps(pointer).encode())
    os.replace(pointer_tmp, directory / POINTER)  # the commit point
    fsync_dir(directory)
    _delete_all_but(directory, live_name)


def _delete_all_but(directory: Path, live_name: str) -> None:
    for entry in directory.iterdir():
        if entry.name == live_name or not entry.name.startswith(_GARBAGE_PREFIXES):
            continue
        try:
            if entry.is_dir():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        except OSError as exc:  # a leftover only costs disk space; the next save retries
            logger.warning("could not delete old vector snapshot %s: %s", entry, exc)


# -- loading ---------------------------------------------------------------------------


def read_snapshot(directory: Path, dim: int, *, verify: bool = True) -> LoadedSnapshot | None:
    """Read the live snapshot, or None if there is none, it is damaged or of another dim.

    ``verify=False`` trusts the data files' checksums (sizes and the manifest are still
    checked): for re-opening a snapshot this process has just written.
    """
    for _ in range(_LOAD_ATTEMPTS):
        pointer_bytes = _read_pointer(directory)
        if pointer_bytes is None:
            return None
        try:
            return _read(directory, pointer_bytes, dim, verify)
        except _LOAD_ERRORS as exc:
            if _read_pointer(directory) == pointer_bytes:
                logger.warning("vector snapshot in %s ignored: %s", directory, exc)
                return None
            # A concurrent save switched snapshots and deleted the one being read.
    return None


def _read_pointer(directory: Path) -> bytes | None:
    try:
        return (directory / POINTER).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("vector snapshot pointer in %s unreadable: %s", directory, exc)
        return None


def _read(directory: Path, pointer_bytes: bytes, dim: int, verify: bool) -> LoadedSnapshot | None:
    pointer = _json_object(pointer_bytes)
    name = _field(pointer, "snapshot", str)
    if _field(pointer, "format", int) != FORMAT or not _SNAPSHOT_NAME.fullmatch(name):
        raise ValueError("unknown pointer format")
    folder = directory / name
    manifest_bytes = (folder / MANIFEST).read_bytes()
    if len(manifest_bytes) != _field(pointer, "manifest_bytes", int) or zlib.crc32(
        manifest_bytes
    ) != _field(pointer, "manifest_crc32", int):
        raise ValueError("manifest checksum mismatch")
    manifest = _json_object(manifest_bytes)
    if _field(manifest, "format", int) != FORMAT:
        raise ValueError("unknown manifest format")
    if _field(manifest, "dim", int) != dim:
        logger.info("vector snapshot in %s has another dimension; ignored", directory)
        return None
    files = _field(manifest, "files", dict)
    table = [_json_dict(row) for row in _field(manifest, "partitions", list)]

    counts = [_field(row, "count", int) for row in table]
    if any(count <= 0 for count in counts):
        raise ValueError("partition with no vectors")
    keys_file = map_checked(folder / KEYS_FILE, *_file_facts(files, KEYS_FILE), verify=verify)
    (all_keys,) = npy_segments(keys_file, KEYS_FILE, np.dtype(np.int64), (), [sum(counts)])
    exact_rows = [row for row in table if _field(row, "kind", str) == "exact"]
    exact_vectors = npy_segments(
        map_checked(folder / EXACT_FILE, *_file_facts(files, EXACT_FILE), verify=verify),
        EXACT_FILE,
        np.dtype(np.float32),
        (dim,),
        [_field(row, "count", int) for row in exact_rows],
    )

    partitions: dict[str, AnyPartition] = {}
    offset = 0
    exact_iter = iter(exact_vectors)
    for row, count in zip(table, counts, strict=True):
        owner, kind = _field(row, "owner", str), _field(row, "kind", str)
        keys = all_keys[offset : offset + count]
        offset += count
        if kind == "exact":
            partitions[owner] = ExactPartition(dim, keys, next(exact_iter))
        elif kind == "hnsw":
            name = _field(row, "file", str)
            partitions[owner] = _read_graph(folder, files, name, dim, keys, verify)
        else:
            raise ValueError(f"unknown partition kind {kind!r}")
    if len(partitions) != len(table):
        raise ValueError("an owner appears twice")
    return LoadedSnapshot(_field(manifest, "applied_seq", int), partitions)


def _read_graph(
    folder: Path, files: dict[str, Any], name: str, dim: int, keys: KeyArray, verify: bool
) -> HnswPartition:
    if "/" in name or name.startswith("."):
        raise ValueError(f"bad graph file name {name!r}")
    size, crc = _file_facts(files, name)
    if verify:  # the checksum must pass before usearch parses a byte: it trusts its input
        checksum_file(folder / name, size, crc)
    elif (folder / name).stat().st_size != size:
        raise ValueError(f"{name} has the wrong size")
    graph = HnswPartition.from_file(dim, folder / name)
    if graph.count != len(keys):
        raise ValueError(f"{name} holds {graph.count} vectors, manifest says {len(keys)}")
    return graph


def _file_facts(files: dict[str, Any], name: str) -> tuple[int, int]:
    facts = _json_dict(files[name])
    return _field(facts, "bytes", int), _field(facts, "crc32", int)


def _json_object(data: bytes) -> dict[str, Any]:
    return _json_dict(json.loads(data.decode()))


def _json_dict(value: object) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


def _field(obj: dict[str, Any], name: str, kind: type[Any]) -> Any:
    value = obj[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ValueError(f"field {name!r} is not a {kind.__name__}")
    return value
