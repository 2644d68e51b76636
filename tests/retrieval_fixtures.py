"""Small graphs for the retrieval tests, written through the public ``Memory`` API."""

from __future__ import annotations

from datetime import UTC, datetime

from graphmem import Memory

COMPANIES = [
    ("Alice", "Acme Corp", "Berlin"),
    ("Bob", "Globex", "Paris"),
    ("Carol", "Initech", "Lisbon"),
    ("Dan", "Umbrella", "Oslo"),
]


def add_employers(memory: Memory, user_id: str) -> None:
    """People, the companies they work at, and where each company is headquartered."""
    triples = []
    for person, company, city in COMPANIES:
        triples.append((person, "works_at", company, f"{person} works at {company}."))
        triples.append(
            (company, "headquartered_in", city, f"{company} is headquartered in {city}.")
        )
    triples.append(("Alice", "likes", "chess", "Alice likes chess."))
    triples.append(("Bob", "likes", "sailing", "Bob likes sailing."))
    memory.add_facts(triples, user_id=user_id)


def day(year: int, month: int = 1, date: int = 1) -> datetime:
    """A UTC midnight."""
    return datetime(year, month, date, tzinfo=UTC)


def add_moves(memory: Memory, user_id: str) -> None:
    """Dana lived in Boston from 2015, then in Denver from 2023 (a one-valued predicate)."""
    memory.add_facts(
        [("Dana", "lives_in", "Boston", "Dana lives in Boston.", day(2015))],
        user_id=user_id,
        source="Dana: I live in Boston.",
        timestamp=day(2015),
    )
    memory.add_facts(
        [("Dana", "lives_in", "Denver", "Dana lives in Denver.", day(2023))],
        user_id=user_id,
        source="Dana: I moved to Denver.",
        timestamp=day(2023),
    )
    memory.add_facts(
        [("Dana", "works_at", "Hooli", "Dana works at Hooli.", day(2016))],
        user_id=user_id,
        timestamp=day(2016),
    )


PASSAGES = [
    (
        "Journal of Quiet Studies",
        "The Journal of Quiet Studies is a peer-reviewed journal published by the "
        "Society for Silence.",
        [("Journal of Quiet Studies", "published by", "Society for Silence")],
    ),
    (
        "Society for Silence",
        "The Society for Silence was founded in 1901. Its first president was Edith Marlow.",
        [
            ("Society for Silence", "founded in", "1901"),
            ("Society for Silence", "first president", "Edith Marlow"),
        ],
    ),
    (
        "Edith Marlow",
        "Edith Marlow was a British librarian born in Leeds.",
        [("Edith Marlow", "born in", "Leeds"), ("Edith Marlow", "occupation", "librarian")],
    ),
    (
        "Harbour Review",
        "The Harbour Review is a literary magazine published by the Guild of Pilots.",
        [("Harbour Review", "published by", "Guild of Pilots")],
    ),
    (
        "Guild of Pilots",
        "The Guild of Pilots is a trade association whose first president was Tomas Berg.",
        [("Guild of Pilots", "first president", "Tomas Berg")],
    ),
    (
        "Leeds",
        "Leeds is a city in West Yorkshire, England.",
        [("Leeds", "located in", "West Yorkshire")],
    ),
]


def add_passages(memory: Memory, user_id: str) -> dict[str, str]:
    """Passages as document episodes, with their triples citing them; title -> episode id."""
    ids: dict[str, str] = {}
    for title, text, triples in PASSAGES:
        added = memory.add(
            {"role": "document", "content": f"{title}\n{text}"},
            user_id=user_id,
            infer=False,
            metadata={"title": title},
        )
        episode_id = added.episodes[0].id
        ids[title] = str(episode_id)
        memory.add_facts(triples, user_id=user_id, source=episode_id)
    return ids
