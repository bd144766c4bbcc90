"""Answer quality and latency of generator designs side by side (the ablation table of docs/answers.md).

    .venv/bin/python -m eval.bench_answers [--questions newsqa seeds] [--variants baseline retry ...] [--judge nli]

Each variant is the local generator with some settings changed (`VARIANTS`);
all share one store per question set, one loaded model and one cross-encoder.
Questions are split in two fixed halves by a hash of their id: `tune` (where a
threshold or a setting may be chosen) and `test` (only reported); the metrics
of both halves and of all questions are printed, so a choice made on `tune`
can be checked on `test`. Citation metrics use `--judge` (default: the
strongest judge available). Latency is per question with the model loaded;
say which CPU ran it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SETS = {
    "newsqa": (SHARED / "newsqa-dev" / "questions.jsonl", SHARED / "newsqa-dev" / "articles.jsonl"),
    "seeds": (SHARED / "seeds-dev-qa.jsonl", ROOT / "seeds"),
}
# LLMGenerator settings of each variant (the rest as shipped); "verify" names the query-time judge,
# "ranking" holds RankingConfig fields.
VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "baseline": {"retry_refusals": None, "overrule_refusal": None, "context_sentences": 0, "max_sources": 4, "verify": "lexical"},
    "overrule": {"overrule_refusal": 0.75},
    "context1": {"context_sentences": 1},
    "sources6": {"max_sources": 6},
    "retry": {"retry_refusals": 0.6, "overrule_refusal": None},
    "verify-nli": {"verify": "nli", "overrule_refusal": None},
    "check-nli": {"verify": "nli"},  # only the query-time checker changed
    "check-nli-numbers": {"verify": "nli+numbers"},
    "lead1": {"lead_context": 1},
    "no-continuation": {"show_continuation": False},
    "cross-context": {"ranking": {"cross_context": True}},
    "no-focus": {"ranking": {"question_focus": ""}},
    "focus-max": {"ranking": {"question_focus": "max"}},
}
SHOWN = ("answer_correct", "refusal_accuracy", "refusal_precision", "refusal_recall", "citation_recall",
         "citation_precision", "latency_p50_s", "latency_p95_s")  # fmt: skip


def half_of(question_id: object) -> str:
    return "tune" if hashlib.sha1(str(question_id).encode()).digest()[0] % 2 == 0 else "test"


def build_generator(settings: dict[str, Any], embedder: Any) -> Any:
    from rag.generators import LLMGenerator, RankingConfig, verifier_name
    from rag.judges import make_judge
    from rag.llm.local import shared_llm
    from rag.retrieval import default_cross_encoder

    options = dict(settings)
    judge = make_judge(options.pop("verify", None) or verifier_name(), embedder)
    if "ranking" in options:
        options["ranking"] = RankingConfig(**options["ranking"])
    return LLMGenerator(shared_llm(), embedder, default_cross_encoder(), judge=judge, name="local", **options)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_answers", description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", nargs="+", default=["newsqa", "seeds"], choices=sorted(SETS))
    parser.add_argument("--variants", nargs="+", default=["shipped"], help=f"any of {', '.join(VARIANTS)}, or NAME=JSON settings")
    parser.add_argument("--judge", help="judge for the citation metrics (default: the strongest installed: llm, else nli, else lexical)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)

    import eval as evaluation
    from eval.runner import _aggregate, load_questions
    from index import ingest
    from index.embedding import shared_embedder
    from rag import QueryEngine
    from rag.judges import make_judge, strongest_judge

    embedder = shared_embedder()
    judge = make_judge(args.judge or strongest_judge(), embedder)
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-answers-") as tmp:
        for set_name in args.questions:
            questions_file, articles = SETS[set_name]
            store = Path(tmp) / set_name
            ingest([articles], store=store, embedder=embedder)
            qs = load_questions(questions_file)
            for variant in args.variants:
                name, _, raw = variant.partition("=")
                settings = json.loads(raw) if raw else VARIANTS[name]
                engine = QueryEngine.from_store(store, embedder=embedder, generator=build_generator(settings, embedder))
                report = evaluation.run(qs, engine=engine, judge=judge, progress=None)
                row: dict[str, Any] = {"set": set_name, "variant": name, "settings": settings, "judge": judge.name}
                for half in ("tune", "test", "all"):
                    pairs = [(q, r) for q, r in zip(qs, report.questions) if half == "all" or half_of(q.id) == half]
                    metrics = _aggregate([q for q, _ in pairs], [r for _, r in pairs])
                    row[half] = {k: metrics.get(k) for k in SHOWN} | {"questions": len(pairs)}
                row["failed"] = [r["id"] for r in report.questions if r["failed"]]
                print(json.dumps(row), file=sys.stderr, flush=True)
                results.append(row)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
