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

from .claims import answer_scores, failure_kind, grade_claims
from .metrics import (
    EvalQuestion,
    Retrieved,
    evidence_overlap,
    mean,
    percentile,
    refusal_metrics,
    retrieval_metrics,
    used_metrics,
)
from .questions import load_questions
from .report import EvalReport

METRICS = (
    "answer_correct", "direct_answer", "truthfulness", "shown_answer_correct", "phrase_correct", "shown_truthfulness",
    "refusal_precision", "refusal_recall", "refusal_accuracy",
    "claims_exact", "sentences_supported", "sentences_self_graded", "unsupported_claims",
    "used_hits@1", "used_hits@k", "used_answer_chunk@1", "used_answer_chunk@k",
    "hits@1", "hits@4", "hits@10", "mrr@10", "answer_chunk@1", "answer_chunk@4",
    "evidence_overlap", "latency_p50_s", "latency_p95_s",
)  # fmt: skip
RETRIEVE_K = 10
# Judges that are the local model itself: grading the local generator's sentences with one is self-grading.
SAME_MODEL_JUDGES = ("llm", "cascade", "nli+llm")


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
    baseline: bool = False,
) -> EvalReport:
    """Evaluate the system on `questions`.

    Args:
        questions: a questions file or parsed questions.
        articles: files/folders to ingest into a fresh temporary store (unless `store` is given).
        store: an existing store to evaluate against.
        generator: generator name (default as for `rag query`).
        top_k: passages given to the generator.
        judge: grades written sentences (default: `rag.judges.independent_judge()`); quotes and
            phrases are checked exactly against the articles.
        embedder, engine: pass pre-built parts (tests, notebooks).
        retrieval: a `rag.engine.RetrievalConfig` (default hybrid BM25 + dense).
        progress: show progress bars (None: only on a terminal).
        baseline: also run llama-index's default query engine over the same store and questions
            (`eval.side_by_side`); its metrics go to `report.config["compare"]["llama-index"]`, its
            records to `report.compared["llama-index"]`.

    Raises:
        ConfigError: neither `articles` nor `store` (nor `engine`) given, or `baseline` without its packages.
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
            from rag.judges import independent_judge, make_judge

            judge = make_judge(independent_judge(), embedder or engine.retriever.embedder)
        report = _evaluate(qs, engine, judge, top_k, progress, on_question)
        if baseline:
            from .side_by_side import BaselineEngine

            where = store if store is not None else engine.retriever.store.location
            other = _evaluate(qs, BaselineEngine.from_store(where, embedder=embedder or engine.retriever.embedder), judge, top_k, progress, None)
            report.config["compare"] = {"llama-index": other.metrics}
            report.compared["llama-index"] = other.questions
        return report
    finally:
        if tmp is not None:
            tmp.cleanup()


def _evaluate(qs: Sequence[EvalQuestion], engine: Any, judge: SupportJudge, top_k: int, progress: bool | None, on_question: Callable | None) -> EvalReport:
    from tqdm import tqdm

    records: list[dict[str, Any]] = []
    generator = getattr(getattr(engine, "generator", None), "name", "") or getattr(engine, "name", "")
    # A judge grades its own work when it is the model that wrote the answers, or the checker that filtered them.
    self_graded = (judge.name in SAME_MODEL_JUDGES and generator in ("local", "llama-index", "previous")) or judge.name == getattr(engine, "filtered_by", None)
    article_text = _article_text(engine)
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
            "claims": [c.to_dict() for c in answer.claims],
            "citations": [c.to_dict() for c in answer.citations],
            "unsupported": list(answer.unsupported),
            "retrieved": [h.chunk.doc_id for h in hits],
            "used": [p.doc_id for p in answer.passages],
            "latency_s": round(latency, 4),
        }
        rec.update(answer_scores(q, answer))
        if q.answerable:
            if hits:  # an engine that has no search of its own (a baseline) reports only what it used
                rec.update(retrieval_metrics(q, [Retrieved(h.chunk.doc_id, h.chunk.text) for h in hits]))
            rec.update(used_metrics(q, [Retrieved(p.doc_id, p.text) for p in answer.passages]))
        grades = grade_claims(answer, article_text, judge, self_graded=self_graded)
        rec["claim_grades"] = [g.to_dict() for g in grades]
        exact = [g for g in grades if g.grader == "exact"]
        sentences = [g for g in grades if g.grader != "exact"]
        rec["claims_exact"] = mean([float(g.supported) for g in exact])
        rec["sentences_supported"] = mean([float(g.supported) for g in sentences if not g.self_graded])
        rec["sentences_self_graded"] = mean([float(g.supported) for g in sentences if g.self_graded])
        rec["unsupported_claims"] = float(sum(not g.supported for g in grades if not g.self_graded))
        rec["evidence_overlap"] = evidence_overlap(q, answer)
        rec["refusal_correct"] = float(answer.refused == (not q.answerable))
        records.append(rec)
        if on_question:
            on_question(rec)
    slow = 2 * (percentile([r["latency_s"] for r in records], 50) or 0.0)
    for q, rec in zip(qs, records):
        rec["failure"] = failure_kind(q, rec, slow)
        rec["failed"] = rec["failure"] is not None
    config = {"top_k": top_k, "judge": judge.name, "self_graded": self_graded, "generator": records[0]["generator"] if records else "",
              "graders": {"quote": "exact", "phrase": "exact", "sentence": judge.name + (" (self-graded)" if self_graded else "")}}  # fmt: skip
    return EvalReport(_aggregate(qs, records), records, config)


def _article_text(engine: Any) -> Callable[[str], str | None]:
    """The text of an article of the engine's store, by id (cached)."""
    store = getattr(getattr(engine, "retriever", None), "store", None)
    cache: dict[str, str | None] = {}

    def text(doc_id: str) -> str | None:
        if doc_id not in cache:
            article = store.get_article(doc_id) if store is not None else None
            cache[doc_id] = article.text if article is not None else None
        return cache[doc_id]

    return text


SCORED = ("answer_correct", "direct_answer", "shown_answer_correct", "phrase_correct", "used_hits@1", "used_hits@k", "used_answer_chunk@1", "used_answer_chunk@k",
          "hits@1", "hits@4", "hits@10", "mrr@10", "answer_chunk@1", "answer_chunk@4")  # fmt: skip


def _aggregate(qs: Sequence[EvalQuestion], records: list[dict[str, Any]]) -> dict[str, float | None]:
    answerable = [r for q, r in zip(qs, records) if q.answerable]
    metrics: dict[str, float | None] = {}
    for name in SCORED:
        metrics[name] = mean([r.get(name) for r in answerable])
    metrics["truthfulness"] = mean([r.get("truthfulness") for r in records])
    metrics["shown_truthfulness"] = mean([r.get("shown_truthfulness") for r in records])
    metrics.update(refusal_metrics([r["refused"] for r in records], [not q.answerable for q in qs]))
    for name in ("claims_exact", "sentences_supported", "sentences_self_graded", "evidence_overlap"):
        metrics[name] = mean([r.get(name) for r in records])
    metrics["unsupported_claims"] = float(sum(r.get("unsupported_claims") or 0 for r in records)) if records else None
    latencies = [r["latency_s"] for r in records]
    metrics["latency_p50_s"] = percentile(latencies, 50)
    metrics["latency_p95_s"] = percentile(latencies, 95)
    ordered = {name: metrics.get(name) for name in METRICS}
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in ordered.items()}
