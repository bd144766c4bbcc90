"""Grading an answer claim by claim, and scoring it the way careful benchmarks do.

Each claim is graded by what it is (`rag.types.Claim`):

- a `quote` or a `phrase` is checked exactly: the article's text at the
  claim's offsets must be the claim's text (a phrase must also lie inside a
  quote the answer shows). No judge is involved: the grader is "exact".
- a written `sentence` is graded by a support judge against the passages it
  cites. The judge is named; when it is the model that wrote the answer, or
  the judge that filtered it at query time, the verdict is marked
  `self_graded` and kept apart from the independent figures.
- a refusal is graded by whether the question was answerable.

Scores per question (over the questions where each applies):

- `answer_correct`: every required term is in the claims that answer (not in
  related quotes shown beside a refusal);
- `direct_answer`: every required term is in the first claim;
- `phrase_correct` (answers that show a copied phrase): the phrases give the
  answer (a question of several parts shows one a part, read together): they
  hold every required term, or their SQuAD F1 with the gold answer is at
  least 0.5;
- `shown_answer_correct`: what the answer shows as the answer is right: its
  phrases when it shows any (`phrase_correct`), else its claims
  (`answer_correct`). A bold phrase reads as the answer whatever the quotes
  under it hold: a wrong one makes the answer wrong, as the hand grading
  counts it;
- `truthfulness` (CRAG's score): +1 a right answer or a rightly refused
  unanswerable question, 0 an answerable question refused, -1 a wrong answer
  or an unanswerable question answered; `shown_truthfulness` the same with
  `shown_answer_correct`;
- `answered_by`: the index of the first claim that holds the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from core.sentences import sentence_spans
from rag.judges import SupportJudge
from rag.types import Answer, Claim

from .metrics import EvalQuestion, contains_all, token_f1

ArticleText = Callable[[str], "str | None"]  # doc_id -> the article's cleaned text (None when not in the store)


@dataclass(frozen=True)
class ClaimGrade:
    """One claim's grade: `supported` by `grader` ("exact", or a judge's name)."""

    kind: str
    text: str
    role: str
    supported: bool
    grader: str
    self_graded: bool = False
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text, "role": self.role, "supported": self.supported, "grader": self.grader,
                "self_graded": self.self_graded, "reason": self.reason}  # fmt: skip


def grade_claims(answer: Answer, article_text: ArticleText, judge: SupportJudge | None, *, self_graded: bool = False) -> list[ClaimGrade]:
    """Grade every quote, phrase and written sentence of `answer` (refusals are graded by `truthfulness`).

    Args:
        answer: the answer.
        article_text: the text of an article by id (the store's `get_article`).
        judge: grades written sentences against their cited quotes (None: they count as unsupported).
        self_graded: the judge wrote or filtered this answer: its verdicts are marked so.
    """
    by_n = {c.n: c for c in answer.citations}
    out = []
    for claim in answer.claims:
        if claim.kind in ("quote", "phrase"):
            ok, reason = _exact(claim, answer, article_text)
            out.append(ClaimGrade(claim.kind, claim.text, claim.role, ok, "exact", False, reason))
        elif claim.kind == "sentence":
            passages = [by_n[n].quote for n in claim.citations if n in by_n]
            if judge is None or not passages:
                out.append(ClaimGrade(claim.kind, claim.text, claim.role, False, judge.name if judge else "none", self_graded,
                                      "no judge" if judge is None else "no citation"))  # fmt: skip
                continue
            verdict = judge.judge(claim.text, "\n".join(passages))
            out.append(ClaimGrade(claim.kind, claim.text, claim.role, verdict.supported, judge.name, self_graded, verdict.reason))
    return out


def _exact(claim: Claim, answer: Answer, article_text: ArticleText) -> tuple[bool, str]:
    span = claim.span
    by_n = {c.n: c for c in answer.citations}
    if span is None:
        return False, "no offsets"
    text = article_text(span.article.doc_id)
    if text is None:
        return False, f"article {span.article.doc_id!r} is not in the store"
    if text[span.start : span.end] != claim.text:
        return False, "not the article's text at its offsets"
    cited = [by_n[n] for n in claim.citations if n in by_n]
    if not cited:
        return False, "no citation"
    if claim.kind == "phrase" and not any(c.doc_id == span.article.doc_id and c.start <= span.start and span.end <= c.end for c in cited):
        return False, "not inside the quote it cites"
    if claim.kind == "quote" and not any(text[c.start : c.end] == c.quote for c in cited):
        return False, "its citation's quote is not the article's text"
    return True, ""


def sentence_claims(text: str, passages: Sequence[str]) -> list[Claim]:
    """A free-written answer (a baseline's) as written-sentence claims citing all its passages, to be judged."""
    out = []
    cites = tuple(range(1, len(passages) + 1))
    for s, e in sentence_spans(text):
        sentence = text[s:e].strip()
        if sentence:
            out.append(Claim("sentence", sentence, cites, "answer", "", ("unchecked",)))
    return out


def answer_terms_in(claims: Sequence[Claim], q: EvalQuestion) -> int | None:
    """The index of the first claim holding every required term (None when no claim does)."""
    for i, c in enumerate(claims):
        if c.role == "answer" and c.kind != "refusal" and contains_all(c.text, q.must_include):
            return i
    return None


def answer_scores(q: EvalQuestion, answer: Answer) -> dict[str, Any]:
    """answer_correct, direct_answer, truthfulness and answered_by for one question."""
    claims = list(answer.claims)
    answering = [c for c in claims if c.role == "answer" and c.kind != "refusal"]
    if not q.answerable:
        truth = 1.0 if answer.refused else -1.0
        return {"truthfulness": truth, "shown_truthfulness": truth}
    if answer.refused:
        return {"answer_correct": 0.0, "direct_answer": 0.0, "shown_answer_correct": 0.0, "truthfulness": 0.0,
                "shown_truthfulness": 0.0, "answered_by": None}  # fmt: skip
    correct = contains_all(" ".join(c.text for c in answering), q.must_include)
    first = claims[0] if claims else None
    direct = first is not None and first.kind != "refusal" and contains_all(first.text, q.must_include)
    phrases = [c.text for c in answering if c.kind == "phrase"]  # a question of several parts: one bold phrase a part
    phrase = " ".join(phrases) if phrases else None
    phrase_correct = None if phrase is None else contains_all(phrase, q.must_include) or token_f1(phrase, q.answer or "") >= 0.5
    shown = correct if phrase_correct is None else phrase_correct
    out = {
        "answer_correct": float(correct),
        "direct_answer": float(direct),
        "shown_answer_correct": float(shown),
        "truthfulness": 1.0 if correct else -1.0,
        "shown_truthfulness": 1.0 if shown else -1.0,
        "answered_by": answer_terms_in(claims, q),
    }
    if phrase_correct is not None:
        out["phrase_correct"] = float(phrase_correct)
    return out


def failure_kind(q: EvalQuestion, rec: dict[str, Any], slow_s: float | None = None) -> str | None:
    """Why a question failed: "answered an unanswerable one", "refused an answerable one", "wrong source chosen",
    "wrong phrase" (the quote holds the answer, the phrase does not), "unsupported claim", "slow", or None."""
    if not q.answerable:
        return None if rec["refused"] else "answered an unanswerable one"
    if rec["refused"]:
        return "refused an answerable one"
    if not rec.get("answer_correct"):
        return "wrong source chosen"
    if rec.get("phrase_correct") == 0.0:
        return "wrong phrase"
    if any(not g["supported"] for g in rec.get("claim_grades", [])):
        return "unsupported claim"
    if slow_s is not None and rec["latency_s"] > slow_s:
        return "slow"
    return None
