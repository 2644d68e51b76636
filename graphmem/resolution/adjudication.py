"""Asking the LLM about mentions the scores could not settle, many per call.

The model sees each ambiguous mention with its numbered candidates and answers with
candidate numbers only; it never sees or returns record ids. Answers are validated,
and invalid ones go back once for repair (:func:`graphmem.llm.structured.call_validated`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from graphmem.errors import LLMError
from graphmem.llm.base import LLM, ChatMessage, ToolSpec
from graphmem.llm.structured import call_validated
from graphmem.models.records import Entity
from graphmem.models.results import LLMUsage
from graphmem.resolution.outcome import MatchMethod

logger = logging.getLogger(__name__)

_SUMMARY_CHARS = 200

SYSTEM_PROMPT = (
    "You maintain a personal knowledge graph. New mentions of entities arrive from a "
    "conversation; for each mention you are shown existing entities of the same user that "
    "might be the same real-world entity. Decide, for every mention, which candidate it "
    "refers to, or 0 if it refers to none of them. A similar name is not enough: different "
    "people can share a surname, different places a word. Choose a candidate only when "
    "the names (and types, aliases, summaries) make it clear they are the same entity. "
    "Answer by calling the tool with candidate numbers."
)

RESOLVE_TOOL = ToolSpec(
    name="resolve_mentions",
    description=(
        "Record which numbered candidate each numbered mention refers to; "
        "candidate 0 means none of them (a new entity)."
    ),
    input_schema={
        "type": "object",
        "properties": {
            "decisions": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "mention": {"type": "integer", "minimum": 1},
                        "candidate": {"type": "integer", "minimum": 0},
                    },
                    "required": ["mention", "candidate"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["decisions"],
        "additionalProperties": False,
    },
)


@dataclass(slots=True)
class Ambiguity:
    """A mention group whose candidates scored neither clearly in nor clearly out."""

    group: int
    name: str
    type: str
    aliases: list[str]
    candidates: list[Entity]
    """Best first; the model answers with 1-based positions in this list."""
    fallback: Entity | None = None
    """What to use without an answer (no LLM, or the LLM failed); None means a new entity."""
    fallback_method: MatchMethod = MatchMethod.NEW
    """The stage credited when the fallback is used."""


class _Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mention: int = Field(ge=1)
    candidate: int = Field(ge=0)


class _Decisions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decisions: list[_Decision]


@dataclass(slots=True)
class Adjudication:
    """The chosen candidate per ambiguity (None: a new entity) and what it cost."""

    choices: list[Entity | None]
    answered: list[bool]
    """False where the call failed and ``choices`` holds the ambiguity's fallback."""
    usage: LLMUsage
    calls: int
    failures: int


def adjudicate(llm: LLM, ambiguities: Sequence[Ambiguity], *, batch_size: int) -> Adjudication:
    """Settle ambiguities with one tool call per ``batch_size`` of them.

    A batch whose call fails (provider error, or output invalid after repair) falls
    back to each ambiguity's ``fallback``: resolution never fails because the model did.
    """
    choices: list[Entity | None] = []
    answered: list[bool] = []
    usage, calls, failures = LLMUsage(), 0, 0
    for start in range(0, len(ambiguities), batch_size):
        batch = list(ambiguities[start : start + batch_size])
        calls += 1
        try:
            outcome = call_validated(
                llm,
                system=SYSTEM_PROMPT,
                messages=[ChatMessage(role="user", content=_describe(batch))],
                tool=RESOLVE_TOOL,
                parse=partial(_parse, batch=batch),
            )
        except LLMError as exc:
            logger.warning("entity resolution falls back without the LLM: %s", exc)
            choices.extend(ambiguity.fallback for ambiguity in batch)
            answered.extend(False for _ in batch)
            failures += 1
            continue
        usage = usage + outcome.usage
        if outcome.value is None:  # cut off at the token limit
            choices.extend(ambiguity.fallback for ambiguity in batch)
            answered.extend(False for _ in batch)
            failures += 1
            continue
        choices.extend(outcome.value)
        answered.extend(True for _ in batch)
    return Adjudication(
        choices=choices, answered=answered, usage=usage, calls=calls, failures=failures
    )


def _describe(batch: Sequence[Ambiguity]) -> str:
    # JSON keeps names that contain quotes, newlines or instructions inert.
    payload = {
        "mentions": [
            {
                "mention": number,
                "name": ambiguity.name,
                "type": ambiguity.type,
                "aliases": ambiguity.aliases,
                "candidates": [
                    _describe_candidate(position, candidate)
                    for position, candidate in enumerate(ambiguity.candidates, start=1)
                ],
            }
            for number, ambiguity in enumerate(batch, start=1)
        ]
    }
    return (
        "For each mention, give the number of the candidate it refers to, or 0 for none. "
        "Answer every mention.\n\n" + json.dumps(payload, ensure_ascii=False, indent=1)
    )


def _describe_candidate(position: int, entity: Entity) -> dict[str, Any]:
    described: dict[str, Any] = {"candidate": position, "name": entity.name, "type": entity.type}
    if entity.aliases:
        described["aliases"] = entity.aliases
    if entity.summary:
        described["summary"] = entity.summary[:_SUMMARY_CHARS]
    return described


def _parse(arguments: dict[str, Any], *, batch: Sequence[Ambiguity]) -> list[Entity | None]:
    decisions = _Decisions.model_validate(arguments).decisions
    # A mention the model skipped keeps its fallback; only an explicit 0 means "none".
    chosen: list[Entity | None] = [ambiguity.fallback for ambiguity in batch]
    answered: set[int] = set()
    for decision in decisions:
        if decision.mention > len(batch):
            raise ValueError(f"there is no mention {decision.mention} (1-{len(batch)})")
        if decision.mention in answered:
            raise ValueError(f"mention {decision.mention} was answered twice")
        answered.add(decision.mention)
        candidates = batch[decision.mention - 1].candidates
        if decision.candidate > len(candidates):
            raise ValueError(
                f"mention {decision.mention} has no candidate {decision.candidate} "
                f"(0-{len(candidates)})"
            )
        chosen[decision.mention - 1] = (
            candidates[decision.candidate - 1] if decision.candidate else None
        )
    return chosen
