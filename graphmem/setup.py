"""Assembling a Memory's parts from configuration: store, embedder, extractor, LLM."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from graphmem.config import MemoryConfig, Neo4jSettings
from graphmem.embedding.base import Embedder
from graphmem.embedding.lazy import LazyEmbedder
from graphmem.embedding.sentence_transformers import KNOWN_DIMENSIONS, SentenceTransformerEmbedder
from graphmem.errors import InvalidInputError
from graphmem.extraction.base import Extractor
from graphmem.extraction.rules import RulesExtractor
from graphmem.store.base import EmbedderInfo, GraphStore, ProgressCallback
from graphmem.temporal.predicates import PredicateCatalogue

if TYPE_CHECKING:
    from graphmem.llm.base import LLM


@dataclass(slots=True)
class Components:
    """The parts a Memory is made of."""

    store: GraphStore
    embedder: Embedder
    extractor: Extractor
    llm: LLM | None
    catalogue: PredicateCatalogue


def build_llm_from_config(config: MemoryConfig) -> LLM | None:
    """The configured LLM: ``config.llm``, else the environment, else None (offline)."""
    if not config.use_llm:
        return None
    from graphmem.llm.config import LLMConfig, build_llm, llm_from_env

    llm_config = config.llm if config.llm is not None else llm_from_env()
    if llm_config is None:
        return None
    if not isinstance(llm_config, LLMConfig):
        llm_config = LLMConfig.model_validate(llm_config)
    return build_llm(llm_config)


def build_store(
    config: MemoryConfig, embedder: Embedder, progress: ProgressCallback | None = None
) -> GraphStore:
    """The configured backend, opened for this embedder."""
    info = EmbedderInfo(model=embedder.model, dim=embedder.dim)
    if config.backend == "neo4j":
        from graphmem.store.neo4j import Neo4jStore

        settings = config.neo4j or Neo4jSettings.from_env()
        if settings is None:
            raise InvalidInputError(
                "the neo4j backend needs connection settings: MemoryConfig(neo4j=...) or "
                "GRAPHMEM_NEO4J_URI"
            )
        return Neo4jStore(settings, info)
    from graphmem.store.embedded.store import EmbeddedStore

    return EmbeddedStore(
        config.store_path(),
        info,
        busy_timeout=config.busy_timeout,
        durability=config.durability,
        edge_cache_facts=config.edge_cache_facts,
        edge_cache_gc_freeze=config.edge_cache_gc_freeze,
        progress=progress,
    )


def build_components(
    config: MemoryConfig,
    *,
    store: GraphStore | None = None,
    embedder: Embedder | None = None,
    extractor: Extractor | None = None,
    progress: ProgressCallback | None = None,
) -> Components:
    """Fill in every part the caller did not pass, from ``config`` and the environment."""
    catalogue = PredicateCatalogue.default()
    if config.predicates is not None:
        catalogue = catalogue.extended(config.predicates)
    if embedder is None:
        model, threads = config.embedder_model, config.embedder_threads
        embedder = LazyEmbedder(
            model,
            KNOWN_DIMENSIONS.get(model),
            lambda: SentenceTransformerEmbedder(model, threads=threads),
        )
    llm = build_llm_from_config(config)
    if extractor is None:
        if llm is not None:
            from graphmem.extraction.llm_extractor import LLMExtractor

            extractor = LLMExtractor(llm, instructions=config.extraction_instructions)
        else:
            extractor = RulesExtractor()
    store = store or build_store(config, embedder, progress)
    return Components(
        store=store, embedder=embedder, extractor=extractor, llm=llm, catalogue=catalogue
    )
