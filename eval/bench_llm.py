"""Latency of generated answers: the whole pipeline against a bare llama.cpp call.

    python -m eval.bench_llm [--questions FILE] [--store DIR] [--model GGUF] [--repeat 3] [--no-naive]

For each question (default: the seed questions in ../shared/data/seeds-dev-qa.jsonl,
with the seed articles ingested into a temporary store), with the model
already loaded:

- `ttft`: question in to first token out, through `QueryEngine.stream`
  (retrieval, sentence ranking, prompt, generation);
- `total`: question in to the checked `Answer` (citation checking included);
- `prompt`: tokens of the prompt the model was sent, and `new` of them not in
  llama.cpp's KV cache from the previous question (the fixed instructions and
  worked examples are reused);
- `bare_ttft`, `bare_total`: `Llama.create_chat_completion` on exactly the same
  messages and settings, from the same cache state;
- `overhead`: total / bare_total - 1, the pipeline's cost over the model call;
- `naive_*` (unless --no-naive): a bare call whose sources are the top-5 whole
  chunks, the usual RAG prompt, for comparison;
- `correct`: the must_include terms are in the answer (refused, for null questions).

Before each timed call the cache is primed with the system prompt and an
unrelated question, as it would be after any earlier question. Each question
is timed `--repeat` times, pipeline and bare call alternating (A B A B), and
the per-question medians are reported: timings on a shared 2-core machine
vary by 20% from one call to the next.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_QUESTIONS = ROOT.parent / "shared" / "data" / "seeds-dev-qa.jsonl"


class RecordingLLM:
    """Passes calls through to `inner` and keeps the last call's arguments."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.name = inner.name
        self.last: dict | None = None

    def stream(self, messages, **kwargs) -> Iterator[str]:
        self.last = {"messages": list(messages), **kwargs}
        yield from self.inner.stream(messages, **kwargs)


def chatml_tokens(llama, messages) -> list[int]:
    """The prompt's tokens as Qwen's ChatML template lays them out."""
    text = "".join(f"<|im_start|>{m.role}\n{m.content}<|im_end|>\n" for m in messages) + "<|im_start|>assistant\n"
    return llama.tokenize(text.encode("utf-8"), add_bos=False, special=True)


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


def bare_call(llama, messages, max_tokens: int, stop) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    first = None
    out = []
    for chunk in llama.create_chat_completion(
        messages=[m.to_dict() for m in messages], max_tokens=max_tokens, temperature=0.0, top_k=1,
        stop=list(stop) or None, stream=True,
    ):  # fmt: skip
        delta = chunk["choices"][0].get("delta", {}).get("content")
        if delta:
            first = first or time.perf_counter()
            out.append(delta)
    end = time.perf_counter()
    return (first or end) - t0, end - t0, "".join(out)


def _median(values: list) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def contains_terms(text: str, must_include: list[list[str]]) -> bool:
    return all(any(alt.lower() in text.lower() for alt in alts) for alts in must_include)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=Path, default=DEFAULT_QUESTIONS, help="JSONL with question, type, must_include")
    parser.add_argument("--store", type=Path, help="an existing store (default: ingest seeds/ into a temporary one)")
    parser.add_argument("--model", help="a GGUF file (default: the packaged model)")
    parser.add_argument("--no-naive", action="store_true", help="skip the whole-chunk prompt comparison")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per question (pipeline and bare alternate; medians kept)")
    parser.add_argument("--json", type=Path, help="also write the per-question records here")
    args = parser.parse_args(argv)
    if not args.questions.is_file():
        parser.error(f"no questions file at {args.questions}; pass --questions")
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]

    from index import ingest
    from index.embedding import SentenceTransformerEmbedder
    from rag import QueryEngine
    from rag.generators import LLMGenerator
    from rag.llm.local import LlamaCppLLM
    from rag.retrieval.rerank import OnnxCrossEncoder
    from rag.types import Answer

    embedder = SentenceTransformerEmbedder()
    tmp = None
    store = args.store
    if store is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-llm-")
        store = Path(tmp.name) / "store"
        ingest([ROOT / "seeds"], store=store, embedder=embedder)
    llm = RecordingLLM(LlamaCppLLM(args.model))
    generator = LLMGenerator(llm, embedder, OnnxCrossEncoder(), name="local")
    engine = QueryEngine.from_store(store, embedder=embedder, generator=generator)
    llama = llm.inner.llama
    print(f"model: {llm.inner.model_path.name}, threads: {llm.inner.n_threads}, questions: {len(questions)}", file=sys.stderr)

    primer = generator.prompt.messages("What is the weather like?", [])

    def prime() -> None:
        bare_call(llama, primer, 1, ())

    # Warm-up: first load, first system prompt evaluation, first cross-encoder run.
    engine.query(questions[0]["question"])

    def timed_pipeline(question: str) -> tuple[float | None, float, Answer]:
        prime()
        t0 = time.perf_counter()
        ttft = None
        answer = None
        for event in engine.stream(question):
            if isinstance(event, Answer):
                answer = event
            elif ttft is None:
                ttft = time.perf_counter() - t0
        assert answer is not None
        return ttft, time.perf_counter() - t0, answer

    rows = []
    for q in questions:
        runs = []
        bare = []
        for _ in range(max(1, args.repeat)):
            llm.last = None
            runs.append(timed_pipeline(q["question"]))
            if llm.last is not None:  # the model was called (not refused up front): the same call, bare
                call = llm.last
                prime()
                bare.append(bare_call(llama, call["messages"], call["max_tokens"], call["stop"]))
        answer = runs[-1][2]
        answerable = q.get("type") != "null" and q.get("must_include")
        correct = (not answer.refused and contains_terms(answer.text, q["must_include"])) if answerable else answer.refused
        row = {"id": q.get("id"), "question": q["question"], "correct": correct, "refused": answer.refused,
               "ttft": _median([r[0] for r in runs]), "total": _median([r[1] for r in runs]), "answer": answer.text}  # fmt: skip
        if bare:
            tokens = chatml_tokens(llama, call["messages"])
            row["prompt"] = len(tokens)
            row["new"] = len(tokens) - common_prefix(tokens, chatml_tokens(llama, primer))
            row["bare_ttft"] = _median([b[0] for b in bare])
            row["bare_total"] = _median([b[1] for b in bare])
            row["overhead"] = _median([r[1] / b[1] - 1 for r, b in zip(runs, bare)])
            if not args.no_naive:
                from rag.citations import sources_from_spans

                hits = engine.retrieve(q["question"], 5)
                whole = sources_from_spans([(h, h.chunk.start, h.chunk.end) for h in hits])
                naive = generator.prompt.messages(q["question"], whole)
                prime()
                row["naive_prompt"] = len(chatml_tokens(llama, naive))
                row["naive_ttft"], row["naive_total"], _ = bare_call(llama, naive, call["max_tokens"], call["stop"])
        rows.append(row)
        print(json.dumps({k: round(v, 3) if isinstance(v, float) else v for k, v in row.items() if k != "answer"}), file=sys.stderr)

    def med(key: str) -> str:
        values = [r[key] for r in rows if r.get(key) is not None and "bare_total" in r]
        return f"{statistics.median(values):.2f}" if values else "-"

    cols = ["ttft", "total", "prompt", "new", "bare_ttft", "bare_total", "overhead"] + ([] if args.no_naive else ["naive_prompt", "naive_ttft", "naive_total"])
    print("| question | correct | " + " | ".join(cols) + " |")
    print("|---|---|" + "---|" * len(cols))
    for r in rows:
        cells = [f"{r[c]:.2f}" if isinstance(r.get(c), float) else str(r.get(c, "-")) for c in cols]
        print(f"| {r['id'] or r['question'][:40]} | {'yes' if r['correct'] else 'NO'} | " + " | ".join(cells) + " |")
    print(f"| **median** (model called) | {sum(r['correct'] for r in rows)}/{len(rows)} | " + " | ".join(med(c) for c in cols) + " |")
    print()
    print("times in seconds; ttft/total include retrieval, ranking and citation checking; "
          f"medians of {args.repeat} runs per question; overhead = total / bare_total - 1 (paired runs); refusals made before the model is called have no bare figures.")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
