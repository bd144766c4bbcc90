"""What the CPU running llama.cpp needs to know about itself."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


def has_amx(cpuinfo: str | None = None) -> bool:
    """Whether this CPU has Intel's AMX matrix units (Linux's /proc/cpuinfo flag `amx_int8`)."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text(errors="replace")
        except OSError:
            return False
    return any(line.startswith("flags") and "amx_int8" in line.split() for line in cpuinfo.splitlines())


@contextlib.contextmanager
def safe_weight_layout(amx: bool | None = None) -> Iterator[None]:
    """Models loaded inside keep their weights as the file lays them out on a CPU with AMX.

    llama.cpp built for such a CPU (llama-cpp-python compiles natively) repacks Q4_K and
    Q6_K weights for AMX as it loads them, and with llama-cpp-python 0.3.36 the first
    `eval` then dies of a general protection fault in libggml-cpu (seen on an Intel Xeon
    with AMX, 2 cores: every prompt, a 7-token one included). Without the repacking the
    same build reads a 401-token prompt in 3.1 s there. Elsewhere nothing changes. The
    switch is llama.cpp's model parameter `use_extra_bufts`, which `Llama()` does not take,
    so the default parameters it starts from are changed while it loads."""
    if not (has_amx() if amx is None else amx):
        yield
        return
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
