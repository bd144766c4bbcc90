"""The entailment judge: a small cross-encoder trained here to tell whether a passage supports a claim.

all-MiniLM-L6-v2 fine-tuned on public claim/passage pairs and on pairs built
from their sentences (`eval.train_judge`; the model card beside the model says
what it was trained on and how it scores), exported to ONNX with INT8 weights.
It reads the passage and the claim together and gives P(supported).

A passage longer than the model reads is split into windows of whole
sentences (`core.sentences.windows`, overlapping by one sentence) and the claim
takes its best window's score, as SummaC and MiniCheck do: a claim is
supported when some part of the passage supports it. Several short quotes can
be judged together with `judge_together` (a claim that combines two quotes).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from core.errors import ModelError
from core.sentences import windows

from .base import Verdict

MODEL_DIR = Path(__file__).resolve().parent / "models" / "nli-minilm-l6"


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
    """

    name = "nli"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        threshold: float | None = None,
        window_words: int | None = None,
        batch_size: int = 16,
        threads: int | None = None,
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else MODEL_DIR
        config_path = self.model_dir / "judge.json"
        if not (self.model_dir / "model.onnx").is_file() or not config_path.is_file():
            raise ModelError(
                f"no entailment model in {self.model_dir} (model.onnx and judge.json); reinstall the package, "
                "or train one with: python -m eval.train_judge --out DIR"
            )
        config = json.loads(config_path.read_text(encoding="utf-8"))
        self.threshold = float(config.get("threshold", 0.5) if threshold is None else threshold)
        self.window_words = int(window_words or config.get("window_words", 150))
        self.max_length = int(config.get("max_length", 256))
        self.batch_size = batch_size
        self.threads = threads
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import os

                import onnxruntime as ort
                from tokenizers import Tokenizer

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads or (os.cpu_count() or 1)
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"])
                tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            except Exception as err:
                raise ModelError(f"cannot load the entailment model from {self.model_dir}: {err}") from err
            tokenizer.enable_truncation(self.max_length, strategy="only_first")  # the passage gives way, never the claim
            tokenizer.enable_padding()
            self._inputs = {i.name for i in session.get_inputs()}
            self._tokenizer = tokenizer
            self._session = session

    def probabilities(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """P(supported) of each `(passage, claim)` pair as the model reads it (no windowing)."""
        if not pairs:
            return np.zeros(0, dtype=np.float32)
        self._load()
        order = sorted(range(len(pairs)), key=lambda i: len(pairs[i][0]) + len(pairs[i][1]))
        out = np.zeros(len(pairs), dtype=np.float32)
        for b in range(0, len(order), self.batch_size):
            idx = order[b : b + self.batch_size]
            enc = self._tokenizer.encode_batch([pairs[i] for i in idx])
            feeds = {
                "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            }
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.array([e.type_ids for e in enc], dtype=np.int64)
            logits = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32).reshape(len(idx), -1)[:, 0]
            out[idx] = 1.0 / (1.0 + np.exp(-logits))
        return out

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
