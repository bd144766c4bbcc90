"""Support judges: does a passage back a claim? One protocol, several judges, one factory.

- `base`: `Verdict`, the `SupportJudge` protocol, `judge_all`.
- `lexical`: `LexicalJudge`, fast vetoes on numbers, names and negation, then word coverage.
- `llm`: `LLMJudge`, the local chat model's P(yes).
- `nli`: `NLIJudge`, the entailment cross-encoder trained here (`eval.train_judge`); `mpnet`, the same
  kind of model trained from a larger base, installed in the cache: the evaluation's grader only.
- `cascade`: `CascadeJudge`, a fast judge first and a slow one for what it is unsure of.
- `combined`: `NumberCheckedJudge`, an entailment score with a hard number check.

`make_judge(name)` builds any of them by name for the evaluation (`rag eval
--judge` grades written sentences with one, `rag judge` measures one). The
answer path runs no judge: a quote or a copied phrase is the article's own
text by construction (`rag.types.Span`).
"""

from __future__ import annotations

from typing import Any

from core.errors import ConfigError, ModelError

from .base import SupportJudge, Verdict, judge_all
from .cascade import CascadeJudge
from .lexical import LexicalJudge, names_out_of_order, swap_spans

JUDGES = ("lexical", "llm", "cascade", "nli", "mpnet", "nli+numbers", "nli+llm")


def make_judge(name: str, embedder: Any = None, *, llm: Any = None) -> SupportJudge:
    """Build the judge called `name`.

    Args:
        name: "lexical" (milliseconds), "llm" (the local model's P(yes), about 1 s),
            "cascade" (lexical, then llm when unsure), "nli" (the entailment model),
            "mpnet" (the entailment model trained from all-mpnet-base-v2, when trained into the cache),
            "nli+numbers" (nli, and a number the passage lacks is unsupported) or
            "nli+llm" (nli, and the llm for the claims nli is unsure of).
        embedder: for the lexical judge's similarity (default: the process's embedder).
        llm: the `LlamaCppLLM` the llm judges ask (default: the process's shared
            judging context of the local model).

    Raises:
        ConfigError: an unknown name, or a judge whose model is not installed.
    """
    if name not in JUDGES:
        raise ConfigError(f"unknown judge {name!r}; choose one of: {', '.join(JUDGES)}")
    if name == "nli":
        return _nli()
    if name == "mpnet":
        return _mpnet()
    if name == "nli+numbers":
        from .combined import NumberCheckedJudge

        return NumberCheckedJudge(_nli())
    if name == "nli+llm":
        return CascadeJudge(_nli(), _llm_judge(llm), low=0.15, high=0.85, doubt=-1.0)
    if name == "lexical":
        return LexicalJudge(embedder if embedder is not None else _embedder())
    slow = _llm_judge(llm)
    if name == "llm":
        return slow
    return CascadeJudge(LexicalJudge(embedder if embedder is not None else _embedder()), slow)


# Judges by balanced accuracy on the blind pair sets (heldout2 / heldout3, docs/judges.md):
# llm 0.734 / 0.750, nli 0.609 / 0.672, lexical 0.516 / 0.594.
STRENGTH = ("llm", "nli", "lexical")


def nli_installed() -> bool:
    """Whether the entailment model's files are in place (they ship in the package)."""
    from .nli import has_model

    return has_model()


def grader_installed() -> bool:
    """Whether the mpnet grader has been trained into the cache (`rag.judges.nli.grader_dir`)."""
    from .nli import grader_dir, has_model

    return has_model(grader_dir())


def independent_judge() -> str:
    """The judge `rag eval` grades written sentences with by default: one that neither wrote nor filtered
    them. The answer path runs no judge, and the local model writes the answers, so its own `llm` judge
    would grade its own work: the mpnet grader when it is installed (the strongest entailment model,
    never used at query time), else the shipped entailment model (`nli`), else `lexical`."""
    if grader_installed():
        return "mpnet"
    return "nli" if nli_installed() else "lexical"


def _embedder() -> Any:
    from index.embedding import shared_embedder

    return shared_embedder()


def _nli(folder: Any = None, name: str = "nli") -> SupportJudge:
    """The entailment judge over `folder` (default: the shipped model), loaded once per folder."""
    from core.models import models

    from .nli import MODEL_DIR, NLIJudge

    folder = folder or MODEL_DIR
    try:
        return models.get(("nli", str(folder)), lambda: NLIJudge(folder, name=name))
    except ModelError as err:
        raise ConfigError(f"the {name} judge is not available: {err}") from err


def _mpnet() -> SupportJudge:
    from .nli import grader_dir, has_model

    folder = grader_dir()
    if not has_model(folder):
        raise ConfigError(f"the mpnet grader is not installed in {folder}; train it with: python -m eval.train_judge "
                          f"--base mpnet-base --pairs 8000 --epochs 1 --out {folder} (docs/judges.md)")
    return _nli(folder, "mpnet")


def _llm_judge(llm: Any) -> SupportJudge:
    try:
        from ..llm.local import shared_llm
        from .llm import LLMJudge
    except ImportError as err:  # pragma: no cover - numpy / llama-cpp missing
        raise ConfigError(f"the llm judge is not available: {err}") from err
    try:
        return LLMJudge(llm if llm is not None else shared_llm(role="judge"))
    except ModelError as err:
        raise ConfigError(f"the llm judge is not available: {err}") from err


__all__ = [
    "JUDGES",
    "CascadeJudge",
    "LexicalJudge",
    "SupportJudge",
    "Verdict",
    "judge_all",
    "make_judge",
    "names_out_of_order",
    "grader_installed",
    "independent_judge",
    "nli_installed",
    "swap_spans",
]
