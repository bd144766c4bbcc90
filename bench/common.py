"""The bench scripts' shared helpers live in `eval.benchio` (installed, so eval's own benchmarks can use them)."""

from eval.benchio import emit, spread

__all__ = ["emit", "spread"]
