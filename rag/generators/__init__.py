"""Answer generators and the factory that builds one by name.

Add a generator by writing a class that satisfies `Generator` and registering
a builder in `_BUILDERS`. Builders take their models from the process's model
registry (`core.models`), so two generators, or two engines with different
retrieval settings, share one loaded LLM and one cross-encoder.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import ConfigError
from core.settings import settings
from index.embedding import Embedder

from .base import Generator
from .extractive import ExtractiveConfig, ExtractiveGenerator
from .ranking import RankingConfig, SentenceRanker
from .reader import ReaderConfig, ReaderGenerator


def _extractive(embedder: Embedder) -> Generator:
    from ..retrieval.rerank import default_cross_encoder

    return ExtractiveGenerator(embedder, default_cross_encoder())


def _local(embedder: Embedder) -> Generator:
    from ..llm.local import shared_llm
    from ..retrieval.rerank import default_cross_encoder

    return ReaderGenerator(shared_llm(), embedder, default_cross_encoder(), name="local")


def _openai(embedder: Embedder) -> Generator:
    from ..llm.openai import OpenAICompatibleLLM
    from ..retrieval.rerank import default_cross_encoder

    return ReaderGenerator(OpenAICompatibleLLM(), embedder, default_cross_encoder(), name="openai")


_BUILDERS: dict[str, Callable[[Embedder], Generator]] = {
    "extractive": _extractive,
    "local": _local,
    "openai": _openai,
}


def available() -> list[str]:
    """Names accepted by `make_generator`."""
    return sorted(_BUILDERS)


def default_name() -> str:
    """The generator used when none is named: `$RAG_GENERATOR`, else "extractive".

    The default is whichever was more truthful on the newsqa-dev2 test half (CRAG's score: right
    answers and right refusals minus wrong answers; a wrong bold phrase counts as a wrong answer), latency
    breaking ties. In the twelfth round the two tie: graded by hand (blind, independent) the extractive
    generator 0.854 and the local reader 0.830; graded exactly the reader 0.749 and extractive 0.725 (the
    paired difference's interval spans 0 with either grader). Latency decides: 0.29 s against 4.0 s per
    question (docs/answers.md, "Twelfth round"). The local reader answers in its first claim more often
    (by hand 0.82 against 0.76) and is one flag away: `--generator local` or `RAG_GENERATOR=local`.
    """
    return settings().generator or "extractive"


def make_generator(name: str | None, embedder: Embedder) -> Generator:
    """Build the generator called `name` (default: `default_name()`).

    Raises:
        ConfigError: unknown name.
    """
    name = name or default_name()
    try:
        builder = _BUILDERS[name]
    except KeyError:
        raise ConfigError(f"unknown generator {name!r}; choose one of: {', '.join(available())}") from None
    return builder(embedder)


__all__ = ["ExtractiveConfig", "ExtractiveGenerator", "Generator", "RankingConfig", "ReaderConfig", "ReaderGenerator", "SentenceRanker", "available", "default_name", "make_generator"]
