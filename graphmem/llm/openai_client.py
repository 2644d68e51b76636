"""OpenAI and OpenAI-compatible servers (Ollama, vLLM, LM Studio) via the ``openai`` SDK."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, cast

import httpx2
import openai
from openai.types.chat import ChatCompletion

from graphmem.errors import LLMNotConfiguredError
from graphmem.llm.base import ChatMessage, ImageInput, TextResult, ToolCallResult, ToolSpec
from graphmem.llm.config import DEFAULT_OPENAI_MODEL
from graphmem.llm.failures import SdkErrorTypes, display_url, redact, send_with_retries
from graphmem.llm.retry import RetryPolicy
from graphmem.models.results import LLMUsage

OPENAI_BASE_URL = "https://api.openai.com/v1"
LOCAL_SERVER_API_KEY = "not-needed"
"""Sent to servers that take no key (Ollama, LM Studio); the SDK insists on one."""

_ERRORS = SdkErrorTypes(
    base=openai.OpenAIError,
    status=openai.APIStatusError,
    timeout=openai.APITimeoutError,
    connection=openai.APIConnectionError,
)
_FENCE = re.compile(r"^```(?:json)?\s*(.*?)\s*```$", re.DOTALL)


class OpenAILLM:
    """A Chat Completions model behind the :class:`~graphmem.llm.base.LLM` interface.

    With ``base_url`` unset it talks to OpenAI and sends ``max_completion_tokens``;
    with a ``base_url`` it assumes a compatible server and sends the widely supported
    ``max_tokens``. Models that answer with a JSON object in plain text instead of a
    tool call (common with small local models) are accepted; the JSON is validated
    like any tool input.
    """

    name = "openai"

    def __init__(
        self,
        *,
        model: str = DEFAULT_OPENAI_MODEL,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 4,
        max_tokens: int = 4096,
        http_client: httpx2.Client | None = None,
        retry_policy: RetryPolicy | None = None,
    ) -> None:
        if api_key is None and base_url is None:
            raise LLMNotConfiguredError(
                "OpenAI selected but no API key: set OPENAI_API_KEY, or OPENAI_BASE_URL "
                "for a local OpenAI-compatible server"
            )
        self.model = model
        self.max_tokens = max_tokens
        self._api_key = api_key
        self._official = base_url is None
        self._retry = retry_policy or RetryPolicy(max_retries=max_retries)
        try:
            self._client = openai.OpenAI(
                api_key=api_key or LOCAL_SERVER_API_KEY,
                base_url=base_url or OPENAI_BASE_URL,
                timeout=timeout,
                max_retries=0,
                http_client=http_client,
            )
        except openai.OpenAIError as exc:
            raise LLMNotConfiguredError(
                f"cannot create the OpenAI client: {redact(str(exc), [api_key])}"
            ) from None

    def __repr__(self) -> str:
        return f"OpenAILLM(model={self.model!r}, base_url={display_url(self._client.base_url)!r})"

    def call_tool(
        self,
        *,
        system: str,
        messages: list[ChatMessage],
        tool: ToolSpec,
        max_tokens: int | None = None,
    ) -> ToolCallResult:
        """Send the conversation with ``tool`` forced through ``tool_choice``."""
        payload = to_openai_messages(system, messages)
        tool_param = {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.input_schema,
            },
        }
        completion = self._send(
            lambda: self._client.chat.completions.create(
                model=self.model,
                messages=cast(Any, payload),
                tools=cast(Any, [tool_param]),
                tool_choice={"type": "function", "function": {"name": tool.name}},
                **self._token_limit(max_tokens or self.max_tokens),
            )
        )
        return _tool_result(completion, tool.name)

    def complete(
        self, *, system: str, messages: list[ChatMessage], max_tokens: int = 1024
    ) -> TextResult:
        """Send the conversation and return the model's text reply."""
        completion = self._send(
            lambda: self._client.chat.completions.create(
                model=self.model,
                messages=cast(Any, to_openai_messages(system, messages)),
                **self._token_limit(max_tokens),
            )
        )
        choice = completion.choices[0] if completion.choices else None
        finish = choice.finish_reason if choice is not None else None
        return TextResult(
            text=(choice.message.content or "") if choice is not None else "",
            usage=_usage(completion),
            stop_reason=finish,
            truncated=finish == "length",
        )

    def _token_limit(self, limit: int) -> dict[str, Any]:
        if self._official:
            return {"max_completion_tokens": limit, "max_tokens": openai.omit}
        return {"max_completion_tokens": openai.omit, "max_tokens": limit}

    def _send(self, request: Callable[[], ChatCompletion]) -> ChatCompletion:
        result: ChatCompletion = send_with_retries(
            request,
            provider=self.name,
            model=self.model,
            policy=self._retry,
            types=_ERRORS,
            secrets=[self._api_key],
        )
        return result


def to_openai_messages(system: str, messages: list[ChatMessage]) -> list[dict[str, Any]]:
    """Chat Completions ``messages``: a system message, tool calls, ``tool`` replies."""
    converted: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in messages:
        if message.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": message.content or None}
            if message.tool_call is not None:
                entry["tool_calls"] = [
                    {
                        "id": message.tool_call.id,
                        "type": "function",
                        "function": {
                            "name": message.tool_call.name,
                            "arguments": message.tool_call.raw_arguments,
                        },
                    }
                ]
            converted.append(entry)
            continue
        if message.tool_feedback is not None:
            converted.append(
                {
                    "role": "tool",
                    "tool_call_id": message.tool_feedback.call_id,
                    "content": message.tool_feedback.content,
                }
            )
        if message.images:
            parts: list[dict[str, Any]] = [_image_part(image) for image in message.images]
            if message.content:
                parts.append({"type": "text", "text": message.content})
            converted.append({"role": "user", "content": parts})
        elif message.content:
            converted.append({"role": "user", "content": message.content})
    return converted


def _image_part(image: ImageInput) -> dict[str, Any]:
    """An ``image_url`` content part (inline images as base64 ``data:`` URLs)."""
    spec: dict[str, Any] = {"url": image.data_url()}
    if image.detail is not None:
        spec["detail"] = image.detail
    return {"type": "image_url", "image_url": spec}


def _tool_result(completion: ChatCompletion, tool_name: str) -> ToolCallResult:
    usage = _usage(completion)
    if not completion.choices:
        return ToolCallResult(
            arguments={}, usage=usage, stop_reason=None, problem="the response had no choices"
        )
    choice = completion.choices[0]
    finish = choice.finish_reason
    truncated = finish == "length"
    text = choice.message.content or ""
    for call in choice.message.tool_calls or []:
        if call.type != "function" or call.function.name != tool_name:
            continue
        raw = call.function.arguments or ""
        arguments, problem = _parse_object(raw)
        return ToolCallResult(
            arguments=arguments,
            usage=usage,
            stop_reason=finish,
            call_id=call.id,
            raw_arguments=raw,
            problem=problem,
            truncated=truncated,
            text=text,
        )
    arguments, problem = _parse_object(_strip_fence(text)) if text.strip() else ({}, "empty")
    if problem is None:
        return ToolCallResult(
            arguments=arguments,
            usage=usage,
            stop_reason=finish,
            raw_arguments=text,
            truncated=truncated,
            text=text,
        )
    return ToolCallResult(
        arguments={},
        usage=usage,
        stop_reason=finish,
        problem=f"the model did not call the {tool_name} tool (finish reason {finish})",
        truncated=truncated,
        text=text,
    )


def _parse_object(raw: str) -> tuple[dict[str, Any], str | None]:
    try:
        value = json.loads(raw)
    except ValueError as exc:
        return {}, f"the tool arguments are not valid JSON ({exc})"
    if not isinstance(value, dict):
        return {}, "the tool arguments must be a JSON object"
    return cast(dict[str, Any], value), None


def _strip_fence(text: str) -> str:
    match = _FENCE.match(text.strip())
    return match.group(1) if match else text.strip()


def _usage(completion: ChatCompletion) -> LLMUsage:
    usage = completion.usage
    if usage is None:  # some compatible servers omit usage
        return LLMUsage(calls=1)
    return LLMUsage(
        calls=1, input_tokens=usage.prompt_tokens or 0, output_tokens=usage.completion_tokens or 0
    )
