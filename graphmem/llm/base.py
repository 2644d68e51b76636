"""The provider-neutral LLM interface: messages, tool specs, and call results.

graphmem talks to every provider through :class:`LLM`. A client forces one tool per
call and hands back the tool's arguments as a plain dict; validating them is the
caller's job, so that every provider's output goes through the same pydantic models.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

from graphmem.models.results import LLMUsage


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool the model is forced to call: its name, purpose and JSON-schema input."""

    name: str
    description: str
    input_schema: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model made earlier, replayed so that it can be corrected."""

    id: str
    name: str
    raw_arguments: str
    """The arguments exactly as the model produced them (JSON text, possibly invalid)."""


@dataclass(frozen=True, slots=True)
class ToolFeedback:
    """The reply to an earlier tool call: why its input was rejected."""

    call_id: str
    content: str
    is_error: bool = True


@dataclass(frozen=True, slots=True)
class ImageInput:
    """An image shown to a vision model: a remote ``url``, or inline ``data`` bytes."""

    url: str | None = None
    data: bytes | None = field(default=None, repr=False)
    media_type: str | None = None
    """The MIME type of inline ``data`` (``image/png``...)."""
    detail: str | None = None
    """OpenAI's ``low`` / ``high`` / ``auto`` (other providers ignore it)."""

    def data_url(self) -> str:
        """The image as a URL: ``url``, or a base64 ``data:`` URL of inline bytes."""
        if self.url is not None:
            return self.url
        if self.data is None or self.media_type is None:
            raise ValueError("an ImageInput needs a url, or data with a media_type")
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message of a conversation with the model.

    ``tool_call`` is only set on assistant messages and ``tool_feedback`` only on user
    messages; both exist so that a rejected tool call can be sent back for repair.
    ``images`` (user messages) are shown to the model before the text.
    """

    role: Literal["user", "assistant"]
    content: str = ""
    tool_call: ToolCall | None = None
    tool_feedback: ToolFeedback | None = None
    images: tuple[ImageInput, ...] = ()


@dataclass(frozen=True, slots=True)
class ToolCallResult:
    """What a forced tool call returned."""

    arguments: dict[str, Any]
    usage: LLMUsage
    stop_reason: str | None
    call_id: str | None = None
    """The provider's id of the tool call (None when the model answered without one)."""
    raw_arguments: str = ""
    problem: str | None = None
    """Why ``arguments`` could not be read (no tool call, invalid JSON); None if they could."""
    truncated: bool = False
    """True if the output hit the token limit, so the arguments may be incomplete."""
    text: str = field(default="", repr=False)
    """Any plain text the model produced alongside (or instead of) the tool call."""


@dataclass(frozen=True, slots=True)
class TextResult:
    """What a plain completion returned."""

    text: str
    usage: LLMUsage
    stop_reason: str | None
    truncated: bool = False


@runtime_checkable
class LLM(Protocol):
    """A chat model that can be forced to call one tool, or asked for plain text."""

    @property
    def name(self) -> str:
        """The provider: ``anthropic`` or ``openai``."""
        ...

    @property
    def model(self) -> str:
        """The model identifier sent to the provider."""
        ...

    def call_tool(
        self,
        *,
        system: str,
        messages: list[ChatMessage],
        tool: ToolSpec,
        max_tokens: int | None = None,
    ) -> ToolCallResult:
        """Send the conversation and force the model to call ``tool``.

        Raises :class:`~graphmem.errors.LLMError` when the provider fails after retries.
        """
        ...

    def complete(
        self, *, system: str, messages: list[ChatMessage], max_tokens: int = 1024
    ) -> TextResult:
        """Send the conversation and return the model's text reply."""
        ...
