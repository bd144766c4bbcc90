"""The store's write path: replacing and deleting articles, and recording each write's generation."""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from core.errors import EmbeddingMismatchError, StoreError

from ..types import Article, Chunk
from .connection import _write_generation
from .lock import write_lock
from .records import BATCH, _chunk_metadata


class WritingMixin:
    """`ChromaStore`'s writes (see its docstring); uses its `_using`, `location`, `remote` and `_generation`."""

    location: str
    remote: bool
    embed_dim: int
    _generation: str

    def _using(self, action: str) -> contextlib.AbstractContextManager[Any]:  # provided by ChromaStore
        raise NotImplementedError

    def _bump(self) -> None:
        if not self.remote:
            self._generation = _write_generation(self.location)
            return
        import uuid

        value = uuid.uuid4().hex
        with self._using("recording a write") as st:
            st.meta.upsert(ids=["generation"], embeddings=[[1.0]], documents=[value])
        self._generation = value

    def write_articles(self, items: Sequence[tuple[Article, Sequence[Chunk], np.ndarray, str]]) -> None:
        """Replace everything stored for each `(article, chunks, embeddings, fingerprint)`, in few Chroma calls.

        Old chunks of these articles go first, then the new chunks, then the
        article records (the commit markers): an interrupted write leaves
        articles without a record, which the next ingest redoes.
        """
        if not items:
            return
        ids: list[str] = []
        vectors: list[np.ndarray] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        for article, chunks, embeddings, _fp in items:
            if len(chunks) != len(embeddings):
                raise StoreError("internal error: one embedding per chunk is required")
            if embeddings.size and embeddings.shape[1] != self.embed_dim:
                raise EmbeddingMismatchError(
                    f"embeddings have {embeddings.shape[1]} dims but the store at {self.location} holds {self.embed_dim}"
                )
            ids += [c.id for c in chunks]
            vectors += list(embeddings)
            texts += [c.text for c in chunks]
            metas += [_chunk_metadata(c, article) for c in chunks]
        doc_ids = [article.id for article, *_ in items]
        what = f"writing article {doc_ids[0]!r}" if len(doc_ids) == 1 else f"writing {len(doc_ids)} articles"
        with self._using(what) as st:
            for i in range(0, len(doc_ids), BATCH):
                st.chunks.delete(where={"doc_id": {"$in": doc_ids[i : i + BATCH]}})
            for i in range(0, len(ids), BATCH):
                st.chunks.add(
                    ids=ids[i : i + BATCH],
                    embeddings=np.asarray(vectors[i : i + BATCH], dtype=np.float32).tolist(),
                    documents=texts[i : i + BATCH],
                    metadatas=metas[i : i + BATCH],
                )
            records = [
                {
                    "title": article.title,
                    "source": article.source,
                    "url": article.url,
                    "published_at": article.published_at,
                    "inferred_date": article.inferred_date,
                    "origin": article.origin,
                    "fingerprint": fingerprint,
                    "n_chunks": len(chunks),
                }
                for article, chunks, _e, fingerprint in items
            ]
            for i in range(0, len(items), BATCH):
                part = items[i : i + BATCH]
                st.articles.upsert(
                    ids=[article.id for article, *_ in part],
                    embeddings=[[1.0]] * len(part),
                    documents=[article.text for article, *_ in part],
                    metadatas=records[i : i + BATCH],
                )
        self._bump()

    def delete_articles(self, ids: Sequence[str]) -> list[str]:
        """Delete these articles under the store's write lock; returns the ids that were not in the store."""
        with write_lock(self.location):
            return [doc_id for doc_id in ids if not self.delete_article(doc_id)]

    def delete_article(self, doc_id: str) -> bool:
        """Remove an article and its chunks; False when it was not in the store."""
        with self._using(f"deleting article {doc_id!r}") as st:
            existed = bool(st.articles.get(ids=[doc_id], include=[])["ids"])
            st.chunks.delete(where={"doc_id": doc_id})
            st.articles.delete(ids=[doc_id])
        self._bump()
        return existed





