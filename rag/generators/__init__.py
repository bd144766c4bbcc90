"""Answer generators and the factory that builds one by name.

Add a generator by writing a class that satisfies `Generator` and registering
a builder in `_BUILDERS`. Builders take their models from the process's model
registry (`core.models`), so two generators, or two engines with different
retrieval settings, share one loaded LLM and one cross-encoder.
"""

from __future__ import annotations

from collections.abc import Callable

from core.errors import ConfigError
from core.settings import VERIFIERS, settings
from index.embedding import Embedder

from .base import Generator
from .extractive import ExtractiveConfig, ExtractiveGenerator
from .llm import LLMGenerator
from .ranking import RankingConfig, SentenceRanker


def verifier_name() -> str:
    """How generated sentences are checked against their quotes: `$RAG_VERIFY`, else "nli" (else "lexical").

    "nli": the entailment model (tens of milliseconds; the default, as it ships in the package).
    "lexical": word coverage and vetoes (milliseconds; the default where the model is missing).
    "cascade": the lexical judge, and the local LLM for the sentences it is unsure of (about 1 s each).
    """
    from ..judges import nli_installed

    return settings().verify or ("nli" if nli_installed() else "lexical")


def _extractive(embedder: Embedder) -> Generator:
    from ..retrieval.rerank import default_cross_encoder

    return ExtractiveGenerator(embedder, default_cross_encoder())


def _local(embedder: Embedder) -> Generator:
    from ..judges import make_judge
    from ..llm.local import shared_llm
    from ..retrieval.rerank import default_cross_encoder

    return LLMGenerator(
        shared_llm(), embedder, default_cross_encoder(), judge=make_judge(verifier_name(), embedder), name="local"
    )


def _openai(embedder: Embedder) -> Generator:
    from ..judges import LexicalJudge
    from ..llm.openai import OpenAICompatibleLLM
    from ..retrieval.rerank import default_cross_encoder

    return LLMGenerator(OpenAICompatibleLLM(), embedder, default_cross_encoder(), judge=LexicalJudge(embedder), name="openai")


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
    from ..llm.local import is_available

    chosen = settings().generator
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
        builder = _BUILDERS[name]
    except KeyError:
        raise ConfigError(f"unknown generator {name!r}; choose one of: {', '.join(available())}") from None
    return builder(embedder)


__all__ = ["VERIFIERS", "ExtractiveConfig", "ExtractiveGenerator", "Generator", "LLMGenerator", "RankingConfig", "SentenceRanker", "available", "default_name", "make_generator", "verifier_name"]
