"""Vector and full-text entry points on Neo4j, scoped without leaking or losing results.

Neo4j 5's vector and full-text indexes are global: one index per record kind for all
owners. Scoping works differently for the two:

**Full-text.** Every indexed node carries ``owner_token``, an opaque per-owner word
indexed with the text. The Lucene query *requires* that word, so the index itself only
returns (and scores) the owner's records, and only the best ``fetch`` of them (the
procedure's ``limit`` option): a large owner's thousands of matches are never all
streamed. Agent and run narrowing keeps the hits the scope contains (the same
:func:`visible` as vectors) and, while fewer than ``k`` survive and Lucene returned all
it was asked for, asks for four times as many. Nothing is lost.

**Vector.** An HNSW index cannot be restricted to one owner, so:

1. count the scope's embedded records (index-backed). If there are none, answer
   nothing; if there are at most ``exact_threshold``, rank them exactly (step 3) —
   cheaper than over-fetching, and exact;
2. otherwise ask the global index for ``fetch = k * 4`` neighbours and keep those the
   scope contains (decided in Python by :meth:`Scope.contains`, the one definition of
   visibility). If fewer than ``k`` survive while the index returned all ``fetch``
   asked for, more visible records may rank further down: fetch four times as many,
   up to ``max_fetch``;
3. past ``max_fetch``, fall back to an exact scan of the scope's records by cosine
   similarity (``vector.similarity.cosine`` on servers that have it, else a dot
   product of the unit vectors graphmem stores). Results are never silently short.

Scores are cosine similarities in [-1, 1] like the embedded store's: Neo4j reports
cosine as ``(1 + cos) / 2``, which is converted back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from graphmem.models.scope import Scope
from graphmem.store.base import IndexKind
from graphmem.store.embedded.keyword import query_terms
from graphmem.store.neo4j.identifiers import owner_token
from graphmem.store.neo4j.statements import Statement, scope_predicate

VECTOR_INDEXES: dict[IndexKind, str] = {
    "entity": "entity_embedding",
    "episode": "episode_embedding",
    "fact": "fact_embedding",
}
FULLTEXT_INDEXES: dict[IndexKind, str] = {
    "entity": "entity_names",
    "episode": "episode_content",
    "fact": "fact_text",
}
_LABELS: dict[IndexKind, str] = {"entity": "Entity", "episode": "Episode", "fact": "FactRecord"}
_TEXT_FIELDS: dict[IndexKind, tuple[str, ...]] = {
    "entity": ("name", "alias_text"),
    "episode": ("content",),
    "fact": ("fact",),
}


def neo4j_cosine(score: float) -> float:
    """Neo4j's normalized cosine score ``(1 + cos) / 2`` back to the cosine."""
    return max(-1.0, min(1.0, 2.0 * float(score) - 1.0))


def _scope_condition(kind: IndexKind, variable: str, scope: Scope) -> tuple[str, dict[str, Any]]:
    if kind == "entity":  # entities belong to the owner, shared by its agents and runs
        return f"{variable}.owner = $owner", {"owner": scope.owner}
    return scope_predicate(variable, scope)


def scope_vector_count(kind: IndexKind, scope: Scope) -> Statement:
    """How many of the scope's records of ``kind`` carry an embedding."""
    where, params = _scope_condition(kind, "n", scope)
    return Statement(
        f"MATCH (n:{_LABELS[kind]})\nWHERE {where} AND n.embedding IS NOT NULL\n"
        "RETURN count(n) AS total",
        params,
    )


def vector_candidates(kind: IndexKind, vector: Sequence[float], fetch: int) -> Statement:
    """The global index's ``fetch`` nearest neighbours with the fields that scope them."""
    return Statement(
        f"CALL db.index.vector.queryNodes('{VECTOR_INDEXES[kind]}', $fetch, $vector)\n"
        "YIELD node, score\n"
        "RETURN node.id AS id, score, node.owner AS owner,\n"
        "       node.user_id AS user_id, node.agent_id AS agent_id, node.run_id AS run_id",
        {"fetch": fetch, "vector": list(vector)},
    )


def exact_vector_scan(
    kind: IndexKind, scope: Scope, vector: Sequence[float], k: int, *, native_cosine: bool
) -> Statement:
    """The scope's ``k`` most similar records by exact cosine.

    ``similarity`` is Neo4j's normalized cosine when ``native_cosine`` (the
    ``vector.similarity.cosine`` function, Neo4j 5.18+), else the raw cosine computed as
    the dot product of unit vectors.
    """
    where, params = _scope_condition(kind, "n", scope)
    if native_cosine:
        similarity = "vector.similarity.cosine(n.embedding, $vector)"
    else:
        similarity = (
            "reduce(dot = 0.0, i IN range(0, size($vector) - 1)"
            " | dot + n.embedding[i] * $vector[i])"
        )
    return Statement(
        f"MATCH (n:{_LABELS[kind]})\nWHERE {where} AND n.embedding IS NOT NULL\n"
        f"WITH n, {similarity} AS similarity\n"
        "ORDER BY similarity DESC, n.id\nLIMIT $k\n"
        "RETURN n.id AS id, similarity",
        {**params, "vector": list(vector), "k": k},
    )


def lucene_query(kind: IndexKind, scope: Scope, text: str) -> str | None:
    """A Lucene query requiring the owner's token and any of the text's content words.

    Every word is quoted and consists of word characters only, so Lucene operators in
    user text are inert. None when the text has no content words.
    """
    terms = query_terms(text)
    if not terms:
        return None
    any_term = " OR ".join(f'"{term}"' for term in terms)
    fields = " OR ".join(f"{field}:({any_term})" for field in _TEXT_FIELDS[kind])
    return f'owner_token:"{owner_token(scope.owner)}" AND ({fields})'


def keyword_query(kind: IndexKind, lucene: str, fetch: int) -> Statement:
    """The owner's ``fetch`` best full-text matches (``lucene`` names the owner), highest
    score first, with the fields that scope them."""
    return Statement(
        f"CALL db.index.fulltext.queryNodes('{FULLTEXT_INDEXES[kind]}', $query, "
        "{limit: $fetch})\n"
        "YIELD node, score\n"
        "RETURN node.id AS id, score, node.owner AS owner,\n"
        "       node.user_id AS user_id, node.agent_id AS agent_id, node.run_id AS run_id",
        {"query": lucene, "fetch": fetch},
    )


def visible(kind: IndexKind, scope: Scope, row: dict[str, Any]) -> bool:
    """Whether a vector-index hit belongs to the scope (``Scope.contains`` semantics)."""
    if kind == "entity":
        return bool(row.get("owner") == scope.owner)
    if row.get("owner") != scope.owner:
        return False
    return scope.contains(row.get("user_id"), row.get("agent_id"), row.get("run_id"))
