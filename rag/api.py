"""The one-call API: `rag.query(question)`.

Engines are cached per store and generator, and all share one embedding model,
so repeated calls do not reload anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from index.embedding import Embedder
from index.filters import Filters
from index.store import store_key
from index.types import Article

from .engine import QueryEngine, RetrievalConfig
from .types import Answer

_lock = threading.Lock()
_embedder: Embedder | None = None
_engines: dict[tuple[str, str, RetrievalConfig], QueryEngine] = {}


def default_embedder() -> Embedder:
    """The process-wide default embedder (`make_embedder()`: `$RAG_EMBEDDER`, else ONNX INT8 MiniLM), created on first use."""
    global _embedder
    with _lock:
        if _embedder is None:
            from index.embedding import make_embedder

            _embedder = make_embedder()
        return _embedder


def engine(store: str | Path | None = None, generator: str | None = None, retrieval: RetrievalConfig | None = None) -> QueryEngine:
    """The cached `QueryEngine` for `store` (default `$RAG_STORE`, else `./.rag`), `generator` and `retrieval`."""
    retrieval = retrieval or RetrievalConfig()
    key = (store_key(store), generator or "", retrieval)
    with _lock:
        found = _engines.get(key)
    if found is None:
        found = QueryEngine.from_store(key[0], embedder=default_embedder(), generator=generator, retrieval=retrieval)
        with _lock:
            found = _engines.setdefault(key, found)
    return found


def query(
    question: str,
    *,
    store: str | Path | None = None,
    top_k: int | None = None,
    generator: str | None = None,
    filters: Filters | None = None,
    retrieval: RetrievalConfig | None = None,
    asked_on: date | str | None = None,
) -> Answer:
    """Answer a question from the articles in the store, with citations.

    Args:
        question: the question, in plain words.
        store: the store folder (default `$RAG_STORE`, else `./.rag`).
        top_k: passages to retrieve (default 5).
        generator: "local" (the packaged LLM, the default when installed),
            "openai" (an OpenAI-compatible server) or "extractive" (no LLM).
        filters: search only some articles: `index.Filters(sources=..., since=..., until=..., doc_ids=...)`.
        retrieval: how passages are found (default hybrid BM25 + dense, with time preference).
        asked_on: the day the question is asked (default today); "this week",
            "recently" and the like prefer articles published then.

    Returns:
        An `Answer`: `text` with `[n]` markers and `citations`, or `refused=True`.

    Raises:
        rag.errors.InputError: empty or oversized question.
        rag.errors.StoreNotFoundError: nothing ingested in `store` yet.
        rag.errors.EmbeddingMismatchError: the store was built with another model.
    """
    return engine(store, generator, retrieval).query(question, top_k=top_k, filters=filters, asked_on=asked_on)


def stream_query(
    question: str,
    *,
    store: str | Path | None = None,
    top_k: int | None = None,
    generator: str | None = None,
    filters: Filters | None = None,
    retrieval: RetrievalConfig | None = None,
    asked_on: date | str | None = None,
) -> Iterator[str | Answer]:
    """Like `query`, but yields the draft's text pieces as they are written, then the checked `Answer`.

    Show the pieces for responsiveness, then replace them with `Answer.text`:
    sentences that no source supports are dropped from the final answer.
    """
    return engine(store, generator, retrieval).stream(question, top_k=top_k, filters=filters, asked_on=asked_on)


def get_article(doc_id: str, *, store: str | Path | None = None) -> Article | None:
    """The ingested article `doc_id` (its cleaned text is what citation offsets refer to)."""
    return engine(store).retriever.store.get_article(doc_id)
