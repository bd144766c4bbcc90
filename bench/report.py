"""Write docs/BENCHMARKS.md (tables) and docs/bench-*.png (plots) from the JSON in bench/results/.

    .venv/bin/python -m bench.report

Each bench script writes its figures with `--out bench/results/NAME.json`:
`ingest.json` (bench.ingest), `cold_start.json` (bench.cold_start),
`scale*.json` (bench.scale, one file per run), `load-*.json` (bench.load), `retrieval-*.json` (eval.bench_retrieval).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOCS = ROOT / "docs"


def _load(name: str):
    path = RESULTS / name
    return json.loads(path.read_text()) if path.exists() else None


def ingest_section(data: dict) -> list[str]:
    lines = [
        "## Ingest throughput (`python -m bench.ingest`)",
        "",
        f"{data['articles']} articles, {data['rounds']} rounds, paths alternating A B A B; {data['cpus']} CPU cores. "
        "`llamaindex` is `VectorStoreIndex.from_documents` into Chroma with `HuggingFaceEmbedding` "
        "(sentence-transformers, PyTorch fp32) and `SentenceSplitter(chunk_size=256, chunk_overlap=20)`; "
        "`ours` is `rag ingest` (ONNX INT8 MiniLM, 200-token chunks + title, BM25 built too); `ours@254` the same with "
        "chunks as large as the window allows; `ours-torch` with the PyTorch fp32 embedder. Ratios are per round "
        "against that round's baseline (min / median / max). Tokens are model tokens actually embedded "
        "(titles and metadata included, truncated tokens not counted).",
        "",
        "| path | chunks | truncated | load s | s per run | chunks/s | tokens/s | ratio chunks/s | ratio tokens/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, p in data["paths"].items():
        def ratio(key: str, p: dict = p) -> str:
            r = p.get(key)
            return f"{r['median']:.2f} ({r['min']:.2f}-{r['max']:.2f})" if r else "1"

        lines.append(
            f"| {name} | {p['chunks']} | {p['truncated_chunks']} | {p['load_s']} | {', '.join(str(s) for s in p['seconds'])} "
            f"| {p['chunks_per_s_median']} | {p['tokens_per_s_median']:.0f} | {ratio('ratio_chunks_per_s')} | {ratio('ratio_tokens_per_s')} |"
        )
    lines += ["", "![ingest throughput](bench-ingest.png)", ""]
    return lines


def ingest_plot(data: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(data["paths"])
    tokens = [data["paths"][n]["tokens_per_s_median"] for n in names]
    chunks = [data["paths"][n]["chunks_per_s_median"] for n in names]
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.2))
    axes[0].bar(names, chunks, color="#4c72b0")
    axes[0].set_title("chunks / s (median)")
    axes[1].bar(names, tokens, color="#55a868")
    axes[1].set_title("model tokens / s (median)")
    for ax in axes:
        ax.tick_params(axis="x", labelrotation=20)
    fig.tight_layout()
    fig.savefig(DOCS / "bench-ingest.png", dpi=110)
    plt.close(fig)


def quality_section(files: list[Path]) -> list[str]:
    lines = [
        "## Retrieval quality by embedder (`RAG_EMBEDDER=... python -m eval.bench_retrieval`)",
        "",
        "newsqa-dev (60 articles, 32 answerable questions), each embedder ingesting the articles into its own store.",
        "",
        "| embedder | mode | hits@1 | hits@4 | answer_chunk@1 | answer_chunk@4 | mrr@10 | p50 ms |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for path in files:
        embedder = path.stem.removeprefix("retrieval-")
        for mode, m in json.loads(path.read_text()).items():
            lines.append(
                f"| {embedder} | {mode} | {m['hits@1']:.3f} | {m['hits@4']:.3f} | {m['answer_chunk@1']:.3f} | "
                f"{m['answer_chunk@4']:.3f} | {m['mrr@10']:.3f} | {m['latency_p50_ms']} |"
            )
    lines.append("")
    return lines


def load_section(files: list[Path]) -> list[str]:
    lines = [
        "## Under load (`python -m bench.load`)",
        "",
        "A real `rag serve` on 127.0.0.1 (seed articles; one generation at a time, queued first come first served), "
        "simulated users asking one question after another through the `/ask` API, while `rag ingest` adds the 60 "
        "newsqa-dev articles to the same store from another process.",
        "",
        "| generator | users | s | requests | errors | lost | p50 s | p95 s | max s | req/s | out-of-order pairs | "
        "ingest during the run | new article found after |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for path in files:
        r = json.loads(path.read_text())
        ingest = r.get("concurrent_ingest") or {}
        found = r.get("new_article_found_after_ingest") or {}
        lines.append(
            f"| {r['generator']} | {r['users']} | {r['seconds']} | {r['requests']} | {r['errors']} | {r['lost']} | "
            f"{r['latency_s']['p50']} | {r['latency_s']['p95']} | {r['latency_s']['max']} | {r['requests_per_s']} | "
            f"{r['answered_out_of_order_pairs']} | {ingest.get('summary', '').split(': ')[-1]} in {ingest.get('seconds')} s | "
            f"{'yes' if found.get('cited') and not found.get('refused') else 'no'} |"
        )
    lines.append("")
    return lines


def cold_section(data: dict) -> list[str]:
    lines = [
        "## Cold start (`python -m bench.cold_start`)",
        "",
        f"`rag query \"{data['question']}\" --generator extractive` as a new process, {data['runs']} runs per embedder "
        "(alternating); process start to printed answer.",
        "",
        "| embedder | min s | median s | max s |",
        "|---|---|---|---|",
    ]
    for name, t in data["seconds"].items():
        lines.append(f"| {name} | {t['min']} | {t['median']} | {t['max']} |")
    lines.append("")
    return lines


def scale_section(rows: list[dict]) -> list[str]:
    lines = [
        "## Scale (`python -m bench.scale`)",
        "",
        "Stores built by `rag ingest` from made-up articles of real news paragraphs (newsqa-dev, interleaved). "
        "Retrieval = question embedding + search (top 5), 200 questions. Recall@10 of Chroma's HNSW against exact "
        "cosine search with the store's HNSW settings (ef_construction / ef_search / M).",
        "",
        "| chunks | ingest chunks/s | peak RSS MB | disk bytes/chunk | dense p50 / p95 ms | hybrid p50 / p95 ms | "
        "recall@10 (search p50 ms) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ann = ann_text(r["ann"])
        lines.append(
            f"| {r['chunks']} | {r['ingest_chunks_per_s']} | {r['peak_rss_mb']} | {r['disk_bytes_per_chunk']} | "
            f"{r['dense_ms']['p50']} / {r['dense_ms']['p95']} | {r['hybrid_ms']['p50']} / {r['hybrid_ms']['p95']} | {ann} |"
        )
    lines += ["", "![scale](bench-scale.png)", ""]
    return lines


def ann_text(ann: dict) -> str:
    """One table cell: recall@10 and search time, with the store's HNSW settings."""
    h = ann.get("hnsw", {})
    return f"{ann['recall@10']:.3f} ({ann['search_p50_ms']}) at {h.get('ef_construction')} / {h.get('ef_search')} / {h.get('max_neighbors')}"


def scale_plot(rows: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [r["chunks"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(11, 3.2))
    axes[0].plot(sizes, [r["ingest_chunks_per_s"] for r in rows], marker="o")
    axes[0].set_title("ingest chunks / s")
    axes[1].plot(sizes, [r["dense_ms"]["p50"] for r in rows], marker="o", label="dense p50")
    axes[1].plot(sizes, [r["dense_ms"]["p95"] for r in rows], marker="o", label="dense p95")
    axes[1].plot(sizes, [r["hybrid_ms"]["p50"] for r in rows], marker="o", label="hybrid p50")
    axes[1].set_title("retrieval ms")
    axes[1].legend(fontsize=7)
    axes[2].plot(sizes, [r["peak_rss_mb"] or 0 for r in rows], marker="o")
    axes[2].set_title("peak RSS MB (ingest)")
    for ax in axes:
        ax.set_xscale("log")
        ax.set_xlabel("chunks")
        ax.set_ylim(bottom=0)  # from zero, so a flat line looks flat
    fig.tight_layout()
    fig.savefig(DOCS / "bench-scale.png", dpi=110)
    plt.close(fig)


def main() -> int:
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m bench.report` from `bench/results/*.json`; every figure was measured on the "
        "development machine (2 CPU cores, no GPU) by the script named in its section. Timings on this shared "
        "machine vary by 10-20% from run to run, hence the paired rounds and min / max. The machine's CPU is not "
        "always the same model: ingest, scale, cold-start and retrieval figures below come from an AMD EPYC with "
        "AVX-512 VNNI (2026-11-26), on which INT8 inference is about twice as fast as on the AVX2-only CPU of "
        "earlier runs (their figures: `bench/results/avx2/`); the load figures come from the AVX2 CPU.",
        "",
        "Elsewhere: retrieval modes side by side in [retrieval.md](retrieval.md); generated answers' latency and "
        "grounding metrics in [answers.md](answers.md).",
        "",
    ]
    ingest = _load("ingest.json")
    if ingest:
        lines += ingest_section(ingest)
        ingest_plot(ingest)
    quality = sorted(RESULTS.glob("retrieval-*.json"))
    if quality:
        lines += quality_section(quality)
    load = sorted(RESULTS.glob("load-*.json"))
    if load:
        lines += load_section(load)
    cold = _load("cold_start.json")
    if cold:
        lines += cold_section(cold)
    scale = sorted((row for f in sorted(RESULTS.glob("scale*.json")) for row in json.loads(f.read_text())),
                   key=lambda r: r["chunks"])
    if scale:
        lines += scale_section(scale)
        scale_plot(scale)
    extra = RESULTS / "notes.md"
    if extra.exists():
        lines += [extra.read_text().rstrip(), ""]
    (DOCS / "BENCHMARKS.md").write_text("\n".join(lines))
    print(f"wrote {DOCS / 'BENCHMARKS.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
