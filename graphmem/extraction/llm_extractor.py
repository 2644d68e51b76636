"""The LLM extractor: one forced tool call per batch of turns, validated and cleaned.

The model's output is untrusted. Fields the schema does not define (ids, scopes,
anything else) are discarded, facts without a usable subject or object are dropped
and counted, list sizes are bounded, turn indices are checked against the batch,
and the result must validate as an :class:`Extraction` (one repair round otherwise).
Nothing here writes: the caller stores the outcome only after extraction succeeded.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphmem.errors import InvalidInputError, LLMError
from graphmem.extraction.base import ExtractionOutcome, ExtractionRequest, KnownEntity
from graphmem.extraction.models import (
    ExtractedEnding,
    ExtractedEntity,
    ExtractedFact,
    Extraction,
)
from graphmem.extraction.prompt import (
    MAX_ENDINGS,
    MAX_ENTITIES,
    MAX_FACTS,
    MAX_INSTRUCTIONS_CHARS,
    build_system_prompt,
    extraction_tool,
    render_batch,
)
from graphmem.llm.base import LLM, ChatMessage
from graphmem.llm.structured import call_validated
from graphmem.models.records import Episode
from graphmem.models.results import LLMUsage

logger = logging.getLogger(__name__)

_ID_SHAPED = re.compile(
    r"^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$", re.IGNORECASE
)
_UNKNOWN_DATES = frozenset({"", "unknown", "null", "none", "n/a", "na"})
_DATE_FIELDS = ("valid_at", "invalid_at", "ended_at")
_SECTIONS: tuple[tuple[str, type[Any], int], ...] = (
    ("entities", ExtractedEntity, MAX_ENTITIES),
    ("facts", ExtractedFact, MAX_FACTS),
    ("endings", ExtractedEnding, MAX_ENDINGS),
)


@dataclass(slots=True)
class ExtractionStats:
    """Running counts of what the extractor had to repair, drop or clip."""

    calls: int = 0
    repairs: int = 0
    split_batches: int = 0
    dropped_entities: int = 0
    dropped_facts: int = 0
    dropped_endings: int = 0
    clipped_items: int = 0


@dataclass(slots=True)
class _Dropped:
    entities: int = 0
    facts: int = 0
    endings: int = 0
    clipped: int = 0


@dataclass(frozen=True, slots=True)
class _BatchResult:
    extraction: Extraction
    usage: LLMUsage


class LLMExtractor:
    """Extracts entities, facts and endings with an LLM, one call per batch of turns.

    ``instructions`` are the application's own guidance on what to remember and what
    not to; they are appended to the shared prompt in a delimited section.
    """

    def __init__(
        self,
        llm: LLM,
        *,
        instructions: str | None = None,
        max_turns_per_call: int = 20,
        context_turns: int = 10,
        max_known_entities: int = 200,
    ) -> None:
        if max_turns_per_call < 1:
            raise InvalidInputError("max_turns_per_call must be at least 1")
        if context_turns < 0 or max_known_entities < 0:
            raise InvalidInputError("context_turns and max_known_entities must be >= 0")
        if instructions is not None and len(instructions) > MAX_INSTRUCTIONS_CHARS:
            raise InvalidInputError(
                f"extraction instructions are limited to {MAX_INSTRUCTIONS_CHARS} characters"
            )
        self.llm = llm
        self.instructions = instructions
        self.max_turns_per_call = max_turns_per_call
        self.context_turns = context_turns
        self.max_known_entities = max_known_entities
        self.stats = ExtractionStats()
        self._system = build_system_prompt(instructions)
        self._tool = extraction_tool()

    @property
    def name(self) -> str:
        """``llm:anthropic`` or ``llm:openai``."""
        return f"llm:{self.llm.name}"

    def __repr__(self) -> str:
        return f"LLMExtractor(llm={self.llm!r}, max_turns_per_call={self.max_turns_per_call})"

    def extract(self, request: ExtractionRequest) -> ExtractionOutcome:
        """Extract from ``request.episodes`` in batches of ``max_turns_per_call`` turns.

        Raises :class:`~graphmem.errors.LLMError` if the provider fails after retries or
        its output stays invalid after a repair round.
        """
        episodes = request.episodes
        if not episodes:
            return ExtractionOutcome(extraction=Extraction())
        usage = LLMUsage()
        parts: list[tuple[int, int, Extraction]] = []
        for start in range(0, len(episodes), self.max_turns_per_call):
            batch = episodes[start : start + self.max_turns_per_call]
            context = self._window([*request.recent, *episodes[:start]])
            for offset, size, result in self._extract_batch(batch, context, request, start):
                usage = usage + result.usage
                parts.append((offset, size, result.extraction))
        merged = parts[0][2] if len(parts) == 1 else _merge(parts)
        return ExtractionOutcome(extraction=merged, usage=usage)

    def _extract_batch(
        self,
        batch: Sequence[Episode],
        context: Sequence[Episode],
        request: ExtractionRequest,
        offset: int,
    ) -> list[tuple[int, int, _BatchResult]]:
        oldest_kept = max(len(request.known_entities) - self.max_known_entities, 0)
        known = list(request.known_entities[oldest_kept:])  # the most recently updated
        prompt = render_batch(
            batch, context=context, known_entities=known, speakers=request.speakers
        )
        outcome = call_validated(
            self.llm,
            system=self._system,
            messages=[ChatMessage(role="user", content=prompt)],
            tool=self._tool,
            parse=lambda arguments: _parse(arguments, len(batch), known),
        )
        self.stats.calls += outcome.attempts
        self.stats.repairs += outcome.attempts - 1
        if outcome.value is None:
            # Cut off at the token limit: fewer turns per call means less output per call.
            if len(batch) == 1:
                raise LLMError(
                    f"{self.llm.name} output was cut off at the token limit for a single "
                    "turn; raise max_tokens"
                )
            self.stats.split_batches += 1
            half = len(batch) // 2
            first = self._extract_batch(batch[:half], context, request, offset)
            later_context = self._window([*context, *batch[:half]])
            second = self._extract_batch(batch[half:], later_context, request, offset + half)
            # The truncated call's tokens were spent too; charge them to the first half.
            start, size, result = first[0]
            first[0] = (start, size, _BatchResult(result.extraction, result.usage + outcome.usage))
            return first + second
        extraction, dropped = outcome.value
        self._count(dropped)
        return [(offset, len(batch), _BatchResult(extraction, outcome.usage))]

    def _window(self, earlier: list[Episode]) -> list[Episode]:
        """The last ``context_turns`` of ``earlier`` (none at all when it is 0)."""
        return earlier[-self.context_turns :] if self.context_turns else []

    def _count(self, dropped: _Dropped) -> None:
        self.stats.dropped_entities += dropped.entities
        self.stats.dropped_facts += dropped.facts
        self.stats.dropped_endings += dropped.endings
        self.stats.clipped_items += dropped.clipped
        if dropped.entities or dropped.facts or dropped.endings or dropped.clipped:
            logger.info(
                "extraction output cleaned: dropped %d entities, %d facts, %d endings; "
                "clipped %d items over the list bounds",
                dropped.entities,
                dropped.facts,
                dropped.endings,
                dropped.clipped,
            )


def _parse(
    arguments: dict[str, Any], batch_size: int, known: Sequence[KnownEntity]
) -> tuple[Extraction, _Dropped]:
    """Clean the raw tool input, validate it, and check it against the batch."""
    dropped = _Dropped()
    extraction = Extraction.model_validate(_clean(arguments, dropped))
    return _check_against_batch(extraction, batch_size, known, dropped), dropped


def _clean(arguments: dict[str, Any], dropped: _Dropped) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for section, model, bound in _SECTIONS:
        items = arguments.get(section)
        if items is None:
            cleaned[section] = []
            continue
        if not isinstance(items, list):
            cleaned[section] = items  # let validation name the problem
            continue
        allowed = set(model.model_fields)
        kept: list[Any] = []
        for item in items:
            if isinstance(item, dict):
                item = {key: value for key, value in item.items() if key in allowed}
                if not _usable(section, item):
                    setattr(dropped, section, getattr(dropped, section) + 1)
                    continue
                for key in _DATE_FIELDS:
                    if key in item:
                        item[key] = _lenient_date(item[key])
            kept.append(item)
        if len(kept) > bound:
            dropped.clipped += len(kept) - bound
            kept = kept[:bound]
        cleaned[section] = kept
    return cleaned


def _usable(section: str, item: dict[str, Any]) -> bool:
    """False for items that name no entity, or point at one by something id-shaped."""
    if section == "entities":
        return _is_name(item.get("name"))
    if section == "facts":
        return _is_name(item.get("subject")) and _is_name(item.get("object"))
    obj = item.get("object")
    return _is_name(item.get("subject")) and (obj is None or obj == "" or _is_name(obj))


def _is_name(value: object) -> bool:
    if not isinstance(value, str):
        return value is not None and not isinstance(value, (dict, list))
    stripped = value.strip()
    return bool(stripped) and not _ID_SHAPED.match(stripped)


def _lenient_date(value: object) -> object:
    """Read dates models commonly write (no zone, date only, "unknown") as UTC or null."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in _UNKNOWN_DATES:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return value
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.isoformat()


def _check_against_batch(
    extraction: Extraction, size: int, known: Sequence[KnownEntity], dropped: _Dropped
) -> Extraction:
    facts = [fact for fact in extraction.facts if fact.episode < size]
    endings = [ending for ending in extraction.endings if ending.episode < size]
    dropped.facts += len(extraction.facts) - len(facts)
    dropped.endings += len(extraction.endings) - len(endings)
    entities = _dedupe_entities(
        [
            entity.model_copy(
                update={"episodes": sorted({i for i in entity.episodes if 0 <= i < size})}
            )
            for entity in extraction.entities
        ]
    )
    # A fact may name an entity the model forgot to list; list it so nothing dangles.
    listed = {name.casefold() for entity in entities for name in (entity.name, *entity.aliases)}
    known_types = {entity.name.casefold(): entity.type for entity in known}
    for fact in facts:
        for name in (fact.subject, fact.object):
            if name.casefold() not in listed and len(entities) < MAX_ENTITIES:
                listed.add(name.casefold())
                entities.append(
                    ExtractedEntity(
                        name=name,
                        type=known_types.get(name.casefold(), "Thing"),
                        episodes=[fact.episode],
                    )
                )
    return Extraction(entities=entities, facts=facts, endings=endings)


def _dedupe_entities(entities: list[ExtractedEntity]) -> list[ExtractedEntity]:
    by_name: dict[str, ExtractedEntity] = {}
    for entity in entities:
        key = entity.name.casefold()
        seen = by_name.get(key)
        if seen is None:
            by_name[key] = entity
            continue
        aliases = list(dict.fromkeys([*seen.aliases, *entity.aliases]))
        # An empty episode list means "every turn of the batch", which absorbs the other.
        episodes = (
            []
            if not seen.episodes or not entity.episodes
            else sorted({*seen.episodes, *entity.episodes})
        )
        by_name[key] = seen.model_copy(update={"aliases": aliases[:20], "episodes": episodes})
    return list(by_name.values())


def _merge(parts: Sequence[tuple[int, int, Extraction]]) -> Extraction:
    """One extraction for the whole request, episode positions shifted to request order."""
    entities: list[ExtractedEntity] = []
    facts: list[ExtractedFact] = []
    endings: list[ExtractedEnding] = []
    for offset, size, extraction in parts:
        for entity in extraction.entities:
            positions = entity.episodes or list(range(size))
            entities.append(entity.model_copy(update={"episodes": [offset + i for i in positions]}))
        facts.extend(f.model_copy(update={"episode": f.episode + offset}) for f in extraction.facts)
        endings.extend(
            e.model_copy(update={"episode": e.episode + offset}) for e in extraction.endings
        )
    return Extraction(entities=_dedupe_entities(entities), facts=facts, endings=endings)
