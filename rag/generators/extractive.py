"""The extractive answerer: quotes the sentences of the retrieved passages that answer the question.

No LLM. Every sentence of every retrieved passage is scored against the
question by four kinds of evidence:

- relevance: a cross-encoder (ms-marco-MiniLM-L-12-v2) reading question and
  sentence together; the strongest single signal, weighted `w_cross`;
- meaning: cosine similarity of sentence and question embeddings;
- words: the share of the question's content terms the sentence contains,
  weighted by how rare each term is among the candidate sentences;
- answer type: a "how many" question wants a number, "when" a date, "who" and
  "where" a name the question does not already contain.

The best sentence is the answer; further sentences join it when they are
nearly as good and cover question terms it misses (up to `max_sentences`).
It refuses, rather than quote something loosely related, when the best score
is below `min_score` or when a name in the question appears in none of the
retrieved passages ("the capital of Australia" in articles about Ukraine).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.embedding import Embedder
from index.sentences import sentence_spans
from index.types import ScoredChunk

from .. import textfeatures as tf
from ..errors import ConfigError
from ..rerank import CrossEncoder
from ..types import Answer, Citation, refusal

_NUMBER_Q = re.compile(
    r"\b(how (many|much|old|long|far|large|big|high|often)|what (number|percentage|percent|share|proportion|amount|age|price|cost))\b",
    re.I,
)
_DATE_Q = re.compile(r"\b(when|what (date|day|year|month|time)|which (date|day|year|month)|by what)\b", re.I)
_NAME_Q = re.compile(r"\b(who|whom|whose|where|which|what (company|country|city|team|organi[sz]ation|group|party|state|place))\b", re.I)
_COMPARE_Q = re.compile(r"\b(both|compare|compared|comparison|differ|difference|each (article|report)|two (articles|reports))\b", re.I)


@dataclass(frozen=True)
class _Candidate:
    passage: ScoredChunk
    start: int  # offsets in the article text
    end: int
    text: str
    terms: frozenset[str]


@dataclass(frozen=True)
class ExtractiveConfig:
    """Weights and thresholds of the extractive answerer (validated).

    The defaults were tuned with MiniLM and the ms-marco cross-encoder; without
    a cross-encoder scores are lower, and `min_score` about 0.42 fits.

    Attributes:
        max_sentences: most sentences quoted in one answer.
        min_score: below this best score the question is refused.
        w_cross: share of the score that comes from the cross-encoder (when one is given).
        cross_temperature: logits are divided by this before the sigmoid.
        w_similarity, w_overlap, w_type: weights of the other kinds of evidence.
        follow_ratio: a further sentence must score at least this share of the best
            and cover a question term the chosen ones miss (or, for comparisons,
            come from another article).
        tie_ratio: a sentence this close to the best joins it anyway: when two
            passages answer equally well, both are quoted.
    """

    max_sentences: int = 3
    min_score: float = 0.55
    w_cross: float = 0.7
    cross_temperature: float = 1.0
    w_similarity: float = 0.5
    w_overlap: float = 0.5
    w_type: float = 0.1
    follow_ratio: float = 0.8
    tie_ratio: float = 0.95
    min_words: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 10:
            raise ConfigError(f"max_sentences must be from 1 to 10, got {self.max_sentences}")
        if not 0.0 <= self.min_score <= 1.5:
            raise ConfigError(f"min_score must be from 0 to 1.5, got {self.min_score}")
        if not 0.0 <= self.w_cross <= 1.0 or self.cross_temperature <= 0:
            raise ConfigError("w_cross must be in [0, 1] and cross_temperature positive")
        if not 0.0 < self.follow_ratio <= 1.0:
            raise ConfigError(f"follow_ratio must be in (0, 1], got {self.follow_ratio}")


class ExtractiveGenerator:
    """Answers with verbatim sentences of the passages, each cited `[n]`.

    Args:
        embedder: used to compare the question with each candidate sentence.
        cross_encoder: scores question-sentence relevance; None to go without.
        config: weights and thresholds.
    """

    name = "extractive"

    def __init__(
        self, embedder: Embedder, cross_encoder: CrossEncoder | None = None, config: ExtractiveConfig | None = None
    ) -> None:
        self.embedder = embedder
        self.cross_encoder = cross_encoder
        self.config = config or ExtractiveConfig()

    def generate(self, question: str, passages: Sequence[ScoredChunk]) -> Answer:
        cands = self._candidates(passages)
        if not cands:
            return refusal(question, self.name)
        passage_vocab = set().union(*(c.terms for c in cands)) | _vocab(p.chunk.text for p in passages)
        missing = [n for n in tf.names(question) if not tf.fuzzy_in(n, passage_vocab)]
        if missing:
            return refusal(question, self.name)

        scores, covered = self.score(question, cands)
        order = sorted(range(len(cands)), key=lambda i: -scores[i])
        best = order[0]
        if scores[best] < self.config.min_score:
            return refusal(question, self.name)
        chosen = self._select(question, cands, scores, covered, order)
        citations = []
        parts = []
        for n, i in enumerate(chosen, start=1):
            c = cands[i]
            meta = c.passage.chunk.metadata
            citations.append(
                Citation(
                    n=n,
                    doc_id=c.passage.chunk.doc_id,
                    title=meta.get("title", ""),
                    source=meta.get("source", ""),
                    url=meta.get("url", ""),
                    published_at=meta.get("published_at", ""),
                    quote=c.text,
                    start=c.start,
                    end=c.end,
                    score=round(float(min(1.0, scores[i])), 4),
                )
            )
            parts.append(f"{c.text} [{n}]")
        return Answer(text=" ".join(parts), refused=False, citations=tuple(citations), question=question, generator=self.name)

    # --- scoring -------------------------------------------------------------

    def score(self, question: str, cands: Sequence[_Candidate]) -> tuple[np.ndarray, list[set[str]]]:
        """Score each candidate sentence; also return which question terms each covers."""
        cfg = self.config
        q_terms = tf.content_terms(question, drop_frame=True) or tf.content_terms(question)
        n = len(cands)
        df = {t: sum(1 for c in cands if tf.fuzzy_in(t, set(c.terms))) for t in q_terms}
        idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 0.1 for t in q_terms}
        total = sum(idf.values()) or 1.0
        covered = [{t for t in q_terms if tf.fuzzy_in(t, set(c.terms))} for c in cands]
        overlap = np.array([sum(idf[t] for t in cov) / total for cov in covered])

        vecs = self.embedder.embed([question] + [c.text for c in cands])
        sim = np.clip(vecs[1:] @ vecs[0], 0.0, 1.0)

        wants_number = bool(_NUMBER_Q.search(question))
        wants_date = bool(_DATE_Q.search(question))
        wants_name = bool(_NAME_Q.search(question))
        q_names = set(tf.names(question)) | set(q_terms)
        type_fit = np.zeros(n)
        for i, c in enumerate(cands):
            fits = []
            if wants_number:
                fits.append(tf.has_number(c.text))
            if wants_date:
                fits.append(tf.has_date(c.text))
            if wants_name:
                fits.append(any(nm not in q_names for nm in tf.names(c.text)))
            type_fit[i] = float(any(fits)) if fits else 0.0
            # A sentence that only restates the question holds no answer.
            if c.terms and not (set(c.terms) - set(q_terms)):
                type_fit[i] -= 1.0
        scores = cfg.w_similarity * sim + cfg.w_overlap * overlap + cfg.w_type * type_fit
        if self.cross_encoder is not None:
            logits = self.cross_encoder.score(question, [c.text for c in cands])
            relevance = 1.0 / (1.0 + np.exp(-logits / cfg.cross_temperature))
            scores = cfg.w_cross * relevance + (1.0 - cfg.w_cross) * scores
        return scores, covered

    def _select(
        self,
        question: str,
        cands: Sequence[_Candidate],
        scores: np.ndarray,
        covered: list[set[str]],
        order: list[int],
    ) -> list[int]:
        cfg = self.config
        best = order[0]
        chosen = [best]
        have = set(covered[best])
        docs = {cands[best].passage.chunk.doc_id}
        compare = bool(_COMPARE_Q.search(question))
        for i in order[1:]:
            if len(chosen) >= cfg.max_sentences or scores[i] < max(cfg.min_score, cfg.follow_ratio * scores[best]):
                break
            if any(_same_text(cands[i], cands[j]) for j in chosen):
                continue
            adds_terms = bool(covered[i] - have)
            adds_side = compare and cands[i].passage.chunk.doc_id not in docs
            ties = scores[i] >= cfg.tie_ratio * scores[best]
            if adds_terms or adds_side or ties:
                chosen.append(i)
                have |= covered[i]
                docs.add(cands[i].passage.chunk.doc_id)
        return chosen

    def _candidates(self, passages: Sequence[ScoredChunk]) -> list[_Candidate]:
        seen: set[tuple[str, int]] = set()
        out: list[_Candidate] = []
        short: list[_Candidate] = []
        for p in passages:
            text = p.chunk.text
            for s, e in sentence_spans(text):
                key = (p.chunk.doc_id, p.chunk.start + s)
                if key in seen:  # overlapping chunks repeat sentences
                    continue
                seen.add(key)
                sent = text[s:e]
                cand = _Candidate(p, p.chunk.start + s, p.chunk.start + e, sent, frozenset(tf.content_terms(sent)))
                (out if len(sent.split()) >= self.config.min_words else short).append(cand)
        return out or short


def _same_text(a: _Candidate, b: _Candidate) -> bool:
    return a.text.strip().lower() == b.text.strip().lower()


def _vocab(texts) -> set[str]:  # noqa: ANN001
    out: set[str] = set()
    for t in texts:
        out.update(tf.content_terms(t))
    return out
