"""The process-wide registry of loaded models: each model is loaded once and shared.

    from core.models import models
    llm = models.get(("llm", str(path)), lambda: LlamaCppLLM(path))

The key names the model (its kind and file); whoever asks with the same key
gets the same object, whether it is the query API, the web chat, the
evaluation or a judge. Two threads asking for a model that is not loaded yet
build it once: the second waits for the first. Models with a `close()` method
are closed at interpreter exit (llama-cpp-python otherwise frees its model
while Python is tearing down and prints a TypeError).
"""

from __future__ import annotations

import atexit
import threading
from collections import Counter
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class ModelRegistry:
    """Loaded models by key (see the module docstring)."""

    def __init__(self) -> None:
        self._models: dict[Hashable, Any] = {}
        self._building: dict[Hashable, threading.Lock] = {}
        self._lock = threading.Lock()
        self._exit_hook = False
        self.loads: Counter[Hashable] = Counter()  # how often each key was built (tests count loads)

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The model under `key`, built with `load()` the first time it is asked for."""
        with self._lock:
            if key in self._models:
                return self._models[key]
            building = self._building.setdefault(key, threading.Lock())
        with building:
            with self._lock:
                if key in self._models:
                    return self._models[key]
            model = load()
            with self._lock:
                self._models[key] = model
                self.loads[key] += 1
                if not self._exit_hook:
                    atexit.register(self.close)
                    self._exit_hook = True
            return model

    def peek(self, key: Hashable) -> Any | None:
        """The model under `key` if it is loaded, else None (loads nothing)."""
        with self._lock:
            return self._models.get(key)

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._models)

    def close(self) -> None:
        """Close every loaded model that can be closed, and forget them all."""
        with self._lock:
            loaded = list(self._models.values())
            self._models.clear()
            self._building.clear()
        for model in loaded:
            close = getattr(model, "close", None)
            if callable(close):
                try:
                    close()
                except Exception:  # noqa: BLE001 - at exit, one model failing to close must not stop the others
                    pass


models = ModelRegistry()
