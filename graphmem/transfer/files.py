"""Opening export files: plain ``.jsonl`` or gzip-compressed ``.jsonl.gz``."""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import IO, Literal, cast

from graphmem.errors import InvalidInputError


def open_text(path: Path, mode: Literal["r", "w"]) -> IO[str]:
    """A UTF-8 text handle on ``path``; names ending in ``.gz`` are (de)compressed."""
    try:
        if path.suffix == ".gz":
            return cast(IO[str], gzip.open(path, mode + "t", encoding="utf-8", newline="\n"))
        return path.open(mode, encoding="utf-8", newline="\n")
    except OSError as exc:
        verb = "read" if mode == "r" else "write"
        raise InvalidInputError(f"cannot {verb} {path}: {exc.strerror or exc}") from None


def first_line(path: Path) -> str:
    """The first line of a text file (empty for an empty file)."""
    with open_text(path, "r") as handle:
        try:
            return handle.readline()
        except (UnicodeDecodeError, OSError, EOFError):
            return ""
