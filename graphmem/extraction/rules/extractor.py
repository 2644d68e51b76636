"""The offline rules extractor: deterministic, no network, no model.

It turns a batch of conversation turns into entities (speakers, known names, proper
nouns, quoted titles), typed facts from first-person statements ("I live in Denver",
"my sister Anna"), and endings ("I quit my job at Acme"), each dated by the time
expression of its sentence or else by the episode's reference time. It prefers missing
a fact to storing a wrong one: questions, hypotheticals and negated statements yield
no facts.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import ValidationError

from graphmem.errors import ExtractionError
from graphmem.extraction.base import ExtractionOutcome, ExtractionRequest
from graphmem.extraction.models import ExtractedEnding, ExtractedFact, Extraction
from graphmem.extraction.rules import patterns, relations, third_person
from graphmem.extraction.rules.dates import ResolvedTime, find_time_expressions
from graphmem.extraction.rules.endings import match_endings
from graphmem.extraction.rules.mentions import EntityBook, collect_mentions, context_names
from graphmem.extraction.rules.names import KnownNames
from graphmem.extraction.rules.speakers import (
    MAX_NAME_LENGTH,
    addressee,
    participants,
    speaker_name,
)
from graphmem.extraction.rules.statements import EndingStatement, Speech, Statement
from graphmem.extraction.rules.text import (
    Sentence,
    in_relative_clause,
    is_asserted,
    normalize,
    split_sentences,
)

_MAX_SENTENCE = 1000


class RulesExtractor:
    """Extracts entities, facts and endings with patterns; the default without an LLM.

    Deterministic: the same request always gives the same extraction. Costs no tokens.
    """

    @property
    def name(self) -> str:
        """``rules``."""
        return "rules"

    def extract(self, request: ExtractionRequest) -> ExtractionOutcome:
        """Extract from ``request.episodes`` (``request.recent`` is context only)."""
        try:
            return ExtractionOutcome(extraction=_Batch(request).run())
        except ValidationError as exc:  # a bug here must not pass as bad input
            raise ExtractionError(f"rules extractor produced an invalid extraction: {exc}") from exc


def _time_for(position: int, times: list[ResolvedTime], subjects: list[int]) -> ResolvedTime | None:
    """The time expression that dates a statement starting at ``position``.

    A time expression belongs to the statement whose subject ("I", "we") precedes it
    most closely: in "I went to Rome last year and I live in Paris", "last year" dates
    the trip, not the home. One before every subject dates the first statement
    ("Last week, I went to a conference").
    """
    start = max((s for s in subjects if s <= position), default=position)
    end = next((s for s in subjects if s > position), None)
    first = subjects[0] if subjects else position
    for time in times:
        if time.start >= start and (end is None or time.start < end):
            return time
        if time.start < first and start == first:
            return time
    return None


def _contradicted(statement: Statement, endings: list[EndingStatement]) -> bool:
    return any(
        ending.predicate == statement.predicate
        and (ending.object == statement.object or statement.stand_in)
        for ending in endings
    )


class _Batch:
    """One request's worth of extraction state."""

    def __init__(self, request: ExtractionRequest) -> None:
        self.request = request
        self.people = participants(request)
        surfaces: list[tuple[str, str, str]] = [(p, p, "Person") for p in self.people]
        for entity in request.known_entities:
            surfaces.append((entity.name, entity.name, entity.type))
            surfaces.extend((alias, entity.name, entity.type) for alias in entity.aliases)
        self.known = KnownNames(surfaces)
        self.texts = [normalize(e.content) for e in request.episodes]
        self.seen_names = context_names([e.content for e in (*request.recent, *request.episodes)])
        self.book = EntityBook()
        self.facts: list[ExtractedFact] = []
        self.endings: list[ExtractedEnding] = []
        self._fact_keys: set[tuple[str, str, str, int]] = set()

    def run(self) -> Extraction:
        for index, episode in enumerate(self.request.episodes):
            speaker = speaker_name(episode, self.request.user_name)
            self.book.add(speaker, "Person", index, settled=True)
            speech = Speech(speaker, addressee(speaker, self.people), self.known)
            text = self.texts[index]
            collect_mentions(
                text,
                index,
                self.book,
                speaker=speaker,
                known=self.known,
                people=self.people,
                seen_names=self.seen_names,
            )
            for sentence in split_sentences(text):
                self._sentence(sentence, speech, index, episode.valid_at)
        return Extraction(entities=self.book.entities(), facts=self.facts, endings=self.endings)

    def _sentence(self, sentence: Sentence, speech: Speech, index: int, said_at: datetime) -> None:
        if sentence.is_question:
            return
        statements: list[Statement] = []
        anchors = patterns.anchors(sentence.text)
        for position, anchor in anchors:
            if not is_asserted(sentence, position) or in_relative_clause(sentence, position):
                continue
            statements.extend(patterns.match_statements(sentence.text, position, anchor, speech))
            if anchor == "i":
                statements.extend(relations.match_having(sentence.text, position, speech))
        statements.extend(
            s
            for s in (
                *relations.match_relations(sentence.text, speech),
                *third_person.match_third_person(sentence.text, speech),
            )
            if is_asserted(sentence, s.position)
        )
        endings, moved = match_endings(sentence, speech)
        if endings:  # "I broke up with my boyfriend" does not say "has a boyfriend"
            statements = [s for s in statements if not _contradicted(s, endings)]
        statements.extend(moved)
        if not statements and not endings:
            return
        times = find_time_expressions(sentence.text, said_at)
        subjects = [position for position, anchor in anchors if anchor != "my"]
        for statement in statements:
            when = _time_for(statement.position, times, subjects)
            self._add_fact(statement, index, said_at, when)
        for ending in endings:
            self._add_ending(ending, index, said_at, _time_for(ending.position, times, subjects))

    def _add_fact(
        self, statement: Statement, index: int, said_at: datetime, when: ResolvedTime | None
    ) -> None:
        key = (statement.subject, statement.predicate, statement.object.lower(), index)
        if (
            key in self._fact_keys
            or statement.object.lower() == statement.subject.lower()
            or len(statement.object) > MAX_NAME_LENGTH
            or len(statement.fact) > _MAX_SENTENCE
        ):
            return
        self._fact_keys.add(key)
        stated_at = when.value if when is not None and statement.dated else None
        if statement.ended:
            valid_at = stated_at if stated_at is not None and stated_at < said_at else None
            invalid_at: datetime | None = said_at
        else:
            valid_at, invalid_at = stated_at or said_at, None
        self.book.add(statement.subject, statement.subject_type, index, settled=True)
        self.book.add(statement.object, statement.object_type, index, settled=True)
        self.facts.append(
            ExtractedFact(
                subject=statement.subject,
                predicate=statement.predicate,
                object=statement.object,
                fact=statement.fact,
                valid_at=valid_at,
                invalid_at=invalid_at,
                confidence=statement.confidence,
                episode=index,
            )
        )

    def _add_ending(
        self, ending: EndingStatement, index: int, said_at: datetime, when: ResolvedTime | None
    ) -> None:
        ended_at = when.value if when is not None and when.value <= said_at else said_at
        if ending.object is not None:
            self.book.add(ending.object, ending.object_type, index, settled=True)
        self.endings.append(
            ExtractedEnding(
                subject=ending.subject,
                predicate=ending.predicate,
                object=ending.object,
                ended_at=ended_at,
                episode=index,
            )
        )
