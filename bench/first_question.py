"""The first question in a fresh `rag serve` against the next ones.

    .venv/bin/python -m bench.first_question [--generator local] [--set seeds|newsqa|newsqa2] [--out FILE.json]

Ingests a question set's articles (`eval.bench_answers.SETS`) into a temporary store, starts `rag serve` on a free
loopback port, waits until it answers `/api/health` (the server loads and warms
its generator before it listens), then asks the set's questions through `POST /api/ask`, one at a time, twice
over. It prints the first question's latency, the same question's when asked
again, the p50 of the second round and the first's ratio to it (the answers
issue asks for at most 1.5): the second round, where every question is asked
of a warm server, is what the first is compared with, so a first question that
is merely harder than the rest does not count as a cold start. Name the CPU
with the figures.
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

from bench.common import emit
from eval.bench_answers import SETS
from eval.questions import load_questions


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


def run(generator: str, questions: list[str], articles: Path, work: Path, timeout: float = 600.0) -> dict[str, Any]:
    """Latency of each question in a fresh server (seconds), asked twice over: the first one against the second round."""
    rag = [sys.executable, "-m", "ui.cli"]
    store = work / "store"
    subprocess.run([*rag, "ingest", str(articles), "--store", str(store)], check=True, capture_output=True)
    port = _free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}
    started = time.monotonic()
    proc = subprocess.Popen([*rag, "serve", "--store", str(store), "--generator", generator, "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        _wait_ready(f"http://127.0.0.1:{port}/api/health", proc, timeout)
        ready_s = time.monotonic() - started
        latencies = []
        for q in [*questions, *questions]:
            t = time.monotonic()
            answer = _post(f"http://127.0.0.1:{port}/api/ask", {"question": q}, timeout)
            latencies.append(round(time.monotonic() - t, 3))
            if answer.get("generator") != generator:
                raise SystemExit(f"answered by {answer.get('generator')!r}, not {generator!r}")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    warm = latencies[len(questions) :]
    p50 = round(statistics.median(warm), 3)
    return {"generator": generator, "questions": len(questions), "server_ready_s": round(ready_s, 1),
            "first_s": latencies[0], "first_asked_again_s": warm[0], "p50_second_round_s": p50,
            "first_over_p50": round(latencies[0] / p50, 2), "latencies_s": latencies}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_question", description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", default="local")
    parser.add_argument("--set", default="seeds", choices=sorted(SETS), help="the questions and their articles")
    parser.add_argument("--out", type=Path, help="write the figures here as JSON")
    args = parser.parse_args(argv)
    questions_file, articles = SETS[args.set]
    questions = [q.question for q in load_questions(questions_file)]
    with tempfile.TemporaryDirectory(prefix="rag-first-") as tmp:
        result = {"set": args.set, **run(args.generator, questions, articles, Path(tmp))}
    emit(result, args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
