"""The matching stages of entity resolution, cheapest first.

Each stage looks only at the groups the earlier stages left open, fetches what it
needs from the store in one batch, and either settles a group, marks it ambiguous
(for the LLM), or leaves it open for the next stage.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from graphmem.models.records import Entity
from graphmem.models.scope import Scope
from graphmem.resolution.adjudication import Ambiguity
from graphmem.resolution.entity_types import compatible_types, type_family
from graphmem.resolution.fuzzy import FuzzyHit, fuzzy_hits
from graphmem.resolution.lexical import (
    MIN_FUZZY_LENGTH,
    clearly_different,
    compact_length,
    fuzzy_key,
    is_person_type,
    lexically_related,
    person_tokens,
    same_words_one_typo,
)
from graphmem.resolution.mentions import MentionGroup
from graphmem.resolution.name_index import NameIndexCache
from graphmem.resolution.names import normalize_name
from graphmem.resolution.outcome import MatchMethod
from graphmem.resolution.run import ResolutionRun, ResolverSettings
from graphmem.resolution.store_reads import EntityLookup

_MAX_FIRST_NAME_CANDIDATES = 20
"""A first name shared by more stored people than this is too common to be evidence."""


def _ambiguity(
    run: ResolutionRun,
    group: int,
    candidates: Sequence[Entity],
    *,
    fallback: Entity | None = None,
) -> Ambiguity:
    method = MatchMethod.EXACT if fallback is not None else MatchMethod.NEW
    mention = run.groups[group]
    return Ambiguity(
        group=group,
        name=mention.name,
        type=mention.type,
        aliases=mention.alias_forms,
        candidates=list(candidates),
        fallback=fallback,
        fallback_method=method,
    )


def match_exact(run: ResolutionRun, store: EntityLookup, settings: ResolverSettings) -> None:
    """Settle groups whose name or alias is a stored name or alias of a compatible type.

    A match on the mention's own name beats one through aliases, and a same-family type
    beats a generic one. Several equally good entities ("Jordan" the person and the
    band, both asked for as a Thing) go to the LLM; without one, the most recently
    updated wins, so that an exact name never spawns a duplicate.
    """
    keys = list(dict.fromkeys(key for group in run.groups for key in group.keys))
    found = run.adopt(store.entities_by_names(run.owner, keys)).values()
    by_key: dict[str, list[tuple[Entity, bool]]] = {}
    for entity in found:
        by_key.setdefault(entity.normalized_name, []).append((entity, True))
        for alias in entity.aliases:
            by_key.setdefault(normalize_name(alias), []).append((entity, False))
    for index, group in enumerate(run.groups):
        ranks: dict[uuid.UUID, tuple[int, int]] = {}
        for key in group.keys:
            for entity, via_name in by_key.get(key, ()):
                if not compatible_types(entity.type, group.type):
                    continue
                rank = (
                    (0 if key == group.key else 2) + (0 if via_name else 1),
                    0 if type_family(entity.type) == type_family(group.type) else 1,
                )
                ranks[entity.id] = min(ranks.get(entity.id, rank), rank)
        if not ranks:
            continue
        best = min(ranks.values())
        tied = sorted(
            (run.known[entity_id] for entity_id, rank in ranks.items() if rank == best),
            key=lambda entity: entity.updated_at,
            reverse=True,
        )
        if len(tied) == 1:
            run.match(index, tied[0], MatchMethod.EXACT)
        else:
            candidates = tied[: settings.candidates_per_mention]
            run.add_ambiguity(_ambiguity(run, index, candidates, fallback=tied[0]))


def match_fuzzy(
    run: ResolutionRun, store: EntityLookup, names: NameIndexCache, settings: ResolverSettings
) -> None:
    """Settle groups with a near-identical spelling of a stored name or alias.

    A match must be the same words in the same order with at most one misspelled;
    names shorter than :data:`MIN_FUZZY_LENGTH` never match fuzzily, and
    :func:`clearly_different` vetoes different numbers and different people.
    """
    queries: list[str] = []
    owners: list[int] = []
    for index in run.open_groups():
        group_queries = {fuzzy_key(key) for key in run.groups[index].keys}
        for query in sorted(group_queries):
            if compact_length(query) >= MIN_FUZZY_LENGTH:
                queries.append(query)
                owners.append(index)
    if not queries:
        return
    with names.lock:
        index_of_owner = names.get(run.owner)
        hits = fuzzy_hits(
            queries,
            index_of_owner,
            settings.fuzzy_threshold,
            per_query=settings.candidates_per_mention,
        )
    ids = list({hit.entity_id for row in hits for hit in row})
    entities = run.adopt(store.get_entities(ids)) if ids else {}
    per_group: dict[int, list[tuple[FuzzyHit, str]]] = {}
    for group, query, row in zip(owners, queries, hits, strict=True):
        per_group.setdefault(group, []).extend((hit, query) for hit in row)
    for group, candidates in per_group.items():
        mention = run.groups[group]
        for hit, query in sorted(candidates, key=lambda pair: -pair[0].score):
            entity = entities.get(hit.entity_id)
            if (
                entity is not None
                and compact_length(hit.matched) >= MIN_FUZZY_LENGTH
                and compatible_types(entity.type, mention.type)
                and same_words_one_typo(query, hit.matched)
                and not clearly_different(query, mention.type, hit.matched, entity.type)
            ):
                run.match(group, entity, MatchMethod.FUZZY)
                break


def _lone_first_name(group: MentionGroup) -> str | None:
    # Only a mention typed as a person is known to be a first name: an untyped "Jordan"
    # may be the country, and must not become "Jordan Peterson" on a word match.
    tokens = person_tokens(group.key)
    if len(tokens) != 1 or not tokens[0].isalpha() or not is_person_type(group.type):
        return None
    return tokens[0]


def match_first_names(
    run: ResolutionRun, store: EntityLookup, names: NameIndexCache, settings: ResolverSettings
) -> None:
    """Settle "Melanie" on the one stored person whose full name starts with Melanie.

    With several such people the group is ambiguous: only an LLM may pick one of them;
    without one it becomes a new entity (and later stages may not guess either).
    """
    wanted: dict[int, set[uuid.UUID]] = {}
    for index in run.open_groups():
        first_name = _lone_first_name(run.groups[index])
        if first_name is None:
            continue
        with names.lock:
            ids = names.get(run.owner).full_names_starting_with(first_name)
        if 0 < len(ids) <= _MAX_FIRST_NAME_CANDIDATES:
            wanted[index] = ids
    if not wanted:
        return
    entities = run.adopt(store.get_entities(list(set().union(*wanted.values()))))
    for index, ids in wanted.items():
        people = sorted(
            (
                entities[entity_id]
                for entity_id in ids
                if entity_id in entities and is_person_type(entities[entity_id].type)
            ),
            key=lambda entity: entity.updated_at,
            reverse=True,
        )
        if len(people) == 1:
            run.match(index, people[0], MatchMethod.FIRST_NAME)
        elif people:
            run.add_ambiguity(_ambiguity(run, index, people[: settings.candidates_per_mention]))


def match_embeddings(
    run: ResolutionRun, store: EntityLookup, scope: Scope, settings: ResolverSettings
) -> None:
    """Settle groups whose nearest stored entity is close in meaning and in wording.

    Uses the vectors already in ``run.vectors`` (one embedding batch for the call). A
    close neighbour without lexical evidence ("Holland" for "Netherlands"), or a best
    score inside the ambiguous band, is ambiguous: only an LLM may merge it.
    """
    searches: dict[int, list[tuple[uuid.UUID, float]]] = {}
    for index in run.open_groups():
        searches[index] = store.vector_search(
            "entity", scope, run.vectors[index], settings.candidates_per_mention
        )
        run.stats.vector_searches += 1
    ids = list({entity_id for hits in searches.values() for entity_id, _ in hits})
    entities = run.adopt(store.get_entities(ids)) if ids else {}
    for index, hits in searches.items():
        mention = run.groups[index]
        viable = [
            (score, entities[entity_id])
            for entity_id, score in sorted(hits, key=lambda hit: -hit[1])
            if entity_id in entities
            and score >= settings.ambiguous_low
            and compatible_types(entities[entity_id].type, mention.type)
            and not clearly_different(
                mention.key,
                mention.type,
                entities[entity_id].normalized_name,
                entities[entity_id].type,
            )
        ]
        if not viable:
            continue
        best_score, best = viable[0]
        related = _lexically_related(mention, best, [entity for _, entity in viable[1:]])
        if best_score >= settings.embedding_threshold and related:
            run.match(index, best, MatchMethod.EMBEDDING)
        elif best_score < settings.ambiguous_high or best_score >= settings.embedding_threshold:
            run.add_ambiguity(_ambiguity(run, index, [entity for _, entity in viable]))


def _lexically_related(
    mention: MentionGroup, entity: Entity, others: Sequence[Entity] = ()
) -> bool:
    """Contained words or an abbreviation; for a one-word person, a name it identifies.

    "Melanie" identifies "Melanie Adams" by first name. "Obama" identifies "Barack
    Obama" by surname only if no other close candidate shares it ("Smith" next to both
    John and Jane Smith identifies neither).
    """
    entity_aliases = [normalize_name(alias) for alias in entity.aliases]
    if mention.key in entity_aliases:
        return True
    if is_person_type(mention.type) or is_person_type(entity.type):
        mention_words = person_tokens(mention.key)
        entity_words = person_tokens(entity.normalized_name)
        if len(mention_words) == 1 and len(entity_words) >= 2:
            word = mention_words[0]
            if word == entity_words[0]:
                return True
            return word in entity_words[1:] and not any(
                word in person_tokens(other.normalized_name) for other in others
            )
    return any(
        lexically_related(key, entity.normalized_name, entity_aliases) for key in mention.keys
    )
