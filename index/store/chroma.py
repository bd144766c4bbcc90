"""`ChromaStore`: chunks and articles in one Chroma database (see the package docstring), and `open_store`."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import EmbeddingMismatchError, StoreError, StoreNotFoundError
from core.settings import settings

from ..types import Article, ArticleInfo, Chunk, ScoredChunk
from .connection import (
    ARTICLES,
    CHUNKS,
    META,
    _connect,
    _connect_server,
    _read_generation,
    forget_cached_client,
    hold,
    release,
)
from .location import is_remote, resolve_location
from .mapping import _mapped
from .records import BATCH, FILTER_KEYS, _chunk_from_record, _get_by_ids
from .writing import WritingMixin

SCHEMA_VERSION = 1
# Chroma's defaults (ef 100, M 16) found 0.971 of the exact top 10 at 10k chunks and 0.947 at 30k; these
# found 0.997 at 10k for +1 ms per search and 50% slower inserts (bench/scale.py, docs/BENCHMARKS.md).
# They apply to stores created from now on: Chroma fixes them when a collection is created.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32}


@dataclass
class _Attachment:
    """One connection to the database and its collections, swapped whole when the store is reopened."""

    client: Any
    chunks: Any
    articles: Any
    meta: Any = None
    system: Any = None  # a local store's Chroma system, stopped once nobody uses it
    users: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


class ChromaStore(WritingMixin):
    """Chunks and articles in a Chroma database; see the package docstring.

    Use `open_store` rather than the constructor. Safe to share between
    threads: reads, writes and reopening (`sync`) may run at the same time.
    """

    def __init__(self, client: Any, location: str, embed_model: str, embed_dim: int, *, create: bool) -> None:
        self.location = location
        self.remote = is_remote(location)
        self.embed_model = embed_model
        self.embed_dim = embed_dim
        self._sync_lock = threading.RLock()
        self._state = self._attach(client, create=create)
        self._generation = self.current_generation()
        self._newest: tuple[str, str] | None = None  # (generation, newest article date), see `newest_date`

    def _attach(self, client: Any, *, create: bool) -> _Attachment:
        """A new attachment to `client`'s collections (the store's own state is not touched)."""
        location, embed_model, embed_dim = self.location, self.embed_model, self.embed_dim
        with _mapped("opening", location):
            names = {getattr(c, "name", c) for c in client.list_collections()}
            if CHUNKS not in names and not create:
                raise StoreNotFoundError(
                    f"no articles have been ingested into the store at {location}; run: rag ingest PATH --store {location}"
                )
            meta = {"embed_model": embed_model, "embed_dim": embed_dim, "schema_version": SCHEMA_VERSION}
            chunks = client.get_or_create_collection(
                CHUNKS, embedding_function=None, metadata=meta, configuration={"hnsw": HNSW}
            )
            articles = client.get_or_create_collection(
                ARTICLES, embedding_function=None, metadata={"schema_version": SCHEMA_VERSION}
            )
            meta_collection = client.get_or_create_collection(META, embedding_function=None) if self.remote else None
        found = chunks.metadata or {}
        if found.get("embed_model") != embed_model or int(found.get("embed_dim", -1)) != embed_dim:
            raise EmbeddingMismatchError(
                f"the store at {location} was built with {found.get('embed_model')} ({found.get('embed_dim')} dims) "
                f"but {embed_model} ({embed_dim} dims) is in use; use the same model, or rebuild the store with: "
                "rag ingest PATH --rebuild"
            )
        system = None if self.remote else getattr(client, "_system", None)
        if system is not None:
            hold(system)
        return _Attachment(client, chunks, articles, meta_collection, system)

    def _swap(self, fresh: _Attachment) -> None:
        """Make `fresh` the store's attachment; the old one is let go when its last reader is done."""
        old, self._state = self._state, fresh
        if old is fresh:
            return
        with old.lock:
            old.retired = True
            idle = old.users == 0
        if idle:
            self._let_go(old)

    def _let_go(self, attachment: _Attachment) -> None:
        if attachment.system is not None:
            release(attachment.system, Path(self.location))

    @contextlib.contextmanager
    def _using(self, action: str) -> Iterator[_Attachment]:
        """The current attachment, kept open while the block runs; library errors mapped to `StoreError`."""
        with self._sync_lock:
            state = self._state
            with state.lock:
                state.users += 1
        try:
            with _mapped(action, self.location):
                yield state
        finally:
            with state.lock:
                state.users -= 1
                done = state.retired and state.users == 0
            if done:
                self._let_go(state)

    def close(self) -> None:
        """Let go of the database connection (a local store's Chroma system is stopped when unused)."""
        with self._sync_lock:
            self._swap(_Attachment(None, None, None))

    def check(self) -> None:
        """Fail when the vector index cannot find what the database records.

        Chroma keeps chunk records in sqlite and vectors in separate index
        files; with the files deleted or damaged it may answer every search
        with nothing, which would read as "the articles don't say". So a store
        that records chunks must find one of them by its own vector.

        `open_store` runs it for readers (not for an ingest, which is how an
        interrupted ingest is repaired).

        Raises:
            StoreError: naming the fix (re-run the ingest, or rebuild).
        """
        chunks = self._state.chunks
        with _mapped("checking", self.location):
            total = chunks.count()
        if total == 0:
            return
        found: list[str] = []
        problem = "its vector index finds none"
        try:
            sample = chunks.get(limit=1, include=["embeddings"])
            embeddings = sample.get("embeddings")
            if sample["ids"] and embeddings is not None and len(embeddings):
                res = chunks.query(query_embeddings=[np.asarray(embeddings[0]).tolist()], n_results=1, include=[])
                found = res["ids"][0]
        except Exception as err:  # noqa: BLE001 - Chroma's errors for missing index files vary
            problem = f"its vector index cannot be read ({err})"
        if not found:
            raise StoreError(
                f"the store at {self.location} records {total} chunks but {problem}: the index files are missing or "
                "damaged. If an ingest was interrupted, run it again; otherwise rebuild the store with: "
                "rag ingest PATH --rebuild"
            )

    # --- freshness -----------------------------------------------------------

    def sync(self) -> bool:
        """Reopen the database if another process changed it since we opened it.

        Chroma keeps each collection's vector index in memory, so chunks that
        another process (`rag ingest` while `rag serve` runs) wrote would not
        be found. Every write bumps the store's `generation`; a search that
        sees a new value reopens the database first. True when it did.

        Safe while other threads read: the new connection is made aside, then
        swapped in whole under a lock; reads already running finish on the old
        one, which is closed when the last of them is done.
        """
        if self.current_generation() == self._generation:
            return False
        with self._sync_lock:  # one reopen at a time
            current = self.current_generation()
            if current == self._generation:
                return False
            if self.remote:  # the server searches its current index; collections may have been recreated (--rebuild)
                fresh = self._attach(self._state.client, create=False)
            else:
                forget_cached_client(Path(self.location))
                fresh = self._attach(_connect(self.location), create=False)
            self._swap(fresh)
            self._generation = current
        return True

    def current_generation(self) -> str:
        """The store's generation as recorded now (possibly newer than `generation`)."""
        if not self.remote:
            return _read_generation(self.location)
        meta = self._state.meta
        try:
            got = meta.get(ids=["generation"], include=["documents"])
        except Exception:  # noqa: BLE001 - recreated by another process's --rebuild: look the collections up again
            with self._sync_lock:
                self._swap(self._attach(self._state.client, create=False))
            with _mapped("reading the store's generation", self.location):
                got = self._state.meta.get(ids=["generation"], include=["documents"])
        return (got["documents"] or [""])[0] or ""

    @property
    def cache_folder(self) -> Path:
        """A local folder for what is derived from the store (the keyword index): the store's
        own folder, or for a server a folder under `$RAG_CACHE_DIR/servers/`."""
        if not self.remote:
            return Path(self.location)
        digest = hashlib.sha256(f"{self.location}|{self.embed_model}".encode()).hexdigest()[:16]
        return settings().cache_dir / "servers" / digest

    @property
    def generation(self) -> str:
        """Changes on every write to the store (by any process that has synced)."""
        return self._generation

    # --- reading -------------------------------------------------------------

    def count(self) -> int:
        """Number of chunks in the store."""
        with self._using("counting chunks") as st:
            return int(st.chunks.count())

    def fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored fingerprint of each of `ids` that is in the store."""
        out: dict[str, str] = {}
        with self._using("reading articles") as st:
            for got in _get_by_ids(st.articles, ids, ["metadatas"]):
                for doc_id, meta in zip(got["ids"], got["metadatas"] or []):
                    out[doc_id] = str((meta or {}).get("fingerprint", ""))
        return out

    def get_article(self, doc_id: str) -> Article | None:
        """The article as ingested (cleaned text and metadata), or None."""
        with self._using("reading an article") as st:
            got = st.articles.get(ids=[doc_id], include=["documents", "metadatas"])
        if not got["ids"]:
            return None
        meta = got["metadatas"][0] or {}
        return Article(
            id=doc_id,
            text=got["documents"][0] or "",
            title=str(meta.get("title", "")),
            source=str(meta.get("source", "")),
            url=str(meta.get("url", "")),
            published_at=str(meta.get("published_at", "")),
            origin=str(meta.get("origin", "")),
            inferred_date=str(meta.get("inferred_date", "")),
        )

    def list_articles(self) -> list[ArticleInfo]:
        """Every article in the store, newest first (undated last)."""
        with self._using("listing articles") as st:
            got = st.articles.get(include=["metadatas"])
        infos = [
            ArticleInfo(
                id=doc_id,
                title=str(m.get("title", "")),
                source=str(m.get("source", "")),
                url=str(m.get("url", "")),
                published_at=str(m.get("published_at", "")),
                chunks=int(m.get("n_chunks", 0)),
                origin=str(m.get("origin", "")),
                inferred_date=str(m.get("inferred_date", "")),
            )
            for doc_id, m in zip(got["ids"], (m or {} for m in got["metadatas"] or []))
        ]
        dated = sorted((a for a in infos if a.published_at), key=lambda a: (a.published_at, a.id), reverse=True)
        undated = sorted((a for a in infos if not a.published_at), key=lambda a: a.id)
        return dated + undated

    def newest_date(self) -> str:
        """The publication date of the newest article, ISO ("" when no article has one; a date
        inferred from an article's text is not counted). Read once per store generation."""
        self.sync()
        generation = self._generation
        cached = self._newest
        if cached is not None and cached[0] == generation:
            return cached[1]
        with self._using("reading article dates") as st:
            got = st.articles.get(include=["metadatas"])
        days = [str(m.get("published_at") or "")[:10] for m in (m or {} for m in got["metadatas"] or [])]
        newest = max((d for d in days if d), default="")
        self._newest = (generation, newest)
        return newest

    def search(self, embedding: np.ndarray, top_k: int, where: dict[str, Any] | None = None) -> list[ScoredChunk]:
        """The `top_k` chunks closest to `embedding` (cosine), best first."""
        self.sync()
        with self._using("searching") as st:
            n = min(top_k, st.chunks.count())
            if n <= 0:
                return []
            res = st.chunks.query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32).tolist()],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        out = []
        for chunk_id, text, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
        ):
            similarity = 1.0 - float(dist)
            out.append(ScoredChunk(_chunk_from_record(chunk_id, text, meta or {}), similarity, similarity))
        return out

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids that are in the store, by id."""
        out: dict[str, Chunk] = {}
        with self._using("reading chunks") as st:
            for got in _get_by_ids(st.chunks, ids, ["documents", "metadatas"]):
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                    out[cid] = _chunk_from_record(cid, text, meta or {})
        return out

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored embeddings of these chunk ids, by id."""
        out: dict[str, np.ndarray] = {}
        with self._using("reading embeddings") as st:
            for got in _get_by_ids(st.chunks, ids, ["embeddings"]):
                embs = got.get("embeddings")
                if embs is not None:
                    out.update((cid, np.asarray(e, dtype=np.float32)) for cid, e in zip(got["ids"], embs))
        return out

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Every chunk's id, text and filter metadata (doc_id, source, published_at, published_ts), in id order."""
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        keep = FILTER_KEYS
        with self._using("reading chunks") as st:
            total = st.chunks.count()
            for offset in range(0, total, BATCH):
                got = st.chunks.get(include=["documents", "metadatas"], limit=BATCH, offset=offset)
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                    ids.append(cid)
                    texts.append(text or "")
                    metas.append({k: (meta or {})[k] for k in keep if k in (meta or {})})
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return [ids[i] for i in order], [texts[i] for i in order], [metas[i] for i in order]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """All chunks of one article, in order."""
        with self._using("reading chunks") as st:
            got = st.chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [_chunk_from_record(i, t, m or {}) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda c: c.index)


def open_store(store: str | Path | None, embedder: Any, *, create: bool = False) -> ChromaStore:
    """Open (or with `create=True`, create) the persistent store at `store`.

    Args:
        store: folder of the store; see `resolve_location` for the default.
        embedder: the `Embedder` that built (or will build) the store.
        create: create the folder and collections when missing.

    Raises:
        StoreNotFoundError: nothing ingested there yet and `create` is False.
        EmbeddingMismatchError: the store was built with another model.
        StoreError: the store cannot be opened.
    """
    where = resolve_location(store)
    if isinstance(where, str):
        remote = ChromaStore(_connect_server(where), where, embedder.name, embedder.dim, create=create)
        if not create:
            remote.check()
        return remote
    path = where
    location = str(path)
    if not create and not (path / "chroma.sqlite3").is_file():
        raise StoreNotFoundError(f"no article store at {location}; ingest articles first: rag ingest PATH --store {location}")
    if path.exists() and not path.is_dir():
        raise StoreError(f"{location} is a file, not a store folder; choose another --store")
    with _mapped("opening", location):
        path.mkdir(parents=True, exist_ok=True)
    store = ChromaStore(_connect(location), location, embedder.name, embedder.dim, create=create)
    if not create:  # readers; an ingest (create=True) is how an interrupted ingest is repaired
        store.check()
    return store


