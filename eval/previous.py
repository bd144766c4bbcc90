"""Another checkout of this project, side by side: answer the questions with its code, grade them with this one's.

    git worktree add /tmp/previous 01b88f8          # the checkout to compare with (its own code)
    PYTHONPATH=/tmp/previous .venv/bin/python /work/main/eval/previous.py answer \\
        QUESTIONS.jsonl --articles PATH... --out previous.jsonl [--ids-file F]
    .venv/bin/python -m eval.bench_answers ... --previous previous.jsonl

`answer` runs with the other checkout first on the path and uses only the API
every version has (`index.ingest`, `rag.query`, `Answer.text`, `.refused`,
`.citations`): one untimed question, then each question timed, one JSON line
each. `bench_answers --previous` reads the lines back as answers of this
version's types: the text's sentences become written-sentence claims citing
the answer's quotes, graded like any written sentence, and the record keeps
the latency measured on the same machine.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def answer(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="eval/previous.py answer")
    parser.add_argument("questions", type=Path)
    parser.add_argument("--articles", nargs="+", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--ids-file", type=Path, help="only these question ids (one per line)")
    parser.add_argument("--generator", default="local")
    args = parser.parse_args(argv)

    import rag
    from index import ingest

    wanted = set(args.ids_file.read_text().split()) if args.ids_file else None
    questions = [json.loads(line) for line in args.questions.read_text().splitlines() if line.strip()]
    questions = [q for q in questions if wanted is None or q["id"] in wanted]
    with tempfile.TemporaryDirectory(prefix="previous-") as tmp:
        store = Path(tmp) / "store"
        ingest(args.articles, store=store)
        rag.query(questions[0]["question"], store=store, generator=args.generator)  # loads the models: not timed
        with args.out.open("w") as out:
            for q in questions:
                when = {"asked_on": q["asked_on"]} if q.get("asked_on") else {}
                t0 = time.perf_counter()
                got = rag.query(q["question"], store=store, generator=args.generator, **when)
                latency = time.perf_counter() - t0
                record = {"id": q["id"], "text": got.text, "refused": got.refused, "latency_s": round(latency, 4),
                          "citations": [c.to_dict() for c in got.citations]}  # fmt: skip
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
                out.flush()
                print(f"{q['id']} {latency:.2f}s", file=sys.stderr, flush=True)
    return 0


class PreviousEngine:
    """Answers read back from `answer`'s lines, as an engine `eval.run` grades (`query`, `retrieve`)."""

    name = "previous"
    filtered_by = "nli"  # the checker the answers this project wrote before the claims were filtered by

    def __init__(self, path: Path, questions: list[Any], store: Any) -> None:
        from types import SimpleNamespace

        by_id = {r["id"]: r for r in (json.loads(line) for line in Path(path).read_text().splitlines() if line.strip())}
        self.by_question = {q.question: by_id[q.id] for q in questions if q.id in by_id}
        self.retriever = SimpleNamespace(store=store)
        self.latencies = {q.id: by_id[q.id]["latency_s"] for q in questions if q.id in by_id}

    def retrieve(self, question: str, top_k: int = 10, **_: Any) -> list[Any]:
        return []

    def query(self, question: str, *, top_k: int | None = None, **_: Any) -> Any:
        from rag.types import REFUSAL_TEXT, Answer, Citation, Claim

        from .claims import sentence_claims

        rec = self.by_question[question]
        if rec["refused"]:
            return Answer(REFUSAL_TEXT, True, (), question, self.name, (), (), (Claim.refusal(),))
        cites = tuple(Citation(**{k: v for k, v in c.items() if k in Citation.__dataclass_fields__}) for c in rec["citations"])
        claims = tuple(sentence_claims(rec["text"], [c.quote for c in cites]))
        return Answer(rec["text"], False, cites, question, self.name, (), (), claims)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] != "answer":
        sys.exit("usage: eval/previous.py answer QUESTIONS.jsonl --articles PATH... --out FILE.jsonl")
    sys.exit(answer(sys.argv[2:]))
