"""Claude through the official ``anthropic`` SDK (Messages API, forced tool use)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, cast

import anthropic
import httpx2

from graphmem.errors import LLMNotConfiguredError
from graphmem.llm.base import ChatMessage, ImageInput, TextResult, ToolCallResult, ToolSpec
from graphmem.llm.config import DEFAULT_ANTHROPIC_MODEL
from graphmem.llm.failures import SdkErrorTypes, display_url, redact, send_with_retries
from graphmem.llm.retry import RetryPolicy
from graphmem.models.results import LLMUsage

_ERRORS = SdkErrorTypes(
    base=anthropic.AnthropicError,
    status=anthropic.APIStatusError,
    timeout=anthropic.APITimeoutError,
    connection=anthropic.APIConnectionError,
)
_TRUNCATING_STOPS = frozenset({"max_tokens", "model_context_window_exceeded"})


class AnthropicLLM:
    """A Claude model behind the :class:`~graphmem.llm.base.LLM` interface.

    The SDK's own retries are switched off: graphmem's :class:`RetryPolicy` retries
    instead, so that backoff is uniform across providers and testable.
    """

    name = "anthropic"

    def __init__(
        self,
        *,
        model: str = DEFAULT_ANTHROPIC_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        max_tokens: int = 4096,
        http_client: httpx2.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        self.model = model
        self.max_tokens = max_tokens
        self._api_key = api_key
        self._retry = retry_policy or RetryPolicy(max_retries=max_retries)
        options: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
        if api_key is not None:
            options["api_key"] = api_key
        if base_url is not None:
            options["base_url"] = base_url
        if http_client is not None:
            options["http_client"] = http_client
        try:
            self._client = anthropic.Anthropic(**options)
        except anthropic.AnthropicError as exc:
            raise LLMNotConfiguredError(
                f"cannot create the Anthropic client (set ANTHROPIC_API_KEY or pass api_key): "
                f"{redact(str(exc), [api_key])}"
            ) from None
        if not (self._client.api_key or self._client.auth_token or self._client.credentials):
            raise LLMNotConfiguredError(
                "Anthropic selected but no credentials found: set ANTHROPIC_API_KEY or pass api_key"
            )

    def __repr__(self) -> str:
        return (
            f"AnthropicLLM(model={self.model!r}, base_url={display_url(self._client.base_url)!r})"
        )

    def call_tool(
        self,
        *,
        system: str,
        messages: list[ChatMessage],
        tool: ToolSpec,
        max_tokens: int | None = None,
    ) -> ToolCallResult:
        """Send the conversation with ``tool`` forced (one call, no parallel tool use)."""
        payload = to_anthropic_messages(messages)
        tool_param = {
            "name": tool.name,
            "description": tool.description,
            "input_schema": tool.input_schema,
        }
        message = self._send(
            lambda: self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens or self.max_tokens,
                system=system,
                messages=cast(Any, payload),
                tools=cast(Any, [tool_param]),
                tool_choice={"type": "tool", "name": tool.name, "disable_parallel_tool_use": True},
            )
        )
        stop_reason = message.stop_reason
        truncated = stop_reason in _TRUNCATING_STOPS
        text = "".join(block.text for block in message.content if block.type == "text")
        usage = _usage(message.usage)
        for block in message.content:
            if block.type == "tool_use" and block.name == tool.name:
                arguments: object = block.input
                raw = json.dumps(arguments, ensure_ascii=False)
                if not isinstance(arguments, dict):
                    return ToolCallResult(
                        arguments={},
                        usage=usage,
                        stop_reason=stop_reason,
                        call_id=block.id,
                        raw_arguments=raw,
                        problem="the tool input must be a JSON object",
                        truncated=truncated,
                        text=text,
                    )
                return ToolCallResult(
                    arguments=cast(dict[str, Any], arguments),
                    usage=usage,
                    stop_reason=stop_reason,
                    call_id=block.id,
                    raw_arguments=raw,
                    truncated=truncated,
                    text=text,
                )
        return ToolCallResult(
            arguments={},
            usage=usage,
            stop_reason=stop_reason,
            problem=f"the model did not call the {tool.name} tool (stop reason {stop_reason})",
            truncated=truncated,
            text=text,
        )

    def complete(
        self, *, system: str, messages: list[ChatMessage], max_tokens: int = 1024
    ) -> TextResult:
        """Send the conversation and return Claude's text reply."""
        payload = to_anthropic_messages(messages)
        message = self._send(
            lambda: self._client.messages.create(
                model=self.model,
                max_tokens=max_tokens,
                system=system,
                messages=cast(Any, payload),
            )
        )
        return TextResult(
            text="".join(block.text for block in message.content if block.type == "text"),
            usage=_usage(message.usage),
            stop_reason=message.stop_reason,
            truncated=message.stop_reason in _TRUNCATING_STOPS,
        )

    def _send(self, request: Callable[[], anthropic.types.Message]) -> anthropic.types.Message:
        result: anthropic.types.Message = send_with_retries(
            request,
            provider=self.name,
            model=self.model,
            policy=self._retry,
            types=_ERRORS,
            secrets=[self._api_key],
        )
        return result


def to_anthropic_messages(messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Messages API ``messages``: tool calls as ``tool_use``, feedback as ``tool_result``."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        blocks: list[dict[str, Any]] = []
        if message.role == "user" and message.tool_feedback is not None:
            # The API wants tool results before any text in the same user message.
            blocks.append(
                {
                    "type": "tool_result",
                    "tool_use_id": message.tool_feedback.call_id,
                    "content": message.tool_feedback.content,
                    "is_error": message.tool_feedback.is_error,
                }
            )
        blocks.extend(_image_block(image) for image in message.images)
        if message.content:
            blocks.append({"type": "text", "text": message.content})
        if message.role == "assistant" and message.tool_call is not None:
            blocks.append(
                {
                    "type": "tool_use",
                    "id": message.tool_call.id,
                    "name": message.tool_call.name,
                    "input": _object_or_empty(message.tool_call.raw_arguments),
                }
            )
        converted.append({"role": message.role, "content": blocks})
    return converted


def _image_block(image: ImageInput) -> dict[str, Any]:
    """An ``image`` content block: a URL source, or base64 data with its media type."""
    if image.url is not None:
        return {"type": "image", "source": {"type": "url", "url": image.url}}
    if image.data is None or image.media_type is None:
        raise ValueError("an ImageInput needs a url, or data with a media_type")
    encoded = base64.b64encode(image.data).decode("ascii")
    return {
        "type": "image",
        "source": {"type": "base64", "media_type": image.media_type, "data": encoded},
    }


def _object_or_empty(raw: str) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return cast(dict[str, Any], value) if isinstance(value, dict) else {}


def _usage(usage: anthropic.types.Usage) -> LLMUsage:
    # Cached prompt tokens are reported apart from input_tokens; all of them were read.
    cached = (usage.cache_creation_input_tokens or 0) + (usage.cache_read_input_tokens or 0)
    return LLMUsage(
        calls=1, input_tokens=usage.input_tokens + cached, output_tokens=usage.output_tokens
    )
