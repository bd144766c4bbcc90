"""The first question in a fresh server against the next ones: `python -m eval.bench_first`.

    python -m eval.bench_first [--generator local] [--questions FILE.jsonl] [--out FILE.json]

Ingests the seed articles into a temporary store, starts `rag serve` on a free
loopback port, waits until it answers `/api/health` (the server loads and warms
its generator before it listens), then asks each question of the file once
through `POST /api/ask`, one at a time, and prints the first question's
latency, the p50 of the others and their ratio (the answers issue asks for at
most 1.5). Name the CPU with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from .questions import load_questions

ROOT = Path(__file__).resolve().parents[1]
SEED_QUESTIONS = ROOT.parent / "shared" / "data" / "seeds-dev-qa.jsonl"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _post(url: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as resp:  # loopback only
        return json.loads(resp.read())


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"rag serve exited with code {proc.returncode} before it listened")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"rag serve did not answer {url} within {timeout:.0f} s")


def run(generator: str, questions: list[str], work: Path, timeout: float = 600.0) -> dict[str, Any]:
    """Latency of each question in a fresh server (seconds), the first one and the others' p50."""
    rag = [sys.executable, "-m", "ui.cli"]
    store = work / "store"
    subprocess.run([*rag, "ingest", str(ROOT / "seeds"), "--store", str(store)], check=True, capture_output=True)
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([*rag, "serve", "--store", str(store), "--generator", generator, "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_ready(f"http://127.0.0.1:{port}/api/health", proc, timeout)
        ready_s = time.monotonic() - started
        latencies = []
        for q in questions:
            t = time.monotonic()
            answer = _post(f"http://127.0.0.1:{port}/api/ask", {"question": q}, timeout)
            latencies.append(round(time.monotonic() - t, 3))
            if answer.get("generator") != generator:
                raise SystemExit(f"answered by {answer.get('generator')!r}, not {generator!r}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    rest = latencies[1:]
    p50 = statistics.median(rest) if rest else float("nan")
    return {"generator": generator, "questions": len(latencies), "server_ready_s": round(ready_s, 1),
            "first_s": latencies[0], "p50_rest_s": round(p50, 3), "first_over_p50": round(latencies[0] / p50, 2),
            "latencies_s": latencies}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", default="local")
    parser.add_argument("--questions", type=Path, default=SEED_QUESTIONS, help="a questions file (seeds-dev-qa.jsonl)")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    questions = [q.question for q in load_questions(args.questions)]
    with tempfile.TemporaryDirectory(prefix="rag-first-") as tmp:
        result = run(args.generator, questions, Path(tmp))
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
