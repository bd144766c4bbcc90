"""One error hierarchy for the whole product.

Users catch these, never chromadb / torch / trafilatura internals: library errors
are mapped at the boundary (the store, the loaders, the embedder). Every message
says what to do next.

    RagError
    ├── ConfigError              invalid settings (chunk size, top-k, unknown generator, ...)
    ├── InputError               bad input from the user (empty question, missing path)
    │   └── LoadError            one article file or record cannot be ingested (reported, then skipped)
    ├── StoreError               the Chroma store cannot be used
    │   ├── StoreNotFoundError   nothing has been ingested at that location yet
    │   ├── StoreLockedError     another process is writing to the store
    │   └── EmbeddingMismatchError  the store was built with another embedding model
    └── ModelError               a model could not be loaded (missing package or file)
"""

from __future__ import annotations


class RagError(Exception):
    """Base class of every error this product raises on purpose."""


class ConfigError(RagError, ValueError):
    """A setting is invalid; the message names it and the accepted range."""


class InputError(RagError, ValueError):
    """The user's input cannot be used (empty question, path that does not exist)."""


class LoadError(InputError):
    """One article source cannot be ingested.

    Attributes:
        source: the file (and line, for JSON Lines) that failed.
        reason: what is wrong with it, in words a user can act on.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class StoreError(RagError):
    """The article store cannot be opened, read or written."""


class StoreNotFoundError(StoreError):
    """Nothing has been ingested into the store yet."""


class StoreLockedError(StoreError):
    """Another process kept the store's write lock longer than the timeout."""


class EmbeddingMismatchError(StoreError):
    """The store was built with another embedding model or dimension."""


class ModelError(RagError):
    """A model could not be loaded; the message says which package provides it."""
