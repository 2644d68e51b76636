"""The slim form of an episode that search ranks with.

Ranking looks at a couple of hundred candidate episodes per query but returns a
handful; it needs only who said each one and in which scope. Stores hand it
:class:`EpisodeHeader` rows, and full :class:`~graphmem.models.records.Episode`
records are loaded for the episodes returned.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from graphmem.models.records import Episode


class EpisodeHeader(NamedTuple):
    """An episode's id, scope ids and speaker: everything but its content and metadata."""

    id: uuid.UUID
    user_id: str | None
    agent_id: str | None
    run_id: str | None
    name: str | None
    """The speaker's name, when the episode has one."""

    @classmethod
    def of(cls, episode: Episode) -> EpisodeHeader:
        """The header of a full episode record."""
        return cls(episode.id, episode.user_id, episode.agent_id, episode.run_id, episode.name)
