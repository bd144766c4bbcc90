"""Connecting to a store (a folder or a Chroma server), its generation marker, and deleting it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from core.errors import StoreError
from core.settings import settings

from .location import resolve_location
from .lock import LOCK_FILE
from .mapping import _mapped

CHUNKS = "chunks"
ARTICLES = "articles"
META = "newsrag_meta"  # on a server: the store's generation


def _connect(location: str) -> Any:
    with _mapped("opening", location):
        import chromadb
        from chromadb.config import Settings

        return chromadb.PersistentClient(path=location, settings=Settings(anonymized_telemetry=False))


def _connect_server(url: str) -> Any:
    """An `HttpClient` for the Chroma server at `url`, checked with a heartbeat."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if not parts.hostname:
        raise StoreError(f"{url} is not a Chroma server address; use http://HOST:PORT")
    ssl = parts.scheme == "https"
    port = parts.port or (443 if ssl else 8000)
    headers = {}
    if settings().chroma_token:
        headers["Authorization"] = f"Bearer {settings().chroma_token}"
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
        dropped = forget_cached_client(path)
        if dropped is not None:
            with _holds_lock:
                unused = id(dropped) not in _holds
            if unused:
                dropped.stop()
        for child in path.iterdir():  # the write lock (held by whoever rebuilds) stays
            if child.name == LOCK_FILE:
                continue
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()
    elif path.exists() and any(c.name != LOCK_FILE for c in path.iterdir()):
        raise StoreError(f"{path} does not look like an article store; refusing to delete it")


def forget_cached_client(path: Path) -> Any | None:
    """Drop Chroma's cached system for `path` so the next client opens the files afresh; return the dropped system.

    Chroma keeps one system (database connection and in-memory vector index)
    per folder and hands it to every client of that folder in the process; a
    reader must get a new one to see what another process wrote, and a rebuild
    must not reuse one whose files are gone.

    Raises:
        StoreError: this chromadb keeps its clients some other way, so the
            store could not be refreshed (say so rather than serve stale results).
    """
    try:
        from chromadb.api.shared_system_client import SharedSystemClient
    except ImportError as err:
        raise StoreError(f"chromadb's client cache moved ({err}); install a chromadb version this product supports (>=1.5,<2)") from err
    cache = getattr(SharedSystemClient, "_identifier_to_system", None)
    if not isinstance(cache, dict):
        raise StoreError("chromadb keeps its clients in another way than expected; install chromadb>=1.5,<2")
    return cache.pop(str(path), None)


def is_cached(path: Path, system: Any) -> bool:
    """Whether `system` is the one Chroma would hand to a new client of `path`."""
    from chromadb.api.shared_system_client import SharedSystemClient

    return getattr(SharedSystemClient, "_identifier_to_system", {}).get(str(path)) is system


# Chroma systems in use, by id: a system is stopped (its database closed, its threads ended) only when no
# attachment of any store object holds it and Chroma no longer hands it out.
_holds: dict[int, int] = {}
_holds_lock = threading.Lock()


def hold(system: Any) -> None:
    with _holds_lock:
        _holds[id(system)] = _holds.get(id(system), 0) + 1


def release(system: Any, path: Path) -> None:
    """Let go of `system`; stop it when nobody holds it and Chroma no longer hands it out."""
    with _holds_lock:
        left = _holds.get(id(system), 1) - 1
        if left > 0:
            _holds[id(system)] = left
            return
        _holds.pop(id(system), None)
    if not is_cached(path, system):
        system.stop()
