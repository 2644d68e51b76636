"""Reading a graphmem export into a store: validate everything, then write in batches.

The whole file is checked before anything is written (every line parses, ids are
unique, facts and mentions refer to records of the file, the ``end`` line's counts
match, the target holds nothing of the owners being imported), so bad input leaves
the store unchanged. Then records are written in reference order, one transaction
per batch, through the ordinary store protocol: an export is also the way to move a
store between backends.

Embeddings: exported vectors are copied when the file's embedder is the target's.
A file of another embedder is refused unless ``reembed`` is set, which embeds every
text anew with the target's embedder (as does a file exported without vectors).
"""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from graphmem.embedding.base import Embedder
from graphmem.errors import EmbedderMismatchError, GraphmemError, InvalidInputError, StoreError
from graphmem.lifecycle.backend import lifecycle_backend
from graphmem.lifecycle.policy import RetentionPolicy
from graphmem.models.records import AuditEvent, Entity, Episode, Fact
from graphmem.models.scope import Scope
from graphmem.resolution.resolver import embedding_text
from graphmem.store.base import GraphStore, ProgressCallback, ScopeCounts
from graphmem.transfer.exporting import TransferCounts
from graphmem.transfer.files import open_text
from graphmem.transfer.format import (
    KINDS,
    Header,
    Mention,
    RecordKind,
    decode,
    parse_header,
    parse_json,
)

DEFAULT_BATCH = 500
EMBED_BATCH = 256
T = TypeVar("T")


@dataclass(slots=True)
class _Checked:
    """What validation learned about a file."""

    header: Header
    counts: TransferCounts
    owners: dict[str, None] = field(default_factory=dict)
    missing_vectors: bool = False


def import_records(
    store: GraphStore,
    source: str | Path | IO[str],
    *,
    embedder: Embedder | None = None,
    reembed: bool = False,
    progress: ProgressCallback | None = None,
    batch: int = DEFAULT_BATCH,
) -> TransferCounts:
    """Import an export (a ``.jsonl`` or ``.jsonl.gz`` path, or a text stream) into ``store``.

    Raises :class:`InvalidInputError` for a malformed file or a target that already
    holds records of an imported owner, :class:`EmbedderMismatchError` for vectors of
    another embedder without ``reembed``; nothing is written in either case.
    """
    if isinstance(source, str | Path):
        return _import_file(store, Path(source), embedder, reembed, progress, batch)
    # A stream is read twice (validation, then writing): spool it to a file first.
    with tempfile.TemporaryDirectory(prefix="graphmem-import-") as folder:
        spooled = Path(folder) / "import.jsonl"
        with spooled.open("w", encoding="utf-8", newline="\n") as handle:
            shutil.copyfileobj(source, handle)
        return _import_file(store, spooled, embedder, reembed, progress, batch)


def _import_file(
    store: GraphStore,
    path: Path,
    embedder: Embedder | None,
    reembed: bool,
    progress: ProgressCallback | None,
    batch: int,
) -> TransferCounts:
    if batch <= 0:
        raise InvalidInputError(f"batch must be positive, got {batch}")
    report = progress or (lambda stage, done, total: None)
    checked = _check_file(path, report)
    embed = _embedding_plan(store, checked, embedder, reembed)
    _check_target_empty(store, checked.owners)
    counts = TransferCounts(owners=list(checked.owners))
    totals = checked.counts.as_dict()
    policies = lifecycle_backend(store)
    try:
        for kind, page in _pages(path, batch):
            if kind == "policy":
                for policy in page:
                    assert isinstance(policy, RetentionPolicy)
                    policies.put_policy(policy, None)
            else:
                if embed is not None and kind in ("entity", "episode", "fact"):
                    counts.reembedded += _embed_page(page, embed)
                _write(store, kind, page)
            counts.add(kind, len(page))
            done = counts.as_dict()[kind]
            report(_STAGES[kind], done, max(totals[kind], done))
    except GraphmemError as exc:
        raise StoreError(
            f"the import stopped after {sum(counts.as_dict().values())} records: {exc}. The "
            f"owners {', '.join(checked.owners)} hold a partial import: forget them and "
            "import again"
        ) from exc
    return counts


_STAGES: dict[RecordKind, str] = {
    "policy": "policies",
    "entity": "entities",
    "episode": "episodes",
    "fact": "facts",
    "mention": "mentions",
    "audit": "audit",
}


def _lines(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(where, parsed line)`` of every non-blank line after the header."""
    with open_text(path, "r") as handle:
        next(handle, None)
        for number, text in enumerate(handle, start=2):
            if text.strip():
                where = f"{path.name}:{number}"
                yield where, parse_json(text, where)


def _check_file(path: Path, progress: ProgressCallback) -> _Checked:
    with open_text(path, "r") as handle:
        first = handle.readline()
    if not first.strip():
        raise InvalidInputError(f"{path}: the file is empty")
    checked = _Checked(header=parse_header(first, f"{path.name}:1"), counts=TransferCounts())
    ids: dict[str, set[uuid.UUID]] = {"entity": set(), "episode": set(), "fact": set()}
    dim = checked.header.embedder.dim if checked.header.embedder else None
    order = 0
    ended = False
    for where, line in _lines(path):
        if ended:
            raise InvalidInputError(f"{where}: records after the end line")
        if line.get("type") == "end":
            _check_end(line, checked.counts, where)
            ended = True
            continue
        kind, record = decode(line, where)
        position = KINDS.index(kind)
        if position < order:
            raise InvalidInputError(
                f"{where}: a {kind} after {KINDS[order]} records (the file is out of order)"
            )
        order = position
        _check_record(kind, record, ids, checked, dim, where)
        checked.counts.add(kind)
        done = sum(checked.counts.as_dict().values())
        if done % 5000 == 0:
            progress("checking", done, done)
    if not ended:
        raise InvalidInputError(f"{path}: the file has no end line: it was cut short")
    return checked


def _check_end(line: dict[str, Any], counts: TransferCounts, where: str) -> None:
    expected = line.get("counts")
    if not isinstance(expected, dict) or expected != counts.as_dict():
        raise InvalidInputError(
            f"{where}: the end line counts {expected} records but the file holds {counts.as_dict()}"
        )


def _check_record(
    kind: RecordKind,
    record: Any,
    ids: dict[str, set[uuid.UUID]],
    checked: _Checked,
    dim: int | None,
    where: str,
) -> None:
    if kind == "mention":
        episode_id, entity_id = _mention_ids(record, where)
        if episode_id not in ids["episode"] or entity_id not in ids["entity"]:
            raise InvalidInputError(f"{where}: the mention refers to a record not in the file")
        return
    if isinstance(record, RetentionPolicy):
        checked.owners.setdefault(record.scope.owner)
        return
    if isinstance(record, AuditEvent):
        if record.owner is not None:
            checked.owners.setdefault(record.owner)
        return
    assert isinstance(record, Entity | Episode | Fact)
    seen = ids[kind]
    if record.id in seen:
        raise InvalidInputError(f"{where}: {kind} {record.id} appears twice")
    seen.add(record.id)
    checked.owners.setdefault(record.owner)
    if isinstance(record, Fact):
        for end in (record.subject_id, record.object_id):
            if end not in ids["entity"]:
                raise InvalidInputError(
                    f"{where}: fact {record.id} refers to entity {end}, not in the file"
                )
    if record.embedding is None:
        # Facts may lack vectors (embed_facts=False); episodes never do in a store.
        checked.missing_vectors = checked.missing_vectors or isinstance(record, Episode)
    elif dim is not None and len(record.embedding) != dim:
        raise InvalidInputError(
            f"{where}: the embedding has {len(record.embedding)} dimensions, the header says {dim}"
        )


def _mention_ids(record: Mention, where: str) -> tuple[uuid.UUID, uuid.UUID]:
    try:
        return uuid.UUID(record[0]), uuid.UUID(record[1])
    except ValueError:
        raise InvalidInputError(f"{where}: a mention's ids must be UUIDs") from None


def _embedding_plan(
    store: GraphStore, checked: _Checked, embedder: Embedder | None, reembed: bool
) -> Embedder | None:
    """The embedder to compute vectors with, or None to copy the file's vectors."""
    header = checked.header
    target = getattr(store, "embedder_info", None)
    source = header.embedder
    same = (
        target is not None
        and source is not None
        and (source.model, source.dim) == (target.model, target.dim)
    )
    must_embed = not header.embeddings or checked.missing_vectors
    if same and not must_embed and not reembed:
        return None  # the file's vectors are this store's: copy them
    if not same and not must_embed and not reembed:
        described = (
            f"{source.model!r} (dimension {source.dim})" if source else "an unknown embedder"
        )
        wanted = f"{target.model!r} (dimension {target.dim})" if target else "another embedder"
        raise EmbedderMismatchError(
            f"the export's vectors come from {described} and this store uses {wanted}; "
            "import with reembed=True (graphmem import --reembed) to embed every text "
            "anew with this store's embedder"
        )
    if embedder is None:
        raise InvalidInputError("this import must compute embeddings: pass the store's embedder")
    return embedder


def _check_target_empty(store: GraphStore, owners: dict[str, None]) -> None:
    for owner in owners:
        if store.counts(Scope.of_owner(owner)) != ScopeCounts():
            raise InvalidInputError(
                f"the target store already holds records of {owner}: import into a store (or "
                "an owner) without records, or forget them first"
            )


def _pages(path: Path, batch: int) -> Iterator[tuple[RecordKind, list[Any]]]:
    """Records of one kind at a time, in pages of ``batch``."""
    page: list[Any] = []
    current: RecordKind | None = None
    for where, line in _lines(path):
        if line.get("type") == "end":
            break
        kind, decoded = decode(line, where)
        record: Any = _mention_ids(decoded, where) if isinstance(decoded, tuple) else decoded
        if current is not None and (kind != current or len(page) >= batch):
            yield current, page
            page = []
        current = kind
        page.append(record)
    if current is not None and page:
        yield current, page


def _embed_page(page: Sequence[Any], embedder: Embedder) -> int:
    texts = [_text_of(record) for record in page]
    for start in range(0, len(texts), EMBED_BATCH):
        vectors = embedder.embed(texts[start : start + EMBED_BATCH])
        for record, vector in zip(page[start : start + EMBED_BATCH], vectors, strict=True):
            record.embedding = [float(x) for x in vector]
    return len(texts)


def _text_of(record: Entity | Episode | Fact) -> str:
    if isinstance(record, Entity):
        return embedding_text(record.name, record.type)
    if isinstance(record, Episode):
        return record.content
    return record.fact


def _write(store: GraphStore, kind: RecordKind, page: list[Any]) -> None:
    writers: dict[str, Callable[[Any, list[Any]], None]] = {
        "entity": lambda tx, items: tx.put_entities(items),
        "episode": lambda tx, items: tx.put_episodes(items),
        "fact": lambda tx, items: tx.put_facts(items),
        "mention": lambda tx, items: tx.put_mentions(items),
        "audit": lambda tx, items: tx.append_audit(items),
    }
    with store.transaction() as tx:
        writers[kind](tx, page)
