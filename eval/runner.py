"""Run a grounding evaluation: questions in, metrics and a per-question record out.

    import eval
    report = eval.run("questions.jsonl", articles=["seeds/"], generator="extractive")
    print(report.metrics["answer_correct"])
    report.write("report/")          # report.json, report.md, plots
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from core.errors import ConfigError, InputError
from rag.judges import SupportJudge

from .jsonl import read_records
from .metrics import (
    EvalQuestion,
    Evidence,
    Retrieved,
    citation_scores,
    contains_all,
    evidence_overlap,
    judge_citations,
    mean,
    percentile,
    refusal_metrics,
    retrieval_metrics,
)
from .report import EvalReport

METRICS = (
    "hits@1", "hits@4", "hits@10", "mrr@10", "answer_chunk@1", "answer_chunk@4",
    "answer_correct", "refusal_precision", "refusal_recall", "refusal_accuracy",
    "citation_recall", "citation_precision", "evidence_overlap", "latency_p50_s", "latency_p95_s",
)  # fmt: skip
RETRIEVE_K = 10


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a questions file; every bad line is reported with its number.

    Raises:
        InputError: missing file, bad JSON, or a record without `question`.
    """
    return read_records(path, "questions", _question)


def _question(rec: Any, i: int) -> EvalQuestion:
    if not isinstance(rec, dict) or not isinstance(rec.get("question"), str) or not rec["question"].strip():
        raise ValueError("a record needs a non-empty \"question\"")
    must = rec.get("must_include") or []
    return EvalQuestion(
        id=str(rec.get("id") or f"line-{i}"),
        question=rec["question"],
        type=str(rec.get("type") or ("null" if rec.get("answer") is None else "factoid")),
        answer=rec.get("answer"),
        must_include=tuple(tuple(str(a) for a in (alts if isinstance(alts, list) else [alts])) for alts in must),
        evidence=tuple(Evidence(str(e.get("doc", "")), str(e.get("quote") or "")) for e in rec.get("evidence") or []),
        asked_on=rec.get("asked_on"),
    )


def run(
    questions: str | Path | Sequence[EvalQuestion],
    *,
    articles: Iterable[str | Path] | None = None,
    store: str | Path | None = None,
    generator: str | None = None,
    top_k: int = 5,
    judge: SupportJudge | None = None,
    embedder: Any = None,
    engine: Any = None,
    retrieval: Any = None,
    progress: bool | None = False,
    on_question: Callable[[dict[str, Any]], None] | None = None,
) -> EvalReport:
    """Evaluate the system on `questions`.

    Args:
        questions: a questions file or parsed questions.
        articles: files/folders to ingest into a fresh temporary store (unless `store` is given).
        store: an existing store to evaluate against.
        generator: generator name (default as for `rag query`).
        top_k: passages given to the generator.
        judge: support judge for citation metrics (default `LexicalJudge`).
        embedder, engine: pass pre-built parts (tests, notebooks).
        retrieval: a `rag.engine.RetrievalConfig` (default hybrid BM25 + dense).
        progress: show progress bars (None: only on a terminal).

    Raises:
        ConfigError: neither `articles` nor `store` (nor `engine`) given.
    """
    qs = load_questions(questions) if isinstance(questions, (str, Path)) else list(questions)
    tmp = None
    try:
        if engine is None:
            from rag.engine import QueryEngine

            if embedder is None:
                from rag.api import default_embedder

                embedder = default_embedder()
            if store is None:
                if not articles:
                    raise ConfigError("give the articles to ingest (--articles) or an existing --store")
                from index import ingest

                tmp = tempfile.TemporaryDirectory(prefix="rag-eval-")
                store = Path(tmp.name) / "store"
                report = ingest(list(articles), store=store, embedder=embedder, progress=progress)
                if not (report.added or report.updated or report.unchanged):
                    raise InputError("none of the --articles could be ingested: " + "; ".join(map(str, report.skipped)))
            elif articles:
                from index import ingest

                ingest(list(articles), store=store, embedder=embedder, progress=progress)
            engine = QueryEngine.from_store(store, embedder=embedder, generator=generator, top_k=top_k, retrieval=retrieval)
        if judge is None:
            from rag.judges import LexicalJudge

            judge = LexicalJudge(embedder or engine.retriever.embedder)
        return _evaluate(qs, engine, judge, top_k, progress, on_question)
    finally:
        if tmp is not None:
            tmp.cleanup()


def _evaluate(qs: Sequence[EvalQuestion], engine: Any, judge: SupportJudge, top_k: int, progress: bool | None, on_question: Callable | None) -> EvalReport:
    from tqdm import tqdm

    records: list[dict[str, Any]] = []
    if qs:  # Latency excludes the one-time model loading: one untimed question first.
        engine.query(qs[0].question, top_k=top_k)
    for q in tqdm(qs, desc="questions", unit="q", disable=None if progress is None else not progress):
        when = {"asked_on": q.asked_on} if q.asked_on else {}  # "this week" is relative to the day asked
        hits = engine.retrieve(q.question, max(RETRIEVE_K, top_k), **when)
        t0 = time.perf_counter()
        answer = engine.query(q.question, top_k=top_k, **when)
        latency = time.perf_counter() - t0
        rec: dict[str, Any] = {
            "id": q.id,
            "type": q.type,
            "question": q.question,
            "gold": q.answer,
            "answer": answer.text,
            "refused": answer.refused,
            "generator": answer.generator,
            "citations": [c.to_dict() for c in answer.citations],
            "unsupported": list(answer.unsupported),
            "retrieved": [h.chunk.doc_id for h in hits],
            "latency_s": round(latency, 4),
        }
        if q.answerable:
            rec.update(retrieval_metrics(q, [Retrieved(h.chunk.doc_id, h.chunk.text) for h in hits]))
            rec["answer_correct"] = float(not answer.refused and contains_all(answer.text, q.must_include))
        verdicts = judge_citations(answer, judge)
        rec["citation_recall"], rec["citation_precision"] = citation_scores(verdicts)
        rec["evidence_overlap"] = evidence_overlap(q, answer)
        rec["judge"] = [v.to_dict() for v in verdicts]
        rec["refusal_correct"] = float(answer.refused == (not q.answerable))
        rec["failed"] = _failed(q, rec)
        records.append(rec)
        if on_question:
            on_question(rec)
    return EvalReport(_aggregate(qs, records), records, {"top_k": top_k, "judge": judge.name, "generator": records[0]["generator"] if records else ""})


def _failed(q: EvalQuestion, rec: dict[str, Any]) -> bool:
    if not q.answerable:
        return not rec["refused"]
    return not rec.get("answer_correct") or (rec["citation_recall"] is not None and rec["citation_recall"] < 1.0)


def _aggregate(qs: Sequence[EvalQuestion], records: list[dict[str, Any]]) -> dict[str, float | None]:
    answerable = [r for q, r in zip(qs, records) if q.answerable]
    metrics: dict[str, float | None] = {}
    for name in ("hits@1", "hits@4", "hits@10", "mrr@10", "answer_chunk@1", "answer_chunk@4", "answer_correct"):
        metrics[name] = mean([r.get(name) for r in answerable])
    metrics.update(refusal_metrics([r["refused"] for r in records], [not q.answerable for q in qs]))
    # Citation quality is averaged over the answers that were given (ALCE).
    metrics["citation_recall"] = mean([r["citation_recall"] for r in records])
    metrics["citation_precision"] = mean([r["citation_precision"] for r in records])
    metrics["evidence_overlap"] = mean([r["evidence_overlap"] for r in records])
    latencies = [r["latency_s"] for r in records]
    metrics["latency_p50_s"] = percentile(latencies, 50)
    metrics["latency_p95_s"] = percentile(latencies, 95)
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in metrics.items()}
