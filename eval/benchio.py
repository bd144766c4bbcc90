"""What every benchmark script shares (eval.bench_* and bench/*): printing its JSON figures (and saving them), and a min / median / max summary."""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def emit(result: Any, out: Path | None) -> None:
    """Print `result` as JSON, and write it to `out` too when given (bench/results/ feeds bench.report)."""
    text = json.dumps(result, indent=2)
    print(text)
    if out:
        out.write_text(text + "\n")


def spread(values: Sequence[float], digits: int = 2) -> dict[str, float]:
    """min / median / max of repeated measurements (timings on a shared machine vary run to run)."""
    return {"min": round(min(values), digits), "median": round(statistics.median(values), digits), "max": round(max(values), digits)}
