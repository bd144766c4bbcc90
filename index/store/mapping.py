"""Library errors (chromadb, sqlite, the file system) turned into `StoreError` with a next step."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from core.errors import RagError, StoreError


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
