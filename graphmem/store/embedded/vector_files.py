"""Checksummed, fsynced file I/O for vector snapshots.

Writers return the size and crc32 of what reached the disk; readers check both before
handing bytes back, so a truncated or bit-rotted file is reported as a ValueError
instead of being parsed.
"""

from __future__ import annotations

import io
import mmap
import os
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

_CHUNK = 1 << 24
_MAX_NPY_HEADER = 65_536 + 10


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


def write_npy(
    path: Path, dtype: np.dtype[Any], shape: tuple[int, ...], chunks: Iterable[np.ndarray]
) -> dict[str, int]:
    """Stream ``chunks`` into one fsynced .npy of ``shape``; return its bytes and crc32.

    Streaming avoids concatenating every partition into one array in memory. Raises
    ValueError if the chunks do not add up to ``shape``.
    """
    with open(path, "wb") as handle:
        writer = _CrcWriter(handle)
        header = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": shape,
        }
        np.lib.format.write_array_header_1_0(writer, header)
        start = writer.size
        for chunk in chunks:
            writer.write(np.ascontiguousarray(chunk, dtype=dtype).data)
        if writer.size - start != int(np.prod(shape)) * dtype.itemsize:
            raise ValueError(f"{path.name}: the rows written do not match the shape {shape}")
        handle.flush()
        os.fsync(handle.fileno())
    return {"bytes": writer.size, "crc32": writer.crc}


def seal_file(path: Path) -> dict[str, int]:
    """fsync a file written by someone else; return its bytes and crc32."""
    crc = size = 0
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            crc = zlib.crc32(block, crc)
            size += len(block)
        os.fsync(handle.fileno())
    return {"bytes": size, "crc32": crc}


def write_small(path: Path, data: bytes) -> None:
    """Write and fsync a small file."""
    with open(path, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    """Make renames and new entries in a directory durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def map_checked(path: Path, size: int, crc: int, *, verify: bool = True) -> mmap.mmap:
    """Map a file read-only after checking it has exactly ``size`` bytes and ``crc``.

    ``verify=False`` skips the checksum (one full read) for files this process has
    just written and fsynced.

    Mapping instead of reading keeps opening fast and costs no private memory: the pages
    come from the OS cache, and the file is never changed in place (only replaced).
    The checksum is computed from reads, not through the mapping, so only the pages a
    search touches become resident in this process.
    """
    with open(path, "rb") as handle:
        _check(handle, path, size, crc if verify else None)
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def _check(handle: io.BufferedReader, path: Path, size: int, crc: int | None) -> None:
    if os.fstat(handle.fileno()).st_size != size or size == 0:
        raise ValueError(f"{path.name} has the wrong size (truncated?)")
    if crc is not None and _crc_of(handle) != crc:
        raise ValueError(f"{path.name} checksum mismatch")


def _crc_of(handle: io.BufferedReader) -> int:
    crc = 0
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    while read := handle.readinto(view):
        crc = zlib.crc32(view[:read], crc)
    return crc


def npy_segments(
    mapped: mmap.mmap,
    name: str,
    dtype: np.dtype[Any],
    row_shape: tuple[int, ...],
    segments: list[int],
) -> list[np.ndarray]:
    """Read-only views of a mapped .npy as consecutive blocks of ``segments[i]`` rows."""
    header = io.BytesIO(mapped[: min(len(mapped), _MAX_NPY_HEADER)])
    if np.lib.format.read_magic(header) != (1, 0):
        raise ValueError(f"{name} is not a version 1.0 .npy file")
    shape, fortran, stored = np.lib.format.read_array_header_1_0(header)
    if stored != dtype or fortran or tuple(shape) != (sum(segments), *row_shape):
        raise ValueError(f"{name} holds {stored} {shape}, not what was expected")
    offset = header.tell()
    row_items = int(np.prod(row_shape))
    if offset + sum(segments) * row_items * dtype.itemsize != len(mapped):
        raise ValueError(f"{name} size does not match its shape")
    views: list[np.ndarray] = []
    for rows in segments:
        flat = np.frombuffer(mapped, dtype=dtype, count=rows * row_items, offset=offset)
        views.append(flat.reshape((rows, *row_shape)))
        offset += rows * row_items * dtype.itemsize
    return views


def checksum_file(path: Path, size: int, crc: int) -> None:
    """Raise ValueError unless a file has exactly ``size`` bytes and ``crc``."""
    with open(path, "rb") as handle:
        _check(handle, path, size, crc)
