"""The article store: two collections in one Chroma database.

- `chunks`: one record per chunk, with its embedding, text, offsets and the
  article's metadata. The collection's metadata records the embedding model and
  dimension that built it; opening it with another model is an error.
- `articles`: one record per article with its cleaned text (the text every
  citation offset refers to) and the fingerprint of what was ingested. The
  article record is written last, so it doubles as a commit marker: an article
  whose chunks were half written has no (or an old) fingerprint and is redone
  on the next ingest.

Chroma is always given embeddings: its default embedding function would
download a model, so no collection is ever created with one.

A store is a folder (embedded Chroma, `PersistentClient`) or a Chroma server
(`HttpClient`): `--store http://host:8000`, or `RAG_CHROMA_URL` when no store
is named. Several `rag serve` processes on several machines can then share one
store. Every write records a new `generation` (a file in the folder; a record
in the `newsrag_meta` collection on a server) so that other processes notice.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from rag.errors import EmbeddingMismatchError, RagError, StoreError, StoreLockedError, StoreNotFoundError

from .types import Article, ArticleInfo, Chunk, ScoredChunk

SCHEMA_VERSION = 1
LOCK_FILE = ".write.lock"
DEFAULT_LOCK_TIMEOUT = 30.0  # seconds; $RAG_LOCK_TIMEOUT
CHUNKS = "chunks"
ARTICLES = "articles"
META = "newsrag_meta"  # on a server: the store's generation
# Chroma's defaults (ef 100, M 16) found 0.971 of the exact top 10 at 10k chunks and 0.947 at 30k; these
# found 0.997 at 10k for +1 ms per search and 50% slower inserts (bench/scale.py, docs/BENCHMARKS.md).
# They apply to stores created from now on: Chroma fixes them when a collection is created.
HNSW = {"space": "cosine", "ef_construction": 200, "ef_search": 200, "max_neighbors": 32}
_WRITE_BATCH = 1000


@contextlib.contextmanager
def _mapped(action: str, location: str) -> Iterator[None]:
    """Turn chromadb / sqlite errors into `StoreError` with a next step."""
    try:
        yield
    except RagError:
        raise
    except Exception as err:
        raise StoreError(
            f"{action} failed for the store at {location}: {err}. "
            "If the store is damaged, rebuild it with: rag ingest PATH --rebuild"
        ) from err


@contextlib.contextmanager
def write_lock(store: str | Path | None, *, timeout: float | None = None) -> Iterator[None]:
    """One writer at a time for a local store: an advisory lock on `<store>/.write.lock`.

    Ingest and delete hold it; searches never wait for it. A second writer waits
    up to `timeout` seconds (default `$RAG_LOCK_TIMEOUT`, else 30), then fails.
    The lock dies with its process, so a killed ingest never leaves it behind.
    A Chroma server orders writes itself: no lock.

    Raises:
        StoreLockedError: another process held the lock for the whole timeout.
    """
    import os
    import time

    where = resolve_location(store)
    try:
        import fcntl
    except ImportError:  # not POSIX: Chroma's own locking only
        fcntl = None  # type: ignore[assignment]
    if isinstance(where, str) or fcntl is None:
        yield
        return
    limit = _lock_timeout(timeout)
    with _mapped("locking", str(where)):
        where.mkdir(parents=True, exist_ok=True)
        handle = open(where / LOCK_FILE, "a+")  # noqa: SIM115 - closed in finally
    try:
        deadline = time.monotonic() + limit
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise StoreLockedError(
                        f"{holder} is writing to the store at {where} (waited {limit:g} s); "
                        "retry when it has finished, or set RAG_LOCK_TIMEOUT=SECONDS to wait longer"
                    ) from None
                time.sleep(0.05)
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


def _lock_timeout(timeout: float | None) -> float:
    import os

    if timeout is not None:
        return float(timeout)
    raw = os.environ.get("RAG_LOCK_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_LOCK_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if value < 0:
        from rag.errors import ConfigError

        raise ConfigError(f"RAG_LOCK_TIMEOUT must be a number of seconds (0 or more), got {raw!r}")
    return value


def published_timestamp(value: str) -> int | None:
    """Seconds since the epoch for an ISO 8601 date, or None when it does not parse."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if parsed.tzinfo is None:
        from datetime import timezone

        parsed = parsed.replace(tzinfo=timezone.utc)
    return int(parsed.timestamp())


class ChromaStore:
    """Chunks and articles in a Chroma database; see the module docstring.

    Use `open_store` rather than the constructor.
    """

    def __init__(self, client: Any, location: str, embed_model: str, embed_dim: int, *, create: bool) -> None:
        self.location = location
        self.remote = is_remote(location)
        self.embed_model = embed_model
        self.embed_dim = embed_dim
        self._meta: Any = None
        self._attach(client, create=create)
        self._generation = self.current_generation()

    def _attach(self, client: Any, *, create: bool) -> None:
        location, embed_model, embed_dim = self.location, self.embed_model, self.embed_dim
        self._client = client
        with _mapped("opening", location):
            names = {getattr(c, "name", c) for c in client.list_collections()}
            if CHUNKS not in names and not create:
                raise StoreNotFoundError(
                    f"no articles have been ingested into the store at {location}; run: rag ingest PATH --store {location}"
                )
            meta = {"embed_model": embed_model, "embed_dim": embed_dim, "schema_version": SCHEMA_VERSION}
            self._chunks = client.get_or_create_collection(
                CHUNKS, embedding_function=None, metadata=meta, configuration={"hnsw": HNSW}
            )
            self._articles = client.get_or_create_collection(
                ARTICLES, embedding_function=None, metadata={"schema_version": SCHEMA_VERSION}
            )
            if self.remote:
                self._meta = client.get_or_create_collection(META, embedding_function=None)
        found = self._chunks.metadata or {}
        if found.get("embed_model") != embed_model or int(found.get("embed_dim", -1)) != embed_dim:
            raise EmbeddingMismatchError(
                f"the store at {location} was built with {found.get('embed_model')} ({found.get('embed_dim')} dims) "
                f"but {embed_model} ({embed_dim} dims) is in use; use the same model, or rebuild the store with: "
                "rag ingest PATH --rebuild"
            )

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
        with _mapped("checking", self.location):
            total = self._chunks.count()
        if total == 0:
            return
        found: list[str] = []
        problem = "its vector index finds none"
        try:
            sample = self._chunks.get(limit=1, include=["embeddings"])
            embeddings = sample.get("embeddings")
            if sample["ids"] and embeddings is not None and len(embeddings):
                res = self._chunks.query(query_embeddings=[np.asarray(embeddings[0]).tolist()], n_results=1, include=[])
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
        be found. Every write bumps the store's `generation` file; a search
        that sees a new value reopens the database first. True when it did.
        """
        current = self.current_generation()
        if current == self._generation:
            return False
        if self.remote:  # the server searches its current index; collections may have been recreated (--rebuild)
            self._attach(self._client, create=False)
        else:
            _forget_cached_client(Path(self.location))
            self._attach(_connect(self.location), create=False)
        self._generation = current
        return True

    def current_generation(self) -> str:
        """The store's generation as recorded now (possibly newer than `generation`)."""
        if not self.remote:
            return _read_generation(self.location)
        try:
            got = self._meta.get(ids=["generation"], include=["documents"])
        except Exception:  # noqa: BLE001 - recreated by another process's --rebuild: look the collections up again
            self._attach(self._client, create=False)
            with _mapped("reading the store's generation", self.location):
                got = self._meta.get(ids=["generation"], include=["documents"])
        return (got["documents"] or [""])[0] or ""

    def _bump(self) -> None:
        if not self.remote:
            self._generation = _write_generation(self.location)
            return
        import uuid

        value = uuid.uuid4().hex
        with _mapped("recording a write", self.location):
            self._meta.upsert(ids=["generation"], embeddings=[[1.0]], documents=[value])
        self._generation = value

    @property
    def cache_folder(self) -> Path:
        """A local folder for what is derived from the store (the keyword index): the store's
        own folder, or for a server a folder under `$RAG_CACHE_DIR/servers/`."""
        if not self.remote:
            return Path(self.location)
        from .embedding import cache_dir

        digest = hashlib.sha256(f"{self.location}|{self.embed_model}".encode()).hexdigest()[:16]
        return cache_dir() / "servers" / digest

    @property
    def generation(self) -> str:
        """Changes on every write to the store (by any process that has synced)."""
        return self._generation

    # --- reading -------------------------------------------------------------

    def count(self) -> int:
        """Number of chunks in the store."""
        with _mapped("counting chunks", self.location):
            return int(self._chunks.count())

    def fingerprints(self, ids: Sequence[str]) -> dict[str, str]:
        """The stored fingerprint of each of `ids` that is in the store."""
        out: dict[str, str] = {}
        with _mapped("reading articles", self.location):
            for got in _get_by_ids(self._articles, ids, ["metadatas"]):
                for doc_id, meta in zip(got["ids"], got["metadatas"] or []):
                    out[doc_id] = str((meta or {}).get("fingerprint", ""))
        return out

    def get_article(self, doc_id: str) -> Article | None:
        """The article as ingested (cleaned text and metadata), or None."""
        with _mapped("reading an article", self.location):
            got = self._articles.get(ids=[doc_id], include=["documents", "metadatas"])
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
        )

    def list_articles(self) -> list[ArticleInfo]:
        """Every article in the store, newest first (undated last)."""
        with _mapped("listing articles", self.location):
            got = self._articles.get(include=["metadatas"])
        infos = [
            ArticleInfo(
                id=doc_id,
                title=str(m.get("title", "")),
                source=str(m.get("source", "")),
                url=str(m.get("url", "")),
                published_at=str(m.get("published_at", "")),
                chunks=int(m.get("n_chunks", 0)),
                origin=str(m.get("origin", "")),
            )
            for doc_id, m in zip(got["ids"], (m or {} for m in got["metadatas"] or []))
        ]
        dated = sorted((a for a in infos if a.published_at), key=lambda a: (a.published_at, a.id), reverse=True)
        undated = sorted((a for a in infos if not a.published_at), key=lambda a: a.id)
        return dated + undated

    def search(self, embedding: np.ndarray, top_k: int, where: dict[str, Any] | None = None) -> list[ScoredChunk]:
        """The `top_k` chunks closest to `embedding` (cosine), best first."""
        self.sync()
        with _mapped("searching", self.location):
            n = min(top_k, self._chunks.count())
            if n <= 0:
                return []
            res = self._chunks.query(
                query_embeddings=[np.asarray(embedding, dtype=np.float32).tolist()],
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
        out = []
        for chunk_id, text, meta, dist in zip(
            res["ids"][0], res["documents"][0], res["metadatas"][0], res["distances"][0]
        ):
            out.append(ScoredChunk(_chunk_from_record(chunk_id, text, meta or {}), 1.0 - float(dist)))
        return out

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """The chunks with these ids that are in the store, by id."""
        out: dict[str, Chunk] = {}
        with _mapped("reading chunks", self.location):
            for got in _get_by_ids(self._chunks, ids, ["documents", "metadatas"]):
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                    out[cid] = _chunk_from_record(cid, text, meta or {})
        return out

    def get_embeddings(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored embeddings of these chunk ids, by id."""
        out: dict[str, np.ndarray] = {}
        with _mapped("reading embeddings", self.location):
            for got in _get_by_ids(self._chunks, ids, ["embeddings"]):
                embs = got.get("embeddings")
                if embs is not None:
                    out.update((cid, np.asarray(e, dtype=np.float32)) for cid, e in zip(got["ids"], embs))
        return out

    def all_chunks(self) -> tuple[list[str], list[str], list[dict[str, Any]]]:
        """Every chunk's id, text and filter metadata (doc_id, source, published_at, published_ts), in id order."""
        ids: list[str] = []
        texts: list[str] = []
        metas: list[dict[str, Any]] = []
        keep = ("doc_id", "source", "published_at", "published_ts")
        with _mapped("reading chunks", self.location):
            total = self._chunks.count()
            for offset in range(0, total, _WRITE_BATCH):
                got = self._chunks.get(include=["documents", "metadatas"], limit=_WRITE_BATCH, offset=offset)
                for cid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                    ids.append(cid)
                    texts.append(text or "")
                    metas.append({k: (meta or {})[k] for k in keep if k in (meta or {})})
        order = sorted(range(len(ids)), key=ids.__getitem__)
        return [ids[i] for i in order], [texts[i] for i in order], [metas[i] for i in order]

    def chunks_of(self, doc_id: str) -> list[Chunk]:
        """All chunks of one article, in order."""
        with _mapped("reading chunks", self.location):
            got = self._chunks.get(where={"doc_id": doc_id}, include=["documents", "metadatas"])
        chunks = [_chunk_from_record(i, t, m or {}) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"])]
        return sorted(chunks, key=lambda c: c.index)

    # --- writing -------------------------------------------------------------

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
        with _mapped(what, self.location):
            for i in range(0, len(doc_ids), _WRITE_BATCH):
                self._chunks.delete(where={"doc_id": {"$in": doc_ids[i : i + _WRITE_BATCH]}})
            for i in range(0, len(ids), _WRITE_BATCH):
                self._chunks.add(
                    ids=ids[i : i + _WRITE_BATCH],
                    embeddings=np.asarray(vectors[i : i + _WRITE_BATCH], dtype=np.float32).tolist(),
                    documents=texts[i : i + _WRITE_BATCH],
                    metadatas=metas[i : i + _WRITE_BATCH],
                )
            records = [
                {
                    "title": article.title,
                    "source": article.source,
                    "url": article.url,
                    "published_at": article.published_at,
                    "origin": article.origin,
                    "fingerprint": fingerprint,
                    "n_chunks": len(chunks),
                }
                for article, chunks, _e, fingerprint in items
            ]
            for i in range(0, len(items), _WRITE_BATCH):
                part = items[i : i + _WRITE_BATCH]
                self._articles.upsert(
                    ids=[article.id for article, *_ in part],
                    embeddings=[[1.0]] * len(part),
                    documents=[article.text for article, *_ in part],
                    metadatas=records[i : i + _WRITE_BATCH],
                )
        self._bump()

    def delete_articles(self, ids: Sequence[str]) -> list[str]:
        """Delete these articles under the store's write lock; returns the ids that were not in the store."""
        with write_lock(self.location):
            return [doc_id for doc_id in ids if not self.delete_article(doc_id)]

    def delete_article(self, doc_id: str) -> bool:
        """Remove an article and its chunks; False when it was not in the store."""
        with _mapped(f"deleting article {doc_id!r}", self.location):
            existed = bool(self._articles.get(ids=[doc_id], include=[])["ids"])
            self._chunks.delete(where={"doc_id": doc_id})
            self._articles.delete(ids=[doc_id])
        self._bump()
        return existed


def _chunk_metadata(chunk: Chunk, article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = dict(article.metadata())
    meta.update(index=chunk.index, start=chunk.start, end=chunk.end)
    ts = published_timestamp(article.published_at)
    if ts is not None:
        meta["published_ts"] = ts
    return meta


def _get_by_ids(collection: Any, ids: Sequence[str], include: list[str]) -> Iterator[dict[str, Any]]:
    """`collection.get` of `ids` in batches: one `get` of 100,000 ids overflows SQLite's limit on query variables."""
    for i in range(0, len(ids), _WRITE_BATCH):
        yield collection.get(ids=list(ids[i : i + _WRITE_BATCH]), include=include)


def _chunk_from_record(chunk_id: str, text: str | None, meta: dict[str, Any]) -> Chunk:
    fields = {k: str(meta.get(k, "")) for k in ("doc_id", "title", "source", "url", "published_at")}
    return Chunk(
        doc_id=fields["doc_id"],
        index=int(meta.get("index", 0)),
        text=text or "",
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        metadata=fields,
    )


def is_remote(store: str | Path | None) -> bool:
    """True for a Chroma server URL (`http://host:port`, `https://...`)."""
    return isinstance(store, str) and store.lower().startswith(("http://", "https://"))


def resolve_location(store: str | Path | None) -> Path | str:
    """Where the store is: the argument, else `$RAG_CHROMA_URL`, else `$RAG_STORE`, else `./.rag`.

    A server URL is returned as a string (without a trailing slash), a folder as a `Path`.
    """
    import os

    chosen = store or os.environ.get("RAG_CHROMA_URL") or os.environ.get("RAG_STORE") or ".rag"
    if is_remote(str(chosen)):
        return str(chosen).rstrip("/")
    return Path(chosen).expanduser()


def store_key(store: str | Path | None) -> str:
    """A stable name for the store (absolute folder or URL), for caches keyed by store."""
    location = resolve_location(store)
    return location if isinstance(location, str) else str(location.resolve())


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


def _connect(location: str) -> Any:
    with _mapped("opening", location):
        import chromadb
        from chromadb.config import Settings

        return chromadb.PersistentClient(path=location, settings=Settings(anonymized_telemetry=False))


def _connect_server(url: str) -> Any:
    """An `HttpClient` for the Chroma server at `url`, checked with a heartbeat."""
    import os
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        raise StoreError(f"{url} is not a Chroma server address; use http://HOST:PORT")
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    headers = {}
    if os.environ.get("RAG_CHROMA_TOKEN"):
        headers["Authorization"] = f"Bearer {os.environ['RAG_CHROMA_TOKEN']}"
    try:
        import chromadb
        from chromadb.config import Settings

        client = chromadb.HttpClient(
            host=parts.hostname, port=port, ssl=ssl, headers=headers or None, settings=Settings(anonymized_telemetry=False)
        )
        client.heartbeat()
    except Exception as err:
        raise StoreError(
            f"cannot reach the Chroma server at {url}: {err}. Start one with: chroma run --path DIR --host HOST --port "
            f"{port} (or unset RAG_CHROMA_URL to use a local store)"
        ) from err
    return client


_GENERATION_FILE = "generation"


def _read_generation(location: str) -> str:
    try:
        return (Path(location) / _GENERATION_FILE).read_text().strip()
    except OSError:
        return ""


def _write_generation(location: str) -> str:
    """Record a new generation of the store (atomically) and return it."""
    import os
    import uuid

    value = uuid.uuid4().hex
    path = Path(location) / _GENERATION_FILE
    tmp = path.with_name(f".{_GENERATION_FILE}.{os.getpid()}.tmp")
    try:
        tmp.write_text(value)
        os.replace(tmp, path)
    except OSError as err:
        raise StoreError(f"cannot write {path}: {err}; check the store folder's permissions") from err
    return value


def reset_store(store: str | Path | None) -> None:
    """Delete the store (for `rag ingest --rebuild`): its folder, or its collections on a server."""
    import shutil

    path = resolve_location(store)
    if isinstance(path, str):
        client = _connect_server(path)
        with _mapped("deleting the store", path):
            names = {getattr(c, "name", c) for c in client.list_collections()}
            for name in (CHUNKS, ARTICLES, META):
                if name in names:
                    client.delete_collection(name)
        return
    if path.is_dir() and (path / "chroma.sqlite3").exists():
        _forget_cached_client(path)
        for child in path.iterdir():  # the write lock (held by whoever rebuilds) stays
            if child.name == LOCK_FILE:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    elif path.exists() and any(c.name != LOCK_FILE for c in path.iterdir()):
        raise StoreError(f"{path} does not look like an article store; refusing to delete it")


def _forget_cached_client(path: Path) -> None:
    """Chroma caches one system per path; drop it so a deleted store is not reused."""
    with contextlib.suppress(Exception):
        from chromadb.api.shared_system_client import SharedSystemClient

        SharedSystemClient._identifier_to_system.pop(str(path), None)
