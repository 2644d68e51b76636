"""Choosing and building an LLM client from explicit settings or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from graphmem.errors import InvalidInputError, LLMNotConfiguredError

if TYPE_CHECKING:
    import httpx2

    from graphmem.llm.base import LLM
    from graphmem.llm.retry import RetryPolicy

Provider = Literal["anthropic", "openai"]

DEFAULT_ANTHROPIC_MODEL = "claude-haiku-5-5"
"""The newest small Claude model the installed ``anthropic`` SDK lists."""
DEFAULT_OPENAI_MODEL = "gpt-4o-mini"

_PROVIDERS: tuple[Provider, ...] = ("anthropic", "openai")


class LLMConfig(BaseModel):
    """Which provider and model to use, and how patiently to talk to it.

    ``base_url`` points the OpenAI-compatible client at Ollama
    (``http://localhost:11434/v1``), vLLM, LM Studio or another server; such local
    servers need no ``api_key``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: Provider | None = None
    model: str | None = Field(default=None, min_length=1, max_length=200)
    api_key: SecretStr | None = None
    base_url: str | None = None
    timeout: float = Field(default=60.0, gt=0, le=3600)
    """Seconds to wait for one HTTP response."""
    max_retries: int = Field(default=4, ge=0, le=10)
    """Retries after a rate limit, server error or timeout (0 disables them)."""
    max_tokens: int = Field(default=4096, ge=64, le=64000)
    """Output token limit of one extraction call."""

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip()
        try:
            parts = urlsplit(value)
            _ = parts.port  # reading the port validates it
        except ValueError as exc:
            raise ValueError(f"base_url is not a valid URL: {exc}") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("base_url must be an http:// or https:// URL with a host")
        return value

    @property
    def resolved_model(self) -> str:
        """``model``, or the provider's default model."""
        if self.model:
            return self.model
        return DEFAULT_OPENAI_MODEL if self.provider == "openai" else DEFAULT_ANTHROPIC_MODEL


def llm_from_env(env: Mapping[str, str] = os.environ) -> LLMConfig | None:
    """Read the LLM configuration from environment variables; None means "no LLM".

    - ``GRAPHMEM_LLM=anthropic|openai|none``, optionally ``:model``
      (``openai:llama3.1:8b``), chooses explicitly;
    - otherwise ``ANTHROPIC_API_KEY`` selects Claude, and ``OPENAI_API_KEY`` or
      ``OPENAI_BASE_URL`` select the OpenAI-compatible client;
    - ``GRAPHMEM_LLM_MODEL``, ``GRAPHMEM_LLM_TIMEOUT`` and ``GRAPHMEM_LLM_MAX_RETRIES``
      refine the choice; ``ANTHROPIC_BASE_URL`` / ``OPENAI_BASE_URL`` set the endpoint.
    """

    def get(key: str) -> str | None:
        value = env.get(key, "").strip()
        return value or None

    provider: Provider | None = None
    model: str | None = None
    choice = get("GRAPHMEM_LLM")
    if choice is not None:
        head, _, tail = choice.partition(":")
        head = head.strip().lower()
        if head == "none":
            return None
        if head not in _PROVIDERS:
            raise InvalidInputError(
                f"GRAPHMEM_LLM must be 'anthropic', 'openai' or 'none' (optionally "
                f"followed by ':model'), got {head!r}"
            )
        provider = "anthropic" if head == "anthropic" else "openai"
        model = tail.strip() or None
    elif get("ANTHROPIC_API_KEY"):
        provider = "anthropic"
    elif get("OPENAI_API_KEY") or get("OPENAI_BASE_URL"):
        provider = "openai"
    else:
        return None

    prefix = "ANTHROPIC" if provider == "anthropic" else "OPENAI"
    api_key = get(f"{prefix}_API_KEY")
    try:
        return LLMConfig(
            provider=provider,
            model=model or get("GRAPHMEM_LLM_MODEL"),
            api_key=SecretStr(api_key) if api_key else None,
            base_url=get(f"{prefix}_BASE_URL"),
            timeout=_number(get("GRAPHMEM_LLM_TIMEOUT"), "GRAPHMEM_LLM_TIMEOUT", 60.0),
            max_retries=int(
                _number(get("GRAPHMEM_LLM_MAX_RETRIES"), "GRAPHMEM_LLM_MAX_RETRIES", 4, whole=True)
            ),
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"
            for error in exc.errors(include_input=False)
        )
        raise InvalidInputError(f"invalid LLM settings in the environment: {problems}") from None


def _number(raw: str | None, key: str, default: float, *, whole: bool = False) -> float:
    if raw is None:
        return default
    try:
        return float(int(raw)) if whole else float(raw)
    except ValueError:
        kind = "an integer" if whole else "a number"
        raise InvalidInputError(f"{key} must be {kind}, got {raw!r}") from None


def build_llm(
    config: LLMConfig,
    *,
    http_client: httpx2.Client | None = None,
    retry_policy: RetryPolicy | None = None,
) -> LLM:
    """Create the client ``config`` describes.

    ``http_client`` replaces the SDK's HTTP client (proxies, custom transports);
    ``retry_policy`` overrides the backoff built from ``config.max_retries``.
    Raises :class:`LLMNotConfiguredError` when no provider is chosen or credentials
    are missing.
    """
    api_key = config.api_key.get_secret_value() if config.api_key is not None else None
    if config.provider == "anthropic":
        try:
            from graphmem.llm.anthropic_client import AnthropicLLM
        except ImportError as exc:
            raise _missing_sdk("anthropic", exc) from exc

        return AnthropicLLM(
            model=config.resolved_model,
            api_key=api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            max_tokens=config.max_tokens,
            http_client=http_client,
            retry_policy=retry_policy,
        )
    if config.provider == "openai":
        try:
            from graphmem.llm.openai_client import OpenAILLM
        except ImportError as exc:
            raise _missing_sdk("openai", exc) from exc

        return OpenAILLM(
            model=config.resolved_model,
            api_key=api_key,
            base_url=config.base_url,
            timeout=config.timeout,
            max_retries=config.max_retries,
            max_tokens=config.max_tokens,
            http_client=http_client,
            retry_policy=retry_policy,
        )
    raise LLMNotConfiguredError(
        "no LLM provider configured: set provider='anthropic' or 'openai' "
        "(or ANTHROPIC_API_KEY / OPENAI_API_KEY / GRAPHMEM_LLM in the environment)"
    )


def _missing_sdk(package: str, exc: ImportError) -> Exception:
    """The error for a provider whose SDK is not installed (other import errors pass)."""
    if exc.name is not None and exc.name.split(".")[0] in (package, "httpx2"):
        return LLMNotConfiguredError(
            f"the {package} client needs the {package!r} package: pip install 'graphmem[{package}]'"
        )
    return exc
