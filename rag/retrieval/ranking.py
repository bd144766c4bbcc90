"""Reordering steps applied to a fused ranking: lead lift, period preference, near-duplicate removal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import core.text as tf
from index.types import ScoredChunk

from .timeframe import TimeFrame


def prefer_period(hits: Sequence[ScoredChunk], frame: TimeFrame, boost: float, *, undated: bool = False) -> list[ScoredChunk]:
    """Reorder `hits` so that those published in `frame` move up (see `RetrievalConfig.time_boost`);
    `undated`: an article without a publication date counts as in it."""

    def key(item: tuple[int, ScoredChunk]) -> float:
        rank, hit = item
        published = hit.chunk.article.published_at
        inside = frame.contains(published) or (undated and not published)
        return -(1.0 + boost * inside) / (5 + rank)

    return [hit for _, hit in sorted(enumerate(hits, start=1), key=key)]


def prefer_leads(fused: Sequence[ScoredChunk], k: int, lift: float) -> list[ScoredChunk]:
    """`fused` reordered with each article's first chunk (its lead) scoring as if `lift` places higher.

    The bonus is what rising from rank 1 + lift to rank 1 in one ranking gains
    in reciprocal rank fusion, 1/(k+1) - 1/(k+1+lift): it settles near-ties in
    the lead's favour and never lifts a chunk from far down.
    """
    bonus = 1.0 / (k + 1) - 1.0 / (k + 1 + lift)
    rescored = [replace(h, score=h.score + (bonus if h.chunk.index == 0 else 0.0)) for h in fused]
    return sorted(rescored, key=lambda h: -h.score)


def drop_near_duplicates(hits: Sequence[ScoredChunk], threshold: float, keep: int) -> list[ScoredChunk]:
    """`hits` in order without passages that repeat a better-ranked one of another article, up to `keep`.

    The best passage is always kept; so is every passage of the same article
    (overlapping chunks of one article are not duplicates).
    """
    kept: list[tuple[ScoredChunk, set[str]]] = []
    for hit in hits:
        if len(kept) >= keep:
            break
        words = set(tf.search_terms(hit.chunk.text))
        if any(
            other.chunk.doc_id != hit.chunk.doc_id and words and len(words & seen) / len(words | seen) >= threshold
            for other, seen in kept
        ):
            continue
        kept.append((hit, words))
    return [hit for hit, _ in kept]


def cover_names(question: str, pool: Sequence[ScoredChunk], top_k: int) -> list[ScoredChunk]:
    """The first `top_k` of `pool`, except that when names of the question are in none of them,
    the best further passage holding all those names takes the last place (with two places or
    more: the best passage always keeps its own)."""
    top = list(pool[:top_k])
    names = tf.names(question)
    if not names or len(pool) <= top_k or top_k < 2:
        return top
    have = set().union(*(tf.content_terms(h.chunk.text) for h in top))
    missing = [n for n in names if not tf.fuzzy_in(n, have)]
    if not missing:
        return top
    for h in pool[top_k:]:
        terms = set(tf.content_terms(h.chunk.text))
        if all(tf.fuzzy_in(n, terms) for n in missing):
            return top[:-1] + [h]
    return top
