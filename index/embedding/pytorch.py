"""`SentenceTransformerEmbedder`: a sentence-transformers model folder run by PyTorch (fp32)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ModelError

from .folder import _ModelFolder


class SentenceTransformerEmbedder(_ModelFolder):
    """A sentence-transformers model read from a local folder, on the CPU.

    Args:
        model_path: a sentence-transformers model folder; default all-MiniLM-L6-v2.
        name: the name recorded in the store; default the model's name.
        batch_size: texts per forward pass.
    """

    def __init__(self, model_path: str | Path | None = None, *, name: str | None = None, batch_size: int = 32) -> None:
        super().__init__(model_path, name)
        self.batch_size = batch_size
        self._model = None

    def _get_model(self):
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

