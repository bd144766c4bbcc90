"""Measure a support judge on labelled claim/passage pairs (`support-judge-dev.jsonl` format)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.judge import SupportJudge

from .jsonl import read_records
from .metrics import judge_figures

JUDGES = ("lexical", "llm", "cascade")
LABELS = {"supported": True, "unsupported": False}


def make_judge(name: str, embedder: Any = None) -> SupportJudge:
    """Build a judge by name: "lexical" (fast), "llm" (the local model's P(yes)), "cascade" (lexical, then llm when unsure).

    Raises:
        ConfigError: unknown name, or the llm judges without the local model installed.
    """
    if name not in JUDGES:
        raise ConfigError(f"unknown judge {name!r}; choose one of: {', '.join(JUDGES)}")
    if embedder is None and name != "llm":
        from rag.api import default_embedder

        embedder = default_embedder()
    from rag.judge import LexicalJudge

    if name == "lexical":
        return LexicalJudge(embedder)
    try:
        from rag.llm_judge import CascadeJudge, LLMJudge
    except ImportError as err:
        raise ConfigError(f"the {name} judge is not available: {err}") from err
    if name == "llm":
        return LLMJudge()
    return CascadeJudge(LexicalJudge(embedder), LLMJudge())


def load_pairs(path: str | Path) -> list[dict[str, Any]]:
    return read_records(path, "pairs", _pair)


def _pair(rec: Any, _line: int) -> dict[str, Any]:
    if not isinstance(rec.get("claim"), str) or not isinstance(rec.get("passage"), str) or rec.get("label") not in LABELS:
        raise ValueError('each pair needs "claim", "passage" and "label" (supported / unsupported)')
    return rec


def judge_pairs(path: str | Path, judge: str | SupportJudge = "lexical") -> dict[str, Any]:
    """accuracy, balanced_accuracy, precision, recall of `judge` on the pairs in `path`, with per-pair verdicts."""
    pairs = load_pairs(path)
    judge = make_judge(judge) if isinstance(judge, str) else judge
    predicted, records = [], []
    t0 = time.perf_counter()
    for p in pairs:
        v = judge.judge(p["claim"], p["passage"])
        predicted.append(v.supported)
        records.append({"id": p.get("id"), "label": p["label"], "supported": v.supported, "score": round(v.score, 4), "reason": v.reason})
    elapsed = time.perf_counter() - t0
    figures = judge_figures(predicted, [LABELS[p["label"]] for p in pairs])
    return {"figures": {k: round(v, 4) for k, v in figures.items()}, "judge": judge.name, "pairs": records,
            "seconds_per_pair": round(elapsed / len(pairs), 4)}  # fmt: skip
