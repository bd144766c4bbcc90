"""The first question in a fresh `rag serve` against the ones after it.

    .venv/bin/python -m bench.first_question [--generator local] [--repeat 2]

Ingests the seed articles into a temporary store, starts `rag serve` on a free
loopback port and waits until it answers HTTP (it loads and warms its model
before it serves), then asks `POST /api/ask` the seed questions in turn, each
`--repeat` times, and prints the first answer's seconds beside the median of
the others, and beside the same question asked again later (questions differ
in length: the first seed question reads the longest windows), as JSON. Say
which CPU ran it.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUESTIONS = [json.loads(line)["question"] for line in (ROOT.parent / "shared" / "data" / "seeds-dev-qa.jsonl").read_text().splitlines() if line.strip()]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.first_question", description=__doc__.split("\n\n")[0])
    parser.add_argument("--generator", default="local")
    parser.add_argument("--repeat", type=int, default=2, help="times each question is asked after the first")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    import httpx

    with tempfile.TemporaryDirectory(prefix="rag-first-") as tmp:
        store = Path(tmp) / "store"
        subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(ROOT / "seeds"), "--store", str(store)], check=True, cwd=ROOT,
                       capture_output=True)  # fmt: skip
        port = _free_port()
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--store", str(store), "--port", str(port), "--generator", args.generator],
                                cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            while True:
                try:
                    if httpx.get(url + "/api/health", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if proc.poll() is not None or time.perf_counter() - started > 600:
                    raise SystemExit("rag serve did not start")
                time.sleep(0.5)
            ready = time.perf_counter() - started
            times = []
            for question in QUESTIONS[:1] + QUESTIONS * args.repeat:
                t0 = time.perf_counter()
                reply = httpx.post(url + "/api/ask", json={"question": question}, timeout=300)
                reply.raise_for_status()
                times.append(round(time.perf_counter() - t0, 3))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    later = times[1:]
    same = [t for q, t in zip(QUESTIONS[:1] + QUESTIONS * args.repeat, times) if q == QUESTIONS[0]][1:]
    result = {"generator": args.generator, "server_ready_s": round(ready, 2), "first_s": times[0],
              "later_median_s": round(statistics.median(later), 3), "later_max_s": max(later),
              "first_over_median": round(times[0] / statistics.median(later), 2),
              # The first question asked again later: what the first ask costs beyond the question itself.
              "same_question_later_s": same, "first_over_same_later": round(times[0] / statistics.median(same), 2),
              "times_s": times}  # fmt: skip
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
