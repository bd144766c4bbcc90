"""Answer generators and the factory that builds one by name.

Add a generator by writing a class that satisfies `Generator` and registering
a builder in `_BUILDERS`.
"""

from __future__ import annotations

from collections.abc import Callable

from index.embedding import Embedder

from ..errors import ConfigError
from .base import Generator
from .extractive import ExtractiveConfig, ExtractiveGenerator
from .ranking import RankingConfig, SentenceRanker


def _extractive(embedder: Embedder) -> Generator:
    from ..rerank import OnnxCrossEncoder

    return ExtractiveGenerator(embedder, OnnxCrossEncoder())


_BUILDERS: dict[str, Callable[[Embedder], Generator]] = {
    "extractive": _extractive,
}


def available() -> list[str]:
    """Names accepted by `make_generator`."""
    return sorted(_BUILDERS)


def default_name() -> str:
    """The generator used when none is named."""
    return "extractive"


def make_generator(name: str | None, embedder: Embedder) -> Generator:
    """Build the generator called `name` (default: `default_name()`).

    Raises:
        ConfigError: unknown name.
    """
    name = name or default_name()
    try:
        return _BUILDERS[name](embedder)
    except KeyError:
        raise ConfigError(f"unknown generator {name!r}; choose one of: {', '.join(available())}") from None


__all__ = ["ExtractiveConfig", "ExtractiveGenerator", "Generator", "RankingConfig", "SentenceRanker", "available", "default_name", "make_generator"]
