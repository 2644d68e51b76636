"""Superseded versions of returned facts, for answers that need what used to be true."""

from __future__ import annotations

import uuid

from graphmem.filters import Filter
from graphmem.models.results import ScoredFact
from graphmem.models.scope import Scope
from graphmem.store.base import GraphStore
from graphmem.temporal.view import TemporalView

HISTORY_SCORE_FACTOR = 0.5
"""A superseded version scores this share of the current fact it precedes."""
MAX_VERSIONS_PER_FACT = 3


def superseded_versions(
    store: GraphStore,
    scope: Scope,
    current: list[ScoredFact],
    view: TemporalView,
    filters: Filter | None,
) -> list[ScoredFact]:
    """Earlier versions (same subject and predicate) of ``current``, newest first.

    Only versions whose interval was closed before ``view.as_of`` count: facts that
    were true and then replaced or ended. Withdrawn facts (corrected, retracted) were
    never true and are not history. One store round trip.
    """
    by_key: dict[tuple[uuid.UUID, str], ScoredFact] = {}
    for scored in current:
        by_key.setdefault((scored.fact.subject_id, scored.fact.predicate), scored)
    shown = {scored.fact.id for scored in current}
    subjects = list(dict.fromkeys(subject for subject, _ in by_key))
    versions: dict[tuple[uuid.UUID, str], list[ScoredFact]] = {}
    for fact in store.facts_of_entities(scope, subjects, include_expired=True):
        key = (fact.subject_id, fact.predicate)
        anchor = by_key.get(key)
        if anchor is None or fact.id in shown or view.includes(fact):
            continue
        if not scope.contains(fact.user_id, fact.agent_id, fact.run_id):
            continue
        if filters is not None and not filters.matches(fact.metadata):
            continue
        if not view.believed(fact):
            continue
        ended = view.effective_invalid_at(fact)
        if ended is None or ended > view.as_of:
            continue  # not closed yet at as_of (a future fact, or one not yet replaced)
        versions.setdefault(key, []).append(
            ScoredFact(
                fact=fact,
                score=anchor.score * HISTORY_SCORE_FACTOR,
                valid=False,
                sources=["history"],
            )
        )
    ordered: list[ScoredFact] = []
    for key in by_key:
        newest_first = sorted(
            versions.get(key, []),
            key=lambda s: s.fact.invalid_at.timestamp() if s.fact.invalid_at else 0.0,
            reverse=True,
        )
        ordered.extend(newest_first[:MAX_VERSIONS_PER_FACT])
    return ordered
