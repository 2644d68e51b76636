"""Bridging: episodes that share a specific entity with the best episodes.

A multi-hop question names the first hop ("Hello Love's performer") but not the
second (Hank Snow): the passage about the second hop resembles the question little,
and the walk over facts reaches it with little mass. What singles it out is that it
mentions an entity the best first-hop episode also mentions, one that few episodes
share (a hub such as "United States" links everything and says nothing). Such
episodes are scored by their similarity to the query, relative to the best of them,
times the score of the weakest source: at best they tie with a source.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence

import numpy as np
import numpy.typing as npt

from graphmem.models.scope import Scope
from graphmem.retrieval.fusion import ranked
from graphmem.store.base import GraphStore


def bridge_scores(
    store: GraphStore,
    scope: Scope,
    best: Mapping[uuid.UUID, float],
    links: Mapping[uuid.UUID, frozenset[uuid.UUID]],
    named: frozenset[uuid.UUID],
    query_vector: Sequence[float] | npt.NDArray[np.floating],
    *,
    hub_limit: int,
    candidates: int,
) -> dict[uuid.UUID, float]:
    """Scores of the episodes bridged from the ``best`` episodes (with their scores).

    ``links`` maps episodes to the entities they are linked to (mentions and the ends
    of the facts citing them); entities the query names are left out (they rank their
    episodes directly), and so are entities more than ``hub_limit`` episodes mention.
    """
    if not best:
        return {}
    shared = {e for episode_id in best for e in links.get(episode_id, ()) if e not in named}
    if not shared:
        return {}
    # One episode past the limit is enough to tell a hub: its other mentions are not read.
    by_entity = store.episodes_mentioning(scope, sorted(shared, key=str), per_entity=hub_limit + 1)
    # Specificity: an entity few episodes share says more (HippoRAG's node weighting).
    specificity: dict[uuid.UUID, float] = {}
    for members in by_entity.values():
        if len(members) > hub_limit:
            continue
        for episode_id in members:
            specificity[episode_id] = specificity.get(episode_id, 0.0) + 1.0 / len(members)
    for episode_id in best:
        specificity.pop(episode_id, None)
    if not specificity:
        return {}
    vectors = store.episode_vectors(ranked(specificity)[:candidates])
    if not vectors:
        return {}
    query = np.asarray(query_vector, dtype=np.float32)
    query = query / (float(np.linalg.norm(query)) or 1.0)
    matrix = np.stack([np.asarray(v, dtype=np.float32) for v in vectors.values()])
    norms = np.linalg.norm(matrix, axis=1)
    cosines = (matrix @ query) / np.where(norms > 0, norms, 1.0)
    similarity = dict(zip(vectors, cosines.tolist(), strict=True))
    top = max(similarity.values())
    if top <= 0:
        return {}
    ceiling = min(best.values())
    return {i: ceiling * max(s, 0.0) / top for i, s in similarity.items()}
