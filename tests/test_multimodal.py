"""Multimodal turns: images are described by the LLM (real SDKs, fake HTTP) or stored
with their captions offline; the episode keeps a reference, never the image data."""

from __future__ import annotations

import base64
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from llm_fakes import (
    FakeProvider,
    anthropic_text,
    fake_llm,
    openai_completion,
    openai_error,
)

from graphmem import Memory, MemoryConfig
from graphmem.errors import InvalidInputError, LLMError
from graphmem.extraction.rules import RulesExtractor

PNG_BYTES = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGBgAAAABQABh6FO1AAAAABJRU5ErkJggg=="
)
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG_BYTES).decode()
PHOTO_URL = "https://images.example.org/trip/eiffel.jpg"


def _turn(*parts: dict[str, Any], role: str = "user") -> dict[str, Any]:
    return {"role": role, "content": [*parts]}


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def _image(url: str, **extra: Any) -> dict[str, Any]:
    spec = {"url": url, **{k: v for k, v in extra.items() if k == "detail"}}
    return {"type": "image_url", "image_url": spec,
            **{k: v for k, v in extra.items() if k != "detail"}}  # fmt: skip


def _vision_memory(tmp_path: Path, embedder: Any, provider: str, fake: FakeProvider) -> Memory:
    return Memory(
        MemoryConfig(path=tmp_path / "store", use_llm=False),
        embedder=embedder,
        extractor=RulesExtractor(),
        llm=fake_llm(provider, fake),
    )


# -- offline: captions -------------------------------------------------------------------
def test_offline_caption_is_stored_with_a_hash_not_the_data(memory: Memory, tmp_path: Path) -> None:
    result = memory.add(
        _turn(_text("I moved to Lisbon."), _image(PNG_URL, detail="low", caption="my new flat")),
        user_id="alice",
    )

    episode = result.episodes[0]
    assert episode.content == "I moved to Lisbon.\n[image: my new flat]"
    assert episode.metadata["images"] == [
        {
            "sha256": hashlib.sha256(PNG_BYTES).hexdigest(),
            "media_type": "image/png",
            "detail": "low",
            "caption": "my new flat",
            "caption_source": "provided",
        }
    ]
    assert any("Lisbon" in fact.fact for fact in result.facts_added)  # the text is mined
    assert memory.search("photo of the new flat", user_id="alice").episodes
    with sqlite3.connect(tmp_path / "store" / "graph.sqlite3") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert b"iVBORw0KGgo" not in (tmp_path / "store" / "graph.sqlite3").read_bytes()


def test_alt_and_blip_caption_keys_and_remote_urls(memory: Memory) -> None:
    result = memory.add(
        [
            _turn(_image(PHOTO_URL, blip_caption="a photo of a tower at night")),
            {"role": "user", "content": [{"type": "image_url",
                                          "image_url": {"url": PHOTO_URL, "alt": "tower"}}]},
            _turn(_image(PHOTO_URL)),
        ],
        user_id="alice",
    )  # fmt: skip
    first, second, third = result.episodes
    assert first.content == "[image: a photo of a tower at night]"
    assert first.metadata["images"][0]["url"] == PHOTO_URL
    assert second.metadata["images"][0]["caption"] == "tower"
    assert third.content == "[image without description]"
    assert "caption" not in third.metadata["images"][0]


@pytest.mark.parametrize(
    ("part", "problem"),
    [
        ({"type": "image_url", "image_url": {"url": "file:///etc/passwd"}}, "http"),
        ({"type": "image_url", "image_url": {"url": "data:text/html;base64,PGI+"}}, "media type"),
        ({"type": "image_url", "image_url": {"url": "data:image/png;base64,@@@"}}, "base64"),
        ({"type": "image_url", "image_url": {"url": PHOTO_URL, "detail": "max"}}, "detail"),
        ({"type": "image_url", "image_url": {"url": PHOTO_URL}, "title": "x"}, "unknown keys"),
        ({"type": "audio", "audio": "..."}, "not supported"),
        ({"type": "text", "text": 3}, "must be a string"),
    ],
)
def test_bad_parts_are_refused_and_nothing_is_stored(
    memory: Memory, part: dict[str, Any], problem: str
) -> None:
    with pytest.raises(InvalidInputError, match=problem):
        memory.add(_turn(_text("hello"), part), user_id="alice")
    assert memory.stats(user_id="alice").episodes == 0


# -- with a vision model -----------------------------------------------------------------
def test_openai_describes_each_image_in_one_call(tmp_path: Path, embedder: Any) -> None:
    fake = FakeProvider(
        openai_completion({"content": "Alice standing in front of the Eiffel Tower."}),
        openai_completion({"content": 'A hand-written note that reads "buy milk".'}),
    )
    with _vision_memory(tmp_path, embedder, "openai", fake) as memory:
        result = memory.add(
            _turn(_text("Look where I am!"), _image(PHOTO_URL, detail="low"),
                  _image(PNG_URL, caption="note")),
            user_id="alice",
        )  # fmt: skip

    assert fake.calls == 2
    first, second = fake.bodies
    parts = first["messages"][1]["content"]
    assert parts[0] == {"type": "image_url", "image_url": {"url": PHOTO_URL, "detail": "low"}}
    assert "Look where I am!" in parts[1]["text"]
    assert "not instructions" in first["messages"][0]["content"]
    assert second["messages"][1]["content"][0]["image_url"]["url"] == PNG_URL
    assert "The sender's caption: note" in second["messages"][1]["content"][1]["text"]
    episode = result.episodes[0]
    assert episode.content == (
        "Look where I am!\n[image: Alice standing in front of the Eiffel Tower.]\n"
        '[image: A hand-written note that reads "buy milk".]'
    )
    sources = [image["caption_source"] for image in episode.metadata["images"]]
    assert sources == ["llm:openai", "llm:openai"]
    assert result.usage.calls == 2


def test_anthropic_receives_base64_and_url_image_blocks(tmp_path: Path, embedder: Any) -> None:
    fake = FakeProvider(anthropic_text("A cat on a sofa."), anthropic_text("A red bicycle."))
    with _vision_memory(tmp_path, embedder, "anthropic", fake) as memory:
        result = memory.add(_turn(_image(PNG_URL), _image(PHOTO_URL)), user_id="alice")

    inline = fake.bodies[0]["messages"][0]["content"][0]
    assert inline == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png",
                   "data": base64.b64encode(PNG_BYTES).decode()},
    }  # fmt: skip
    remote = fake.bodies[1]["messages"][0]["content"][0]
    assert remote == {"type": "image", "source": {"type": "url", "url": PHOTO_URL}}
    assert result.episodes[0].content == "[image: A cat on a sofa.]\n[image: A red bicycle.]"


def test_a_failed_description_falls_back_to_the_caption_or_stores_nothing(
    tmp_path: Path, embedder: Any
) -> None:
    refusal = openai_error(400, "this model does not support image input",
                           error_type="invalid_request_error")  # fmt: skip
    fake = FakeProvider(refusal, refusal)
    with _vision_memory(tmp_path, embedder, "openai", fake) as memory:
        kept = memory.add(_turn(_image(PHOTO_URL, caption="my dog Rex")), user_id="alice")
        assert kept.episodes[0].content == "[image: my dog Rex]"
        assert kept.episodes[0].metadata["images"][0]["caption_source"] == "provided"
        with pytest.raises(LLMError):
            memory.add(_turn(_text("and this one"), _image(PHOTO_URL)), user_id="alice")
        assert memory.stats(user_id="alice").episodes == 1
