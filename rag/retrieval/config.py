"""`RetrievalConfig`: how passages are found, validated when made."""

from __future__ import annotations

from dataclasses import dataclass

from core.errors import ConfigError


@dataclass(frozen=True)
class RetrievalConfig:
    """How passages are found (validated).

    Attributes:
        mode: "hybrid" (dense and BM25, fused), "dense" or "bm25".
        candidates: chunks each search returns and the fusion passes on to the reranker.
        rerank: rerank the candidates with the cross-encoder (when one is given). Off by
            default: on newsqa-dev it did not lift the answers, and costs 0.2-0.4 s per
            question on 2 cores (docs/retrieval.md).
        rerank_window: the cross-encoder reads, of each candidate, the run of whole
            sentences of at most this many words sharing most words with the question
            (`rag.retrieval.rerank.best_window`), not the whole chunk: the reranker was trained on
            passages of about 60 words and its cost grows with every token. 0 reads
            whole chunks.
        rrf_k: the constant of reciprocal rank fusion (larger flattens rank differences).
        dense_weight, bm25_weight: each ranking's weight in the fusion.
        time_boost: how strongly articles of the news a question is about move up: those
            published in the period it names ("this week", "recently", "in 2021"; see
            `rag.retrieval.timeframe`), else in the three months before it is asked
            (`rag.question.Question.window`; on the newsqa-dev2 tune half this lifted one
            answer and lost none, docs/answers.md, tenth round): a
            passage at rank r scores (1 + boost) / (5 + r) when in the period,
            1 / (5 + r) otherwise, so 0.5 lifts it two to three places. 0 turns it off.
        dedup: a passage whose words overlap a better-ranked passage of another
            article this much (Jaccard of BM25 terms) is dropped: the same wire
            story from two outlets does not fill the top-k. 1.0 keeps everything
            but exact copies; 0 turns it off.
        lead_lift: in hybrid mode, an article's first chunk counts as this many
            places higher in one of the fused rankings (`prefer_leads`). News is
            written lead first: on newsqa-dev 26 of 32 answers are in the first
            chunk, and a lift of 2 puts the chunk with the answer first for 26
            questions instead of 24 (3 and 4: 27; from 4 on, the seed questions,
            whose answers sit deeper, lose one). 0 turns it off.
        cover_names: when a name the question asks about ("the FDA's Center for
            Biologics Evaluation and Research") is in none of the top-k passages
            but a further candidate holds every such name, that candidate takes
            the last place (top-k of 2 or more): fusion ranks a passage only one search finds below
            passages both find fairly, and a rare name's one exact keyword match
            fell out of the top 10.
    """

    mode: str = "hybrid"
    candidates: int = 20
    rerank: bool = False
    rerank_window: int = 60
    rrf_k: int = 60
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    time_boost: float = 0.5
    dedup: float = 0.8
    lead_lift: float = 2.0
    cover_names: bool = True

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ConfigError(f"retrieval mode must be one of {', '.join(MODES)}, got {self.mode!r}")
        if isinstance(self.candidates, bool) or not isinstance(self.candidates, int) or not 1 <= self.candidates <= 200:
            raise ConfigError(f"candidates must be an integer from 1 to 200, got {self.candidates!r}")
        if not 0.0 <= self.dedup <= 1.0:
            raise ConfigError(f"dedup must be from 0 to 1, got {self.dedup}")
        if self.rrf_k < 1 or self.dense_weight < 0 or self.bm25_weight < 0 or self.time_boost < 0:
            raise ConfigError("rrf_k must be at least 1 and the weights and time_boost non-negative")
        if isinstance(self.rerank_window, bool) or not isinstance(self.rerank_window, int) or not (
            self.rerank_window == 0 or 10 <= self.rerank_window <= 1000
        ):
            raise ConfigError(f"rerank_window must be 0 (whole chunks) or 10 to 1000 words, got {self.rerank_window!r}")
        if not 0.0 <= self.lead_lift <= 20.0:
            raise ConfigError(f"lead_lift must be from 0 to 20 places, got {self.lead_lift}")


MODES = ("hybrid", "dense", "bm25")
