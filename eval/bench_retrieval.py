"""Retrieval quality and latency of each retrieval mode, side by side.

    python -m eval.bench_retrieval QUESTIONS.jsonl (--articles PATH... | --store DIR) [--modes ...] [--candidates 20] [--lead-lift N] [--rerank-window W] [--md FILE]

Modes (default all): `dense`, `bm25`, `hybrid` (both, reciprocal rank fusion),
`hybrid+time` (hybrid, preferring articles from the period a question names,
dated by the question's `asked_on`), and the same with `+rerank` (the
ms-marco cross-encoder reorders the fused candidates). For each mode, over the
answerable questions: `hits@1/4/10`, `mrr@10`, `answer_chunk@1/4` (the
evaluation suite's definitions, `eval.metrics.retrieval_metrics`) and the
retrieval latency p50/p95 in ms (question embedding, searches, fusion,
reranking; the models are loaded before timing). Prints JSON; `--md` also
writes a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

MODES = ("dense", "bm25", "hybrid", "hybrid+time", "dense+rerank", "hybrid+rerank", "hybrid+time+rerank")


def config_for(
    mode: str, candidates: int, lead_lift: float | None = None, rerank_window: int | None = None
):
    from rag.engine import RetrievalConfig

    base = mode.split("+")[0]
    extra = {} if lead_lift is None else {"lead_lift": lead_lift}
    if rerank_window is not None:
        extra["rerank_window"] = rerank_window
    return RetrievalConfig(
        mode=base, candidates=candidates, rerank="rerank" in mode, time_boost=0.5 if "time" in mode else 0.0, **extra
    )


def measure(
    store: Path,
    questions: list,
    modes: list[str],
    candidates: int,
    lead_lift: float | None = None,
    rerank_window: int | None = None,
) -> dict[str, dict[str, float]]:
    import numpy as np

    from eval.metrics import Retrieved, retrieval_metrics
    from index.lexical import BM25Index
    from index.store import open_store
    from rag.api import default_embedder
    from rag.engine import Retriever
    from rag.retrieval.rerank import default_cross_encoder

    embedder = default_embedder()
    db = open_store(store, embedder)
    lexical = BM25Index(db)
    lexical.refresh()
    cross = default_cross_encoder()
    answerable = [q for q in questions if q.answerable]
    out: dict[str, dict[str, float]] = {}
    for mode in modes:
        retriever = Retriever(db, embedder, lexical=lexical, cross_encoder=cross, config=config_for(mode, candidates, lead_lift, rerank_window))
        retriever.retrieve("warm-up question about the news", 10)
        rows, times = [], []
        for q in answerable:
            t0 = time.perf_counter()
            hits = retriever.retrieve(q.question, 10, None, q.asked_on)
            times.append(time.perf_counter() - t0)
            rows.append(retrieval_metrics(q, [Retrieved(h.chunk.doc_id, h.chunk.text) for h in hits]))
        figures = {k: round(float(np.mean([r[k] for r in rows])), 4) for k in rows[0]} if rows else {}
        figures["latency_p50_ms"] = round(float(np.percentile(times, 50)) * 1000, 1) if times else 0.0
        figures["latency_p95_ms"] = round(float(np.percentile(times, 95)) * 1000, 1) if times else 0.0
        figures["questions"] = len(rows)
        out[mode] = figures
        print(f"{mode}: {json.dumps(figures)}", file=sys.stderr)
    return out


def markdown(results: dict[str, dict[str, float]], title: str) -> str:
    cols = ["answer_chunk@1", "answer_chunk@4", "hits@1", "hits@4", "hits@10", "mrr@10", "latency_p50_ms", "latency_p95_ms"]
    lines = [f"### {title}", "", "| mode | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for mode, f in results.items():
        lines.append(f"| {mode} | " + " | ".join(f"{f.get(c, 0):g}" for c in cols) + " |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    from eval.runner import load_questions

    parser = argparse.ArgumentParser(prog="python -m eval.bench_retrieval", description=__doc__.split("\n\n")[0])
    parser.add_argument("questions", type=Path)
    parser.add_argument("--articles", nargs="+", type=Path, help="ingest these into a temporary store")
    parser.add_argument("--store", type=Path, help="an existing store")
    parser.add_argument("--modes", nargs="+", choices=MODES, default=list(MODES))
    parser.add_argument("--candidates", type=int, default=20)
    parser.add_argument("--lead-lift", type=float, help="RetrievalConfig.lead_lift (default: the config's)")
    parser.add_argument("--rerank-window", type=int, help="RetrievalConfig.rerank_window in words, 0 = whole chunks (default: the config's)")
    parser.add_argument("--md", type=Path, help="also write a Markdown table here")
    args = parser.parse_args(argv)
    if not args.articles and not args.store:
        parser.error("give --articles or --store")
    questions = load_questions(args.questions)
    with tempfile.TemporaryDirectory(prefix="rag-bench-") as tmp:
        store = args.store
        if store is None:
            from index import ingest
            from rag.api import default_embedder

            store = Path(tmp) / "store"
            ingest(args.articles, store=store, embedder=default_embedder())
        results = measure(store, questions, args.modes, args.candidates, args.lead_lift, args.rerank_window)
    print(json.dumps(results, indent=2))
    if args.md:
        args.md.write_text(markdown(results, f"{args.questions.name} ({len(questions)} questions, {args.candidates} candidates, lead_lift {args.lead_lift}, rerank_window {args.rerank_window})"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
