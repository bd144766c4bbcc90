"""Scale: stores of 1k, 10k, 100k chunks built from real article text; ingest, memory, disk, query latency, ANN recall.

    .venv/bin/python -m bench.scale [--sizes 1000 10000 100000] [--articles FILE.jsonl] [--keep DIR]

Articles are made from the sentences of real articles (default: the newsqa-dev
articles): each made-up article interleaves the paragraphs of three random real
ones (seeded), so chunks are real news text and no two are the same. For each
size the articles are ingested by `rag ingest` in a new process (timed; its peak
RSS read from the kernel), then, in this process:

- `disk_bytes_per_chunk`: the store folder's size / chunks;
- `dense_ms` p50/p95: question embedding + Chroma search (top 20), the retrieval
  the issue's 25 ms / 50 ms targets are about; `hybrid_ms` adds BM25 and fusion;
- `recall@10`: Chroma's HNSW top 10 against exact cosine search over every
  stored vector, with the store's own HNSW settings (and its p50 search time).

The questions are the newsqa-dev questions plus sentences of the source articles.
Prints one JSON object per size and all of them at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import emit
from eval.metrics import percentile

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT.parent / "shared" / "data" / "newsqa-dev"


def made_up_articles(source: Path, n_chunks: int, seed: int = 7) -> list[dict]:
    """Articles of real paragraphs, enough for about `n_chunks` chunks (one per ~120 words with the default chunking)."""
    real = [json.loads(line) for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    paragraphs = [[p for p in a["text"].split("\n\n") if len(p.split()) > 5] for a in real]
    rng = random.Random(seed)
    out: list[dict] = []
    words = 0
    i = 0
    while words / 120 < n_chunks:
        picks = rng.sample(range(len(real)), 3)
        paras = [p for k in picks for p in rng.sample(paragraphs[k], min(len(paragraphs[k]), rng.randint(3, 8)))]
        rng.shuffle(paras)
        base = real[picks[0]]
        out.append({
            "id": f"scale-{i:06d}",
            "title": f"{base.get('title', '')} ({i})",
            "source": base.get("source", ""),
            "published_at": base.get("published_at", ""),
            "text": "\n\n".join(paras),
        })
        words += sum(len(p.split()) for p in paras)
        i += 1
    return out


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def measure_queries(store: Path, questions: list[str]) -> dict:
    import numpy as np

    from index import open_store
    from rag.api import default_embedder
    from rag.engine import RetrievalConfig, Retriever

    embedder = default_embedder()
    db = open_store(store, embedder)
    dense = Retriever(db, embedder, config=RetrievalConfig(mode="dense"))
    hybrid = Retriever(db, embedder, config=RetrievalConfig(mode="hybrid"))
    for q in questions[:5]:
        dense.retrieve(q, 5)
        hybrid.retrieve(q, 5)
    timings: dict[str, list[float]] = {"dense": [], "hybrid": []}
    for q in questions:
        for name, retriever in (("dense", dense), ("hybrid", hybrid)):
            started = time.perf_counter()
            retriever.retrieve(q, 5)
            timings[name].append((time.perf_counter() - started) * 1000)
    out = {f"{k}_ms": {"p50": round(percentile(v, 50), 1), "p95": round(percentile(v, 95), 1)} for k, v in timings.items()}

    # Exact search over every stored vector, against HNSW at several ef_search values.
    ids, _texts, _ = db.all_chunks()
    vectors = db.get_embeddings(ids)
    matrix = np.stack([vectors[i] for i in ids])
    queries = embedder.embed(questions)
    exact = [set(np.argsort(-(matrix @ q))[:10]) for q in queries]
    index_of = {cid: n for n, cid in enumerate(ids)}
    collection = db._chunks
    # The store's own HNSW settings (fixed when it was created: changing ef_search
    # on an open collection did not change its results in Chroma 1.5).
    hnsw = dict((collection.configuration or {}).get("hnsw") or {})
    found, times = 0, []
    for q, truth in zip(queries, exact):
        started = time.perf_counter()
        res = collection.query(query_embeddings=[q.tolist()], n_results=10, include=[])
        times.append((time.perf_counter() - started) * 1000)
        found += len(truth & {index_of[c] for c in res["ids"][0]})
    out["ann"] = {"hnsw": hnsw, "recall@10": round(found / (10 * len(queries)), 4),
                  "search_p50_ms": round(statistics.median(times), 2)}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scale", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", nargs="+", type=int, default=[1000, 10000, 100000], help="target chunks per store")
    parser.add_argument("--articles", type=Path, default=DEV / "articles.jsonl")
    parser.add_argument("--questions", type=Path, default=DEV / "questions.jsonl")
    parser.add_argument("--keep", type=Path, help="build the stores here and keep them")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    if not args.articles.exists():
        sys.exit(f"{args.articles} not found; pass --articles FILE.jsonl (records with title, text)")
    questions = [json.loads(line)["question"] for line in args.questions.read_text().splitlines() if line.strip()] \
        if args.questions.exists() else []
    real = [json.loads(line) for line in args.articles.read_text(encoding="utf-8").splitlines() if line.strip()]
    rng = random.Random(11)
    sentences = [s.strip() for a in real for s in a["text"].split(". ") if 6 < len(s.split()) < 30]
    questions = (questions + rng.sample(sentences, min(len(sentences), 200)))[:200]
    rag = str(Path(sys.executable).with_name("rag"))
    results = []
    with tempfile.TemporaryDirectory(prefix="rag-scale-") as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        for size in args.sizes:
            made = made_up_articles(args.articles, size)
            n_articles = len(made)
            source = root / f"articles-{size}.jsonl"
            with source.open("w", encoding="utf-8") as f:
                for a in made:
                    f.write(json.dumps(a) + "\n")
            store = root / f"store-{size}"
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            started = time.perf_counter()
            done = subprocess.run([rag, "ingest", str(source), "--store", str(store), "--rebuild"],
                                  capture_output=True, text=True, env=dict(os.environ))
            seconds = time.perf_counter() - started
            if done.returncode != 0:
                sys.exit(f"rag ingest failed: {done.stderr[-2000:]}")
            peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            from index import open_store
            from rag.api import default_embedder

            chunks = open_store(store, default_embedder()).count()
            row = {
                "target_chunks": size,
                "articles": n_articles,
                "chunks": chunks,
                "ingest_s": round(seconds, 1),
                "ingest_chunks_per_s": round(chunks / seconds, 1),
                "peak_rss_mb": round(peak_kb / 1024) if peak_kb > before else None,
                "disk_bytes_per_chunk": round(folder_bytes(store) / chunks),
            }
            print(json.dumps(row), file=sys.stderr, flush=True)  # the ingest figures, whatever happens next
            row.update(measure_queries(store, questions))
            print(json.dumps(row), file=sys.stderr, flush=True)
            results.append(row)
    emit(results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
