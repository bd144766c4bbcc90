"""The lexical judge: does a passage back a claim, by evidence that can be checked cheaply and explained:

- hard vetoes: a number, year or name in the claim that the passage lacks; a
  negation ("not", "deny", "refused") in the claim but not in the matching
  part of the passage, or the other way round; a claim none of whose
  lower-case words (what happened, as opposed to who and when) is in the
  passage ("Putin met with Zelensky in Moscow" against "Putin said Zelensky
  was welcome in Moscow": every name matches, the meeting is invented);
- coverage: the share of the claim's content words found in the passage (with
  spelling variants), weighted towards rarer, longer words;
- meaning: embedding similarity of claim and passage, which lets a paraphrase
  through when most words already match.

An answer often restates its question ("Nikki Haley announced this week that
she is running in 2024" for "Who announced this week that she is running in
2024?"). Given the question as `premise`, the judge grants the claim what the
question already says and checks what the claim adds: the added words must be
in the passage, and the passage must still share some of the claim's words.

Judges are swappable (`SupportJudge`); the evaluation suite measures them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

import core.text as tf
from index.embedding import Embedder

from .base import Verdict

# A supported verdict naming people in another order than its passage scores below this.
ORDER_DOUBT_SCORE = 0.9
_CLAUSE = re.compile(r"[,;:]\s+|\s+(?:but|while|whereas|although|though)\s+|\s+[—–-]\s+")


def event_words(claim: str) -> list[str]:
    """The content terms of `claim` written in lower case: what it says happened, not who, where or when."""
    return tf.content_terms(" ".join(w for w in tf.tokens(claim) if w[:1].islower()), drop_frame=True)


def names_out_of_order(claim: str, passage: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Two names of `claim` (character spans) whose exchange would put its names in the passage's order, if they are not.

    "Zelensky invited Putin" against "Putin ... invited Zelensky" gives the spans
    of "Zelensky" and "Putin"; "The Lakers traded Rui Hachimura to the Washington
    Wizards" against "The Washington Wizards traded Rui Hachimura to the ... Lakers"
    gives "Lakers" and "Washington Wizards" (adjacent capitalised words are one
    name). A hint that roles may be swapped, not proof: a passive sentence
    reorders names too.
    """
    first_seen: dict[str, int] = {}
    for i, term in enumerate(tf.content_terms(passage)):
        first_seen.setdefault(term, i)

    def position(name: str) -> int | None:
        found = [i for t, i in first_seen.items() if t == name or (len(name) >= 6 and tf.fuzzy_in(name, {t}))]
        return min(found) if found else None

    groups: list[list] = []  # [start, end, position or None]
    for name, start, end in tf.name_spans(claim, include_initial=True):
        pos = position(name.lower())
        if groups and not claim[groups[-1][1] : start].strip():
            groups[-1][1] = end
            if pos is not None:
                groups[-1][2] = pos if groups[-1][2] is None else min(groups[-1][2], pos)
        else:
            groups.append([start, end, pos])
    placed = [g for g in groups if g[2] is not None]

    def inversions(order: list[int]) -> int:
        return sum(1 for i in range(len(order)) for j in range(i + 1, len(order)) if order[i] > order[j])

    order = [g[2] for g in placed]
    if inversions(order) == 0:
        return None
    best, pair = inversions(order), None
    for i in range(len(order)):
        for j in range(i + 1, len(order)):
            swapped = order[:]
            swapped[i], swapped[j] = swapped[j], swapped[i]
            if inversions(swapped) < best:
                best, pair = inversions(swapped), (i, j)
    if pair is None:
        return None
    a, b = placed[pair[0]], placed[pair[1]]
    return (a[0], a[1]), (b[0], b[1])


def swap_spans(text: str, a: tuple[int, int], b: tuple[int, int]) -> str:
    """`text` with the words at spans `a` and `b` (a before b) exchanged."""
    return text[: a[0]] + text[b[0] : b[1]] + text[a[1] : b[0]] + text[a[0] : a[1]] + text[b[1] :]


def _numbers(text: str) -> set[str]:
    found = tf.numbers(text)
    for tok in tf.tokens(text):
        low = tok.lower()
        if low in tf.NUMBER_VALUES:
            found.add(tf.NUMBER_VALUES[low])
    return found


def missing_numbers(claim: str, passage: str) -> set[str]:
    """The numbers of `claim` (digits or number words, normalised) that `passage` does not contain."""
    return _numbers(claim) - _numbers(passage)


_NEGATION = re.compile(r"\b(not|no|never|none|nobody|nothing|neither|nor|without|cannot|refus\w*|den(y|ies|ied)|reject\w*)\b|n't\b")


def _negated(text: str) -> bool:
    return bool(_NEGATION.search(text.lower().replace("’", "'")))


def _best_clauses(claim_terms: set[str], passage: str) -> str:
    """The clauses of the passage's best sentence(s) that share the most words with the claim."""
    from core.sentences import sentence_spans

    sentences = [passage[s:e] for s, e in sentence_spans(passage)]
    if len(sentences) > 1:
        scored = [(len(claim_terms & set(tf.content_terms(x))), x) for x in sentences]
        top = max(s for s, _ in scored)
        passage = " ".join(x for s, x in scored if s == top and s > 0) or passage
    clauses = [c for c in _CLAUSE.split(passage) if c and c.strip()]
    if len(clauses) <= 1:
        return passage
    scored = [(len(claim_terms & set(tf.content_terms(c))), c) for c in clauses]
    top = max(s for s, _ in scored)
    return " ".join(c for s, c in scored if s == top and s > 0) or passage


class LexicalJudge:
    """The fast judge: vetoes on numbers, names and negation, then coverage and similarity.

    Args:
        embedder: for claim/passage similarity; None to judge on words alone.
        min_coverage: coverage at or above which a claim is supported outright.
        min_paraphrase_coverage, min_similarity: a claim with at least this
            coverage is supported when the embedding similarity is at least this.
        min_premise_overlap: with a premise, the least share of the claim's words
            the passage itself must contain.
    """

    name = "lexical"

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        min_coverage: float = 0.8,
        min_paraphrase_coverage: float = 0.55,
        min_similarity: float = 0.7,
        min_premise_overlap: float = 0.3,
    ) -> None:
        self.embedder = embedder
        self.min_premise_overlap = min_premise_overlap
        self.min_coverage = min_coverage
        self.min_paraphrase_coverage = min_paraphrase_coverage
        self.min_similarity = min_similarity

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        return self.judge_many(claim, [passage], premise=premise)[0]

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """Judge one claim against several passages (one embedding call).

        `premise`: text the claim may take for granted (the question it answers).
        """
        sims = self._similarities(claim, passages)
        verdicts = [self._judge(claim, p, s) for p, s in zip(passages, sims)]
        if premise.strip():
            verdicts = [v if v.supported else self._judge_given(claim, p, s, premise, v) for v, p, s in zip(verdicts, passages, sims)]
        return [self._doubt_order(claim, p, v) for v, p in zip(verdicts, passages)]

    def _doubt_order(self, claim: str, passage: str, verdict: Verdict) -> Verdict:
        """Lower a confident "supported" when the claim names its people in another order than the passage.

        Word coverage cannot tell "Putin invited Zelensky" from "Zelensky invited
        Putin"; the order of the names is a cheap hint that roles may be swapped.
        The verdict stands, but its score drops below `ORDER_DOUBT_SCORE`, so a
        cascade asks its slow judge (a passive sentence also lands here: checked, not rejected).
        """
        if not verdict.supported or verdict.score < ORDER_DOUBT_SCORE:
            return verdict
        if names_out_of_order(claim, passage) is None:
            return verdict
        return Verdict(True, min(verdict.score, ORDER_DOUBT_SCORE - 0.01), f"{verdict.reason}; names in another order than the passage's")

    def _similarities(self, claim: str, passages: Sequence[str]) -> list[float | None]:
        if self.embedder is None or not passages:
            return [None] * len(passages)
        vecs = self.embedder.embed([claim, *passages])
        return [float(x) for x in np.clip(vecs[1:] @ vecs[0], -1.0, 1.0)]

    def _judge(self, claim: str, passage: str, sim: float | None) -> Verdict:
        terms = tf.content_terms(claim, drop_frame=True)
        if not terms:
            return Verdict(False, 0.0, "the claim has no content words")
        vocab = set(tf.content_terms(passage))
        missing_numbers = _numbers(claim) - _numbers(passage)
        if missing_numbers:
            return Verdict(False, 0.1, f"number not in the passage: {', '.join(sorted(missing_numbers))}")
        missing_names = [n for n in tf.names(claim, include_initial=True) if not tf.fuzzy_in(n, vocab)]
        if missing_names:
            return Verdict(False, 0.15, f"name not in the passage: {', '.join(missing_names)}")
        matched = [t for t in terms if tf.fuzzy_in(t, vocab)]
        weight = {t: 1.0 + min(len(t), 10) / 10 for t in terms}
        coverage = sum(weight[t] for t in matched) / sum(weight.values())
        if _negated(claim) != _negated(_best_clauses(set(matched), passage)):
            return Verdict(False, 0.2, "negation differs between claim and passage")
        happened = event_words(claim)
        if happened and not any(tf.fuzzy_in(t, vocab) for t in happened):
            return Verdict(False, 0.25, f"nothing of what the claim says happened is in the passage: {', '.join(happened[:5])}")
        score = coverage if sim is None else 0.6 * coverage + 0.4 * max(0.0, sim)
        if coverage >= self.min_coverage:
            return Verdict(True, score, f"coverage {coverage:.2f}")
        if sim is not None and coverage >= self.min_paraphrase_coverage and sim >= self.min_similarity:
            return Verdict(True, score, f"paraphrase: coverage {coverage:.2f}, similarity {sim:.2f}")
        unmatched = [t for t in terms if t not in matched]
        return Verdict(False, score, f"words not in the passage: {', '.join(unmatched[:5])}")

    def _judge_given(self, claim: str, passage: str, sim: float | None, premise: str, first: Verdict) -> Verdict:
        """Judge again granting the premise's words, numbers and names; keep `first` unless that supports the claim."""
        given = set(tf.content_terms(premise))
        terms = tf.content_terms(claim, drop_frame=True)
        added = [t for t in terms if not tf.fuzzy_in(t, given)]
        if not added:
            return first  # the claim only restates the question: the passage alone must support it
        vocab = set(tf.content_terms(passage))
        if _numbers(claim) - _numbers(passage) - _numbers(premise):
            return first
        if any(not tf.fuzzy_in(n, vocab | given) for n in tf.names(claim, include_initial=True)):
            return first
        weight = {t: 1.0 + min(len(t), 10) / 10 for t in terms}
        matched = [t for t in terms if tf.fuzzy_in(t, vocab)]
        added_cov = sum(weight[t] for t in added if t in matched) / sum(weight[t] for t in added)
        passage_cov = sum(weight[t] for t in matched) / sum(weight.values())
        if _negated(claim) != _negated(_best_clauses(set(matched), passage)):
            return first
        if added_cov >= self.min_coverage and passage_cov >= self.min_premise_overlap:
            score = passage_cov if sim is None else 0.6 * passage_cov + 0.4 * max(0.0, sim)
            return Verdict(True, max(score, first.score), f"given the question: added words covered {added_cov:.2f}, overlap {passage_cov:.2f}")
        return first
