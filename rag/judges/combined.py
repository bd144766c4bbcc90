"""Judges combined: an entailment score with a hard number check, and the entailment model before the LLM."""

from __future__ import annotations

from collections.abc import Sequence

from .base import SupportJudge, Verdict
from .lexical import missing_numbers


class NumberCheckedJudge:
    """`inner`'s verdicts, except that a claim stating a number its passage lacks is unsupported.

    Small entailment models read "716 prisoners" and "176 prisoners" as near
    paraphrases; a number the passage does not contain (written in digits or
    words) is a cheap, explainable veto. It also vetoes a number the claim
    computes ("17 hours" from 8 + 9): measured, not assumed, in docs/judges.md.

    Args:
        inner: the judge whose score stands otherwise (normally `NLIJudge`).
    """

    def __init__(self, inner: SupportJudge) -> None:
        self.inner = inner
        self.name = f"{inner.name}+numbers"
        self.threshold = getattr(inner, "threshold", None)

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        return self.judge_many(claim, [passage], premise=premise)[0]

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        out = []
        for passage, verdict in zip(passages, self.inner.judge_many(claim, passages, premise=premise)):
            missing = missing_numbers(claim, passage + " " + premise)
            if missing:
                verdict = Verdict(False, min(verdict.score, 0.1), f"number not in the passage: {', '.join(sorted(missing))}")
            out.append(verdict)
        return out
