"""Ingest throughput: this project's ingest against llama-index's default path, side by side.

    bash scripts/bootstrap.sh bench && .venv/bin/python -m bench.ingest [ARTICLES] [--rounds 3]

ARTICLES defaults to ../shared/data/newsqa-dev/articles.jsonl (else seeds/).

- `llamaindex`: the path a llama-index user takes: `VectorStoreIndex.from_documents`
  into a Chroma collection, `HuggingFaceEmbedding` (sentence-transformers, PyTorch
  fp32) of the packaged all-MiniLM-L6-v2, `SentenceSplitter(chunk_size=256)`
  (its default splitter, sized to the model's 256-token window).
- `ours`: `index.ingest` with its defaults (ONNX INT8 MiniLM, chunks of at most
  200 model tokens + the title, length-sorted batches, BM25 index built too).
- `ours@254` (with --equal-chunks): the same with chunks as large as the
  model's window allows, so chunks/s compares like-sized chunks.

Every path starts from the same article file, in a fresh temporary store,
with its model already loaded (load times are reported apart). Paths alternate
(A B A B ...) for `--rounds` rounds and each round's ratio to the baseline is
kept: the printed JSON gives each path's chunks/s, model tokens/s and the
paired ratios' min / median / max. Chunks longer than the model's window
(silently truncated by sentence-transformers) are counted for the baseline.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import emit, spread

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ARTICLES = ROOT.parent / "shared" / "data" / "newsqa-dev" / "articles.jsonl"


def load_articles(path: Path) -> list:
    from index.loaders import discover, load_file
    from index.types import Article

    out = []
    for item in discover([path]):
        if isinstance(item, Path):
            out += [a for a in load_file(item) if isinstance(a, Article)]
    if not out:
        sys.exit(f"no articles found in {path}")
    return out


class LlamaIndexDefault:
    """`VectorStoreIndex.from_documents` into Chroma with HuggingFaceEmbedding (PyTorch fp32)."""

    name = "llamaindex"

    def __init__(self, model_path: Path, chunk_size: int = 256) -> None:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding

        started = time.perf_counter()
        self.embed_model = HuggingFaceEmbedding(model_name=str(model_path), device="cpu")
        self.embed_model.get_text_embedding("warm up")
        self.load_s = time.perf_counter() - started
        self.chunk_size = chunk_size
        self.max_tokens = self.embed_model._model.max_seq_length

    def run(self, articles: list, store: Path) -> dict:
        import chromadb
        from chromadb.config import Settings
        from llama_index.core import Document, StorageContext, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter
        from llama_index.vector_stores.chroma import ChromaVectorStore

        started = time.perf_counter()
        docs = [
            Document(text=a.text, doc_id=a.id, metadata={"title": a.title, "source": a.source, "published_at": a.published_at})
            for a in articles
        ]
        client = chromadb.PersistentClient(path=str(store), settings=Settings(anonymized_telemetry=False))
        collection = client.get_or_create_collection("chunks", embedding_function=None)
        context = StorageContext.from_defaults(vector_store=ChromaVectorStore(chroma_collection=collection))
        index = VectorStoreIndex.from_documents(
            docs,
            storage_context=context,
            embed_model=self.embed_model,
            transformations=[SentenceSplitter(chunk_size=self.chunk_size, chunk_overlap=20)],
        )
        seconds = time.perf_counter() - started
        from llama_index.core.schema import MetadataMode
        from llama_index.core.vector_stores.utils import metadata_dict_to_node

        count = collection.count()
        got = collection.get(include=["metadatas", "documents"])
        texts = []
        for meta, doc in zip(got["metadatas"], got["documents"]):
            node = metadata_dict_to_node(meta, text=doc)
            texts.append(node.get_content(metadata_mode=MetadataMode.EMBED))  # what HuggingFaceEmbedding embedded
        del index
        tokenizer = self.embed_model._model.tokenizer
        lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=True)["input_ids"]]
        return {
            "seconds": seconds,
            "chunks": count,
            "embedded_tokens": sum(min(n, self.max_tokens) for n in lengths),
            "truncated_chunks": sum(n > self.max_tokens for n in lengths),
        }


class Counting:
    """Passes through to an embedder, adding up the model tokens of everything embedded."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens
        self.tokens = 0
        self.truncated = 0

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)

    def embed(self, texts):
        sizes = [n + 2 for n in self.inner.count_tokens(texts)]  # + [CLS] and [SEP]
        self.tokens += sum(min(n, self.max_tokens) for n in sizes)
        self.truncated += sum(n > self.max_tokens for n in sizes)
        return self.inner.embed(texts)


class Ours:
    """`index.ingest` with the given embedder and chunking (default: ours)."""

    def __init__(self, name: str, embedder, chunk_size: int | None = None) -> None:
        self.name = name
        self.embedder = embedder
        self.chunk_size = chunk_size
        started = time.perf_counter()
        embedder.embed(["warm up"])
        self.load_s = time.perf_counter() - started

    def run(self, articles_path: Path, store: Path) -> dict:
        from index import ChunkingConfig, ingest

        chunking = ChunkingConfig(chunk_size=self.chunk_size) if self.chunk_size else None
        counting = Counting(self.embedder)
        started = time.perf_counter()
        report = ingest([articles_path], store=store, embedder=counting, chunking=chunking)
        seconds = time.perf_counter() - started
        return {
            "seconds": seconds,
            "chunks": report.chunks_written,
            "embedded_tokens": counting.tokens,  # titles included, as embedded
            "truncated_chunks": counting.truncated,
        }


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__.split("\n\n")[0])
    parser.add_argument("articles", nargs="?", type=Path, default=DEFAULT_ARTICLES if DEFAULT_ARTICLES.exists() else ROOT / "seeds")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--equal-chunks", action="store_true", help="also run ours with 254-token chunks")
    parser.add_argument("--torch", action="store_true", help="also run ours with the PyTorch fp32 embedder")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding  # noqa: F401
    except ImportError:
        sys.exit("the baseline needs the bench extra: bash scripts/bootstrap.sh bench")
    from index.embedding import OnnxEmbedder, SentenceTransformerEmbedder, default_model_path

    articles = load_articles(args.articles)
    baseline = LlamaIndexDefault(default_model_path())
    paths: list = [baseline, Ours("ours", OnnxEmbedder())]
    if args.equal_chunks:
        paths.append(Ours("ours@254", paths[1].embedder, chunk_size=254))
    if args.torch:
        paths.append(Ours("ours-torch", SentenceTransformerEmbedder()))
    runs: dict[str, list[dict]] = {p.name: [] for p in paths}
    with tempfile.TemporaryDirectory(prefix="rag-bench-ingest-") as tmp:
        for round_no in range(args.rounds):
            for path in paths:
                store = Path(tmp) / f"{path.name}-{round_no}"
                source = articles if path is baseline else args.articles
                result = path.run(source, store)
                result["chunks_per_s"] = result["chunks"] / result["seconds"]
                result["tokens_per_s"] = result["embedded_tokens"] / result["seconds"]
                runs[path.name].append(result)
                print(f"round {round_no + 1} {path.name}: {result['chunks']} chunks in {result['seconds']:.1f} s "
                      f"({result['chunks_per_s']:.1f} chunks/s, {result['tokens_per_s']:.0f} tokens/s)", file=sys.stderr)
    summary: dict = {"articles": len(articles), "rounds": args.rounds, "cpus": os.cpu_count(), "paths": {}}
    base = runs[baseline.name]
    for path in paths:
        rs = runs[path.name]
        entry = {
            "load_s": round(path.load_s, 2),
            "chunks": rs[0]["chunks"],
            "truncated_chunks": rs[0]["truncated_chunks"],
            "seconds": [round(r["seconds"], 2) for r in rs],
            "chunks_per_s_median": round(statistics.median(r["chunks_per_s"] for r in rs), 2),
            "tokens_per_s_median": round(statistics.median(r["tokens_per_s"] for r in rs), 1),
        }
        if path is not baseline:
            for unit in ("chunks_per_s", "tokens_per_s"):
                ratios = [r[unit] / b[unit] for r, b in zip(rs, base)]
                entry[f"ratio_{unit}"] = spread(ratios, 3)
        summary["paths"][path.name] = entry
    emit(summary, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
