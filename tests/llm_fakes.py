"""Fake LLM provider HTTP APIs for tests: the real SDKs run, only HTTP is scripted.

Responses are shaped like the providers' documented APIs: Anthropic's Messages API
(``POST /v1/messages``) and OpenAI's Chat Completions (``POST /v1/chat/completions``),
including their error bodies and ``retry-after`` headers. A :class:`FakeProvider`
plugs into an SDK through ``http_client=fake.client()`` and records every request.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import deque
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx2

from graphmem.llm import LLM, LLMConfig, RetryPolicy, build_llm
from graphmem.models.records import Episode

Responder = Callable[[httpx2.Request], httpx2.Response]
Reply = httpx2.Response | Responder


def _time_out(request: httpx2.Request) -> httpx2.Response:
    raise httpx2.ReadTimeout("timed out", request=request)


TIMEOUT: Responder = _time_out
"""A scripted reply that makes the transport time out instead of answering."""

_ids = itertools.count(1)


class FakeProvider:
    """Answers requests with scripted replies in order, then with ``responder`` if set."""

    def __init__(self, *replies: Reply, responder: Responder | None = None) -> None:
        self._replies: deque[Reply] = deque(replies)
        self._responder = responder
        self.requests: list[httpx2.Request] = []

    def add(self, *replies: Reply) -> None:
        """Queue more replies."""
        self._replies.extend(replies)

    def client(self) -> httpx2.Client:
        """An HTTP client for the SDKs' ``http_client=`` option, served by this fake."""
        return httpx2.Client(transport=httpx2.MockTransport(self._handle))

    @property
    def bodies(self) -> list[dict[str, Any]]:
        """The JSON bodies of all requests so far."""
        return [json.loads(request.content) for request in self.requests]

    @property
    def calls(self) -> int:
        """How many HTTP requests reached the fake."""
        return len(self.requests)

    def _handle(self, request: httpx2.Request) -> httpx2.Response:
        self.requests.append(request)
        if self._replies:
            reply = self._replies.popleft()
        elif self._responder is not None:
            reply = self._responder
        else:
            raise AssertionError(f"unexpected request #{len(self.requests)} to {request.url}")
        if isinstance(reply, httpx2.Response):
            return reply
        return reply(request)


# --- Anthropic Messages API -------------------------------------------------------------


def anthropic_message(
    content: list[dict[str, Any]],
    *,
    stop_reason: str = "end_turn",
    input_tokens: int = 100,
    output_tokens: int = 50,
    cache_read_input_tokens: int = 0,
    model: str = "claude-haiku-5-5",
) -> httpx2.Response:
    """A ``200`` Messages API response with the given content blocks."""
    body = {
        "id": f"msg_01Fake{next(_ids):08d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cache_read_input_tokens,
            "output_tokens": output_tokens,
            "service_tier": "standard",
        },
    }
    return httpx2.Response(200, json=body, headers={"request-id": f"req_{next(_ids)}"})


def anthropic_tool_use(
    tool_input: dict[str, Any],
    *,
    name: str = "record_memories",
    stop_reason: str = "tool_use",
    input_tokens: int = 100,
    output_tokens: int = 50,
    cache_read_input_tokens: int = 0,
) -> httpx2.Response:
    """A response whose only content is one ``tool_use`` block."""
    block: dict[str, Any] = {
        "type": "tool_use",
        "id": f"toolu_01Fake{next(_ids):08d}",
        "name": name,
        "input": tool_input,
    }
    return anthropic_message(
        [block],
        stop_reason=stop_reason,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
        cache_read_input_tokens=cache_read_input_tokens,
    )


def anthropic_text(text: str, *, stop_reason: str = "end_turn") -> httpx2.Response:
    """A response with one text block and no tool call."""
    return anthropic_message([{"type": "text", "text": text}], stop_reason=stop_reason)


def anthropic_error(
    status: int, error_type: str, message: str, *, retry_after: str | None = None
) -> httpx2.Response:
    """An error response shaped like Anthropic's (``{"type": "error", "error": {...}}``)."""
    headers = {"request-id": f"req_{next(_ids)}"}
    if retry_after is not None:
        headers["retry-after"] = retry_after
    body = {"type": "error", "error": {"type": error_type, "message": message}}
    return httpx2.Response(status, json=body, headers=headers)


def anthropic_tool_responder(
    make_input: Callable[[list[dict[str, Any]]], dict[str, Any]],
) -> Responder:
    """Answers each request with a tool call built from the new turns it contains."""

    def respond(request: httpx2.Request) -> httpx2.Response:
        return anthropic_tool_use(make_input(new_turns(json.loads(request.content))))

    return respond


# --- OpenAI Chat Completions ------------------------------------------------------------


def openai_completion(
    message: dict[str, Any],
    *,
    finish_reason: str = "stop",
    prompt_tokens: int = 120,
    completion_tokens: int = 40,
    model: str = "gpt-4o-mini-2024-07-18",
    include_usage: bool = True,
) -> httpx2.Response:
    """A ``200`` Chat Completions response with one choice."""
    body: dict[str, Any] = {
        "id": f"chatcmpl-Fake{next(_ids):08d}",
        "object": "chat.completion",
        "created": 1_715_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "refusal": None, **message},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
        ],
        "system_fingerprint": "fp_fake",
    }
    if include_usage:
        body["usage"] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
    return httpx2.Response(200, json=body, headers={"x-request-id": f"req_{next(_ids)}"})


def openai_tool_call(
    arguments: dict[str, Any] | str,
    *,
    name: str = "record_memories",
    finish_reason: str = "tool_calls",
    prompt_tokens: int = 120,
    completion_tokens: int = 40,
) -> httpx2.Response:
    """A response with one function tool call; ``arguments`` is sent as a JSON string."""
    text = arguments if isinstance(arguments, str) else json.dumps(arguments)
    call = {
        "id": f"call_Fake{next(_ids):08d}",
        "type": "function",
        "function": {"name": name, "arguments": text},
    }
    return openai_completion(
        {"content": None, "tool_calls": [call]},
        finish_reason=finish_reason,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
    )


def openai_error(
    status: int,
    message: str,
    *,
    error_type: str = "server_error",
    code: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx2.Response:
    """An error response shaped like OpenAI's (``{"error": {...}}``)."""
    body = {"error": {"message": message, "type": error_type, "param": None, "code": code}}
    return httpx2.Response(status, json=body, headers=headers or {})


def openai_tool_responder(
    make_input: Callable[[list[dict[str, Any]]], dict[str, Any]],
) -> Responder:
    """Answers each request with a tool call built from the new turns it contains."""

    def respond(request: httpx2.Request) -> httpx2.Response:
        return openai_tool_call(make_input(new_turns(json.loads(request.content))))

    return respond


# --- Reading requests -------------------------------------------------------------------


def user_text(body: dict[str, Any]) -> str:
    """The text of a request's user messages (either provider), joined."""
    parts: list[str] = []
    for message in body["messages"]:
        if message["role"] != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(block.get("text", "") for block in content if block["type"] == "text")
    return "\n".join(parts)


def system_text(body: dict[str, Any]) -> str:
    """The system prompt of a request body (either provider)."""
    if "system" in body:
        system = body["system"]
        return system if isinstance(system, str) else "".join(b["text"] for b in system)
    return "".join(m["content"] for m in body["messages"] if m["role"] == "system")


def block_lines(text: str, tag: str) -> list[str]:
    """The lines between ``<tag>`` and ``</tag>`` in ``text``."""
    start = text.index(f"<{tag}>\n") + len(tag) + 3
    end = text.index(f"\n</{tag}>", start)
    return text[start:end].split("\n")


def new_turns(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON records of the new turns in the first user message of an extraction request."""
    return [json.loads(line) for line in block_lines(user_text(body), "new_turns")]


def fact_per_turn(turns: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """A plausible extraction: each turn's speaker mentions one topic named in the turn."""
    entities: list[dict[str, Any]] = []
    facts: list[dict[str, Any]] = []
    for turn in turns:
        topic = f"Topic {turn['text']}"
        entities.append({"name": turn["speaker"], "type": "Person", "episodes": [turn["index"]]})
        entities.append({"name": topic, "type": "Thing", "episodes": [turn["index"]]})
        facts.append(
            {
                "subject": turn["speaker"],
                "predicate": "talked_about",
                "object": topic,
                "fact": f"{turn['speaker']} talked about {topic}.",
                "episode": turn["index"],
            }
        )
    return {"entities": entities, "facts": facts, "endings": []}


# --- Building clients and turns ---------------------------------------------------------

ANTHROPIC_TEST_KEY = "sk-ant-api03-TESTKEY-0123456789abcdef"
OPENAI_TEST_KEY = "sk-proj-TESTKEY-0123456789abcdef"


class RecordedSleeps(list[float]):
    """An injectable ``sleep`` that records the requested delays instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def fake_llm(
    provider: str,
    fake: FakeProvider,
    *,
    sleeps: RecordedSleeps | None = None,
    max_retries: int = 4,
    **settings: Any,
) -> LLM:
    """An LLM client built the way applications build one, talking to ``fake``."""
    if "api_key" not in settings and "base_url" not in settings:
        settings["api_key"] = ANTHROPIC_TEST_KEY if provider == "anthropic" else OPENAI_TEST_KEY
    config = LLMConfig(provider=provider, max_retries=max_retries, **settings)
    policy = RetryPolicy(
        max_retries=max_retries,
        sleep=sleeps if sleeps is not None else RecordedSleeps(),
        rng=random.Random(7),
    )
    return build_llm(config, http_client=fake.client(), retry_policy=policy)


def turns(
    *texts: str,
    speaker: str | None = "Alice",
    start: datetime = datetime(2024, 5, 1, 9, 0, tzinfo=UTC),
    user_id: str = "alice",
) -> list[Episode]:
    """Episodes for ``texts``, one minute apart, said by ``speaker``."""
    return [
        Episode(
            content=text,
            name=speaker,
            role="user",
            valid_at=start + timedelta(minutes=i),
            user_id=user_id,
        )
        for i, text in enumerate(texts)
    ]
