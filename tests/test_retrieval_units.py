"""The pipeline's building blocks on hand-made inputs: fusion, MMR, mentions, PageRank."""

from __future__ import annotations

import uuid

from graphmem.models.edges import FactEdge
from graphmem.models.records import Entity, Fact
from graphmem.models.results import PathHop
from graphmem.retrieval.entry_points import mentioned_entities
from graphmem.retrieval.expansion import expand, trace_paths
from graphmem.retrieval.fusion import mmr, weighted_rrf
from graphmem.retrieval.settings import RetrievalSettings
from graphmem.retrieval.subgraph import Subgraph


def entity(name: str, *aliases: str) -> Entity:
    return Entity(owner="user:u", name=name, normalized_name=name.lower(), aliases=list(aliases))


def test_rrf_rewards_agreement_and_respects_weights() -> None:
    scores = weighted_rrf([(["a", "b", "c"], 1.0), (["b", "a", "d"], 1.0)], k=60)
    assert scores["a"] == scores["b"] > scores["c"] == scores["d"]
    weighted = weighted_rrf([(["a", "b"], 1.0), (["b", "a"], 3.0)], k=60)
    assert weighted["b"] > weighted["a"]
    assert weighted_rrf([(["x"], 1.0), (["x"], 2.0)])["x"] == 1.0
    assert weighted_rrf([([], 1.0), (["x"], 0.0)]) == {}


def test_mmr_skips_near_duplicates_for_the_next_best_distinct_item() -> None:
    items = [
        ("alice likes green tea", 1.0),
        ("alice likes green tea a lot", 0.95),
        ("alice likes green tea very much", 0.9),
        ("alice climbs mountains", 0.6),
    ]
    picked = mmr(items, lambda i: i[1], lambda i: i[0], lam=0.5, limit=2)
    assert [p[0] for p in picked] == ["alice likes green tea", "alice climbs mountains"]
    relevance_only = mmr(items, lambda i: i[1], lambda i: i[0], lam=1.0, limit=3)
    assert relevance_only == items[:3]


def test_mentions_need_whole_names_and_prefer_the_longest() -> None:
    york, new_york, ann = entity("York"), entity("New York"), entity("Ann", "Annie")
    the_band = entity("The Beatles")
    found = mentioned_entities(
        "Did Annie move to New York to see the beatles?", [york, new_york, ann, the_band]
    )
    assert found[0] == new_york.id
    assert set(found) == {new_york.id, ann.id, the_band.id}
    assert mentioned_entities("Anniversary plans in Yorkshire?", [york, ann]) == []
    assert mentioned_entities("What did I say?", [entity("I"), entity("me")]) == []


def chain() -> tuple[Subgraph, dict[str, uuid.UUID], dict[str, Fact]]:
    """A - B - C - D in a line, plus a dangling E off A."""
    names = ["A", "B", "C", "D", "E"]
    ids = {n: uuid.uuid4() for n in names}
    facts = {}
    for s, o in [("A", "B"), ("B", "C"), ("C", "D"), ("A", "E")]:
        facts[s + o] = Fact(
            subject_id=ids[s],
            predicate="linked_to",
            object_id=ids[o],
            fact=f"{s} is linked to {o}.",
            subject_name=s,
            object_name=o,
            user_id="u",
        )
    graph = Subgraph()
    graph.add(FactEdge.of(f) for f in facts.values())
    return graph, ids, facts


def test_pagerank_decays_with_distance_and_follows_relevant_edges() -> None:
    graph, ids, facts = chain()
    settings = RetrievalSettings()
    plain = expand(graph, {ids["A"]: 1.0}, {}, settings)
    steered = expand(graph, {ids["A"]: 1.0}, {facts["AE"].id: 1.0}, settings)
    rank = {n: plain.entity_rank[graph.entity_numbers[i]] for n, i in ids.items()}
    assert rank["A"] > rank["B"] > rank["C"] > rank["D"]
    entity_e = graph.entity_numbers[ids["E"]]
    assert steered.entity_rank[entity_e] > plain.entity_rank[entity_e]
    flow = {n: steered.fact_flow[graph.numbers[f.id]] for n, f in facts.items()}
    assert flow["AE"] > flow["AB"]


def test_paths_follow_the_graph_from_the_anchor_in_either_direction() -> None:
    graph, ids, facts = chain()
    paths = trace_paths(graph, {ids["D"]: 1.0}, {}, [facts["AB"].id, facts["CD"].id], 2)
    hops = [(h.from_entity, h.to_entity) for h in paths[facts["AB"].id][0]]
    assert hops == [("D", "C"), ("C", "B"), ("B", "A")]
    assert [(h.from_entity, h.to_entity) for h in paths[facts["CD"].id][0]] == [("D", "C")]
    assert trace_paths(graph, {}, {}, [facts["AB"].id], 2) == {facts["AB"].id: []}


def graph_of(links: list[tuple[str, str]]) -> tuple[Subgraph, dict[str, FactEdge]]:
    """A subgraph with one ``linked_to`` fact per pair, keyed "AB" etc."""
    ids: dict[str, uuid.UUID] = {}
    facts = {
        s + o: FactEdge.of(
            Fact(
                subject_id=ids.setdefault(s, uuid.uuid4()),
                predicate="linked_to",
                object_id=ids.setdefault(o, uuid.uuid4()),
                fact=f"{s} is linked to {o}.",
                subject_name=s,
                object_name=o,
                user_id="u",
            )
        )
        for s, o in links
    }
    graph = Subgraph()
    graph.add(facts.values())
    return graph, facts


def hops_of(path: list[PathHop]) -> list[str]:
    return [h.from_entity + h.to_entity for h in path]


def test_paths_reach_three_hops_out_and_a_fact_beyond_them_has_none() -> None:
    line = [("A", "B"), ("B", "C"), ("C", "D"), ("D", "E"), ("E", "F")]
    graph, facts = graph_of([*line, ("X", "Y")])
    anchor = {graph.entity_ids[graph.subjects[graph.numbers[facts["AB"].id]]]: 1.0}
    wanted = [facts[k].id for k in ("DE", "EF", "XY")]
    paths = trace_paths(graph, anchor, {}, wanted, 2)
    # D is three hops from A: a path may end with the fact leaving it.
    assert [hops_of(p) for p in paths[facts["DE"].id]] == [["AB", "BC", "CD", "DE"]]
    assert paths[facts["EF"].id] == []  # E is four hops out: routes stop before it
    assert paths[facts["XY"].id] == []  # not connected to the anchor at all


def test_the_path_over_query_relevant_facts_wins_and_both_ends_give_distinct_paths() -> None:
    # Two routes from A to D: over B (relevant facts) and over C (unrelated ones).
    graph, facts = graph_of([("A", "B"), ("B", "D"), ("A", "C"), ("C", "D"), ("D", "E")])
    anchor = {graph.entity_ids[graph.subjects[graph.numbers[facts["AB"].id]]]: 1.0}
    relevant = {facts["AB"].id: 1.0, facts["BD"].id: 1.0}
    paths = trace_paths(graph, anchor, relevant, [facts["DE"].id, facts["CD"].id], 2)
    assert [hops_of(p) for p in paths[facts["DE"].id]] == [["AB", "BD", "DE"]]
    # Through C, or from D's side: the better route (via B) comes first.
    assert [hops_of(p) for p in paths[facts["CD"].id]] == [["AB", "BD", "DC"], ["AC", "CD"]]
