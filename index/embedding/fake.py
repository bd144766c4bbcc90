"""`HashEmbedder`: a fast, deterministic fake embedder for tests."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np


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

