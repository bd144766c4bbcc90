"""Load test: simulated chat users against a real `rag serve` while another process ingests articles.

    .venv/bin/python -m bench.load [--users 20] [--seconds 60] [--generator extractive] [--no-ingest]
    .venv/bin/python -m bench.load --users 4 --generator local

Loopback only and bounded: the server runs on 127.0.0.1 with a fresh store
holding the seed articles; each user (a thread with its own gradio_client)
asks questions one after another through the `/ask` API until `--seconds`
have passed (at most `--max-requests` each). Meanwhile `rag ingest` adds the
newsqa-dev articles to the same store from another process (unless
--no-ingest). Prints JSON: requests, answers, errors (with the first few
messages), lost (sent but never answered), p50 / p95 / max latency, requests
answered after a later-submitted one (the server queues: one generation at a
time, first come first served), and whether the ingest finished and its
articles became searchable.
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
import threading
import time
from pathlib import Path

from bench.common import emit
from eval.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "newsqa-dev"
SEED_QA = ROOT.parent / "shared" / "data" / "seeds-dev-qa.jsonl"
FALLBACK_QUESTIONS = [
    "Where did Putin invite Zelensky to meet?",
    "Who ordered Russian troops to return to their permanent bases?",
    "What is the capital of Australia?",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def questions() -> list[str]:
    out = []
    for path in (SEED_QA, DEV / "questions.jsonl"):
        if path.exists():
            out += [json.loads(line)["question"] for line in path.read_text().splitlines() if line.strip()]
    return out or FALLBACK_QUESTIONS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--max-requests", type=int, default=200, help="per user")
    parser.add_argument("--generator", default="extractive")
    parser.add_argument("--no-ingest", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    from gradio_client import Client

    rag = str(Path(sys.executable).with_name("rag"))
    env = dict(os.environ, GRADIO_ANALYTICS_ENABLED="False", HF_HUB_OFFLINE="1")
    asked = questions()
    with tempfile.TemporaryDirectory(prefix="rag-load-") as tmp:
        store = Path(tmp) / "store"
        subprocess.run([rag, "ingest", str(ROOT / "seeds"), "--store", str(store)], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [rag, "serve", "--store", str(store), "--host", "127.0.0.1", "--port", str(port), "--generator", args.generator],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            deadline = time.monotonic() + 180
            while True:
                line = server.stdout.readline()
                if "serving the chat on" in line:
                    break
                if not line and server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"rag serve did not start: {line}")
            threading.Thread(target=lambda: [None for _ in server.stdout], daemon=True).start()  # drain its output

            records: list[dict] = []
            lock = threading.Lock()
            stop_at = time.monotonic() + args.seconds

            def user(n: int) -> None:
                client = Client(url, verbose=False)
                for k in range(args.max_requests):
                    if time.monotonic() >= stop_at:
                        return
                    question = asked[(n * 7 + k) % len(asked)]
                    sent = time.monotonic()
                    rec = {"user": n, "sent": sent, "question": question}
                    try:
                        result = client.predict(question, "", 0, api_name="/ask")
                        rec["done"] = time.monotonic()
                        rec["error"] = result.get("error") if isinstance(result, dict) else f"unexpected reply {result!r}"
                        rec["answered"] = isinstance(result, dict) and "answer" in result
                    except Exception as err:  # noqa: BLE001 - counted, reported
                        rec["done"] = time.monotonic()
                        rec["error"] = f"{type(err).__name__}: {err}"
                        rec["answered"] = False
                    with lock:
                        records.append(rec)

            ingest_result: dict = {}

            def ingest() -> None:
                started = time.monotonic()
                done = subprocess.run([rag, "ingest", str(DEV / "articles.jsonl"), "--store", str(store)], env=env,
                                      capture_output=True, text=True)
                ingest_result.update(returncode=done.returncode, seconds=round(time.monotonic() - started, 1),
                                     summary=(done.stdout.strip().splitlines() or [""])[-1], stderr=done.stderr[-500:])

            threads = [threading.Thread(target=user, args=(n,)) for n in range(args.users)]
            if not args.no_ingest and (DEV / "articles.jsonl").exists():
                threads.append(threading.Thread(target=ingest))
            started = time.monotonic()
            for t in threads:
                t.start()
            for t in threads:
                t.join(timeout=args.seconds + 900)
            elapsed = time.monotonic() - started
            lost = sum(t.is_alive() for t in threads)  # a user still waiting for its reply

            after = None
            if ingest_result.get("returncode") == 0:
                # An article that only the concurrent ingest added must now be found.
                result = Client(url, verbose=False).predict("Which restaurant serves the jumbo cheesesteak in Delaware?",
                                                            "extractive", 0, api_name="/ask")
                after = {"refused": result.get("refused"), "cited": sorted({c["doc_id"] for c in result.get("citations", [])})}
        finally:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()

    latencies = [r["done"] - r["sent"] for r in records]
    errors = [r for r in records if r["error"]]
    by_done = sorted(records, key=lambda r: r["done"])
    overtaken = sum(
        1 for i, r in enumerate(by_done) for later in by_done[i + 1 :] if later["sent"] < r["sent"] - 0.05
    )
    report = {
        "generator": args.generator,
        "users": args.users,
        "seconds": round(elapsed, 1),
        "requests": len(records),
        "answers": sum(r["answered"] and not r["error"] for r in records),
        "errors": len(errors),
        "error_examples": sorted({r["error"] for r in errors})[:5],
        "lost": lost,
        "latency_s": {
            "p50": round(percentile(latencies, 50), 2) if latencies else None,
            "p95": round(percentile(latencies, 95), 2) if latencies else None,
            "max": round(max(latencies), 2) if latencies else None,
            "mean": round(statistics.mean(latencies), 2) if latencies else None,
        },
        "answered_out_of_order_pairs": overtaken,
        "requests_per_s": round(len(records) / elapsed, 2) if elapsed else None,
        "concurrent_ingest": ingest_result or None,
        "new_article_found_after_ingest": after,
    }
    emit(report, args.out)
    return 0 if not errors and not lost else 1


if __name__ == "__main__":
    sys.exit(main())
