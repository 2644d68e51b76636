"""What a write tells the extractor about the entities the owner already has."""

from __future__ import annotations

from pathlib import Path

from graphmem import Memory, MemoryConfig
from graphmem.embedding import SentenceTransformerEmbedder
from graphmem.extraction.base import ExtractionOutcome, ExtractionRequest
from graphmem.extraction.rules import RulesExtractor
from graphmem.models.scope import Scope
from graphmem.writing.ingest import MAX_KNOWN_ENTITIES


class Recording(RulesExtractor):
    """The rules extractor, keeping every request it is given."""

    def __init__(self) -> None:
        self.requests: list[ExtractionRequest] = []

    def extract(self, request: ExtractionRequest) -> ExtractionOutcome:
        self.requests.append(request)
        return super().extract(request)


def test_the_extractor_is_offered_the_owners_most_recently_updated_entities_with_their_types(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    recording = Recording()
    config = MemoryConfig(path=tmp_path / "store", use_llm=False)
    with Memory(config, embedder=embedder, extractor=recording) as memory:
        people = [
            {
                "subject": f"Person {i:03d}",
                "predicate": "works_at",
                "object": f"Company {i:03d}",
                "subject_type": "Person",
                "object_type": "Organization",
            }
            for i in range(MAX_KNOWN_ENTITIES // 2 + 20)
        ]
        for start in range(0, len(people), 40):
            memory.add_facts(people[start : start + 40], user_id="u1")
        # Another owner's entities, written after: never shown to u1's writes.
        memory.add_facts([("Mallory", "works_at", "Umbrella")], user_id="u2")

        newest = memory.store.list_entities(Scope.of("u1"), limit=MAX_KNOWN_ENTITIES)
        stored = memory.stats(user_id="u1").entities

        memory.add("I went hiking today.", user_id="u1")

        known = recording.requests[-1].known_entities
        assert len(known) == MAX_KNOWN_ENTITIES < stored
        assert [k.name for k in known] == [e.name for e in reversed(newest)]
        last_write = {f"{kind} {i:03d}" for kind in ("Person", "Company") for i in range(160, 170)}
        assert {k.name for k in known[-20:]} == last_write  # the most recent come last
        assert "Person 000" not in {k.name for k in known}  # the oldest are left out
        assert {k.type for k in known} == {"Person", "Organization"}
        assert not {"Mallory", "Umbrella"} & {k.name for k in known}
