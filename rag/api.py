"""The one-call API: `rag.query(question)`.

Everything heavy is loaded once per process and shared: models through the
model registry (`core.models`: the embedder, the cross-encoder, the LLM), and
per store one opened store and one keyword index. An engine (a retriever and a
generator) is cheap to make on top of them, and is kept per store, generator
and retrieval settings.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path

from core.settings import Settings, settings
from index.embedding import Embedder, shared_embedder
from index.filters import Filters
from index.lexical import BM25Index
from index.store import ChromaStore, open_store, store_key
from index.types import Article

from .engine import QueryEngine, RetrievalConfig, Retriever
from .generators import Generator, default_name, make_generator
from .types import Answer

_lock = threading.Lock()
_stores: dict[str, tuple[ChromaStore, BM25Index]] = {}
_generators: dict[tuple[str, Settings], Generator] = {}
_engines: dict[tuple[str, int, RetrievalConfig], QueryEngine] = {}


def default_embedder() -> Embedder:
    """The process's embedder (`$RAG_EMBEDDER`, else ONNX INT8 MiniLM), loaded once."""
    return shared_embedder()


def shared_store(store: str | Path | None = None) -> tuple[ChromaStore, BM25Index]:
    """The process's opened store at `store` and its keyword index (opened once per store)."""
    key = store_key(store)
    with _lock:
        found = _stores.get(key)
        if found is None:
            db = open_store(key, default_embedder())
            found = _stores[key] = (db, BM25Index(db))
        return found


def shared_generator(name: str | None = None) -> Generator:
    """The process's generator called `name` (default `default_name()`), built once."""
    name = name or default_name()
    key = (name, settings())  # other settings (another model file, another checker): another generator
    with _lock:
        found = _generators.get(key)
    if found is None:
        built = make_generator(name, default_embedder())
        with _lock:
            found = _generators.setdefault(key, built)
    return found


def engine(store: str | Path | None = None, generator: str | None = None, retrieval: RetrievalConfig | None = None) -> QueryEngine:
    """The `QueryEngine` for `store` (default `$RAG_STORE`, else `./.rag`), `generator` and `retrieval`.

    Engines share the process's models, stores and keyword indexes: another
    generator or retrieval setting loads nothing twice.
    """
    retrieval = retrieval or RetrievalConfig()
    gen = shared_generator(generator)
    key = (store_key(store), id(gen), retrieval)
    with _lock:
        found = _engines.get(key)
    if found is None:
        db, lexical = shared_store(store)
        cross_encoder = None
        if retrieval.rerank:
            from .retrieval.rerank import default_cross_encoder

            cross_encoder = default_cross_encoder()
        retriever = Retriever(db, default_embedder(), lexical=lexical, cross_encoder=cross_encoder, config=retrieval)
        built = QueryEngine(retriever, gen)
        with _lock:
            found = _engines.setdefault(key, built)
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
    return shared_store(store)[0].get_article(doc_id)
