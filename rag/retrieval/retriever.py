"""`Retriever`: dense and keyword search, fused, optionally reranked, then reordered."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from index.embedding import Embedder
from index.filters import Filters
from index.lexical import BM25Index, fuse
from index.store import ChromaStore
from index.types import ScoredChunk

from .config import RetrievalConfig
from .ranking import cover_names, drop_near_duplicates, prefer_leads, prefer_period
from .rerank import CrossEncoder, best_window

if TYPE_CHECKING:
    from ..question import Question


class Retriever:
    """Finds the passages for a question: dense and keyword search, fused, optionally reranked.

    Every returned chunk carries its cosine `similarity` to the question
    (generators read it as a feature); `score` is its fused (RRF) score, and
    the order is the retriever's ranking.

    Args:
        store: the Chroma store.
        embedder: embeds the question (the store's model).
        lexical: BM25 index of the store (default: one is opened beside the store).
        cross_encoder: reranks the fused candidates (None: fusion order).
        config: mode and sizes.
    """

    def __init__(
        self,
        store: ChromaStore,
        embedder: Embedder,
        *,
        lexical: BM25Index | None = None,
        cross_encoder: CrossEncoder | None = None,
        config: RetrievalConfig | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.lexical = lexical if lexical is not None or self.config.mode == "dense" else BM25Index(store)
        self.cross_encoder = cross_encoder if self.config.rerank else None

    def retrieve(
        self, question: str | Question, top_k: int, filters: Filters | None = None, asked_on: date | str | None = None
    ) -> list[ScoredChunk]:
        """The `top_k` best passages for `question`, those of the period it names, else of the news it is
        about (`Question.window`), moved up;
        `asked_on` (default today) dates it (an analysed `rag.question.Question` carries its dates already)."""
        from ..question import Question, analyse

        q = question if isinstance(question, Question) else analyse(question, asked_on, latest=self.store.newest_date() or None)
        question = q.text
        cfg = self.config
        n = max(cfg.candidates, top_k)
        vector = self.embedder.embed([question])[0]
        where = filters.where() if filters else None
        rankings, weights = [], []
        if cfg.mode in ("dense", "hybrid"):
            rankings.append(self.store.search(vector, n, where=where))
            weights.append(cfg.dense_weight)
        if cfg.mode in ("bm25", "hybrid") and self.lexical is not None:
            rankings.append(self.lexical.search(question, n, filters))
            weights.append(cfg.bm25_weight)
        if len(rankings) > 1:
            pool = prefer_leads(fuse(rankings, k=cfg.rrf_k, weights=weights), cfg.rrf_k, cfg.lead_lift)[:n]
        else:
            pool = list(rankings[0])
        if self.cross_encoder is not None and len(pool) > 1:
            texts = [best_window(question, h.chunk.text, cfg.rerank_window) for h in pool]
            logits = self.cross_encoder.score(question, texts)
            pool = [pool[i] for i in sorted(range(len(pool)), key=lambda i: -float(logits[i]))]
        if cfg.time_boost > 0:
            # A period the question names, else the news of when it is asked (where, as for the
            # sentence ranker, an undated article is never another time's).
            pool = prefer_period(pool, q.frame, cfg.time_boost) if q.frame else prefer_period(pool, q.window(), cfg.time_boost, undated=True)
        if cfg.dedup > 0:
            pool = drop_near_duplicates(pool, cfg.dedup, len(pool) if cfg.cover_names else top_k)
        hits = cover_names(question, pool, top_k) if cfg.cover_names else pool[:top_k]
        return self._with_similarity(vector, hits)

    def _with_similarity(self, vector: np.ndarray, hits: list[ScoredChunk]) -> list[ScoredChunk]:
        """Give every hit its cosine similarity to the question: only keyword-only hits need their vectors read."""
        missing = [h.chunk.id for h in hits if h.similarity is None]
        if not missing:
            return hits
        known = {cid: float(np.dot(vec, vector)) for cid, vec in self.store.get_embeddings(missing).items()}
        return [h if h.similarity is not None else replace(h, similarity=known.get(h.chunk.id, 0.0)) for h in hits]
