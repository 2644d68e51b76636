"""Entity mentions and their collapse into distinct entities within one batch.

An extraction names the same entity many times (every OpenIE triple repeats its
subject). Mentions with the same normalized name and compatible types, or where one
mention's alias is another's name, are one entity; resolution then runs once per
group rather than once per mention.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from graphmem.errors import InvalidInputError
from graphmem.resolution.entity_types import compatible_types, sharper_type
from graphmem.resolution.names import normalize_name

MAX_ALIASES = 20
"""Aliases kept per entity; later ones are dropped rather than displacing known ones."""

MAX_NAME_LENGTH = 500
"""Longest accepted name or alias: anything longer is a sentence, not a name."""


@dataclass(frozen=True, slots=True)
class EntityMention:
    """One way the input named an entity.

    ``aliases`` are other names the text itself gives for it ("Melanie (Mel to her
    friends)" yields ``EntityMention("Melanie", "Person", ("Mel",))``).
    """

    name: str
    type: str = "Thing"
    aliases: tuple[str, ...] = ()


@dataclass(slots=True)
class MentionGroup:
    """Mentions of one entity in a batch, with every surface form they used."""

    name: str
    """The canonical surface name (a member's name that no other member calls an alias)."""
    key: str
    """``normalize_name(name)``."""
    type: str
    members: list[int] = field(default_factory=list)
    """Positions of the mentions in the input."""
    forms: dict[str, str] = field(default_factory=dict)
    """Every normalized name and alias seen -> its first surface form."""
    name_keys: set[str] = field(default_factory=set)
    """Normalized names the members were given as their own name."""
    alias_keys: set[str] = field(default_factory=set)
    """Normalized aliases the members declared."""

    @property
    def alias_forms(self) -> list[str]:
        """Surface forms other than the canonical name, in order of appearance."""
        return [surface for key, surface in self.forms.items() if key != self.key][:MAX_ALIASES]

    @property
    def keys(self) -> list[str]:
        """Every normalized form (name first): what exact lookup asks the store for."""
        return [self.key, *(key for key in self.forms if key != self.key)]

    def absorb(self, other: MentionGroup) -> None:
        """Take over another group's members and forms (the other is discarded)."""
        self.members.extend(other.members)
        for key, surface in other.forms.items():
            self.forms.setdefault(key, surface)
        self.name_keys |= other.name_keys
        self.alias_keys |= other.alias_keys
        self.type = sharper_type(self.type, other.type) or self.type


def validate_mention(
    position: int, mention: EntityMention, normalized: dict[str, str] | None = None
) -> str:
    """The mention's normalized name; raises :class:`InvalidInputError` on bad input."""
    if not isinstance(mention, EntityMention):
        raise InvalidInputError(
            f"mention {position} must be an EntityMention, got {type(mention).__name__}"
        )
    if not isinstance(mention.name, str) or not isinstance(mention.type, str):
        raise InvalidInputError(f"mention {position}: name and type must be strings")
    if not mention.type.strip():
        raise InvalidInputError(f"mention {position} ({mention.name!r}) has an empty type")
    if not isinstance(mention.aliases, tuple) or not all(
        isinstance(alias, str) for alias in mention.aliases
    ):
        raise InvalidInputError(f"mention {position}: aliases must be a tuple of strings")
    for text in (mention.name, *mention.aliases):
        if len(text) > MAX_NAME_LENGTH:
            raise InvalidInputError(
                f"mention {position}: name or alias longer than {MAX_NAME_LENGTH} characters"
            )
    key = _normalized(mention.name, normalized)
    if not key:
        raise InvalidInputError(
            f"mention {position} has no usable name ({mention.name!r} normalizes to nothing)"
        )
    return key


def _normalized(text: str, memo: dict[str, str] | None) -> str:
    if memo is None:
        return normalize_name(text)
    key = memo.get(text)
    if key is None:
        key = memo[text] = normalize_name(text)
    return key


def collapse_mentions(mentions: Sequence[EntityMention]) -> tuple[list[MentionGroup], list[int]]:
    """Group mentions of the same entity; returns the groups and each mention's group index.

    Same normalized name and compatible type -> same group (a ``Thing`` joins the first
    group of its name). Then a group whose alias is another group's name merges with it,
    again only if their types are compatible.
    """
    groups: list[MentionGroup] = []
    by_name: dict[str, list[int]] = {}
    normalized: dict[str, str] = {}  # batches repeat names; normalizing is the hot path
    for position, mention in enumerate(mentions):
        key = validate_mention(position, mention, normalized)
        target = next(
            (g for g in by_name.get(key, []) if compatible_types(groups[g].type, mention.type)),
            None,
        )
        if target is None:
            target = len(groups)
            groups.append(MentionGroup(name=mention.name.strip(), key=key, type=mention.type))
            by_name.setdefault(key, []).append(target)
        group = groups[target]
        group.members.append(position)
        group.name_keys.add(key)
        group.forms.setdefault(key, mention.name.strip())
        group.type = sharper_type(group.type, mention.type) or group.type
        for alias in mention.aliases:
            alias_key = _normalized(alias, normalized)
            if alias_key:
                group.forms.setdefault(alias_key, alias.strip())
                group.alias_keys.add(alias_key)
    return _merge_by_alias(groups, by_name, len(mentions))


def _merge_by_alias(
    groups: list[MentionGroup], by_name: dict[str, list[int]], mention_count: int
) -> tuple[list[MentionGroup], list[int]]:
    parent = list(range(len(groups)))

    def root(index: int) -> int:
        while parent[index] != index:
            parent[index] = parent[parent[index]]
            index = parent[index]
        return index

    for index, group in enumerate(groups):
        for alias_key in group.alias_keys - group.name_keys:
            for other in by_name.get(alias_key, []):
                mine, theirs = root(index), root(other)
                if mine != theirs and compatible_types(groups[mine].type, groups[theirs].type):
                    keeper, absorbed = min(mine, theirs), max(mine, theirs)
                    groups[keeper].absorb(groups[absorbed])
                    parent[absorbed] = keeper

    merged = [group for index, group in enumerate(groups) if root(index) == index]
    assignment = [0] * mention_count
    for number, group in enumerate(merged):
        _choose_canonical_name(group)
        for position in group.members:
            assignment[position] = number
    return merged, assignment


def _choose_canonical_name(group: MentionGroup) -> None:
    """Prefer a name no member calls an alias: "Melanie" over "Mel" (alias of Melanie)."""
    for key in group.forms:
        if key in group.name_keys and key not in group.alias_keys:
            group.key, group.name = key, group.forms[key]
            return
