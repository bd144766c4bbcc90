"""The one-call API: `rag.query(question)`.

Engines are cached per store and generator, and all share one embedding model,
so repeated calls do not reload anything.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

from index.embedding import Embedder
from index.store import resolve_location
from index.types import Article

from .engine import QueryEngine
from .types import Answer

_lock = threading.Lock()
_embedder: Embedder | None = None
_engines: dict[tuple[str, str], QueryEngine] = {}


def default_embedder() -> Embedder:
    """The process-wide default embedder (all-MiniLM-L6-v2), created on first use."""
    global _embedder
    with _lock:
        if _embedder is None:
            from index.embedding import SentenceTransformerEmbedder

            _embedder = SentenceTransformerEmbedder()
        return _embedder


def engine(store: str | Path | None = None, generator: str | None = None) -> QueryEngine:
    """The cached `QueryEngine` for `store` (default `$RAG_STORE`, else `./.rag`) and `generator`."""
    key = (str(resolve_location(store).resolve()), generator or "")
    with _lock:
        found = _engines.get(key)
    if found is None:
        found = QueryEngine.from_store(key[0], embedder=default_embedder(), generator=generator)
        with _lock:
            found = _engines.setdefault(key, found)
    return found


def query(
    question: str,
    *,
    store: str | Path | None = None,
    top_k: int | None = None,
    generator: str | None = None,
) -> Answer:
    """Answer a question from the articles in the store, with citations.

    Args:
        question: the question, in plain words.
        store: the store folder (default `$RAG_STORE`, else `./.rag`).
        top_k: passages to retrieve (default 5).
        generator: "local" (the packaged LLM, the default when installed),
            "openai" (an OpenAI-compatible server) or "extractive" (no LLM).

    Returns:
        An `Answer`: `text` with `[n]` markers and `citations`, or `refused=True`.

    Raises:
        rag.errors.InputError: empty or oversized question.
        rag.errors.StoreNotFoundError: nothing ingested in `store` yet.
        rag.errors.EmbeddingMismatchError: the store was built with another model.
    """
    return engine(store, generator).query(question, top_k=top_k)


def stream_query(
    question: str,
    *,
    store: str | Path | None = None,
    top_k: int | None = None,
    generator: str | None = None,
) -> Iterator[str | Answer]:
    """Like `query`, but yields the draft's text pieces as they are written, then the checked `Answer`.

    Show the pieces for responsiveness, then replace them with `Answer.text`:
    sentences that no source supports are dropped from the final answer.
    """
    return engine(store, generator).stream(question, top_k=top_k)


def get_article(doc_id: str, *, store: str | Path | None = None) -> Article | None:
    """The ingested article `doc_id` (its cleaned text is what citation offsets refer to)."""
    return engine(store).retriever.store.get_article(doc_id)
