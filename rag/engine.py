"""The query engine: retrieve passages for a question (`rag.retrieval`), then let a generator answer."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

from core.errors import ConfigError, InputError
from index.embedding import Embedder
from index.filters import Filters
from index.store import open_store
from index.types import ScoredChunk

from .generators import Generator, make_generator
from .question import analyse
from .retrieval import MODES, CrossEncoder, RetrievalConfig, Retriever, prefer_leads, prefer_period
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


def check_filters(filters: object) -> Filters | None:
    if filters is None or isinstance(filters, Filters):
        return filters
    raise ConfigError(f"filters must be an index.Filters, not {type(filters).__name__}")


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
            from index.embedding import shared_embedder

            embedder = shared_embedder()
        db = open_store(store, embedder)
        gen = generator if generator is not None and not isinstance(generator, str) else make_generator(generator, embedder)
        retrieval = retrieval or RetrievalConfig()
        if cross_encoder is None and retrieval.rerank:
            from .retrieval import default_cross_encoder

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
        # Read once: retrieval, ranking and the reader share it. It is asked as of `asked_on`, or as of
        # the newest article when the store ends earlier (`Question.window`).
        q = analyse(check_question(question), asked_on, latest=self.retriever.store.newest_date() or None)
        hits = self.retriever.retrieve(q, check_top_k(self.top_k if top_k is None else top_k), check_filters(filters), asked_on)
        for event in self.generator.stream(q, hits):
            if isinstance(event, Answer):
                yield replace(event, question=q.text, generator=self.generator.name, passages=_passages(hits))
                return
            yield event


def _passages(hits: Sequence[ScoredChunk]) -> tuple[Passage, ...]:
    return tuple(
        Passage(
            chunk_id=h.chunk.id,
            doc_id=h.chunk.doc_id,
            title=h.chunk.article.title,
            text=h.chunk.text,
            start=h.chunk.start,
            end=h.chunk.end,
            score=round(h.cosine, 4),
        )
        for h in hits
    )


__all__ = ["DEFAULT_TOP_K", "MAX_QUESTION_CHARS", "MODES", "QueryEngine", "RetrievalConfig", "Retriever", "check_question", "check_top_k", "prefer_leads", "prefer_period"]
