"""Answer quality and latency of generators and designs side by side, on fixed tune/test halves.

    .venv/bin/python -m eval.bench_answers [--questions newsqa2 newsqa seeds] [--variants local extractive ...]
                                           [--half tune|test|all] [--baseline] [--out FILE.json]

The main benchmark is `../shared/data/newsqa-dev2` (334 questions, 700 articles).
Its questions are split in two fixed halves by a hash of their id: `tune`
(where every threshold, prompt and setting is chosen) and `test` (only
reported). For each half the metrics of `eval.run` are printed with a 95%
interval (bootstrap over questions, 2,000 resamples, seed 0). Quotes and
phrases are graded exactly against the articles; written sentences by
`--judge` (default the independent one, `rag.judges.independent_judge`).

Variants: `local` (the reader, as shipped), `extractive`, `NAME=JSON` (the
reader with `ReaderConfig` fields changed, e.g. `bias-1={"refusal_bias": -1}`),
and with `--baseline` llama-index's default query engine over the same store
(`eval.baseline`). Latency is per question with the model loaded: say which
CPU ran it, and compare only rows of one run. `--gates 0.55,0.7` with variants
run at `{"ranking": {"min_score": 0}}` prints what each refusal gate would give
(how `RankingConfig.min_score` was chosen); `--phrase-gates -0.5,-1` with a
reader variant run at `{"reader": {"min_phrase_logprob": -1e9}}` beside
`extractive`, what each `ReaderConfig.min_phrase_logprob` would give.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SETS = {
    "newsqa2": (SHARED / "newsqa-dev2" / "questions.jsonl", SHARED / "newsqa-dev2" / "articles.jsonl"),
    "newsqa": (SHARED / "newsqa-dev" / "questions.jsonl", SHARED / "newsqa-dev" / "articles.jsonl"),
    "seeds": (SHARED / "seeds-dev-qa.jsonl", ROOT / "seeds"),
}
SHOWN = ("answer_correct", "direct_answer", "truthfulness", "shown_answer_correct", "phrase_correct", "shown_truthfulness", "refusal_accuracy", "refusal_precision", "refusal_recall",
         "claims_exact", "sentences_supported", "unsupported_claims", "used_answer_chunk@k", "latency_p50_s", "latency_p95_s")  # fmt: skip
WITH_INTERVAL = ("answer_correct", "direct_answer", "truthfulness", "shown_answer_correct", "shown_truthfulness", "refusal_accuracy")


def half_of(question_id: object) -> str:
    """The fixed half a question belongs to: "tune" or "test" (by the first byte of the SHA-1 of its id)."""
    return "tune" if hashlib.sha1(str(question_id).encode()).digest()[0] % 2 == 0 else "test"


def interval(values: list[float], *, draws: int = 2000, seed: int = 0) -> tuple[float, float] | None:
    """A 95% bootstrap interval of the mean of `values` (None for fewer than two)."""
    if len(values) < 2:
        return None
    rng = random.Random(seed)
    n = len(values)
    means = sorted(sum(values[rng.randrange(n)] for _ in range(n)) / n for _ in range(draws))
    return round(means[int(0.025 * draws)], 4), round(means[int(0.975 * draws) - 1], 4)


def summarise(qs: list[Any], records: list[dict[str, Any]], half: str) -> dict[str, Any]:
    """The metrics of one half ("tune", "test" or "all"), with intervals."""
    from eval.runner import _aggregate

    pairs = [(q, r) for q, r in zip(qs, records) if half == "all" or half_of(q.id) == half]
    metrics = _aggregate([q for q, _ in pairs], [r for _, r in pairs])
    row: dict[str, Any] = {k: metrics.get(k) for k in SHOWN} | {"questions": len(pairs)}
    for name in WITH_INTERVAL:
        if name == "refusal_accuracy":
            values = [r["refusal_correct"] for _, r in pairs]
        else:
            values = [r[name] for _, r in pairs if r.get(name) is not None]
        row[f"{name}_95"] = interval([float(v) for v in values])
    return row


def gate_sweep(qs: list[Any], records: list[dict[str, Any]], gates: list[float]) -> dict[str, dict[str, dict[str, float]]]:
    """What each ranking gate would give, from answers made with none (`min_score` 0): an answer whose best
    quote scores below the gate (half of it for a comparison) counts as refused. Per half: answer_correct,
    direct_answer, truthfulness and refusal accuracy, as `eval.run` scores them."""
    from rag.generators import RankingConfig
    from rag.question import analyse

    share = RankingConfig().compare_gate
    comparison = {q.id: analyse(q.question).comparison for q in qs}
    out: dict[str, dict[str, dict[str, float]]] = {}
    for gate in gates:
        for half in ("tune", "test"):
            truth, correct, direct, refusal = [], [], [], []
            for q, r in zip(qs, records):
                if half_of(q.id) != half:
                    continue
                best = max((c["score"] for c in r.get("citations", [])), default=0.0)
                refused = r["refused"] or best < gate * (share if comparison[q.id] else 1.0)
                if not q.answerable:
                    truth.append(1.0 if refused else -1.0)
                    refusal.append(float(refused))
                    continue
                right = 0.0 if refused else float(r.get("answer_correct") or 0.0)
                truth.append(0.0 if refused else (1.0 if right else -1.0))
                correct.append(right)
                direct.append(0.0 if refused else float(r.get("direct_answer") or 0.0))
                refusal.append(float(not refused))
            out.setdefault(f"{gate:.2f}", {})[half] = {
                "answer_correct": round(sum(correct) / max(1, len(correct)), 4),
                "direct_answer": round(sum(direct) / max(1, len(direct)), 4),
                "truthfulness": round(sum(truth) / max(1, len(truth)), 4),
                "refusal_accuracy": round(sum(refusal) / max(1, len(refusal)), 4),
            }
    return out


def phrase_gate_sweep(qs: list[Any], reader: list[dict[str, Any]], extractive: list[dict[str, Any]], gates: list[float]
                      ) -> dict[str, dict[str, dict[str, float]]]:  # fmt: skip
    """What each `ReaderConfig.min_phrase_logprob` would give, from the reader's answers made with every phrase
    shown (the gate at -1e9) and the extractive generator's to the same questions: an answer whose phrase
    is less likely than the gate shows what the reader then shows (`withheld_claims`), scored as `eval.run`
    scores an answer. Per half: answer_correct, direct_answer, shown_answer_correct, their truthfulness, the
    wrong phrases still shown and the phrases withheld."""
    from eval.claims import answer_scores

    out: dict[str, dict[str, dict[str, float]]] = {}
    for gate in gates:
        for half in sorted({half_of(q.id) for q in qs}):
            sums = dict.fromkeys(("answer_correct", "direct_answer", "shown_answer_correct"), 0.0)
            truth = dict.fromkeys(("truthfulness", "shown_truthfulness"), 0.0)
            answerable = questions = wrong_shown = withheld = 0
            for q, r, e in zip(qs, reader, extractive):
                if half_of(q.id) != half:
                    continue
                claims = withheld_claims(r, e, gate)
                rec = r if claims is None else answer_scores(q, SimpleNamespace(claims=claims, refused=r["refused"]))
                withheld += claims is not None
                wrong_shown += claims is None and r.get("phrase_correct") == 0.0
                questions += 1
                for name in truth:
                    truth[name] += rec[name]
                if q.answerable:
                    answerable += 1
                    for name in sums:
                        sums[name] += rec.get(name) or 0.0
            row = {k: round(v / max(1, answerable), 4) for k, v in sums.items()} | {k: round(v / max(1, questions), 4) for k, v in truth.items()}
            out.setdefault(f"{gate:g}", {})[half] = row | {"wrong_phrases_shown": wrong_shown, "phrases_withheld": withheld}
    return out


def withheld_claims(reader: dict[str, Any], extractive: dict[str, Any], gate: float) -> list[SimpleNamespace] | None:
    """The claims the reader shows when its phrases less likely than `gate` are withheld (None when none is), from
    a record of its answer with every phrase shown and the extractive answer's record (`ReaderGenerator.read_reply`):
    a question of one part quotes the sentence the phrase was copied from first, then the ranker's quotes; a part
    of a question of several keeps the sentence, which follows the phrases."""
    claims = reader.get("claims", [])
    unsure = [c for c in claims if c["kind"] == "phrase" and c["role"] == "answer" and c.get("logprob") is not None and c["logprob"] < gate]
    if not unsure:
        return None
    kept = [c for c in claims if c not in unsure]
    if not any(c.get("part") for c in claims):
        ranked = [c for c in extractive.get("claims", []) if c["kind"] == "quote" and c["role"] == "answer"]
        lead = [c for c in kept if c["kind"] == "quote" and c["role"] == "answer"][:1]
        kept = [*lead, *[c for c in ranked if not lead or c["text"] != lead[0]["text"]]]
    return [SimpleNamespace(kind=c["kind"], text=c["text"], role=c["role"]) for c in kept]


def build_generator(variant: str, embedder: Any) -> Any:
    """The generator a variant names (see the module docstring): `NAME={"reader": {ReaderConfig fields},
    "extractive": true or {ExtractiveConfig fields} (the extractive generator),
    "ranking": {RankingConfig fields}, "prompt": {Prompt fields, or "user": a template's name in rag.prompts}}`."""
    from rag import prompts
    from rag.generators import RankingConfig, ReaderConfig, ReaderGenerator, make_generator

    name, _, raw = variant.partition("=")
    if name in ("local", "extractive") and not raw:
        return make_generator(name, embedder)
    from rag.llm.local import shared_llm
    from rag.retrieval import default_cross_encoder

    spec = json.loads(raw)
    prompt = {k: getattr(prompts, v, v) for k, v in spec.get("prompt", {}).items()}
    ranking = RankingConfig(**spec.get("ranking", {}))
    if spec.get("extractive") is not None:
        from rag.generators import ExtractiveConfig, ExtractiveGenerator

        fields = spec["extractive"] if isinstance(spec["extractive"], dict) else {}
        return ExtractiveGenerator(embedder, default_cross_encoder(), ExtractiveConfig(**fields), ranking=ranking)
    return ReaderGenerator(shared_llm(), embedder, default_cross_encoder(), config=ReaderConfig(**spec.get("reader", {})),
                           ranking=ranking, prompt=prompts.Prompt(**prompt), name="local")  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", nargs="+", default=["newsqa2"], choices=sorted(SETS))
    parser.add_argument("--variants", nargs="+", default=["local", "extractive"], help="local, extractive, or NAME=JSON ReaderConfig fields")
    parser.add_argument("--half", default="all", choices=("tune", "test", "all"), help="which questions to run (all: both halves)")
    parser.add_argument("--baseline", action="store_true", help="also run llama-index's default query engine (eval.baseline)")
    parser.add_argument("--judge", help="judge for written sentences (default: the independent one)")
    parser.add_argument("--limit", type=int, help="at most this many questions per set (a quick look)")
    parser.add_argument("--out", type=Path, help="also write the JSON (with every record) here")
    parser.add_argument("--previous", type=Path, help="answers another checkout wrote (eval/previous.py answer): graded beside the others")
    parser.add_argument("--gates", help="comma-separated ranking gates: for variants run with min_score 0, the figures each "
                                        "gate would give (an answer whose best quote scores below it is refused)")
    parser.add_argument("--phrase-gates", help="comma-separated phrase log-probabilities: with a reader variant run with "
                                               '{"reader": {"min_phrase_logprob": -1e9}} and `extractive`, the figures each '
                                               "ReaderConfig.min_phrase_logprob would give (how it was chosen)")
    parser.add_argument("--stores", type=Path, help="keep the ingested stores in this folder and reuse them (default: a temporary one)")
    args = parser.parse_args(argv)

    import eval as evaluation
    from eval.runner import load_questions
    from index import ingest
    from index.embedding import shared_embedder
    from rag import QueryEngine
    from rag.judges import independent_judge, make_judge

    embedder = shared_embedder()
    judge = make_judge(args.judge or independent_judge(), embedder)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        for set_name in args.questions:
            questions_file, articles = SETS[set_name]
            store = (args.stores or Path(tmp)) / set_name
            ingest([articles], store=store, embedder=embedder)
            qs = [q for q in load_questions(questions_file) if args.half == "all" or half_of(q.id) == args.half][: args.limit]
            engines: list[tuple[str, Any]] = [
                (v.partition("=")[0], QueryEngine.from_store(store, embedder=embedder, generator=build_generator(v, embedder)))
                for v in args.variants
            ]
            if args.baseline:
                from eval.side_by_side import BaselineEngine

                engines.append(("llama-index", BaselineEngine.from_store(store, embedder=embedder)))
            if args.previous:
                from eval.previous import PreviousEngine
                from index.store import open_store

                previous = PreviousEngine(args.previous, qs, open_store(store, embedder))
                qs = [q for q in qs if q.id in previous.latencies]
                engines.append(("previous", previous))
            for name, engine in engines:
                report = evaluation.run(qs, engine=engine, judge=judge, progress=None,
                                        on_question=lambda r: print(f"  {r['id']} {r.get('truthfulness')} {r['latency_s']:.1f}s", file=sys.stderr, flush=True))  # fmt: skip
                for rec in report.questions:  # another checkout's answers: the latency it measured on this machine
                    rec["latency_s"] = getattr(engine, "latencies", {}).get(rec["id"], rec["latency_s"])
                row: dict[str, Any] = {"set": set_name, "variant": name, "judge": judge.name, "graders": report.config["graders"]}
                for half in ("tune", "test", "all"):
                    row[half] = summarise(qs, report.questions, half)
                if args.gates:
                    row["gates"] = gate_sweep(qs, report.questions, [float(g) for g in args.gates.split(",")])
                row["failed"] = {r["id"]: r["failure"] for r in report.questions if r["failed"]}
                row["records"] = report.questions
                print(json.dumps({k: v for k, v in row.items() if k != "records"}), file=sys.stderr, flush=True)
                results.append(row)
            if args.phrase_gates:
                by_name = {r["variant"]: r["records"] for r in results if r["set"] == set_name}
                reader = next(r for n, r in by_name.items() if n != "extractive" and n != "llama-index")
                gates = [float(g) for g in args.phrase_gates.split(",")]
                sweep = {"set": set_name, "variant": "phrase-gates", "phrase_gates": phrase_gate_sweep(qs, reader, by_name["extractive"], gates)}
                print(json.dumps(sweep), file=sys.stderr, flush=True)
                results.append(sweep)
    text = json.dumps([{k: v for k, v in r.items() if k != "records"} for r in results], indent=2)
    print(text)
    if args.out:
        args.out.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
