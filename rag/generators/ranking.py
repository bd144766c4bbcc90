"""Rank the sentences of retrieved passages by how well they answer a question.

Shared by the extractive answerer (which quotes the best sentences) and the
LLM generator (which sends them to the model as sources, and skips the model
entirely when nothing answers). Every sentence is scored by four kinds of
evidence:

- relevance: a cross-encoder (ms-marco-MiniLM-L-12-v2) reading question and
  sentence together; the strongest single signal, weighted `w_cross`;
- meaning: cosine similarity of sentence and question embeddings (with a
  cross-encoder, the similarity of the sentence's passage, which is free);
- words: the share of the question's content terms the sentence contains,
  weighted by how rare each term is among the candidate sentences;
- answer type: a "how many" question wants a number, "when" a date, "who" and
  "where" a name the question does not already contain.

A question is unanswerable from the passages when the best score is below
`min_score` (half of it for a comparison, read by what it compares), or when a name in the question appears in none of them ("the
capital of Australia" in articles about Ukraine).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

import core.text as tf
from core.errors import ConfigError
from index.embedding import Embedder
from index.types import ScoredChunk

from ..question import Question, analyse, wants_all
from ..retrieval.rerank import CrossEncoder
from ..retrieval.timeframe import day_of


@dataclass(frozen=True)
class Candidate:
    """One sentence of a retrieved passage; offsets are in the article text."""

    passage: ScoredChunk
    start: int
    end: int
    text: str
    terms: frozenset[str]
    before: str = ""  # the sentence before it in its passage, if any
    before_start: int = -1  # where that sentence starts in the article text (-1: none)


@dataclass(frozen=True)
class RankingConfig:
    """Weights and the refusal threshold of the sentence ranker (validated).

    The defaults were tuned with MiniLM and the ms-marco cross-encoder; without
    a cross-encoder scores are lower, and `min_score` about 0.42 fits.
    `min_score`, `cross_context` and `question_focus` were chosen together on the
    tune half of newsqa-dev2 (docs/answers.md, "Fifth round"): with the extractive
    generator, answer_correct 0.630 -> 0.733 and truthfulness 0.276 -> 0.442; the
    reader, 0.644 -> 0.671 and 0.356 -> 0.399.

    Attributes:
        min_score: below this best score the question counts as unanswered: the
            highest gate that refused no question the tune half answered right.
        w_cross: share of the score that comes from the cross-encoder (when one is given).
        cross_temperature: logits are divided by this before the sigmoid.
        w_similarity, w_overlap, w_type: weights of the other kinds of evidence.
        min_words: shorter sentences (headings, captions) are used only when nothing else is there.
        cross_context: the cross-encoder also reads each shortlisted sentence
            after the sentence before it, and the better of the two readings
            counts: news sentences lean on the one before ("Surgeons in Oxford
            spent eight hours ..." after "The UK's first womb transplant ...").
            It doubles the cross-encoder's reading (about 0.1 s an answer).
        question_focus: for a question of several sentences ("Harry Belafonte
            died this week at 96. He was the first Black man to receive which
            award?"), the cross-encoder also reads the sentence that asks, and
            its two readings are combined: "max" (the better; the default),
            "mean" (their average) or "" (the whole question only).
        compare_topic: for a question about two articles side by side ("How do
            the casualty figures in the two articles differ?"), the cross-encoder
            also reads what is compared, the frame dropped ("casualty figures"),
            and the better reading counts: trained on search queries, it scores
            the whole question's frame as irrelevant to every sentence.
        compare_gate: a comparison counts as answered when its best sentence
            scores this share of `min_score`: what is compared ("casualty
            figures") is vaguer than a question, and reads as less relevant
            (the best seed sentence for it scores 0.34). 0.39 of 0.70 keeps the
            comparison gate where it was chosen (0.27, half the earlier 0.55):
            newsqa-dev2 has no comparison to choose it on.
        stale_penalty: what a sentence of another time's news loses of its
            score: one of an article published outside the question's window
            (`Question.window`: the period it names, else the three months
            before it is asked). 0.25 puts the best such sentence (about 0.85) below
            `min_score`: alone, it does not answer; the refusal says why and
            shows it as related, with its date.
        shortlist: only this many sentences, chosen by the cheap evidence (words,
            answer type, their passage's retrieval score), are read by the
            cross-encoder (or embedded, without one); 0 reads them all. The model
            is most of the ranking's cost (about 9 ms per sentence on 2 cores).
    """

    min_score: float = 0.70
    w_cross: float = 0.7
    cross_temperature: float = 1.0
    w_similarity: float = 0.5
    w_overlap: float = 0.5
    w_type: float = 0.1
    min_words: int = 4
    shortlist: int = 12
    cross_context: bool = True
    question_focus: str = "max"
    compare_topic: bool = True
    compare_gate: float = 0.39
    stale_penalty: float = 0.25

    def __post_init__(self) -> None:
        if not 0.0 <= self.min_score <= 1.5:
            raise ConfigError(f"min_score must be from 0 to 1.5, got {self.min_score}")
        if not 0.0 <= self.w_cross <= 1.0 or self.cross_temperature <= 0:
            raise ConfigError("w_cross must be in [0, 1] and cross_temperature positive")
        if self.question_focus not in ("", "mean", "max"):
            raise ConfigError(f"question_focus must be '', 'mean' or 'max', got {self.question_focus!r}")
        if not 0.0 < self.compare_gate <= 1.0:
            raise ConfigError(f"compare_gate must be in (0, 1], got {self.compare_gate}")
        if not 0.0 <= self.stale_penalty <= 1.5:
            raise ConfigError(f"stale_penalty must be from 0 (off) to 1.5, got {self.stale_penalty}")
        if self.shortlist < 0:
            raise ConfigError(f"shortlist must be 0 (all) or more, got {self.shortlist}")


@dataclass
class Ranking:
    """Scored candidate sentences; `order` lists their indices best first."""

    candidates: list[Candidate]
    scores: np.ndarray
    covered: list[set[str]]
    order: list[int]
    unanswered: str | None = None  # why the question counts as unanswered, if it does
    question_terms: list[str] = field(default_factory=list)
    # Whether each sentence holds what the question asks for (a number, a date, a new name); None when it asks for none.
    fits_type: np.ndarray | None = None
    # Whether each sentence scored best when read after the sentence before it (`RankingConfig.cross_context`).
    leans_back: np.ndarray | None = None
    # Whether each sentence's article is another time's news (`RankingConfig.stale_penalty`); None when time is off.
    stale: np.ndarray | None = None
    # Unanswered only because the sentences that answer are of another time's articles.
    another_time: bool = False

    @property
    def best_score(self) -> float:
        return float(self.scores[self.order[0]]) if self.order else 0.0

    def other_side(self, docs: set[str]) -> int | None:
        """The best sentence of an article not in `docs` (a comparison's second side), if one was retrieved.

        No score floor: the question asks what the other article says, and its best
        sentence is that article's answer (the cross-encoder reads "casualty figures"
        as irrelevant to "the conflict has claimed more than 13,000 lives")."""
        return next((i for i in self.order if self.candidates[i].passage.chunk.doc_id not in docs), None)


class SentenceRanker:
    """Scores every sentence of the retrieved passages against a question.

    Args:
        embedder: compares question and sentence embeddings.
        cross_encoder: reads question and sentence together; None to go without.
        config: weights and threshold.
    """

    def __init__(self, embedder: Embedder, cross_encoder: CrossEncoder | None = None, config: RankingConfig | None = None) -> None:
        self.embedder = embedder
        self.cross_encoder = cross_encoder
        self.config = config or RankingConfig()

    def rank(self, question: str | Question, passages: Sequence[ScoredChunk]) -> Ranking:
        q = analyse(question)
        question = q.text
        cands = self.candidates(passages)
        if not cands:
            return Ranking([], np.zeros(0), [], [], unanswered="no passages")
        vocab = set().union(*(c.terms for c in cands)) | _vocab(p.chunk.text for p in passages)
        missing = [n for n in tf.names(question) if not tf.mentioned(n, vocab)]
        raw, covered, q_terms, fits, leans = self.score(q, cands)
        stale = self.stale(q, cands) if self.config.stale_penalty > 0 else None
        scores = raw if stale is None else raw - self.config.stale_penalty * stale
        order = sorted(range(len(cands)), key=lambda i: -scores[i])
        ranking = Ranking(cands, scores, covered, order, question_terms=q_terms, fits_type=fits, leans_back=leans, stale=stale)
        if missing:
            ranking.unanswered = f"not in the articles: {', '.join(missing)}"
        else:
            gate = self.config.min_score * (self.config.compare_gate if q.comparison else 1.0)
            if ranking.best_score < gate:
                ranking.unanswered = f"best sentence scores {ranking.best_score:.2f} < {gate:.2f}"
                if stale is not None and float(np.max(raw)) >= gate:
                    ranking.unanswered += ": the articles that answer are from another time"
                    ranking.another_time = True
        return ranking

    def score(self, q: Question, cands: Sequence[Candidate]) -> tuple[np.ndarray, list[set[str]], list[str], np.ndarray | None, np.ndarray]:
        """Score each candidate; also return the question terms each covers, the terms, `answer_type_fit`,
        and whether each scored best read after the sentence before it."""
        cfg = self.config
        question = q.text
        q_terms = tf.content_terms(question, drop_frame=True) or tf.content_terms(question)
        n = len(cands)
        df = {t: sum(1 for c in cands if tf.fuzzy_in(t, set(c.terms))) for t in q_terms}
        idf = {t: math.log((n + 1) / (df[t] + 0.5)) + 0.1 for t in q_terms}
        total = sum(idf.values()) or 1.0
        covered = [{t for t in q_terms if tf.fuzzy_in(t, set(c.terms))} for c in cands]
        overlap = np.array([sum(idf[t] for t in cov) / total for cov in covered])

        fits = answer_type_fit(question, cands, q_terms)
        type_fit = np.zeros(n) if fits is None else fits.astype(float)
        for i, c in enumerate(cands):
            # A sentence that only restates the question holds no answer.
            if c.terms and not (set(c.terms) - set(q_terms)):
                type_fit[i] -= 1.0
        cheap = cfg.w_overlap * overlap + cfg.w_type * type_fit

        # The models read the shortlist only; the rest keep their cheap score.
        if cfg.shortlist and n > cfg.shortlist:
            passage_sim = np.array([max(0.0, c.passage.cosine) for c in cands])
            keep = np.argsort(-(cheap + cfg.w_similarity * passage_sim), kind="stable")[: cfg.shortlist]
        else:
            keep = np.arange(n)
        texts = [cands[i].text for i in keep]
        if self.cross_encoder is not None:
            # The cross-encoder reads each sentence with the question; for the
            # meaning signal the passage's retrieval similarity then does as well
            # as sentence embeddings (same results on newsqa-dev) at no cost.
            sim = np.array([min(1.0, max(0.0, c.passage.cosine)) for c in cands])
        else:
            sim = np.zeros(n)
            vecs = self.embedder.embed([question] + texts)
            sim[keep] = np.clip(vecs[1:] @ vecs[0], 0.0, 1.0)
        scores = cfg.w_similarity * sim + cheap
        leans = np.zeros(n, dtype=bool)
        if self.cross_encoder is not None:
            relevance = np.zeros(n)
            logits = self.cross_encoder.score(question, texts)
            asked = q.asked if cfg.question_focus else ""
            if asked:
                focused = self.cross_encoder.score(asked, texts)
                logits = np.maximum(logits, focused) if cfg.question_focus == "max" else (logits + focused) / 2
            topic = q.topic if cfg.compare_topic else ""
            if topic:
                logits = np.maximum(logits, self.cross_encoder.score(topic, texts))
            if cfg.cross_context:
                pairs = [(j, cands[i].before + " " + cands[i].text) for j, i in enumerate(keep) if cands[i].before]
                if pairs:
                    more = self.cross_encoder.score(question, [t for _, t in pairs])
                    for (j, _), logit in zip(pairs, more):
                        if logit > logits[j]:
                            logits[j] = logit
                            leans[keep[j]] = True
            relevance[keep] = 1.0 / (1.0 + np.exp(-logits / cfg.cross_temperature))
            scores = cfg.w_cross * relevance + (1.0 - cfg.w_cross) * scores
        return scores, covered, q_terms, fits, leans

    def stale(self, q: Question, cands: Sequence[Candidate]) -> np.ndarray:
        """Whether each sentence's article was published outside the question's window
        (`Question.window`; the newest passage stands for the newest article when the
        question does not know it). An article without a publication date never is: a
        date inferred from its text is only the latest event it reports, not when it was
        written."""
        days = [day_of(c.passage.chunk.article.published_at) for c in cands]
        window = q.window(max((d for d in days if d is not None), default=None))
        return np.array([d is not None and not window.start <= d <= window.end for d in days], dtype=bool)

    def candidates(self, passages: Sequence[ScoredChunk]) -> list[Candidate]:
        """The sentences of the passages, once each (overlapping chunks repeat sentences)."""
        seen: set[tuple[str, int]] = set()
        out: list[Candidate] = []
        short: list[Candidate] = []
        for p in passages:
            text = p.chunk.text
            before, before_start = "", -1
            for s, e in p.chunk.sentence_spans():
                key = (p.chunk.doc_id, p.chunk.start + s)
                sent = text[s:e]
                if key in seen:
                    before, before_start = sent, p.chunk.start + s
                    continue
                seen.add(key)
                terms = frozenset(tf.content_terms(sent))
                cand = Candidate(p, p.chunk.start + s, p.chunk.start + e, sent, terms, before, before_start)
                before, before_start = sent, p.chunk.start + s
                (out if len(sent.split()) >= self.config.min_words else short).append(cand)
        return out or short


def another_time_text(q: Question) -> str:
    """The refusal of a question only another time's articles answer (`Ranking.another_time`)."""
    named = q.window().phrase  # the period it names, when that is its window
    if named:
        return f"The articles don't say: none of those that come close is from the time asked about ({named})."
    return "The articles don't say: those that come close are from another time."


def answer_type_fit(question: str, cands: Sequence[Candidate], q_terms: Sequence[str]) -> np.ndarray | None:
    """Whether each sentence holds what the question asks for: a number ("how many"), a date ("when"),
    a name it does not already contain ("who", "which country"). None when it asks for none of these."""
    wants_number, wants_date, wants_name = wants_all(question)
    if not (wants_number or wants_date or wants_name):
        return None
    q_names = set(tf.names(question)) | set(q_terms)
    out = np.zeros(len(cands), dtype=bool)
    for i, c in enumerate(cands):
        out[i] = (
            (wants_number and tf.has_number(c.text))
            or (wants_date and tf.has_date(c.text))
            or (wants_name and any(nm not in q_names for nm in tf.names(c.text)))
        )
    return out


def _vocab(texts) -> set[str]:
    out: set[str] = set()
    for t in texts:
        out.update(tf.content_terms(t))
    return out
