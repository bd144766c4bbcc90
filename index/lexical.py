"""Keyword search (BM25) over the chunks of a store, kept on disk beside it.

Dense embeddings blur what news questions hinge on: names, numbers, rare
words. BM25 (the `bm25s` library, numpy only) finds them. The index is built
from the chunks in the Chroma store and saved in `<store>/bm25/<generation>/`;
the store's `generation` changes on every write (ingest, delete), so an index
saved for another generation is stale and is rebuilt from the store the next
time it is needed. `rag ingest` rebuilds it at the end of a run, so searches
after a restart just load it.

Terms are the project's own: lower-cased words and numbers, stop words out,
light stemming (`core.text` rules), so "Nets'" finds "Nets".
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.text import search_terms as terms

from .filters import Filters
from .store import ChromaStore, StoreError
from .types import ScoredChunk

DIRNAME = "bm25"
_META = "chunks.json"
def _bm25s():
    import logging

    import bm25s

    # bm25s sets its own logger to DEBUG on import, so "Building index from tokens" would reach
    # any application's log handler; put it back to the usual WARNING.
    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


@dataclass(frozen=True)
class _Snapshot:
    """One built keyword index: the store generation it matches, the BM25 arrays, chunk ids and filter metadata."""

    generation: str
    retriever: Any
    ids: tuple[str, ...]
    meta: tuple[dict[str, Any], ...]
    terms: tuple[str, ...] = ()  # each chunk's terms, space-separated: what an update re-indexes without the store


class BM25Index:
    """BM25 search over one store's chunks (see the module docstring).

    Args:
        store: the Chroma store whose chunks are searched.
        k1, b: BM25 parameters.
    """

    def __init__(self, store: ChromaStore, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.store = store
        self.k1 = k1
        self.b = b
        self._snapshot: _Snapshot | None = None  # replaced whole, never changed: searches read one consistent index
        self._lock = threading.Lock()

    @property
    def folder(self) -> Path:
        return self.store.cache_folder / DIRNAME

    def search(self, query: str, top_k: int, filters: Filters | None = None) -> list[ScoredChunk]:
        """The `top_k` chunks with the highest BM25 score for `query`, best first (score 0 excluded)."""
        snap = self.refresh()
        q = terms(query)
        if not q or not snap.ids or top_k <= 0:
            return []
        mask = None
        if filters:
            mask = np.array([filters.matches(m) for m in snap.meta], dtype=np.float32)
            if not mask.any():
                return []
        k = min(top_k, len(snap.ids))
        docs, scores = snap.retriever.retrieve([q], k=k, show_progress=False, weight_mask=mask, n_threads=1)
        picked = [(int(i), float(s)) for i, s in zip(docs[0], scores[0]) if s > 0]
        if not picked:
            return []
        chunks = self.store.get_chunks([snap.ids[i] for i, _ in picked])
        return [ScoredChunk(chunks[snap.ids[i]], s) for i, s in picked if snap.ids[i] in chunks]

    def refresh(self) -> _Snapshot:
        """Make the index match the store (load the saved one, or rebuild and save it); return it."""
        self.store.sync()
        generation = self.store.generation
        snap = self._snapshot
        if snap is not None and snap.generation == generation:
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.generation == generation:
                return snap
            snap = self._load(generation) or self._build(generation)
            self._snapshot = snap
            return snap

    def rebuild(self) -> None:
        """Rebuild from the store now and save."""
        with self._lock:
            self.store.sync()
            self._snapshot = self._build(self.store.generation)

    def update(self, before: str, replaced: Sequence[str], added: Sequence[tuple[str, str, dict[str, Any]]]) -> None:
        """Bring the index saved for generation `before` up to the store's current one without reading the store.

        An ingest knows what it wrote: the articles `replaced` (their old chunks go)
        and the chunks `added` (id, text, filter metadata). The terms of every other
        chunk come from the saved index, so a large store is not read back. Falls
        back to `rebuild` when there is no usable saved index or the counts disagree.
        """
        with self._lock:
            self.store.sync()
            previous = self._load(before, check_count=False)
            if previous is None or (previous.ids and not previous.terms):
                self._snapshot = self._build(self.store.generation)
                return
            gone = set(replaced)
            rows = {cid: (meta, text) for cid, meta, text in zip(previous.ids, previous.meta, previous.terms) if meta.get("doc_id") not in gone}
            for cid, text, meta in added:
                rows[cid] = (meta, " ".join(terms(text)))
            if len(rows) != self.store.count():
                self._snapshot = self._build(self.store.generation)
                return
            ids = sorted(rows)
            self._snapshot = self._index(self.store.generation, ids, [rows[i][0] for i in ids], [rows[i][1] for i in ids])

    # --- internals (lock held) ---

    def _build(self, generation: str) -> _Snapshot:
        ids, texts, metas = self.store.all_chunks()
        return self._index(generation, ids, metas, [" ".join(terms(t)) for t in texts])

    def _index(self, generation: str, ids: list[str], metas: list[dict[str, Any]], joined: list[str]) -> _Snapshot:
        """Index chunks given by their (space-joined) terms, in id order, and save the result."""
        retriever = _bm25s().BM25(k1=self.k1, b=self.b)
        if ids:
            # bm25s needs a non-empty vocabulary; a chunk without terms gets a placeholder.
            retriever.index([t.split() or ["\x00"] for t in joined], show_progress=False)
        snap = _Snapshot(generation, retriever, tuple(ids), tuple(metas), tuple(joined))
        self._save(snap)
        return snap

    def _save(self, snap: _Snapshot) -> None:
        generation = snap.generation
        if not generation:
            return
        final = self.folder / generation
        tmp = self.folder / f".{generation}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            tmp.mkdir(parents=True, exist_ok=True)
            if snap.ids:
                snap.retriever.save(str(tmp))
            (tmp / _META).write_text(json.dumps({"ids": list(snap.ids), "meta": list(snap.meta), "terms": list(snap.terms)}))
            try:
                os.replace(tmp, final)
            except OSError:  # another process saved the same generation first
                shutil.rmtree(tmp, ignore_errors=True)
        except OSError as err:
            shutil.rmtree(tmp, ignore_errors=True)
            raise StoreError(f"cannot save the keyword index in {self.folder}: {err}; check the folder's permissions") from err
        keep = {generation, self.store.current_generation()}  # another process may have saved a newer one
        for old in self.folder.iterdir():
            if old.name not in keep and not old.name.startswith("."):
                shutil.rmtree(old, ignore_errors=True)

    def _load(self, generation: str, *, check_count: bool = True) -> _Snapshot | None:
        folder = self.folder / generation
        if not generation or not (folder / _META).is_file():
            return None
        bm25s = _bm25s()
        try:
            saved = json.loads((folder / _META).read_text())
            ids, metas = list(saved["ids"]), list(saved["meta"])
            joined = tuple(saved.get("terms") or ())
            retriever = bm25s.BM25.load(str(folder)) if ids else bm25s.BM25()
        except Exception:  # noqa: BLE001 - a damaged index is rebuilt, not fatal
            with contextlib.suppress(OSError):
                shutil.rmtree(folder)
            return None
        if check_count and len(ids) != self.store.count():
            return None
        return _Snapshot(generation, retriever, tuple(ids), tuple(metas), joined if len(joined) == len(ids) else ())


def fuse(rankings: Sequence[Sequence[ScoredChunk]], *, k: int = 60, weights: Sequence[float] | None = None) -> list[ScoredChunk]:
    """Reciprocal rank fusion: each chunk scores sum(weight / (k + rank)) over the rankings, best first.

    A chunk keeps the query similarity that any of the rankings knew.
    """
    weights = weights or [1.0] * len(rankings)
    scores: dict[str, float] = {}
    chunks: dict[str, ScoredChunk] = {}
    for ranking, w in zip(rankings, weights):
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.chunk.id] = scores.get(hit.chunk.id, 0.0) + w / (k + rank)
            if hit.chunk.id not in chunks or chunks[hit.chunk.id].similarity is None:
                chunks[hit.chunk.id] = hit
    order = sorted(scores, key=lambda cid: -scores[cid])
    return [ScoredChunk(chunks[cid].chunk, scores[cid], chunks[cid].similarity) for cid in order]
