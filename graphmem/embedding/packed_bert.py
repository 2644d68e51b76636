"""BERT sentence embeddings computed without padding (the default MiniLM model's layout).

sentence-transformers pads every text of a batch to the longest one, so the names
and short sentences a write embeds next to a chat turn cost as much as the turn. In
a BERT encoder only attention mixes tokens; every linear layer, layer norm and
activation works token by token. Here all real tokens of a batch are packed into
one matrix for those, and padding exists only inside attention (with a key mask), so
the model's cost follows the number of real tokens. Skipping the generic module
machinery also removes several milliseconds of Python per call.

The arithmetic is the model's own, op for op: vectors agree with
``SentenceTransformer.encode`` to float32 rounding (about 1e-7). ``PackedBertEncoder.of``
accepts only the layout it reproduces (a BERT transformer with absolute positions
and exact GELU, mean pooling, normalization), and the caller compares both on probe
texts before trusting it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.nn.functional as functional

from graphmem.embedding.base import Vectors


@dataclass(frozen=True, slots=True)
class _Layer:
    qkv_weight: torch.Tensor
    qkv_bias: torch.Tensor
    attention_out: tuple[torch.Tensor, torch.Tensor]
    attention_norm: tuple[torch.Tensor, torch.Tensor]
    intermediate: tuple[torch.Tensor, torch.Tensor]
    output: tuple[torch.Tensor, torch.Tensor]
    output_norm: tuple[torch.Tensor, torch.Tensor]


class PackedBertEncoder:
    """Mean-pooled, L2-normalized BERT sentence vectors, computed on real tokens only."""

    def __init__(self, transformer: Any, batch_size: int) -> None:
        """Use ``of`` to build one: it checks the model's layout first."""
        self._transformer = transformer
        self._batch_size = batch_size
        bert = transformer.auto_model
        config = bert.config
        self._heads: int = config.num_attention_heads
        self._hidden: int = config.hidden_size
        self._eps: float = config.layer_norm_eps
        embeddings = bert.embeddings
        self._word = embeddings.word_embeddings.weight.detach()
        self._position = embeddings.position_embeddings.weight.detach()
        self._token_type = embeddings.token_type_embeddings.weight.detach()
        self._embedding_norm = _pair(embeddings.LayerNorm)
        self._layers = [_layer(layer) for layer in bert.encoder.layer]

    @classmethod
    def of(cls, model: Any, *, batch_size: int = 64) -> PackedBertEncoder | None:
        """An encoder for a loaded ``SentenceTransformer`` on the CPU, or None when its
        layout is not the one reproduced here (it is then used as it is)."""
        try:
            modules = list(model)
            if [type(m).__name__ for m in modules] != ["Transformer", "Pooling", "Normalize"]:
                return None
            transformer, pooling = modules[0], modules[1]
            bert = transformer.auto_model
            config = bert.config
            supported = (
                type(bert).__name__ == "BertModel"
                and getattr(pooling, "pooling_mode", None) == "mean"
                and getattr(config, "hidden_act", None) == "gelu"
                and getattr(config, "position_embedding_type", "absolute") == "absolute"
                and not getattr(config, "is_decoder", False)
                and bert.device.type == "cpu"
                and bert.dtype == torch.float32
                and callable(getattr(transformer, "preprocess", None))
            )
            return cls(transformer, batch_size) if supported else None
        except (AttributeError, TypeError):
            return None

    def encode(self, texts: Sequence[str]) -> Vectors:
        """Unit vectors of ``texts``, shape ``(len(texts), hidden size)``."""
        result = np.zeros((len(texts), self._hidden), dtype=np.float32)
        # Similar lengths in one chunk keep the attention padding small.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with torch.inference_mode():
            for start in range(0, len(order), self._batch_size):
                chunk = order[start : start + self._batch_size]
                result[chunk] = self._encode_chunk([texts[i] for i in chunk]).numpy()
        return result

    def _encode_chunk(self, texts: list[str]) -> torch.Tensor:
        features = self._transformer.preprocess(texts)
        ids: torch.Tensor = features["input_ids"]
        mask: torch.Tensor = features["attention_mask"].bool()
        count, width = ids.shape
        # Where the real tokens sit in the padded (count * width) layout.
        real = mask.reshape(-1).nonzero().squeeze(1)
        lengths = mask.sum(dim=1)
        positions = torch.arange(width).expand(count, width).reshape(-1)[real]
        token_types = features.get("token_type_ids")
        types = token_types.reshape(-1)[real] if token_types is not None else torch.zeros_like(real)
        hidden = self._word[ids.reshape(-1)[real]] + self._token_type[types]
        hidden = hidden + self._position[positions]
        hidden = self._norm(hidden, self._embedding_norm)
        key_mask = mask[:, None, None, :]
        for layer in self._layers:
            hidden = self._layer(hidden, layer, real, count, width, key_mask)
        sequence = torch.repeat_interleave(torch.arange(count), lengths)
        sums = hidden.new_zeros(count, self._hidden).index_add_(0, sequence, hidden)
        means = sums / lengths[:, None].to(hidden.dtype)
        return functional.normalize(means, p=2.0, dim=1)

    def _layer(
        self,
        hidden: torch.Tensor,
        layer: _Layer,
        real: torch.Tensor,
        count: int,
        width: int,
        key_mask: torch.Tensor,
    ) -> torch.Tensor:
        size, heads = self._hidden, self._heads
        qkv = functional.linear(hidden, layer.qkv_weight, layer.qkv_bias)
        padded = hidden.new_zeros(count * width, 3 * size)
        padded[real] = qkv
        query, key, value = padded.view(count, width, 3, heads, size // heads).permute(
            2, 0, 3, 1, 4
        )
        attended = functional.scaled_dot_product_attention(query, key, value, attn_mask=key_mask)
        attended = attended.transpose(1, 2).reshape(count * width, size)[real]
        attended = functional.linear(attended, *layer.attention_out)
        hidden = self._norm(attended + hidden, layer.attention_norm)
        inner = functional.gelu(functional.linear(hidden, *layer.intermediate))
        return self._norm(functional.linear(inner, *layer.output) + hidden, layer.output_norm)

    def _norm(
        self, hidden: torch.Tensor, weights: tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor:
        return functional.layer_norm(hidden, (self._hidden,), *weights, eps=self._eps)


def _pair(module: Any) -> tuple[torch.Tensor, torch.Tensor]:
    return module.weight.detach(), module.bias.detach()


def _layer(layer: Any) -> _Layer:
    attention = layer.attention
    own = attention.self
    return _Layer(
        # One matrix product for query, key and value instead of three.
        qkv_weight=torch.cat([own.query.weight, own.key.weight, own.value.weight]).detach(),
        qkv_bias=torch.cat([own.query.bias, own.key.bias, own.value.bias]).detach(),
        attention_out=_pair(attention.output.dense),
        attention_norm=_pair(attention.output.LayerNorm),
        intermediate=_pair(layer.intermediate.dense),
        output=_pair(layer.output.dense),
        output_norm=_pair(layer.output.LayerNorm),
    )
