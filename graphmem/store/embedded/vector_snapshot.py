"""Crash-safe snapshot files of a :class:`VectorIndex`.

Layout of a snapshot directory::

    CURRENT                      pointer: which snapshot is live + checksum of its manifest
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

import json
import logging
import os
import re
import shutil
import uuid
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, BinaryIO

import numpy as np

from graphmem.store.embedded.vector_partitions import (
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
_SNAPSHOT_NAME = re.compile(r"snapshot-[0-9a-f]{32}")
_GARBAGE_PREFIXES = ("snapshot-", ".partial-", f".{POINTER}.")
_CHUNK = 1 << 24
_LOAD_ERRORS = (OSError, ValueError, KeyError, TypeError, RuntimeError, OverflowError)
"""What damaged files can raise while loading (json and npy header errors are ValueErrors)."""

AnyPartition = ExactPartition | HnswPartition


@dataclass(frozen=True)
class LoadedSnapshot:
    """The partitions and log position read back from disk."""

    applied_seq: int
    partitions: dict[str, AnyPartition]


# -- saving ----------------------------------------------------------------------------


def write_snapshot(
    directory: Path, dim: int, applied_seq: int, partitions: Mapping[str, AnyPartition]
) -> None:
    """Write a new snapshot of ``partitions`` and make it the live one (see module doc)."""
    directory.mkdir(parents=True, exist_ok=True)
    snapshot_id = uuid.uuid4().hex
    staging = directory / f".partial-{snapshot_id}"
    staging.mkdir()
    exact = [(owner, p) for owner, p in partitions.items() if isinstance(p, ExactPartition)]
    graphs = [(owner, p) for owner, p in partitions.items() if isinstance(p, HnswPartition)]
    files: dict[str, dict[str, int]] = {}
    table: list[dict[str, Any]] = []

    ordered: list[tuple[str, AnyPartition]] = [*exact, *graphs]
    files[KEYS_FILE] = _write_npy(
        staging / KEYS_FILE,
        np.dtype(np.int64),
        (sum(p.count for _, p in ordered),),
        (p.keys() for _, p in ordered),
    )
    files[EXACT_FILE] = _write_npy(
        staging / EXACT_FILE,
        np.dtype(np.float32),
        (sum(p.count for _, p in exact), dim),
        (p.vectors() for _, p in exact),
    )
    table.extend({"owner": owner, "kind": "exact", "count": p.count} for owner, p in exact)
    for number, (owner, graph) in enumerate(graphs):
        name = f"graph-{number}.usearch"
        graph.save(staging / name)
        files[name] = _seal_existing(staging / name)
        table.append({"owner": owner, "kind": "hnsw", "count": graph.count, "file": name})

    manifest = {
        "format": FORMAT,
        "dim": dim,
        "applied_seq": applied_seq,
        "partitions": table,
        "files": files,
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=True).encode()
    _write_small(staging / MANIFEST, manifest_bytes)
    _fsync_dir(staging)

    live_name = f"snapshot-{snapshot_id}"
    os.rename(staging, directory / live_name)
    _fsync_dir(directory)
    pointer = {
        "format": FORMAT,
        "snapshot": live_name,
        "manifest_bytes": len(manifest_bytes),
        "manifest_crc32": zlib.crc32(manifest_bytes),
    }
    pointer_tmp = directory / f".{POINTER}.{snapshot_id}"
    _write_small(pointer_tmp, json.dumps(pointer).encode())
    os.replace(pointer_tmp, directory / POINTER)
    _fsync_dir(directory)
    _delete_all_but(directory, live_name)


class _CrcWriter:
    """A file handle that tracks the crc32 and length of what passes through it."""

    def __init__(self, handle: BinaryIO) -> None:
        self.handle = handle
        self.crc = 0
        self.size = 0

    def write(self, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        self.crc = zlib.crc32(view, self.crc)
        self.size += len(view)
        return self.handle.write(view)


def _write_npy(
    path: Path, dtype: np.dtype[Any], shape: tuple[int, ...], chunks: Iterator[np.ndarray]
) -> dict[str, int]:
    # Streams partition arrays straight into one .npy: no concatenated copy in memory.
    with open(path, "wb") as handle:
        writer = _CrcWriter(handle)
        header = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": shape,
        }
        np.lib.format.write_array_header_1_0(writer, header)
        for chunk in chunks:
            writer.write(np.ascontiguousarray(chunk, dtype=dtype).data)
        handle.flush()
        os.fsync(handle.fileno())
    return {"bytes": writer.size, "crc32": writer.crc}


def _seal_existing(path: Path) -> dict[str, int]:
    with open(path, "rb") as handle:
        crc, size = _crc_of_stream(handle)
        os.fsync(handle.fileno())
    return {"bytes": size, "crc32": crc}


def _crc_of_stream(handle: IO[bytes]) -> tuple[int, int]:
    crc = size = 0
    while block := handle.read(_CHUNK):
        crc = zlib.crc32(block, crc)
        size += len(block)
    return crc, size


def _write_small(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


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


def read_snapshot(directory: Path, dim: int) -> LoadedSnapshot | None:
    """Read the live snapshot, or None if there is none, it is damaged or of another dim."""
    try:
        pointer_bytes = (directory / POINTER).read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        logger.warning("vector snapshot pointer in %s unreadable: %s", directory, exc)
        return None
    try:
        return _read(directory, pointer_bytes, dim)
    except _LOAD_ERRORS as exc:
        logger.warning("vector snapshot in %s ignored: %s", directory, exc)
        return None


def _read(directory: Path, pointer_bytes: bytes, dim: int) -> LoadedSnapshot | None:
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
    (all_keys,) = _read_npy(folder / KEYS_FILE, files, np.dtype(np.int64), (), [sum(counts)])
    exact_rows = [row for row in table if _field(row, "kind", str) == "exact"]
    exact_vectors = _read_npy(
        folder / EXACT_FILE,
        files,
        np.dtype(np.float32),
        (dim,),
        [_field(row, "count", int) for row in exact_rows],
    )

    partitions: dict[str, AnyPartition] = {}
    offset = 0
    exact_iter = iter(exact_vectors)
    for row, count in zip(table, counts, strict=True):
        owner, kind = _field(row, "owner", str), _field(row, "kind", str)
        keys = all_keys[offset : offset + count].copy()
        offset += count
        if kind == "exact":
            partitions[owner] = ExactPartition(dim, keys, next(exact_iter))
        elif kind == "hnsw":
            partitions[owner] = _read_graph(folder, files, _field(row, "file", str), dim, keys)
        else:
            raise ValueError(f"unknown partition kind {kind!r}")
    if len(partitions) != len(table):
        raise ValueError("an owner appears twice")
    return LoadedSnapshot(_field(manifest, "applied_seq", int), partitions)


def _read_npy(
    path: Path,
    files: dict[str, Any],
    dtype: np.dtype[Any],
    row_shape: tuple[int, ...],
    segments: list[int],
) -> list[np.ndarray]:
    """Read a .npy file as consecutive row segments, each into its own array."""
    expected_size, expected_crc = _file_facts(files, path.name)
    with open(path, "rb") as handle:
        if os.fstat(handle.fileno()).st_size != expected_size:
            raise ValueError(f"{path.name} has the wrong size (truncated?)")
        if np.lib.format.read_magic(handle) != (1, 0):
            raise ValueError(f"{path.name} is not a version 1.0 .npy file")
        shape, fortran, stored = np.lib.format.read_array_header_1_0(handle)
        if stored != dtype or fortran or tuple(shape) != (sum(segments), *row_shape):
            raise ValueError(f"{path.name} holds {stored} {shape}, not what the manifest says")
        header_size = handle.tell()
        if header_size + sum(segments) * int(np.prod(row_shape)) * dtype.itemsize != (
            expected_size
        ):
            raise ValueError(f"{path.name} size does not match its shape")
        handle.seek(0)
        crc = zlib.crc32(handle.read(header_size))
        arrays: list[np.ndarray] = []
        for rows in segments:
            array = np.empty((rows, *row_shape), dtype=dtype)
            view = array.data.cast("B")
            if handle.readinto(view) != len(view):
                raise ValueError(f"{path.name} ended early")
            crc = zlib.crc32(view, crc)
            arrays.append(array)
    if crc != expected_crc:
        raise ValueError(f"{path.name} checksum mismatch")
    return arrays


def _read_graph(
    folder: Path, files: dict[str, Any], name: str, dim: int, keys: KeyArray
) -> HnswPartition:
    if "/" in name or name.startswith("."):
        raise ValueError(f"bad graph file name {name!r}")
    expected_size, expected_crc = _file_facts(files, name)
    buffer = bytearray(expected_size)
    with open(folder / name, "rb") as handle:
        if os.fstat(handle.fileno()).st_size != expected_size:
            raise ValueError(f"{name} has the wrong size (truncated?)")
        if handle.readinto(buffer) != expected_size:
            raise ValueError(f"{name} ended early")
    # The checksum must pass before usearch parses a byte: it trusts its input.
    if zlib.crc32(buffer) != expected_crc:
        raise ValueError(f"{name} checksum mismatch")
    graph = HnswPartition.from_buffer(dim, buffer)
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
