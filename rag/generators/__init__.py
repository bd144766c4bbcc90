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
from .llm import LLMGenerator
from .ranking import RankingConfig, SentenceRanker


def _extractive(embedder: Embedder) -> Generator:
    from ..rerank import default_cross_encoder

    return ExtractiveGenerator(embedder, default_cross_encoder())


VERIFIERS = ("lexical", "cascade")


def verifier_name() -> str:
    """How generated sentences are checked against their quotes: `$RAG_VERIFY`, else "lexical".

    "lexical": the fast judge alone (milliseconds). "cascade": the fast judge,
    and the local LLM for the sentences it is unsure of (about 1 s each).

    Raises:
        ConfigError: an unknown name.
    """
    import os

    name = os.environ.get("RAG_VERIFY", "").strip() or "lexical"
    if name not in VERIFIERS:
        raise ConfigError(f"RAG_VERIFY must be one of {', '.join(VERIFIERS)}, got {name!r}")
    return name


def _local(embedder: Embedder) -> Generator:
    from ..judge import LexicalJudge
    from ..llm.local import LlamaCppLLM
    from ..rerank import default_cross_encoder
    from .llm import LLMGenerator

    judge = None
    if verifier_name() == "cascade":
        from ..llm_judge import CascadeJudge, LLMJudge

        # A context of its own (the weights are shared through mmap), so judging
        # never evicts the generator's cached prompt, nor the generator the judge's.
        judge = CascadeJudge(LexicalJudge(embedder), LLMJudge(LlamaCppLLM()))
    return LLMGenerator(LlamaCppLLM(), embedder, default_cross_encoder(), judge=judge, name="local")


def _openai(embedder: Embedder) -> Generator:
    from ..llm.openai import OpenAICompatibleLLM
    from ..rerank import default_cross_encoder
    from .llm import LLMGenerator

    return LLMGenerator(OpenAICompatibleLLM(), embedder, default_cross_encoder(), name="openai")


_BUILDERS: dict[str, Callable[[Embedder], Generator]] = {
    "extractive": _extractive,
    "local": _local,
    "openai": _openai,
}


def available() -> list[str]:
    """Names accepted by `make_generator`."""
    return sorted(_BUILDERS)


def default_name() -> str:
    """The generator used when none is named: `$RAG_GENERATOR`, else "local" when
    llama-cpp-python and the local model are installed, else "extractive"."""
    import os

    from ..llm.local import is_available

    chosen = os.environ.get("RAG_GENERATOR")
    if chosen:
        return chosen
    return "local" if is_available() else "extractive"


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


__all__ = ["VERIFIERS", "ExtractiveConfig", "ExtractiveGenerator", "Generator", "LLMGenerator", "RankingConfig", "SentenceRanker", "available", "default_name", "make_generator", "verifier_name"]
