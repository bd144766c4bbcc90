"""Where a store is: a folder or a Chroma server URL."""

from __future__ import annotations

from pathlib import Path

from core.settings import settings


def is_remote(store: str | Path | None) -> bool:
    """True for a Chroma server URL (`http://host:port`, `https://...`)."""
    return isinstance(store, str) and store.lower().startswith(("http://", "https://"))


def resolve_location(store: str | Path | None) -> Path | str:
    """Where the store is: the argument, else `$RAG_CHROMA_URL`, else `$RAG_STORE`, else `./.rag`.

    A server URL is returned as a string (without a trailing slash), a folder as a `Path`.
    """
    s = settings()
    chosen = store or s.chroma_url or s.store or ".rag"
    if is_remote(str(chosen)):
        return str(chosen).rstrip("/")
    return Path(chosen).expanduser()


def store_key(store: str | Path | None) -> str:
    """A stable name for the store (absolute folder or URL), for caches keyed by store."""
    location = resolve_location(store)
    return location if isinstance(location, str) else str(location.resolve())
