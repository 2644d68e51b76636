"""The least time any memory store can spend embedding a benchmark's chat turns.

An ``add()`` that keeps a searchable vector per turn must embed every turn's text at
least once. Timing the embedder alone on the same texts, with no store, extractor or
index behind it, gives the ceiling on ingest throughput that no storage code can lift:
``turns / floor`` turns per second. Two shapes are timed:

* ``one_call_per_turn``: each text embedded in its own call, as one ``add()`` per turn
  must do;
* ``one_batch``: all texts in a single call, the best case batching could reach.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from graphmem.embedding.base import Embedder


def measure_embedding_floor(embedder: Embedder, texts: Sequence[str]) -> dict[str, Any]:
    """Seconds to embed ``texts`` one call per text and in one batch, and the turns per
    second each would allow if everything else an ``add()`` does took no time."""
    if not texts:
        raise ValueError("the embedding floor needs at least one text")
    embedder.embed([texts[0]])  # load and warm the model outside the timings
    start = time.perf_counter()
    for text in texts:
        embedder.embed([text])
    per_call = time.perf_counter() - start
    start = time.perf_counter()
    embedder.embed(list(texts))
    one_batch = time.perf_counter() - start
    return {
        "texts": len(texts),
        "one_call_per_turn_s": per_call,
        "one_batch_s": one_batch,
        "max_per_s_one_call_per_turn": len(texts) / per_call,
        "max_per_s_one_batch": len(texts) / one_batch,
    }
