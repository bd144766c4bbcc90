"""The baseline a user would pick instead of this product: llama-index's default query engine.

    python -m eval.baseline QUESTIONS.jsonl --articles PATH... [--store DIR] [--limit N] [--ids-file F] --out FILE.jsonl

`LlamaIndexBaseline` reads the SAME Chroma store the product ingested (the
`chunks` collection: chunk text, offsets and article metadata, embedded by the
product's embedder) through `VectorStoreIndex.from_vector_store(ChromaVectorStore(...))`
and answers with `as_query_engine()` left at llama-index's defaults: the top 2
chunks by cosine (`similarity_top_k=2`), the default "compact" response
synthesizer and its `DEFAULT_TEXT_QA_PROMPT`. The model is the product's local
GGUF (`rag.llm.local.resolve_model_path`) run by llama-index's own llama.cpp
integration (`llama-index-llms-llama-cpp`): 4096-token context, greedy
(temperature 0), at most 256 new tokens, every CPU core, the model's ChatML
chat template. Questions are embedded as the product embeds them (the bare
question, `index.embedding`); chunks already carry their title-prefixed
vectors from the product's ingest.

What differs from pointing llama-index at the collection with nothing else:

- `llm=` and `embed_model=` are always passed in: llama-index's global
  `Settings` would fall back to OpenAI (and the network).
- The product's bookkeeping metadata (chunk index, offsets, sentence spans,
  timestamps) is hidden from the prompt, as llama-index hides its own
  (`_node_content`, `start_char_idx`): the model sees each chunk's article
  fields (`PROMPT_KEYS`) and text, what a llama-index ingest of the same
  articles with that metadata would show it. Ranking is untouched.

Integrations are imported inside functions; a missing one raises
`ConfigError` naming `bash scripts/bootstrap.sh bench,llm`.

The CLI ingests `--articles` with the product's own `index.ingest` (into a
temporary store, or into `--store`), asks one untimed warm-up question, then
each question in turn, writes one JSON record per question (id, question,
answer, passages, latency_s) and prints p50 / p95 latency.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError, EmbeddingMismatchError, InputError, RagError, StoreNotFoundError

INSTALL_HINT = "bash scripts/bootstrap.sh bench,llm"
CONTEXT_WINDOW = 4096
MAX_NEW_TOKENS = 256
# The article fields the model is shown beside each chunk (`index.types.ArticleRef`'s fields).
PROMPT_KEYS = ("doc_id", "title", "source", "url", "published_at")
# Asked once before timing, so the first timed question does not pay for loading the model's weights.
# Not one of the questions: llama.cpp reuses the previous prompt's tokens, and a warm-up on the first
# question would hand it its whole prompt ready-made.
WARM_UP_QUESTION = "What do these articles report?"
# Qwen's ChatML, as the GGUF's own chat template renders one user message with no system message
# (checked against tokenizer.chat_template of qwen2.5-coder-1.5b-instruct-q4_k_m.gguf).
QWEN_DEFAULT_SYSTEM = "You are Qwen, created by Alibaba Cloud. You are a helpful assistant."

Passage = tuple[str, str, str]  # (doc_id, chunk_id, text)


@dataclass(frozen=True)
class BaselineAnswer:
    """What the baseline answered.

    Attributes:
        text: llama-index's response string (its own "Empty Response" when nothing was retrieved).
        passages: `(doc_id, chunk_id, text)` of the response's source nodes, in order.
        latency_s: wall-clock seconds for the whole query (retrieval and generation).
    """

    text: str
    passages: tuple[Passage, ...]
    latency_s: float


def _missing(what: str, err: ImportError) -> ConfigError:
    return ConfigError(f"{what} is not installed ({err}); install it with: {INSTALL_HINT}")


# --- the parts: store, embedder, model ----------------------------------------------------------


def open_chunks(store: str | Path, embedder: Any) -> Any:
    """The product's `chunks` collection in the store folder `store`, checked against `embedder`.

    Raises:
        StoreNotFoundError: nothing was ingested there.
        EmbeddingMismatchError: the store was built with another embedding model.
    """
    import chromadb
    from chromadb.config import Settings

    from index.store import CHUNKS

    path = Path(store).expanduser()
    if not (path / "chroma.sqlite3").is_file():
        raise StoreNotFoundError(f"no article store at {path}; ingest articles first: rag ingest PATH --store {path}")
    client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
    if CHUNKS not in {getattr(c, "name", c) for c in client.list_collections()}:
        raise StoreNotFoundError(f"no articles have been ingested into the store at {path}; run: rag ingest PATH --store {path}")
    collection = client.get_collection(CHUNKS)
    built_with = (collection.metadata or {}).get("embed_model")
    if built_with != embedder.name:
        raise EmbeddingMismatchError(
            f"the store at {path} was built with {built_with} but {embedder.name} is in use; "
            "use the same embedder, or rebuild the store with: rag ingest PATH --rebuild"
        )
    return collection


def embed_model(embedder: Any) -> Any:
    """A llama-index `BaseEmbedding` over the product's `Embedder` (its `.embed(texts)` gives unit vectors).

    Queries are embedded as the product embeds them: the bare question.
    """
    try:
        from llama_index.core.base.embeddings.base import BaseEmbedding
        from llama_index.core.bridge.pydantic import PrivateAttr
    except ImportError as err:
        raise _missing("llama-index", err) from err

    class ProductEmbedding(BaseEmbedding):
        _embedder: Any = PrivateAttr()

        def __init__(self, inner: Any) -> None:
            super().__init__(model_name=inner.name)
            self._embedder = inner

        def _vectors(self, texts: Sequence[str]) -> list[list[float]]:
            return np.asarray(self._embedder.embed(list(texts)), dtype=np.float32).tolist()

        def _get_query_embedding(self, query: str) -> list[float]:
            return self._vectors([query])[0]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._vectors([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return self._vectors(texts)

    return ProductEmbedding(embedder)


def chatml_messages_to_prompt(messages: Sequence[Any]) -> str:
    """llama-index chat messages as Qwen's ChatML prompt, ready for the assistant's turn."""
    parts = []
    if not messages or str(getattr(messages[0].role, "value", messages[0].role)) != "system":
        parts.append(f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n")
    for m in messages:
        parts.append(f"<|im_start|>{getattr(m.role, 'value', m.role)}\n{m.content or ''}<|im_end|>\n")
    return "".join(parts) + "<|im_start|>assistant\n"


def chatml_completion_to_prompt(completion: str) -> str:
    """A completion prompt as the one user message of a ChatML chat (what llama-index's QA prompt becomes)."""
    return f"<|im_start|>system\n{QWEN_DEFAULT_SYSTEM}<|im_end|>\n<|im_start|>user\n{completion}<|im_end|>\n<|im_start|>assistant\n"


def local_llm(model_path: str | Path | None = None, *, n_threads: int | None = None) -> Any:
    """The product's local GGUF as a llama-index `LlamaCPP` LLM (settings in the module docstring).

    Raises:
        ConfigError: llama-index-llms-llama-cpp is missing, or the model's chat template is not ChatML.
        ModelError: no model file (see `rag.llm.local.resolve_model_path`).
    """
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as err:
        raise _missing("llama-index's llama.cpp integration (llama-index-llms-llama-cpp)", err) from err
    from rag.llm.cpu import FLASH_ATTENTION, safe_weight_layout
    from rag.llm.local import resolve_model_path

    path = resolve_model_path(model_path)
    threads = n_threads or os.cpu_count() or 2
    with safe_weight_layout():  # llama.cpp loaded as the product loads it
        llm = LlamaCPP(
            model_path=str(path),
            temperature=0.0,
            max_new_tokens=MAX_NEW_TOKENS,
            context_window=CONTEXT_WINDOW,
            generate_kwargs={"top_k": 1},  # greedy, as the product decodes
            model_kwargs={"n_threads": threads, "n_threads_batch": threads, "flash_attn": FLASH_ATTENTION},
            verbose=False,
            messages_to_prompt=chatml_messages_to_prompt,
            completion_to_prompt=chatml_completion_to_prompt,
        )
    template = str(getattr(llm._model, "metadata", {}).get("tokenizer.chat_template", ""))  # LlamaCPP keeps its Llama private
    if "<|im_start|>" not in template:
        raise ConfigError(f"{path.name}'s chat template is not ChatML; the baseline formats prompts the way Qwen models read them")
    return llm


# --- the baseline -------------------------------------------------------------------------------


class LlamaIndexBaseline:
    """llama-index's default query engine over the product's store (see the module docstring).

    Args:
        collection: the product's Chroma `chunks` collection (`open_chunks`).
        embedder: the product `Embedder` that built the store (default: `index.embedding.shared_embedder()`).
        llm: a llama-index LLM (default: `local_llm()`, the product's GGUF); tests pass `MockLLM`.

    Raises:
        ConfigError: a llama-index integration is missing.
    """

    def __init__(self, collection: Any, embedder: Any = None, llm: Any = None) -> None:
        try:
            from llama_index.core import VectorStoreIndex
            from llama_index.vector_stores.chroma import ChromaVectorStore
        except ImportError as err:
            raise _missing("llama-index's Chroma integration (llama-index-vector-stores-chroma)", err) from err
        if embedder is None:
            from index.embedding import shared_embedder

            embedder = shared_embedder()
        self.embedder = embedder
        self.llm = llm if llm is not None else local_llm()
        vector_store = _article_vector_store(ChromaVectorStore)(chroma_collection=collection)
        self.index = VectorStoreIndex.from_vector_store(vector_store, embed_model=embed_model(embedder))
        self.engine = self.index.as_query_engine(llm=self.llm)  # llama-index's defaults, nothing else

    @classmethod
    def from_store(cls, store: str | Path, *, embedder: Any = None, llm: Any = None) -> LlamaIndexBaseline:
        """The baseline over the store folder `store` (errors as in `open_chunks`)."""
        if embedder is None:
            from index.embedding import shared_embedder

            embedder = shared_embedder()
        return cls(open_chunks(store, embedder), embedder, llm)

    def retrieve(self, question: str) -> list[Passage]:
        """The passages the query engine would hand its LLM, best first, without running the LLM."""
        return [_passage(n) for n in self.engine.retriever.retrieve(question)]

    def query(self, question: str) -> BaselineAnswer:
        """Ask the query engine; the answer carries its source passages and how long it took."""
        start = time.perf_counter()
        response = self.engine.query(question)
        latency = time.perf_counter() - start
        text = response.response if response.response is not None else ""
        return BaselineAnswer(str(text), tuple(_passage(n) for n in response.source_nodes), latency)


def _passage(scored: Any) -> Passage:
    node = getattr(scored, "node", scored)
    chunk_id = str(node.node_id)
    doc_id = str(node.metadata.get("doc_id") or chunk_id.rpartition("::")[0])
    return doc_id, chunk_id, node.get_content()


_store_classes: dict[type, type] = {}


def _article_vector_store(base: type) -> type:
    """`ChromaVectorStore` whose result nodes show the model only `PROMPT_KEYS` of their metadata."""
    if base not in _store_classes:

        class ArticleChromaVectorStore(base):  # type: ignore[misc, valid-type]
            def query(self, query: Any, **kwargs: Any) -> Any:
                result = super().query(query, **kwargs)
                for node in result.nodes or []:
                    hidden = [k for k in node.metadata if k not in PROMPT_KEYS]
                    node.excluded_llm_metadata_keys = hidden
                    node.excluded_embed_metadata_keys = hidden
                return result

        _store_classes[base] = ArticleChromaVectorStore
    return _store_classes[base]


# --- the command --------------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`-th percentile (0-100, linear interpolation) of `values`; 0.0 when empty."""
    return float(np.percentile(values, q)) if len(values) else 0.0


def run_questions(
    baseline: LlamaIndexBaseline,
    questions: Sequence[Any],
    out: Path,
    *,
    warm_up: bool = True,
    on_answer: Callable[[dict[str, Any]], None] | None = None,
) -> list[dict[str, Any]]:
    """Answer each question (objects with `id` and `question`) and write one JSON line per answer to `out`.

    One untimed warm-up question is asked first unless `warm_up` is False.

    Returns:
        The records written: id, question, answer, passages (doc_id, chunk_id, text), latency_s.
    """
    if warm_up:
        baseline.query(WARM_UP_QUESTION)
    records = []
    with out.open("w", encoding="utf-8") as fh:
        for q in questions:
            answer = baseline.query(q.question)
            record = {
                "id": q.id,
                "question": q.question,
                "answer": answer.text,
                "passages": [{"doc_id": d, "chunk_id": c, "text": t} for d, c, t in answer.passages],
                "latency_s": round(answer.latency_s, 3),
            }
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
            fh.flush()
            records.append(record)
            if on_answer:
                on_answer(record)
    return records


def _read_ids(path: Path) -> list[str]:
    if not path.is_file():
        raise InputError(f"no ids file at {path}")
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _select(questions: list[Any], ids_file: Path | None, limit: int | None) -> list[Any]:
    if ids_file is not None:
        wanted = _read_ids(ids_file)
        by_id = {q.id: q for q in questions}
        unknown = [i for i in wanted if i not in by_id]
        if unknown:
            raise InputError(f"{ids_file} names questions that are not in the questions file: {', '.join(unknown[:5])}")
        questions = [by_id[i] for i in wanted]
    return questions[:limit] if limit is not None else questions


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.baseline", description=__doc__.splitlines()[0])
    parser.add_argument("questions", type=Path, help="questions JSONL (id, question, ...)")
    parser.add_argument("--articles", nargs="+", default=[], help="article files or folders, ingested by index.ingest")
    parser.add_argument("--store", type=Path, help="store folder (default: a temporary one for --articles)")
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--ids-file", type=Path, help="only these question ids (one per line), in that order")
    parser.add_argument("--out", type=Path, required=True, help="where the JSONL answers go")
    args = parser.parse_args(argv)
    if not args.articles and args.store is None:
        parser.error("give --articles, --store, or both")
    if args.limit is not None and args.limit < 1:
        parser.error("--limit must be at least 1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the CLI configures the process; nothing is downloaded
    from eval.questions import load_questions
    from index import ingest
    from index.embedding import shared_embedder

    try:
        questions = _select(load_questions(args.questions), args.ids_file, args.limit)
        embedder = shared_embedder()
        with tempfile.TemporaryDirectory(prefix="baseline-store-") as tmp:
            store = args.store or Path(tmp) / "store"
            if args.articles:
                report = ingest(args.articles, store=store, embedder=embedder)
                print(report.summary(), file=sys.stderr)
            baseline = LlamaIndexBaseline.from_store(store, embedder=embedder)
            args.out.parent.mkdir(parents=True, exist_ok=True)
            records = run_questions(
                baseline, questions, args.out, on_answer=lambda r: print(f"{r['id']}\t{r['latency_s']:.2f}s", file=sys.stderr)
            )
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    latencies = [r["latency_s"] for r in records]
    print(json.dumps({
        "questions": len(records),
        "p50_s": round(percentile(latencies, 50), 2),
        "p95_s": round(percentile(latencies, 95), 2),
        "out": str(args.out),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
