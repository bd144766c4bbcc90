"""The query engine: retrieve passages for a question, then let a generator answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

import numpy as np

from index.embedding import Embedder
from index.filters import Filters
from index.lexical import BM25Index, fuse
from index.store import ChromaStore, open_store
from index.types import ScoredChunk

from .errors import ConfigError, InputError
from .generators import Generator, make_generator
from .rerank import CrossEncoder, best_window
from .timeframe import TimeFrame, time_frame
from .types import Answer, Passage, final_answer

MAX_QUESTION_CHARS = 2000
DEFAULT_TOP_K = 5


def check_question(question: object) -> str:
    """Validate a question; return it stripped.

    Raises:
        InputError: not a string, empty, or longer than `MAX_QUESTION_CHARS`.
    """
    if not isinstance(question, str):
        raise InputError(f"the question must be text, not {type(question).__name__}")
    cleaned = "".join(ch if ch.isprintable() or ch in "\n\t" else " " for ch in question).strip()
    if not cleaned:
        raise InputError("the question is empty; ask something about the articles")
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise InputError(f"the question is {len(cleaned)} characters long; the limit is {MAX_QUESTION_CHARS}")
    return cleaned


def check_top_k(top_k: object) -> int:
    if isinstance(top_k, bool) or not isinstance(top_k, int) or not 1 <= top_k <= 50:
        raise ConfigError(f"top_k must be an integer from 1 to 50, got {top_k!r}")
    return top_k


def prefer_period(hits: Sequence[ScoredChunk], frame: TimeFrame, boost: float) -> list[ScoredChunk]:
    """Reorder `hits` so that those published in `frame` move up (see `RetrievalConfig.time_boost`)."""

    def key(item: tuple[int, ScoredChunk]) -> float:
        rank, hit = item
        inside = frame.contains(hit.chunk.metadata.get("published_at", ""))
        return -(1.0 + boost * inside) / (5 + rank)

    return [hit for _, hit in sorted(enumerate(hits, start=1), key=key)]


def prefer_leads(fused: Sequence[ScoredChunk], k: int, lift: float) -> list[ScoredChunk]:
    """`fused` reordered with each article's first chunk (its lead) scoring as if `lift` places higher.

    The bonus is what rising from rank 1 + lift to rank 1 in one ranking gains
    in reciprocal rank fusion, 1/(k+1) - 1/(k+1+lift): it settles near-ties in
    the lead's favour and never lifts a chunk from far down.
    """
    bonus = 1.0 / (k + 1) - 1.0 / (k + 1 + lift)
    rescored = [ScoredChunk(h.chunk, h.score + (bonus if h.chunk.index == 0 else 0.0)) for h in fused]
    return sorted(rescored, key=lambda h: -h.score)


def drop_near_duplicates(hits: Sequence[ScoredChunk], threshold: float, keep: int) -> list[ScoredChunk]:
    """`hits` in order without passages that repeat a better-ranked one of another article, up to `keep`.

    The best passage is always kept; so is every passage of the same article
    (overlapping chunks of one article are not duplicates).
    """
    from index.lexical import terms

    kept: list[tuple[ScoredChunk, set[str]]] = []
    for hit in hits:
        if len(kept) >= keep:
            break
        words = set(terms(hit.chunk.text))
        if any(
            other.chunk.doc_id != hit.chunk.doc_id and words and len(words & seen) / len(words | seen) >= threshold
            for other, seen in kept
        ):
            continue
        kept.append((hit, words))
    return [hit for hit, _ in kept]


def check_filters(filters: object) -> Filters | None:
    if filters is None or isinstance(filters, Filters):
        return filters
    raise ConfigError(f"filters must be an index.Filters, not {type(filters).__name__}")


@dataclass(frozen=True)
class RetrievalConfig:
    """How passages are found (validated).

    Attributes:
        mode: "hybrid" (dense and BM25, fused), "dense" or "bm25".
        candidates: chunks each search returns and the fusion passes on to the reranker.
        rerank: rerank the candidates with the cross-encoder (when one is given). Off by
            default: on newsqa-dev it did not lift the answers, and costs 0.2-0.4 s per
            question on 2 cores (docs/retrieval.md).
        rerank_window: the cross-encoder reads, of each candidate, the run of whole
            sentences of at most this many words sharing most words with the question
            (`rag.rerank.best_window`), not the whole chunk: the reranker was trained on
            passages of about 60 words and its cost grows with every token. 0 reads
            whole chunks.
        rrf_k: the constant of reciprocal rank fusion (larger flattens rank differences).
        dense_weight, bm25_weight: each ranking's weight in the fusion.
        time_boost: how strongly articles published in the period a question names
            ("this week", "recently", "in 2021"; see `rag.timeframe`) move up: a
            passage at rank r scores (1 + boost) / (5 + r) when in the period,
            1 / (5 + r) otherwise, so 0.5 lifts it two to three places. 0 turns it off.
        dedup: a passage whose words overlap a better-ranked passage of another
            article this much (Jaccard of BM25 terms) is dropped: the same wire
            story from two outlets does not fill the top-k. 1.0 keeps everything
            but exact copies; 0 turns it off.
        lead_lift: in hybrid mode, an article's first chunk counts as this many
            places higher in one of the fused rankings (`prefer_leads`). News is
            written lead first: on newsqa-dev 26 of 32 answers are in the first
            chunk, and a lift of 2 puts the chunk with the answer first for 26
            questions instead of 24 (3 and 4: 27; from 4 on, the seed questions,
            whose answers sit deeper, lose one). 0 turns it off.
    """

    mode: str = "hybrid"
    candidates: int = 20
    rerank: bool = False
    rerank_window: int = 60
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    time_boost: float = 0.5
    dedup: float = 0.8
    lead_lift: float = 2.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"retrieval mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if isinstance(self.candidates, bool) or not isinstance(self.candidates, int) or not 1 <= self.candidates <= 200:
            raise ConfigError(f"candidates must be an integer from 1 to 200, got {self.candidates!r}")
        if not 0.0 <= self.dedup <= 1.0:
            raise ConfigError(f"dedup must be from 0 to 1, got {self.dedup}")
        if self.rrf_k < 1 or self.dense_weight < 0 or self.bm25_weight < 0 or self.time_boost < 0:
            raise ConfigError("rrf_k must be at least 1 and the weights and time_boost non-negative")
        if isinstance(self.rerank_window, bool) or not isinstance(self.rerank_window, int) or not (
            self.rerank_window == 0 or 10 <= self.rerank_window <= 1000
        ):
            raise ConfigError(f"rerank_window must be 0 (whole chunks) or 10 to 1000 words, got {self.rerank_window!r}")
        if not 0.0 <= self.lead_lift <= 20.0:
            raise ConfigError(f"lead_lift must be from 0 to 20 places, got {self.lead_lift}")


MODES = ("hybrid", "dense", "bm25")


class Retriever:
    """Finds the passages for a question: dense and keyword search, fused, optionally reranked.

    Every returned chunk's `score` is its cosine similarity to the question
    (generators read it as a feature); the order is the retriever's ranking.

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
        self, question: str, top_k: int, filters: Filters | None = None, asked_on: date | str | None = None
    ) -> list[ScoredChunk]:
        """The `top_k` best passages for `question`; `asked_on` (default today) dates "this week" and the like."""
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
        frame = time_frame(question, asked_on) if cfg.time_boost > 0 else None
        if frame is not None:
            pool = prefer_period(pool, frame, cfg.time_boost)
        if cfg.dedup > 0:
            pool = drop_near_duplicates(pool, cfg.dedup, top_k)
        return self._with_similarity(vector, pool[:top_k], rankings[0] if cfg.mode != "bm25" else [])

    def _with_similarity(self, vector: np.ndarray, hits: list[ScoredChunk], dense: Sequence[ScoredChunk]) -> list[ScoredChunk]:
        """Give every hit its cosine similarity to the question (keyword hits lack one)."""
        known = {h.chunk.id: h.score for h in dense}
        missing = [h.chunk.id for h in hits if h.chunk.id not in known]
        if missing:
            vectors = self.store.get_embeddings(missing)
            for cid, vec in vectors.items():
                known[cid] = float(np.dot(vec, vector))
        return [ScoredChunk(h.chunk, known.get(h.chunk.id, 0.0)) for h in hits]


class QueryEngine:
    """Answers questions from one store with one generator.

    Args:
        retriever: finds passages for a question.
        generator: writes the answer from the passages.
        top_k: passages retrieved per question.
    """

    def __init__(self, retriever: Retriever, generator: Generator, *, top_k: int = DEFAULT_TOP_K) -> None:
        self.retriever = retriever
        self.generator = generator
        self.top_k = check_top_k(top_k)

    @classmethod
    def from_store(
        cls,
        store: str | Path | None = None,
        *,
        embedder: Embedder | None = None,
        generator: str | Generator | None = None,
        top_k: int = DEFAULT_TOP_K,
        retrieval: RetrievalConfig | None = None,
        cross_encoder: CrossEncoder | None = None,
    ) -> QueryEngine:
        """Build an engine over the store at `store` with default parts where none are given.

        `cross_encoder` (default the packaged ms-marco reranker) reranks retrieved passages.

        Raises:
            StoreNotFoundError, EmbeddingMismatchError, ConfigError.
        """
        if embedder is None:
            from index.embedding import make_embedder

            embedder = make_embedder()
        db = open_store(store, embedder)
        gen = generator if generator is not None and not isinstance(generator, str) else make_generator(generator, embedder)
        retrieval = retrieval or RetrievalConfig()
        if cross_encoder is None and retrieval.rerank:
            from .rerank import default_cross_encoder

            cross_encoder = default_cross_encoder()
        return cls(Retriever(db, embedder, cross_encoder=cross_encoder, config=retrieval), gen, top_k=top_k)

    def retrieve(
        self, question: str, top_k: int | None = None, *, filters: Filters | None = None, asked_on: date | str | None = None
    ) -> list[ScoredChunk]:
        return self.retriever.retrieve(
            check_question(question), check_top_k(self.top_k if top_k is None else top_k), check_filters(filters), asked_on
        )

    def query(
        self, question: str, *, top_k: int | None = None, filters: Filters | None = None, asked_on: date | str | None = None
    ) -> Answer:
        """Answer one question.

        `filters` restricts the articles searched (by id, source, publication date).
        `asked_on` is the day the question is asked (default today): articles from the
        period "this week", "recently" and the like refer to are preferred.

        Raises:
            InputError: empty or oversized question.
            ConfigError: invalid `top_k`.
            StoreError: the store cannot be searched.
        """
        return final_answer(self.stream(question, top_k=top_k, filters=filters, asked_on=asked_on))

    def stream(
        self, question: str, *, top_k: int | None = None, filters: Filters | None = None, asked_on: date | str | None = None
    ) -> Iterator[str | Answer]:
        """Answer one question as it is written: text pieces (str) of the draft, then the checked `Answer`.

        Generators that cannot stream (extractive) yield only the `Answer`.
        The draft may contain sentences the final answer drops as unsupported:
        show the `Answer` once it arrives.

        Raises:
            The same errors as `query`.
        """
        question = check_question(question)
        hits = self.retriever.retrieve(question, check_top_k(self.top_k if top_k is None else top_k), check_filters(filters), asked_on)
        stream = getattr(self.generator, "stream", None)
        events = stream(question, hits) if stream else iter([self.generator.generate(question, hits)])
        for event in events:
            if isinstance(event, Answer):
                yield replace(event, question=question, generator=self.generator.name, passages=_passages(hits))
                return
            yield event


def _passages(hits: Sequence[ScoredChunk]) -> tuple[Passage, ...]:
    return tuple(
        Passage(
            chunk_id=h.chunk.id,
            doc_id=h.chunk.doc_id,
            title=h.chunk.metadata.get("title", ""),
            text=h.chunk.text,
            start=h.chunk.start,
            end=h.chunk.end,
            score=round(h.score, 4),
        )
        for h in hits
    )
