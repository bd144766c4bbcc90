"""The product's error hierarchy, as users import it (`rag.errors.X`); defined in `core.errors`."""

from core.errors import (
    ConfigError,
    EmbeddingMismatchError,
    InputError,
    LoadError,
    ModelError,
    RagError,
    StoreError,
    StoreLockedError,
    StoreNotFoundError,
)

__all__ = [
    "ConfigError",
    "EmbeddingMismatchError",
    "InputError",
    "LoadError",
    "ModelError",
    "RagError",
    "StoreError",
    "StoreLockedError",
    "StoreNotFoundError",
]
