"""The embedder protocol: text in, L2-normalized float vectors out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns text into unit-length vectors. Stores record ``model`` and ``dim``."""

    @property
    def model(self) -> str:
        """Stable identifier of the model (a store refuses vectors of another model)."""
        ...

    @property
    def dim(self) -> int:
        """Length of every vector."""
        ...

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Embed a batch of texts; returns an array of shape ``(len(texts), dim)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query (cached); returns shape ``(dim,)``."""
        ...
