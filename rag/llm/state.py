"""llama.cpp's prompt state: the fixed part of a chat prompt, and its KV cache kept on disk.

`LlamaCppLLM` (`local.py`) reads every prompt from the end of its fixed part (the
chat prompt up to the user's message, `chat_tokens` of two prompts, `common_prefix`)
and keeps that part's evaluated state in a file (`save_state`, `restore_state`), so
a new process, or the chat after its rewriter used the model, skips reading it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .base import Message
from .cpu import FLASH_ATTENTION


def chat_tokens(llama: Any, messages: Sequence[Message]) -> list[int]:
    """The tokens llama-cpp's chat completion reads for `messages` (the model's own chat template); [] without one."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = getattr(llama, "metadata", {}).get("tokenizer.chat_template")
    if not template or getattr(llama, "chat_format", None) != "chat_template.default":
        return []
    try:
        eos, bos = llama.token_eos(), llama.token_bos()
        formatter = Jinja2ChatFormatter(
            template=template,
            eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
            bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        )
        result = formatter(messages=[m.to_dict() for m in messages])
        return list(llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True))
    except Exception:  # noqa: BLE001 - an unusual template: llama-cpp's own prefix reuse still works
        return []


def common_prefix(a: Sequence[int], b: Sequence[int]) -> list[int]:
    """The tokens `a` and `b` start with alike."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return list(a[:n])


def save_state(llama: Any, path: Path) -> None:
    """Write llama.cpp's state (the evaluated tokens and their KV cache) to `path`; failures only cost speed."""
    import ctypes

    import llama_cpp

    try:
        size = llama_cpp.llama_state_get_size(llama._ctx.ctx)
        buffer = (ctypes.c_uint8 * int(size))()
        written = int(llama_cpp.llama_state_get_data(llama._ctx.ctx, buffer, size))
        ids = np.asarray(llama.input_ids[: llama.n_tokens], dtype=np.int32)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.npz")
        np.savez(tmp, ids=ids, state=np.frombuffer(bytes(buffer)[:written], dtype=np.uint8))
        os.replace(tmp, path)
    except Exception:  # noqa: BLE001 - a cache: without it the next cold start reads the prompt again
        return


def restore_state(llama: Any, path: Path) -> None:
    """Load a state written by `save_state` into a freshly loaded model; a bad file is deleted."""
    import ctypes

    import llama_cpp

    if not path.is_file() or llama.n_tokens:
        return
    try:
        with np.load(path, allow_pickle=False) as saved:
            ids, state = saved["ids"], saved["state"].tobytes()
        if len(ids) >= llama.n_ctx():
            raise ValueError("state longer than the context")
        array = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
        if llama_cpp.llama_state_set_data(llama._ctx.ctx, array, len(state)) != len(state):
            raise ValueError("llama.cpp refused the state")
        llama.input_ids[: len(ids)] = ids
        llama.n_tokens = len(ids)
        llama._requires_eval = True
    except Exception:  # noqa: BLE001 - a stale or damaged cache file: start from scratch
        llama.reset()
        path.unlink(missing_ok=True)


def state_path(cache_dir: Path, model_path: Path, n_ctx: int, system: str) -> Path:
    """The file that keeps the state after the fixed part of a prompt with this system message."""
    import hashlib

    stat = model_path.stat() if model_path.exists() else None
    # The KV cache's layout depends on flash attention: a state saved with it cannot be read without.
    key = f"{model_path.resolve()}|{stat.st_size if stat else 0}|{n_ctx}|flash-{FLASH_ATTENTION}|fixed-prefix|{system}"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]
    return cache_dir / "llm-state" / f"{model_path.stem}-{digest}.npz"


def end_tokens(llama: Any) -> list[int]:
    """The tokens that end a reply: end of turn and end of text."""
    stops = {llama.token_eos()} | set(llama.tokenize(b"<|im_end|><|endoftext|>", add_bos=False, special=True))
    return sorted(t for t in stops if t >= 0)
