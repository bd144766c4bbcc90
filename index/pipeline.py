"""Ingest: files → articles → chunks → embeddings → the Chroma store.

Re-ingesting is idempotent. Each article's fingerprint covers its text, its
metadata, the chunking settings and the embedding model: an unchanged article
is skipped, a changed one has all of its chunks replaced.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError

from .chunking import ChunkingConfig, chunk_article
from .embedding import Embedder
from .loaders import Skipped, discover, load_file
from .store import ChromaStore, open_store, reset_store, write_lock
from .types import Article, Chunk

# Titles give chunks their context ("Pope Benedict's funeral") but must not push
# the chunk past the model's window: they get at most this many tokens.
TITLE_TOKENS = 32
_EMBED_GROUP = 256  # chunks embedded per call, so progress moves and memory stays flat


@dataclass
class IngestReport:
    """What one ingest did. `ok` is False when anything was skipped."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    chunks_written: int = 0

    @property
    def ok(self) -> bool:
        return not self.skipped

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, unchanged {len(self.unchanged)}, "
            f"skipped {len(self.skipped)} ({self.chunks_written} chunks written)"
        ]
        lines += [f"  skipped {s}" for s in self.skipped]
        return "\n".join(lines)


def clip_title(title: str, embedder: Embedder, budget: int) -> str:
    """The longest run of the title's first words that is at most `budget` tokens ("" if none)."""
    if not title or budget <= 0:
        return ""
    words = title.split()
    while words and embedder.count_tokens([" ".join(words)])[0] > budget:
        words.pop()
    return " ".join(words)


def fingerprint(article: Article, chunking: ChunkingConfig, embedder: Embedder) -> str:
    h = hashlib.sha256()
    h.update(article.content_hash().encode())
    h.update(chunking.fingerprint().encode())
    h.update(embedder.name.encode())
    h.update(f"title_tokens={TITLE_TOKENS}".encode())
    return h.hexdigest()[:32]


def ingest(
    paths: Iterable[str | Path],
    *,
    store: str | Path | ChromaStore | None = None,
    embedder: Embedder | None = None,
    chunking: ChunkingConfig | None = None,
    rebuild: bool = False,
    encoding: str = "utf-8",
    progress: bool | None = False,
    on_skip: Callable[[Skipped], None] | None = None,
    feeds: Iterable[str] = (),
    fetcher: Any = None,
) -> IngestReport:
    """Ingest article files and folders, web pages and feeds into the store.

    Args:
        paths: files or folders (searched recursively), or web pages (http:// or
            https://: fetched, their article extracted; the canonical URL is the id).
        store: store folder or server URL (default `$RAG_STORE`, else `./.rag`), or an
            open `ChromaStore` to write through (a server writes through the store
            its searches use, so they see the new articles at once).
        embedder: default all-MiniLM-L6-v2.
        chunking: chunk size and overlap, in the embedder's tokens.
        rebuild: delete the store first and ingest from scratch.
        encoding: encoding of text files (default UTF-8).
        progress: show a progress bar (None: only on a terminal).
        on_skip: called for each skipped source as soon as it is found.
        feeds: RSS or Atom feeds whose article pages are fetched and ingested.
        fetcher: the `index.web.Fetcher` for pages and feeds (default: one keeping
            its validators beside a local store). Nothing touches the network
            unless a URL or a feed is given.

    Returns:
        An `IngestReport`; bad sources are in `report.skipped`, never raised.

    Raises:
        ConfigError: chunk size does not fit the embedder's window.
        StoreLockedError: another process kept writing to the store for `$RAG_LOCK_TIMEOUT` seconds.
        StoreError: the store cannot be opened or written.
    """
    opened = store if isinstance(store, ChromaStore) else None
    if opened is not None and rebuild:
        raise ConfigError("rebuild deletes the store's files: pass its location, not an open store")
    location = opened.location if opened is not None else store
    embedder = embedder or _default_embedder()
    chunking = chunking or ChunkingConfig()
    _check_fits(chunking, embedder)
    report = IngestReport()

    def skip(item: Skipped) -> None:
        report.skipped.append(item)
        if on_skip:
            on_skip(item)

    articles: dict[str, Article] = {}
    paths = list(paths)
    feeds = list(feeds)
    urls = [str(p) for p in paths if isinstance(p, str) and _is_url(p)]
    paths = [p for p in paths if not (isinstance(p, str) and _is_url(p))]
    web = None
    if urls or feeds:
        web = fetcher if fetcher is not None else _default_fetcher(location, embedder)
        for got in _fetch(urls, feeds, web):
            if isinstance(got, Skipped):
                skip(got)
            elif isinstance(got, str):
                report.unchanged.append(got)  # HTTP 304: not read again
            elif got.id in articles:
                continue  # two addresses of one canonical page
            else:
                articles[got.id] = got
    for item in discover(paths):
        if isinstance(item, Skipped):
            skip(item)
            continue
        for loaded in load_file(item, encoding=encoding):
            if isinstance(loaded, Skipped):
                skip(loaded)
            elif loaded.id in articles:
                skip(
                    Skipped(
                        loaded.origin,
                        f"article id {loaded.id!r} was already read from {articles[loaded.id].origin}; "
                        "give one of them another id (or file name)",
                    )
                )
            else:
                articles[loaded.id] = loaded

    if not articles and not rebuild:
        if web is not None and fetcher is None:
            web.close()
        return report
    with write_lock(location):  # one writer at a time; waits up to $RAG_LOCK_TIMEOUT
        if rebuild:
            reset_store(location)
        db = opened if opened is not None else open_store(location, embedder, create=True)
        before = db.generation
        stored = db.fingerprints(list(articles))
        todo: list[tuple[Article, str, bool]] = []
        for doc_id, article in articles.items():
            fp = fingerprint(article, chunking, embedder)
            if stored.get(doc_id) == fp:
                report.unchanged.append(doc_id)
            else:
                todo.append((article, fp, doc_id in stored))
        written = _write(db, todo, chunking, embedder, report, progress)
        if todo or rebuild:
            from .lexical import BM25Index

            # Searches after this run load it instead of rebuilding; only what was written is tokenised.
            BM25Index(db).update(before, [article.id for article, _fp, _existed in todo], written)
    if web is not None:
        web.save()  # validators only once the pages they describe are stored
        if fetcher is None:
            web.close()
    return report


def _is_url(text: str) -> bool:
    return text.lower().startswith(("http://", "https://"))


def _default_fetcher(location: Any, embedder: Embedder) -> Any:
    from .store import resolve_location
    from .web import CACHE_FILE, Fetcher

    where = resolve_location(location)
    if not isinstance(where, Path):
        return Fetcher(None)

    def is_stored(doc_id: str) -> bool:
        try:
            return bool(open_store(where, embedder).fingerprints([doc_id]))
        except Exception:  # noqa: BLE001 - no store yet (or unreadable): nothing is stored
            return False

    return Fetcher(where / CACHE_FILE, is_stored=is_stored)


def _fetch(urls: list[str], feeds: list[str], web: Any) -> Iterable[Article | Skipped | str]:
    """Pages and feed entries as articles; an unchanged page (HTTP 304) as its URL."""
    from .web import NotModified, fetch_articles

    for got in fetch_articles(urls, feeds, web):
        yield got.url if isinstance(got, NotModified) else got


def _write(
    db: ChromaStore,
    todo: list[tuple[Article, str, bool]],
    chunking: ChunkingConfig,
    embedder: Embedder,
    report: IngestReport,
    progress: bool | None,
) -> list[tuple[str, str, dict]]:
    """Chunk everything, then embed group after group; group n+1 is embedded while group n is written.

    Returns every written chunk's id, text and filter metadata (for the keyword index).
    """
    from concurrent.futures import ThreadPoolExecutor

    from tqdm import tqdm

    planned: list[tuple[Article, str, bool, list[Chunk]]] = []
    for article, fp, existed in todo:
        planned.append((article, fp, existed, chunk_article(article, chunking, embedder.count_tokens)))
    from .store.records import filter_metadata

    written = [(c.id, c.text, filter_metadata(c, article)) for article, _fp, _existed, chunks in planned for c in chunks]
    groups: list[list[tuple[Article, str, bool, list[Chunk]]]] = [[]]
    size = 0
    for item in planned:
        if size >= _EMBED_GROUP:
            groups.append([])
            size = 0
        groups[-1].append(item)
        size += len(item[3])
    titles = _TitleClipper(embedder)
    total = sum(len(item[3]) for item in planned)
    bar = tqdm(total=total, unit="chunk", desc="embedding", disable=not progress if progress is not None else None, file=sys.stderr)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="embed") as pool:
        pending = pool.submit(_embed_group, groups[0], embedder, titles)
        try:
            for n, group in enumerate(groups):
                vectors = pending.result()
                if n + 1 < len(groups):
                    pending = pool.submit(_embed_group, groups[n + 1], embedder, titles)
                _write_group(db, group, vectors, report, bar)
        finally:
            pending.cancel()
            bar.close()
    return written


class _TitleClipper:
    """Each article title clipped to the token budget left by its chunk (computed once per title and budget)."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self._clipped: dict[tuple[str, int], str] = {}

    def text(self, chunk: Chunk, title: str, chunk_tokens: int) -> str:
        budget = min(TITLE_TOKENS, self.embedder.max_tokens - 2 - chunk_tokens)
        key = (title, budget)
        if key not in self._clipped:
            self._clipped[key] = clip_title(title, self.embedder, budget)
        clipped = self._clipped[key]
        return clipped + "\n" + chunk.text if clipped else chunk.text


def _embed_group(group, embedder: Embedder, titles: _TitleClipper):
    texts: list[str] = []
    for article, _fp, _existed, chunks in group:
        # The chunker counted each chunk's tokens; only chunks without a count are tokenised here.
        uncounted = [c.text for c in chunks if not c.tokens]
        counted = iter(embedder.count_tokens(uncounted) if uncounted else [])
        texts += [titles.text(c, article.title, c.tokens or next(counted)) for c in chunks]
    return embedder.embed(texts)


def _write_group(db, group, vectors, report, bar) -> None:
    items, pos = [], 0
    for article, fp, _existed, chunks in group:
        items.append((article, chunks, vectors[pos : pos + len(chunks)], fp))
        pos += len(chunks)
    db.write_articles(items)
    for article, _fp, existed, chunks in group:
        report.chunks_written += len(chunks)
        (report.updated if existed else report.added).append(article.id)
        bar.update(len(chunks))


def _check_fits(chunking: ChunkingConfig, embedder: Embedder) -> None:
    limit = embedder.max_tokens - 2
    if chunking.chunk_size > limit:
        raise ConfigError(
            f"chunk_size {chunking.chunk_size} exceeds what {embedder.name} can embed "
            f"({limit} tokens plus 2 special tokens); use --chunk-size {limit} or less"
        )


def _default_embedder() -> Embedder:
    from .embedding import shared_embedder

    return shared_embedder()
