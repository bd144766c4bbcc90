"""Grounding metrics, per question, as pure functions of typed inputs.

Retrieval (answerable questions only):
- `hits@k`: a chunk among the first k of a search at k=10 comes from an evidence article;
- `mrr@10`: 1 / rank of the first such chunk within 10 (0 when none);
- `answer_chunk@k`: stricter: that chunk also contains every `must_include`
  term (one accepted spelling each, case-insensitive);
- `used_hits@1`, `used_hits@k`, `used_answer_chunk@1`, `used_answer_chunk@k`: the
  same on the passages the answer was made from (`Answer.passages`).
Answers (`eval.claims` grades each claim and scores the answer):
- `contains_all`: every `must_include` term is in a text, as whole words after
  SQuAD's normalisation (case, punctuation and articles ignored: "The National
  Gallery" is "National Gallery", “Succession” is Succession), and an amount's
  scale is read either way: "$787.5m" is "$787.5 million", "3bn" is "3 billion";
- `token_f1`: SQuAD's F1 of a short answer against the gold answer (the words
  they share), for a copied phrase that gives the answer in other words than
  its required terms ("Liz Cheney" for "Rep. Liz Cheney");
- refusals, over all questions, with "refused" as the positive class:
  `refusal_precision` = refused nulls / refused, `refusal_recall` = refused
  nulls / nulls, `refusal_accuracy` = questions whose refuse-or-answer was right;
- `evidence_overlap`: the answer cites an evidence article (and, when the gold
  evidence has quotes, a citation overlaps one of them).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.types import Answer

RETRIEVAL_KS = (1, 4, 10)


def used_metrics(q: EvalQuestion, used: Sequence[Retrieved]) -> dict[str, float]:
    """Retrieval measured on the passages handed to the generator (the answer's own `passages`):
    whether the first one / any one is from an evidence article, and whether it also holds the answer."""
    gold = {e.doc for e in q.evidence}
    hit = [r.doc_id in gold for r in used]
    answer = [h and contains_all(r.text, q.must_include) for h, r in zip(hit, used)]
    return {
        "used_hits@1": float(any(hit[:1])),
        "used_hits@k": float(any(hit)),
        "used_answer_chunk@1": float(any(answer[:1])),
        "used_answer_chunk@k": float(any(answer)),
    }


@dataclass(frozen=True)
class Evidence:
    doc: str
    quote: str = ""


@dataclass(frozen=True)
class EvalQuestion:
    """One line of a questions file (`seeds-dev-qa.jsonl` format)."""

    id: str
    question: str
    type: str = "factoid"
    answer: str | None = None
    must_include: tuple[tuple[str, ...], ...] = ()
    evidence: tuple[Evidence, ...] = ()
    asked_on: str | None = None

    @property
    def answerable(self) -> bool:
        return self.type != "null" and self.answer is not None


@dataclass(frozen=True)
class Retrieved:
    """A retrieved chunk, as the metrics see it."""

    doc_id: str
    text: str


_SCALES = (
    (re.compile(r"(\d)\s*(?:m|mn|mln|million)\b"), r"\1 million"),
    (re.compile(r"(\d)\s*(?:bn|bln|billion)\b"), r"\1 billion"),
    (re.compile(r"(\d)\s*(?:tn|trillion)\b"), r"\1 trillion"),
)


_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


_POSSESSIVE = re.compile(r"'s\b")


def _normalised(text: str) -> tuple[str, str]:
    """As SQuAD normalises answers: lower case, punctuation and the articles a/an/the removed, whitespace
    collapsed; an amount's scale written out first ("$787.5M" → "787 5 million"). Padded with spaces,
    so that a term matches whole words only ("Ears" is not in "years"). Two readings of a possessive:
    dropped ("Putin's invasion" holds "Putin") and joined ("McDonald's" is "McDonalds")."""
    low = " ".join(text.lower().split()).replace("’", "'")
    for pattern, written in _SCALES:
        low = pattern.sub(written, low)
    forms = (_POSSESSIVE.sub("", low), _POSSESSIVE.sub("s", low))
    return tuple(f" {' '.join(_ARTICLES.sub(' ', _PUNCT.sub(' ', f)).split())} " for f in forms)  # type: ignore[return-value]


def contains_all(text: str, must_include: Sequence[Sequence[str]]) -> bool:
    """Every required term (any accepted spelling) is in `text`, as whole words after SQuAD's normalisation
    (case, punctuation, articles; amounts' scales and possessives read either way)."""
    low = _normalised(text or "")
    return all(any(t in x for alt in alts if alt.strip() for t in _normalised(alt) for x in low) for alts in must_include)


def token_f1(prediction: str, gold: str) -> float:
    """SQuAD's F1 of two answers: the share of words they have in common, after its normalisation
    (case, punctuation and the articles a/an/the dropped), as the harmonic mean of precision and recall."""
    pred, ref = (_PUNCT.sub(" ", t.lower().replace("’", "'")) for t in (prediction, gold))
    words, gold_words = _ARTICLES.sub(" ", pred).split(), _ARTICLES.sub(" ", ref).split()
    common = sum(min(words.count(w), gold_words.count(w)) for w in set(words))
    if not common:
        return 0.0
    precision, recall = common / len(words), common / len(gold_words)
    return 2 * precision * recall / (precision + recall)


def retrieval_metrics(q: EvalQuestion, retrieved: Sequence[Retrieved]) -> dict[str, float]:
    """hits@k, answer_chunk@k and mrr@10 for one answerable question."""
    gold = {e.doc for e in q.evidence}
    hit = [r.doc_id in gold for r in retrieved]
    answer = [h and contains_all(r.text, q.must_include) for h, r in zip(hit, retrieved)]
    out: dict[str, float] = {}
    for k in RETRIEVAL_KS:
        out[f"hits@{k}"] = float(any(hit[:k]))
    for k in (1, 4):
        out[f"answer_chunk@{k}"] = float(any(answer[:k]))
    first = next((i for i, h in enumerate(hit[:10]) if h), None)
    out["mrr@10"] = 0.0 if first is None else 1.0 / (first + 1)
    return out


def evidence_overlap(q: EvalQuestion, answer: Answer) -> float | None:
    """1.0 when a citation comes from an evidence article (and overlaps a gold quote, where given)."""
    if answer.refused or not q.evidence:
        return None
    gold_docs = {e.doc for e in q.evidence}
    cites = [c for c in answer.citations if c.doc_id in gold_docs]
    if not cites:
        return 0.0
    quotes = [e for e in q.evidence if e.quote]
    if not quotes:
        return 1.0
    for c in cites:
        for e in quotes:
            if e.doc == c.doc_id and (_overlaps(e.quote, c.quote)):
                return 1.0
    return 0.0


def _overlaps(gold: str, quote: str) -> bool:
    a, b = " ".join(gold.split()).lower(), " ".join(quote.split()).lower()
    if a in b or b in a:
        return True
    # A shared run of 6+ words counts as overlapping.
    words = a.split()
    return any(" ".join(words[i : i + 6]) in b for i in range(max(1, len(words) - 5)))


def refusal_metrics(refused: Sequence[bool], should_refuse: Sequence[bool]) -> dict[str, float | None]:
    tp = sum(r and s for r, s in zip(refused, should_refuse))
    n_refused = sum(refused)
    n_null = sum(should_refuse)
    right = sum(r == s for r, s in zip(refused, should_refuse))
    return {
        "refusal_precision": tp / n_refused if n_refused else None,
        "refusal_recall": tp / n_null if n_null else None,
        "refusal_accuracy": right / len(refused) if refused else None,
    }


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0..100), nearest-rank; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


def mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def judge_figures(predicted: Sequence[bool], gold: Sequence[bool]) -> dict[str, float]:
    """accuracy, balanced_accuracy, precision, recall with "supported" as the positive class."""
    tp = sum(p and g for p, g in zip(predicted, gold))
    tn = sum(not p and not g for p, g in zip(predicted, gold))
    fp = sum(p and not g for p, g in zip(predicted, gold))
    fn = sum(not p and g for p, g in zip(predicted, gold))
    n = len(gold)
    tpr = tp / (tp + fn) if tp + fn else 0.0
    tnr = tn / (tn + fp) if tn + fp else 0.0
    return {
        "accuracy": (tp + tn) / n if n else 0.0,
        "balanced_accuracy": (tpr + tnr) / 2,
        "precision": tp / (tp + fp) if tp + fp else 0.0,
        "recall": tpr,
    }
