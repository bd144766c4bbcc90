"""The entailment judge: a small cross-encoder trained here to tell whether a passage supports a claim.

The ms-marco MiniLM-L12 cross-encoder fine-tuned on public claim/passage pairs
and on pairs built from their sentences (`eval.train_judge`; the model card
beside the model says what it was trained on and how it scores), exported to
ONNX with INT8 weights.
It reads the passage and the claim together and gives P(supported).

A passage longer than the model reads is split into windows of whole
sentences (`core.sentences.windows`, overlapping by one sentence) and the claim
takes its best window's score, as SummaC and MiniCheck do: a claim is
supported when some part of the passage supports it. Several short quotes can
be judged together with `judge_together` (a claim that combines two quotes).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ModelError
from core.sentences import windows

from ..retrieval.rerank import OnnxCrossEncoder
from .base import Verdict

MODEL_DIR = Path(__file__).resolve().parent / "models" / "nli-minilm-l12"
# The evaluation's own grader (`--judge mpnet`): the same kind of model trained from all-mpnet-base-v2
# (`eval.train_judge --base mpnet-base`). 110 MB, too large to ship: it is trained into the cache.
GRADER_DIR_NAME = "nli-mpnet"


def grader_dir() -> Path:
    """Where the mpnet grader is installed: `$RAG_CACHE_DIR/judges/nli-mpnet` (see `docs/judges.md`)."""
    from core.settings import settings

    return settings().cache_dir / "judges" / GRADER_DIR_NAME


def has_model(model_dir: Path | None = None) -> bool:
    """Whether `model_dir` (default: the shipped model's folder) holds a judge's model.onnx and judge.json."""
    folder = model_dir or MODEL_DIR
    return (folder / "model.onnx").is_file() and (folder / "judge.json").is_file()


class NLIJudge:
    """P(supported) from the trained entailment cross-encoder (see the module docstring).

    Args:
        model_dir: folder with `model.onnx`, `tokenizer.json` and `judge.json`
            (default: the model shipped with the package).
        threshold: P(supported) at or above which a claim is supported (default:
            the one in `judge.json`, chosen on held-out dev data).
        window_words: most words of passage read at once (default: `judge.json`).
        batch_size: pairs per forward pass.
        threads: ONNX Runtime threads (default: all cores).
        name: what reports call it ("nli", the shipped model; "mpnet", the evaluation's grader).
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        threshold: float | None = None,
        window_words: int | None = None,
        batch_size: int = 16,
        threads: int | None = None,
        name: str = "nli",
    ) -> None:
        self.name = name
        self.model_dir = Path(model_dir) if model_dir else MODEL_DIR
        config_path = self.model_dir / "judge.json"
        if not has_model(self.model_dir):
            raise ModelError(
                f"no entailment model in {self.model_dir} (model.onnx and judge.json); reinstall the package, "
                "or train one with: python -m eval.train_judge --out DIR"
            )
        config = json.loads(config_path.read_text(encoding="utf-8"))
        self.threshold = float(config.get("threshold", 0.5) if threshold is None else threshold)
        self.window_words = int(window_words or config.get("window_words", 150))
        self.max_length = int(config.get("max_length", 256))
        # The passage gives way when a pair is too long, never the claim.
        self.encoder = OnnxCrossEncoder(self.model_dir, max_length=self.max_length, batch_size=batch_size, threads=threads,
                                        truncation="only_first", what="the entailment model")  # fmt: skip

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(supported) of each `(passage, claim)` pair as the model reads it (no windowing)."""
        return (1.0 / (1.0 + np.exp(-self.encoder.logits(pairs)))).astype(np.float32)

    def windows_of(self, passage: str) -> list[str]:
        """The parts of `passage` the model reads one at a time (the whole passage when it is short)."""
        if len(passage.split()) <= self.window_words:
            return [passage]
        return [passage[s:e] for s, e in windows(passage, self.window_words)] or [passage]

    def scores(self, claim: str, passages: Sequence[str]) -> list[float]:
        """P(supported) of `claim` against each passage: the best of its windows'."""
        parts: list[tuple[str, str]] = []
        owner: list[int] = []
        for i, passage in enumerate(passages):
            for window in self.windows_of(passage):
                parts.append((window, claim))
                owner.append(i)
        probs = self.probabilities(parts)
        best = [0.0] * len(passages)
        for i, p in zip(owner, probs):
            best[i] = max(best[i], float(p))
        return best

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        return self.judge_many(claim, [passage], premise=premise)[0]

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """Verdicts on `claim` against each passage, in one batch (`premise` is not used)."""
        if not claim.strip():
            return [Verdict(False, 0.0, "empty claim") for _ in passages]
        return [Verdict(p >= self.threshold, p, f"P(supported)={p:.2f}") for p in self.scores(claim, passages)]

    def judge_together(self, claim: str, quotes: Sequence[str]) -> Verdict:
        """The verdict on `claim` against several quotes read as one passage (a claim that combines them)."""
        return self.judge(claim, " ".join(q.strip() for q in quotes if q.strip()))
