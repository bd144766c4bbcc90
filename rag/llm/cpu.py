"""How llama.cpp is loaded on the CPU: the weights as the file lays them out, flash attention on."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

# Flash attention while reading a prompt: on an AMD EPYC with AVX-512 VNNI (2 cores), a 430-token prompt of
# the packaged model was read at 145 tokens/s with it against 128 without (mean of three processes each,
# weights as laid out in the file); writing a token took the same time (40-50 ms).
FLASH_ATTENTION = True


@contextlib.contextmanager
def safe_weight_layout() -> Iterator[None]:
    """Models loaded inside keep their weights as the file lays them out (llama.cpp does not repack them).

    llama.cpp (llama-cpp-python compiles it for the CPU it is installed on) repacks Q4_K and
    Q6_K weights for the CPU's wide instructions as it loads them. Measured with
    llama-cpp-python 0.3.36 and the packaged model: on an Intel Xeon with AMX the first `eval`
    of the repacked model dies of a general protection fault in libggml-cpu (every prompt, a
    7-token one included; without repacking it reads a 401-token prompt in 3.1 s); on an AMD
    EPYC with AVX-512 VNNI, 2 cores, repacking makes reading a 430-token prompt slower, 85
    tokens/s against 130 (three processes each; writing a token, 38 against 45 ms, is the
    small part of an answer). The switch is llama.cpp's model parameter `use_extra_bufts`,
    which `Llama()` does not take, so the default parameters it starts from are changed
    while it loads."""
    import llama_cpp.llama_cpp as bindings

    with _PARAMS_LOCK:
        default = bindings.llama_model_default_params

        def params() -> Any:
            out = default()
            out.use_extra_bufts = False
            return out

        bindings.llama_model_default_params = params
        try:
            yield
        finally:
            bindings.llama_model_default_params = default


_PARAMS_LOCK = threading.Lock()
