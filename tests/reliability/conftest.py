"""Fixtures of the reliability tests: one writer pool for every multi-process test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .crash_kit import WriterPool


@pytest.fixture(scope="session")
def writer_pool() -> Iterator[WriterPool]:
    """A process holding the model that forks writer processes on demand (see crash_worker)."""
    with WriterPool() as pool:
        yield pool
