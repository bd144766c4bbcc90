"""How chunks and articles are laid out in Chroma records (metadata keys, batched reads)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..types import Article, ArticleRef, Chunk

BATCH = 1000  # records per Chroma call (one get of 100,000 ids overflows SQLite's variable limit)


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


def _chunk_metadata(chunk: Chunk, article: Article) -> dict[str, Any]:
    meta: dict[str, Any] = dict(article.metadata())
    meta.update(index=chunk.index, start=chunk.start, end=chunk.end)
    if chunk.sentences:
        meta["sentences"] = encode_spans(chunk.sentences)
    ts = published_timestamp(article.published_at)
    if ts is not None:
        meta["published_ts"] = ts
    return meta


def _get_by_ids(collection: Any, ids: Sequence[str], include: list[str]) -> Iterator[dict[str, Any]]:
    """`collection.get` of `ids` in batches: one `get` of 100,000 ids overflows SQLite's limit on query variables."""
    for i in range(0, len(ids), BATCH):
        yield collection.get(ids=list(ids[i : i + BATCH]), include=include)


def encode_spans(spans: Sequence[tuple[int, int]]) -> str:
    """Sentence offsets as Chroma metadata (a string: "0:81 82:140")."""
    return " ".join(f"{s}:{e}" for s, e in spans)


def decode_spans(value: object, length: int) -> tuple[tuple[int, int], ...]:
    """The offsets `encode_spans` wrote; () when absent or not valid for a text of `length` characters."""
    if not isinstance(value, str) or not value:
        return ()
    try:
        spans = tuple((int(s), int(e)) for s, e in (pair.split(":") for pair in value.split()))
    except ValueError:
        return ()
    ok = all(0 <= s < e <= length for s, e in spans) and all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    return spans if ok else ()


def _chunk_from_record(chunk_id: str, text: str | None, meta: dict[str, Any]) -> Chunk:
    fields = asdict(ArticleRef.from_metadata(meta))
    text = text or ""
    return Chunk(
        doc_id=fields["doc_id"],
        index=int(meta.get("index", 0)),
        text=text,
        start=int(meta.get("start", 0)),
        end=int(meta.get("end", 0)),
        metadata=fields,
        sentences=decode_spans(meta.get("sentences"), len(text)),
    )


FILTER_KEYS = ("doc_id", "source", "published_at", "published_ts")


def filter_metadata(chunk: Chunk, article: Article) -> dict[str, Any]:
    """The metadata the keyword index filters on (a subset of what Chroma stores with the chunk)."""
    meta = _chunk_metadata(chunk, article)
    return {k: meta[k] for k in FILTER_KEYS if k in meta}
