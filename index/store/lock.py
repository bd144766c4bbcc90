"""One writer at a time for a local store: an advisory lock file that dies with its process."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from core.errors import StoreLockedError
from core.settings import settings

from .location import resolve_location
from .mapping import _mapped

LOCK_FILE = ".write.lock"


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
    return float(timeout) if timeout is not None else settings().lock_timeout
