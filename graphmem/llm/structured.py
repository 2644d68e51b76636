"""Forced tool calls whose input must pass validation, with one repair round.

When a model's tool input fails validation, the validation errors go back to it as
the tool's (error) result and it is asked for a corrected call. One repair is
usually enough; a second failure is an :class:`~graphmem.errors.LLMError`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import ValidationError

from graphmem.errors import LLMError
from graphmem.llm.base import LLM, ChatMessage, ToolCall, ToolCallResult, ToolFeedback, ToolSpec
from graphmem.models.results import LLMUsage

T = TypeVar("T")

_MAX_LISTED_ERRORS = 20
_MAX_INPUT_EXCERPT = 80


@dataclass(frozen=True, slots=True)
class StructuredOutcome(Generic[T]):
    """A validated tool input (None when the output was cut off) and what it cost."""

    value: T | None
    usage: LLMUsage
    attempts: int
    truncated: bool = False


def call_validated(
    llm: LLM,
    *,
    system: str,
    messages: list[ChatMessage],
    tool: ToolSpec,
    parse: Callable[[dict[str, Any]], T],
    max_repairs: int = 1,
    max_tokens: int | None = None,
) -> StructuredOutcome[T]:
    """Force ``tool``, validate its input with ``parse``, and repair invalid input.

    ``parse`` raises :class:`ValueError` (pydantic's ``ValidationError`` included) for
    input it rejects. Output cut off at the token limit is returned with
    ``truncated=True`` and no value: repairing it would only be cut off again.
    """
    conversation = list(messages)
    usage = LLMUsage()
    complaint = ""
    for attempt in range(1, max_repairs + 2):
        result = llm.call_tool(
            system=system, messages=conversation, tool=tool, max_tokens=max_tokens
        )
        usage = usage + result.usage
        if result.truncated:
            return StructuredOutcome(value=None, usage=usage, attempts=attempt, truncated=True)
        if result.problem is None:
            try:
                return StructuredOutcome(
                    value=parse(result.arguments), usage=usage, attempts=attempt
                )
            except ValueError as exc:
                complaint = describe_invalid_input(exc)
        else:
            complaint = result.problem
        conversation.extend(repair_messages(result, tool, complaint))
    raise LLMError(
        f"{llm.name} model {llm.model} returned invalid {tool.name} input "
        f"{max_repairs + 1} times; last problem: {complaint[:1000]}"
    )


def repair_messages(result: ToolCallResult, tool: ToolSpec, complaint: str) -> list[ChatMessage]:
    """The model's rejected output and our feedback, to append before asking again."""
    request = (
        f"Call the {tool.name} tool again with corrected, complete input. "
        "Keep everything that was valid; fix only what the errors name."
    )
    if result.call_id is not None:
        return [
            ChatMessage(
                role="assistant",
                content=result.text,
                tool_call=ToolCall(
                    id=result.call_id, name=tool.name, raw_arguments=result.raw_arguments
                ),
            ),
            ChatMessage(
                role="user",
                content=request,
                tool_feedback=ToolFeedback(
                    call_id=result.call_id, content=f"Invalid input:\n{complaint}"
                ),
            ),
        ]
    said = result.text or result.raw_arguments or "(no tool call)"
    return [
        ChatMessage(role="assistant", content=said),
        ChatMessage(role="user", content=f"That was not a valid tool call: {complaint}\n{request}"),
    ]


def describe_invalid_input(exc: ValueError) -> str:
    """Readable validation errors, one per line, with where and what went wrong."""
    if not isinstance(exc, ValidationError):
        return str(exc)
    lines = []
    for error in exc.errors()[:_MAX_LISTED_ERRORS]:
        where = ".".join(str(part) for part in error["loc"]) or "(input)"
        given = repr(error.get("input"))
        if len(given) > _MAX_INPUT_EXCERPT:
            given = given[: _MAX_INPUT_EXCERPT - 3] + "..."
        lines.append(f"- {where}: {error['msg']} (got {given})")
    hidden = exc.error_count() - _MAX_LISTED_ERRORS
    if hidden > 0:
        lines.append(f"- ... and {hidden} more errors")
    return "\n".join(lines)
