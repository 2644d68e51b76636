"""The validated output of every extractor (rules, Claude, OpenAI-compatible).

Extractors name entities by their surface names and refer to episodes by their
position in the batch; they never see or invent record ids. Resolution to ids and
reconciliation with stored facts happen after extraction, in graphmem's own code.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from graphmem.models.time import UtcDatetime

_MAX_NAME = 200
_MAX_SENTENCE = 1000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class ExtractedEntity(_Strict):
    """An entity mentioned in the batch."""

    name: str = Field(min_length=1, max_length=_MAX_NAME)
    type: str = Field(default="Thing", min_length=1, max_length=50)
    """``Person``, ``Place``, ``Organization``, ``Event``, ``Work``, ``Thing``..."""
    aliases: list[str] = Field(default_factory=list)
    episodes: list[int] = Field(default_factory=list)
    """Positions (0-based) of the batch's episodes that mention it; empty means all."""

    @field_validator("aliases")
    @classmethod
    def _clean_aliases(cls, value: list[str]) -> list[str]:
        return [alias.strip() for alias in value if alias.strip()][:20]


class ExtractedFact(_Strict):
    """A relation stated or clearly implied by the batch."""

    subject: str = Field(min_length=1, max_length=_MAX_NAME)
    predicate: str = Field(min_length=1, max_length=80)
    """Free text or snake_case (``works at``, ``works_at``); canonicalized later."""
    object: str = Field(min_length=1, max_length=_MAX_NAME)
    fact: str = Field(min_length=1, max_length=_MAX_SENTENCE)
    """One sentence stating the fact with names, not pronouns."""
    valid_at: UtcDatetime | None = None
    invalid_at: UtcDatetime | None = None
    confidence: float = Field(default=0.8, ge=0.0, le=1.0)
    episode: int = Field(default=0, ge=0)
    """Position of the episode that states it."""


class ExtractedEnding(_Strict):
    """A statement that a relation no longer holds ("I quit Acme")."""

    subject: str = Field(min_length=1, max_length=_MAX_NAME)
    predicate: str = Field(min_length=1, max_length=80)
    object: str | None = Field(default=None, max_length=_MAX_NAME)
    """The object that no longer holds; None ends every current object of the predicate."""
    ended_at: UtcDatetime | None = None
    episode: int = Field(default=0, ge=0)


class Extraction(_Strict):
    """Entities, facts and endings extracted from one batch of episodes."""

    entities: list[ExtractedEntity] = Field(default_factory=list)
    facts: list[ExtractedFact] = Field(default_factory=list)
    endings: list[ExtractedEnding] = Field(default_factory=list)
