"""Figures from answers graded by hand: the grader the project is measured by.

    .venv/bin/python -m eval.hand bench/results/hand-twelfth.json

A grades file holds who graded, how, and one row per answer:
`{"grader": ..., "rules": ..., "grades": [{"id": question id, "generator": ...,
"answerable": bool, "refused": bool, "right": bool, "first": bool,
"misleading": int}, ...]}`. For an answerable question, `right`: what is shown
as the answer gives the gold answer and no answer claim names another; `first`:
the first claim alone answers; `misleading`: answer claims that point to
another answer. A question with no answer in the articles is right when it is
refused. Only ids, generators and grades are kept: the answers quote
publishers' texts, which the repository does not hold.

Printed per generator, each with its 95% bootstrap interval
(`bench_answers.interval`): `right` and `first` over the answerable questions,
`truthfulness` over all (CRAG's score: +1 a right answer or a right refusal,
-1 a wrong answer or an answer to an unanswerable question, 0 a refusal of an
answerable one), and the misleading claims and the answers that show any;
then, for each two generators, the paired difference of their truthfulness
over the questions both answered, with its interval (a tie when it spans 0).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from eval.bench_answers import interval


def truth(row: dict[str, Any]) -> float:
    """CRAG's score of one graded answer."""
    if not row["answerable"]:
        return 1.0 if row["refused"] else -1.0
    return 1.0 if row["right"] else (0.0 if row["refused"] else -1.0)


def summarise(grades: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per generator: `right`, `first` and `truthfulness` with intervals, misleading claims and answers."""
    out: dict[str, dict[str, Any]] = {}
    for name in sorted({g["generator"] for g in grades}):
        rows = [g for g in grades if g["generator"] == name]
        answerable = [g for g in rows if g["answerable"]]
        row: dict[str, Any] = {"questions": len(rows), "answerable": len(answerable)}
        for key in ("right", "first"):
            values = [float(bool(g[key])) for g in answerable]
            row[key] = round(sum(values) / max(1, len(values)), 4)
            row[f"{key}_95"] = interval(values)
        scores = [truth(g) for g in rows]
        row["truthfulness"] = round(sum(scores) / len(scores), 4)
        row["truthfulness_95"] = interval(scores)
        row["misleading_claims"] = sum(int(g.get("misleading", 0)) for g in answerable)
        row["answers_misleading"] = sum(1 for g in answerable if int(g.get("misleading", 0)) > 0)
        out[name] = row
    return out


def differences(grades: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """For each two generators "a - b": the mean paired difference of their truthfulness over the questions
    both were graded on, its interval, and how many questions each did better on."""
    scores: dict[str, dict[str, float]] = {}
    for g in grades:
        scores.setdefault(g["generator"], {})[g["id"]] = truth(g)
    out: dict[str, dict[str, Any]] = {}
    names = sorted(scores)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            shared = sorted(set(scores[a]) & set(scores[b]))
            diff = [scores[a][k] - scores[b][k] for k in shared]
            if not diff:
                continue
            out[f"{a} - {b}"] = {"questions": len(diff), "truthfulness": round(sum(diff) / len(diff), 4), "truthfulness_95": interval(diff),
                                 "better": sum(1 for d in diff if d > 0), "worse": sum(1 for d in diff if d < 0)}  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m eval.hand GRADES.json", file=sys.stderr)
        return 2
    data = json.loads(Path(args[0]).read_text())
    grades = data["grades"]
    print(json.dumps({"grader": data.get("grader"), "by_generator": summarise(grades), "differences": differences(grades)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
