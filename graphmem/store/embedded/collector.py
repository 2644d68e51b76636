"""Keeping Python's cyclic garbage collector away from the edge cache's objects.

Caching an owner builds two tracked objects per fact (the edge and its id), and they
live for as long as the owner stays cached: at a million facts, about two million
objects, which the collector traces on every full collection (close to a second each
on a small machine) although none of them can be part of a reference cycle.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without cyclic collections, then restore the collector's state.

    For building many objects that cannot form cycles: collecting meanwhile only traces
    them again at each promotion (loading the largest owner of a million-fact store,
    112,000 facts, took 1.2 to 1.4 times as long with the collector running). Reference
    counting still frees everything as usual. If another thread disables the collector
    meanwhile, the block's end enables it again.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def exempt_live_objects() -> None:
    """Leave every object alive now out of all future cyclic collections (``gc.freeze``).

    Called after an owner is cached when ``MemoryConfig.edge_cache_gc_freeze`` is on,
    so that full collections stop tracing the cached edges. Frozen objects are still
    freed by reference counting when dropped (an evicted owner's edges are), but an
    object of the application that is alive at that moment and later becomes garbage
    in a reference cycle is never collected: hence off by default.
    """
    gc.freeze()
