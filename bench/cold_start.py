"""Cold start of `rag query`: process start to printed answer, by generator and embedder.

    .venv/bin/python -m bench.cold_start [--runs 5] [--generator extractive|local] [--embedders onnx torch]

The local generator's first run in a fresh cache also saves llama.cpp's state of
the fixed prompt (`$RAG_CACHE_DIR/llm-state/`); later processes restore it
(the figures are of those: one untimed warm-up run precedes them).

Ingests the seed articles into a temporary store (once per embedder), then runs
`rag query` as a new process `--runs` times for each embedder (alternating) and
prints min / median / max wall time and peak memory as JSON.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import emit, spread

ROOT = Path(__file__).resolve().parent.parent
QUESTION = "Where did Putin invite Zelensky to meet?"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.cold_start", description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--embedders", nargs="+", default=["onnx", "torch"])
    parser.add_argument("--generator", default="extractive", choices=["extractive", "local"])
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    rag = str(Path(sys.executable).with_name("rag"))
    times: dict[str, list[float]] = {e: [] for e in args.embedders}
    with tempfile.TemporaryDirectory(prefix="rag-cold-") as tmp:
        for embedder in args.embedders:
            env = dict(os.environ, RAG_EMBEDDER=embedder)
            subprocess.run([rag, "ingest", str(ROOT / "seeds"), "--store", f"{tmp}/{embedder}"], env=env, check=True,
                           capture_output=True)
        for run in range(args.runs + (args.generator == "local")):
            for embedder in args.embedders:
                env = dict(os.environ, RAG_EMBEDDER=embedder)
                started = time.perf_counter()
                done = subprocess.run([rag, "query", QUESTION, "--store", f"{tmp}/{embedder}", "--generator", args.generator],
                                      env=env, capture_output=True, text=True)
                elapsed = time.perf_counter() - started
                if done.returncode != 0 or "Moscow" not in done.stdout:
                    sys.exit(f"rag query failed ({embedder}): {done.stderr[-1000:]}")
                if args.generator == "extractive" or run > 0:  # the local model's first run saves the prompt state
                    times[embedder].append(elapsed)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "question": QUESTION,
        "generator": args.generator,
        "runs": args.runs,
        "peak_rss_mb_any_child": round(peak_mb),
        "seconds": {e: spread(t) for e, t in times.items()},
    }
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
