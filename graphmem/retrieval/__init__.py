"""Search: entry points, scored multi-hop expansion, fusion, and prompt context.

:class:`Retriever` ranks a scope's facts, entities and episodes for a query;
:func:`build_context` renders a result as a dated, token-budgeted text block.
"""

from graphmem.retrieval.context import approximate_tokens, build_context, default_token_counter
from graphmem.retrieval.pipeline import Retriever
from graphmem.retrieval.rerank import CrossEncoderReranker, Reranker, RerankerUnavailableError
from graphmem.retrieval.settings import RetrievalSettings

__all__ = [
    "CrossEncoderReranker",
    "Reranker",
    "RerankerUnavailableError",
    "RetrievalSettings",
    "Retriever",
    "approximate_tokens",
    "build_context",
    "default_token_counter",
]
