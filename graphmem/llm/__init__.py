"""LLM clients: Claude (``anthropic``) and OpenAI-compatible servers (``openai``).

Use :func:`llm_from_env` and :func:`build_llm` to get an :class:`LLM`; the
provider modules are imported only when a client of that provider is built.
"""

from graphmem.llm.base import (
    LLM,
    ChatMessage,
    ImageInput,
    TextResult,
    ToolCall,
    ToolCallResult,
    ToolFeedback,
    ToolSpec,
)
from graphmem.llm.config import (
    DEFAULT_ANTHROPIC_MODEL,
    DEFAULT_OPENAI_MODEL,
    LLMConfig,
    build_llm,
    llm_from_env,
)
from graphmem.llm.retry import RetryPolicy

__all__ = [
    "DEFAULT_ANTHROPIC_MODEL",
    "DEFAULT_OPENAI_MODEL",
    "LLM",
    "ChatMessage",
    "ImageInput",
    "LLMConfig",
    "RetryPolicy",
    "TextResult",
    "ToolCall",
    "ToolCallResult",
    "ToolFeedback",
    "ToolSpec",
    "build_llm",
    "llm_from_env",
]
