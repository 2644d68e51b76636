"""Episodes that name a qualified phrase also mention the known entities inside it."""

from __future__ import annotations

import uuid

from graphmem import Memory
from graphmem.models.scope import Scope
from graphmem.writing.name_parts import name_parts


def _mentioned_names(memory: Memory, episode_id: uuid.UUID) -> set[str]:
    mentions = memory.store.mentions_of_episodes([episode_id])
    ids = [entity_id for ids in mentions.values() for entity_id in ids]
    return {entity.name for entity in memory.store.get_entities(ids)}


def _document(memory: Memory, user_id: str, text: str) -> uuid.UUID:
    added = memory.add({"role": "document", "content": text}, user_id=user_id, infer=False)
    return added.episodes[0].id


def test_parts_split_at_commas_connectives_and_possessives() -> None:
    assert name_parts("Nashville, Tennessee") == ["Nashville", "Tennessee"]
    assert name_parts("Hiran region of Somalia") == ["Somalia"]
    assert name_parts("Washington Psychoanalytic Institute in 1981") == [
        "Washington Psychoanalytic Institute"
    ]
    assert name_parts("Caroline's pottery class") == ["Caroline"]
    assert "Kingfisher County" in name_parts("Kingfisher County, Oklahoma, United States")


def test_names_without_boundaries_or_proper_parts_have_none() -> None:
    assert name_parts("Melanie") == []
    assert name_parts("Lee Tamahori") == []  # a leading word alone is no boundary
    assert name_parts("the song in 1974") == []  # neither piece is a proper name


def test_add_facts_records_that_the_source_episode_mentions_both_ends(memory: Memory) -> None:
    source = _document(memory, "u1", "Hello Love is a 1974 single by Hank Snow.")
    memory.add_facts([("Hello Love", "performed_by", "Hank Snow")], user_id="u1", source=source)
    assert _mentioned_names(memory, source) == {"Hello Love", "Hank Snow"}


def test_a_known_entity_inside_a_new_name_is_mentioned(memory: Memory) -> None:
    first = _document(memory, "u1", "Somalia is a country in the Horn of Africa.")
    memory.add_facts([("Somalia", "located_in", "Horn of Africa")], user_id="u1", source=first)
    second = _document(memory, "u1", "Beledweyne is a city in the Hiran region of Somalia.")
    memory.add_facts(
        [("Beledweyne", "located_in", "Hiran region of Somalia")], user_id="u1", source=second
    )
    assert _mentioned_names(memory, second) == {
        "Beledweyne",
        "Hiran region of Somalia",
        "Somalia",
    }


def test_a_part_of_a_name_in_the_same_write_is_mentioned(memory: Memory) -> None:
    source = _document(memory, "u1", "Snow moved to Nashville, Tennessee. Tennessee is a state.")
    memory.add_facts(
        [("Hank Snow", "moved_to", "Nashville, Tennessee"), ("Tennessee", "is_a", "state")],
        user_id="u1",
        source=source,
    )
    assert "Tennessee" in _mentioned_names(memory, source)


def test_a_part_never_creates_an_entity(memory: Memory) -> None:
    source = _document(memory, "u1", "Beledweyne is a city in the Hiran region of Somalia.")
    memory.add_facts(
        [("Beledweyne", "located_in", "Hiran region of Somalia")], user_id="u1", source=source
    )
    names = {e.name for e in memory.store.list_entities(Scope.of(user_id="u1"), limit=50)}
    assert names == {"Beledweyne", "Hiran region of Somalia"}
    assert _mentioned_names(memory, source) == names


def test_parts_resolve_only_among_the_writers_own_entities(memory: Memory) -> None:
    theirs = _document(memory, "u2", "Somalia is a country.")
    memory.add_facts([("Somalia", "is_a", "country")], user_id="u2", source=theirs)
    mine = _document(memory, "u1", "Beledweyne is in the Hiran region of Somalia.")
    memory.add_facts(
        [("Beledweyne", "located_in", "Hiran region of Somalia")], user_id="u1", source=mine
    )
    assert "Somalia" not in _mentioned_names(memory, mine)
