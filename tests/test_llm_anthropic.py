"""The Claude client through the real ``anthropic`` SDK, against a fake Messages API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from llm_fakes import (
    ANTHROPIC_TEST_KEY,
    TIMEOUT,
    FakeProvider,
    RecordedSleeps,
    anthropic_error,
    anthropic_text,
    anthropic_tool_responder,
    anthropic_tool_use,
    block_lines,
    fact_per_turn,
    fake_llm,
    new_turns,
    system_text,
    turns,
    user_text,
)

from graphmem.errors import LLMError, LLMNotConfiguredError
from graphmem.extraction.base import ExtractionRequest, KnownEntity
from graphmem.extraction.llm_extractor import LLMExtractor
from graphmem.extraction.prompt import extraction_json_schema
from graphmem.llm import ChatMessage, LLMConfig, build_llm, llm_from_env
from graphmem.models.results import LLMUsage

WORKS_AT: dict[str, Any] = {
    "entities": [
        {"name": "Alice", "type": "Person", "episodes": [0]},
        {"name": "Acme", "type": "Organization", "aliases": ["Acme Inc"], "episodes": [0]},
    ],
    "facts": [
        {
            "subject": "Alice",
            "predicate": "works_at",
            "object": "Acme",
            "fact": "Alice works at Acme.",
            "valid_at": "2024-04-30T00:00:00Z",
            "confidence": 0.95,
            "episode": 0,
        }
    ],
    "endings": [],
}


def _request(*texts: str) -> ExtractionRequest:
    return ExtractionRequest(episodes=turns(*texts))


def test_request_forces_the_tool_and_carries_turns_known_entities_and_instructions() -> None:
    fake = FakeProvider(anthropic_tool_use(WORKS_AT))
    extractor = LLMExtractor(
        fake_llm("anthropic", fake, model="claude-sonnet-5"),
        instructions="Never remember anything about pets.",
    )
    extractor.extract(
        ExtractionRequest(
            episodes=turns("I started at Acme yesterday."),
            recent=turns("Hi, I'm Alice.", start=datetime(2024, 4, 30, 8, 0, tzinfo=UTC)),
            known_entities=[KnownEntity("Acme", "Organization", ("Acme Inc",))],
            speakers=["Alice"],
        )
    )

    assert fake.calls == 1
    request = fake.requests[0]
    assert request.method == "POST"
    assert str(request.url) == "https://api.anthropic.com/v1/messages"
    auth = request.headers.get("x-api-key", "") + request.headers.get("authorization", "")
    assert ANTHROPIC_TEST_KEY in auth
    body = fake.bodies[0]
    assert body["model"] == "claude-sonnet-5"
    assert body["max_tokens"] == 4096
    assert [tool["name"] for tool in body["tools"]] == ["record_memories"]
    assert body["tools"][0]["input_schema"] == extraction_json_schema()
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "record_memories",
        "disable_parallel_tool_use": True,
    }
    instructions = block_lines(system_text(body), "operator_instructions")
    assert instructions == ["Never remember anything about pets."]
    text = user_text(body)
    assert new_turns(body) == [
        {
            "index": 0,
            "time": "2024-05-01T09:00:00Z",
            "weekday": "Wednesday",
            "speaker": "Alice",
            "role": "user",
            "text": "I started at Acme yesterday.",
        }
    ]
    assert block_lines(text, "known_entities") == [
        '{"name": "Acme", "type": "Organization", "aliases": ["Acme Inc"]}'
    ]
    (context,) = block_lines(text, "context_turns")
    assert '"text": "Hi, I\'m Alice."' in context
    assert '"index"' not in context


def test_default_model_is_the_small_claude_model() -> None:
    fake = FakeProvider(anthropic_tool_use(WORKS_AT))
    LLMExtractor(fake_llm("anthropic", fake)).extract(_request("I work at Acme."))
    assert fake.bodies[0]["model"] == "claude-haiku-5-5"
    assert LLMConfig(provider="anthropic").resolved_model == "claude-haiku-5-5"


def test_tool_use_becomes_a_validated_extraction_with_usage() -> None:
    fake = FakeProvider(
        anthropic_tool_use(
            WORKS_AT, input_tokens=900, output_tokens=120, cache_read_input_tokens=300
        )
    )
    outcome = LLMExtractor(fake_llm("anthropic", fake)).extract(_request("I work at Acme."))

    (fact,) = outcome.extraction.facts
    assert (fact.subject, fact.predicate, fact.object) == ("Alice", "works_at", "Acme")
    assert fact.valid_at == datetime(2024, 4, 30, tzinfo=UTC)
    assert fact.confidence == 0.95
    assert {e.name: e.type for e in outcome.extraction.entities} == {
        "Alice": "Person",
        "Acme": "Organization",
    }
    assert outcome.usage == LLMUsage(calls=1, input_tokens=1200, output_tokens=120)


def test_rate_limit_is_retried_after_the_providers_retry_after() -> None:
    sleeps = RecordedSleeps()
    fake = FakeProvider(
        anthropic_error(
            429,
            "rate_limit_error",
            "Number of request tokens has exceeded your per-minute rate limit",
            retry_after="7",
        ),
        anthropic_tool_use(WORKS_AT),
    )
    outcome = LLMExtractor(fake_llm("anthropic", fake, sleeps=sleeps)).extract(_request("Hi"))

    assert fake.calls == 2
    assert sleeps == [7.0]
    assert outcome.usage.calls == 1  # the rejected request produced no tokens
    assert len(outcome.extraction.facts) == 1


def test_server_errors_back_off_exponentially_with_jitter() -> None:
    sleeps = RecordedSleeps()
    fake = FakeProvider(
        anthropic_error(500, "api_error", "Internal server error"),
        anthropic_error(529, "overloaded_error", "Overloaded"),
        anthropic_error(503, "api_error", "Service unavailable"),
        anthropic_tool_use(WORKS_AT),
    )
    LLMExtractor(fake_llm("anthropic", fake, sleeps=sleeps)).extract(_request("Hi"))

    assert fake.calls == 4
    assert len(sleeps) == 3
    for retry, delay in enumerate(sleeps):
        ceiling = 2.0**retry
        assert ceiling / 2 <= delay <= ceiling


def test_persistent_server_error_raises_llm_error_after_max_retries() -> None:
    sleeps = RecordedSleeps()
    fake = FakeProvider(*[anthropic_error(500, "api_error", "Internal server error")] * 3)
    extractor = LLMExtractor(fake_llm("anthropic", fake, sleeps=sleeps, max_retries=2))

    with pytest.raises(LLMError, match=r"after 3 attempts.*HTTP 500 \(api_error\)"):
        extractor.extract(_request("Hi"))
    assert fake.calls == 3
    assert len(sleeps) == 2


def test_timeout_is_retried_and_a_persistent_one_raises() -> None:
    fake = FakeProvider(TIMEOUT, anthropic_tool_use(WORKS_AT))
    outcome = LLMExtractor(fake_llm("anthropic", fake)).extract(_request("Hi"))
    assert fake.calls == 2
    assert len(outcome.extraction.facts) == 1

    stuck = FakeProvider(TIMEOUT, TIMEOUT)
    with pytest.raises(LLMError, match="timed out"):
        LLMExtractor(fake_llm("anthropic", stuck, max_retries=1)).extract(_request("Hi"))
    assert stuck.calls == 2


def test_client_errors_are_not_retried() -> None:
    sleeps = RecordedSleeps()
    fake = FakeProvider(
        anthropic_error(400, "invalid_request_error", "max_tokens: must be at most 64000")
    )
    with pytest.raises(LLMError, match=r"HTTP 400 \(invalid_request_error\): max_tokens"):
        LLMExtractor(fake_llm("anthropic", fake, sleeps=sleeps)).extract(_request("Hi"))
    assert fake.calls == 1
    assert sleeps == []


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def test_api_key_never_appears_in_errors_or_reprs() -> None:
    fake = FakeProvider(
        anthropic_error(401, "authentication_error", f"invalid x-api-key {ANTHROPIC_TEST_KEY}")
    )
    llm = fake_llm("anthropic", fake)
    extractor = LLMExtractor(llm)
    with pytest.raises(LLMError) as caught:
        extractor.extract(_request("Hi"))

    assert "HTTP 401" in str(caught.value)
    for exc in _chain(caught.value):
        assert "TESTKEY" not in str(exc)
        assert "TESTKEY" not in repr(exc)
    config = LLMConfig(provider="anthropic", api_key=ANTHROPIC_TEST_KEY)
    for shown in (repr(llm), repr(extractor), repr(config), str(config), config.model_dump_json()):
        assert "TESTKEY" not in shown


def test_invalid_tool_input_is_repaired_with_the_validation_errors() -> None:
    broken = {
        "entities": [{"name": "Alice", "type": "Person"}],
        "facts": [{**WORKS_AT["facts"][0], "confidence": 5}],
    }
    first = anthropic_tool_use(broken)
    first_call_id = first.json()["content"][0]["id"]
    fake = FakeProvider(first, anthropic_tool_use(WORKS_AT))
    extractor = LLMExtractor(fake_llm("anthropic", fake))

    outcome = extractor.extract(_request("I work at Acme."))

    assert fake.calls == 2
    assert outcome.extraction.facts[0].confidence == 0.95
    assert outcome.usage.calls == 2
    assert extractor.stats.repairs == 1
    prompt, rejected, feedback = fake.bodies[1]["messages"]
    assert prompt == fake.bodies[0]["messages"][0]
    assert rejected == {
        "role": "assistant",
        "content": [
            {"type": "tool_use", "id": first_call_id, "name": "record_memories", "input": broken}
        ],
    }
    result, request_again = feedback["content"]
    assert result["type"] == "tool_result"
    assert result["tool_use_id"] == first_call_id
    assert result["is_error"] is True
    assert "facts.0.confidence" in result["content"]
    assert "less than or equal to 1" in result["content"]
    assert "record_memories" in request_again["text"]


def test_output_invalid_twice_raises_llm_error() -> None:
    broken = {"facts": [{**WORKS_AT["facts"][0], "valid_at": "sometime in spring"}]}
    fake = FakeProvider(anthropic_tool_use(broken), anthropic_tool_use(broken))
    with pytest.raises(LLMError, match=r"invalid record_memories input 2 times.*valid_at"):
        LLMExtractor(fake_llm("anthropic", fake)).extract(_request("I work at Acme."))
    assert fake.calls == 2


def test_a_reply_without_the_tool_call_is_repaired() -> None:
    fake = FakeProvider(anthropic_text("Sure! Alice works at Acme."), anthropic_tool_use(WORKS_AT))
    outcome = LLMExtractor(fake_llm("anthropic", fake)).extract(_request("I work at Acme."))

    assert fake.calls == 2
    assert len(outcome.extraction.facts) == 1
    _, said, feedback = fake.bodies[1]["messages"]
    assert said == {
        "role": "assistant",
        "content": [{"type": "text", "text": "Sure! Alice works at Acme."}],
    }
    assert "did not call the record_memories tool" in feedback["content"][0]["text"]


def test_output_cut_off_at_max_tokens_is_retried_in_smaller_batches() -> None:
    fake = FakeProvider(
        anthropic_tool_use({"entities": [{"name": "Ali"}]}, stop_reason="max_tokens"),
        responder=anthropic_tool_responder(fact_per_turn),
    )
    extractor = LLMExtractor(fake_llm("anthropic", fake))
    outcome = extractor.extract(_request("a", "b", "c", "d"))

    assert fake.calls == 3
    assert [len(new_turns(body)) for body in fake.bodies] == [4, 2, 2]
    assert [f.object for f in outcome.extraction.facts] == [f"Topic {t}" for t in "abcd"]
    assert [f.episode for f in outcome.extraction.facts] == [0, 1, 2, 3]
    assert outcome.usage.calls == 3
    assert extractor.stats.split_batches == 1


def test_output_cut_off_for_a_single_turn_raises() -> None:
    fake = FakeProvider(anthropic_tool_use({"entities": []}, stop_reason="max_tokens"))
    with pytest.raises(LLMError, match="cut off at the token limit"):
        LLMExtractor(fake_llm("anthropic", fake)).extract(_request("a very long turn"))
    assert fake.calls == 1


def test_complete_returns_text_and_usage() -> None:
    fake = FakeProvider(anthropic_text("Paris."))
    llm = fake_llm("anthropic", fake)
    result = llm.complete(system="Answer briefly.", messages=[ChatMessage("user", "Capital?")])

    assert result.text == "Paris."
    assert result.usage == LLMUsage(calls=1, input_tokens=100, output_tokens=50)
    body = fake.bodies[0]
    assert body["system"] == "Answer briefly."
    assert "tools" not in body
    assert body["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Capital?"}]}]


# --- configuration from the environment -------------------------------------------------


def test_anthropic_key_selects_claude_even_when_an_openai_key_is_set() -> None:
    config = llm_from_env({"ANTHROPIC_API_KEY": "a-key", "OPENAI_API_KEY": "o-key"})
    assert config is not None
    assert config.provider == "anthropic"
    assert config.api_key is not None
    assert config.api_key.get_secret_value() == "a-key"
    assert config.resolved_model == "claude-haiku-5-5"


def test_graphmem_llm_picks_provider_and_model_explicitly() -> None:
    env = {"ANTHROPIC_API_KEY": "a-key", "GRAPHMEM_LLM": "anthropic:claude-opus-5"}
    config = llm_from_env(env)
    assert config is not None
    assert config.model == "claude-opus-5"
    assert llm_from_env({"ANTHROPIC_API_KEY": "a-key", "GRAPHMEM_LLM": "none"}) is None
    assert llm_from_env({}) is None
    assert llm_from_env({"ANTHROPIC_API_KEY": "  "}) is None


def test_environment_settings_reach_the_client() -> None:
    config = llm_from_env(
        {
            "ANTHROPIC_API_KEY": ANTHROPIC_TEST_KEY,
            "ANTHROPIC_BASE_URL": "http://127.0.0.1:8089/claude",
            "GRAPHMEM_LLM_MODEL": "claude-sonnet-5-5",
            "GRAPHMEM_LLM_TIMEOUT": "12.5",
            "GRAPHMEM_LLM_MAX_RETRIES": "0",
        }
    )
    assert config is not None
    assert config.timeout == 12.5
    assert config.max_retries == 0
    fake = FakeProvider(anthropic_text("ok"))
    llm = build_llm(config, http_client=fake.client())
    llm.complete(system="s", messages=[ChatMessage("user", "u")])
    assert str(fake.requests[0].url) == "http://127.0.0.1:8089/claude/v1/messages"
    assert fake.bodies[0]["model"] == "claude-sonnet-5-5"
    assert fake.requests[0].headers["x-stainless-read-timeout"] == "12.5"


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"GRAPHMEM_LLM": "gemini"}, "GRAPHMEM_LLM must be"),
        ({"ANTHROPIC_API_KEY": "k", "GRAPHMEM_LLM_TIMEOUT": "soon"}, "GRAPHMEM_LLM_TIMEOUT"),
        ({"ANTHROPIC_API_KEY": "k", "GRAPHMEM_LLM_MAX_RETRIES": "99"}, "max_retries"),
        ({"ANTHROPIC_API_KEY": "k", "ANTHROPIC_BASE_URL": "ftp://x"}, "base_url"),
    ],
)
def test_bad_environment_settings_raise_a_clear_error(env: dict[str, str], problem: str) -> None:
    from graphmem.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match=problem):
        llm_from_env(env)


def test_missing_credentials_raise_not_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    for name in (
        "ANTHROPIC_API_KEY",
        "ANTHROPIC_AUTH_TOKEN",
        "ANTHROPIC_PROFILE",
        "ANTHROPIC_CONFIG_DIR",
        "ANTHROPIC_IDENTITY_TOKEN",
        "ANTHROPIC_IDENTITY_TOKEN_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no credentials profile on disk either
    with pytest.raises(LLMNotConfiguredError, match="ANTHROPIC_API_KEY"):
        build_llm(LLMConfig(provider="anthropic"))
    with pytest.raises(LLMNotConfiguredError):
        build_llm(LLMConfig())
