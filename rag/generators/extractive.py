"""The extractive answerer: quotes the sentences of the retrieved passages that answer the question.

No LLM. `SentenceRanker` scores every sentence (see `ranking.py`); the best one
is the answer, and further sentences join it when they are nearly as good and
cover question terms it misses (up to `max_sentences`); the sentence right
after the best one joins it when it carries it on (`continuation_of`), and a
question comparing two articles quotes each. When the ranker finds the
question unanswered, it refuses rather than quote something loosely related.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import core.text as tf
from core.errors import ConfigError
from index.embedding import Embedder
from index.types import ScoredChunk

from ..question import Question, analyse
from ..retrieval.rerank import CrossEncoder
from ..screen import addressed_to_ai
from ..types import Answer, Citation, Claim, Span, refusal
from .ranking import Candidate, Ranking, RankingConfig, SentenceRanker, another_time_text


@dataclass(frozen=True)
class ExtractiveConfig:
    """How many sentences the extractive answer quotes (validated).

    Attributes:
        max_sentences: most sentences quoted in one answer.
        follow_ratio: a further sentence must score at least this share of the best
            and cover a question term the chosen ones miss (or, for comparisons,
            come from another article).
        tie_ratio: a sentence this close to the best joins it anyway: when two
            passages answer equally well, both are quoted.
        typed_follow: when the question asks for a number, a date or a name
            and no quoted sentence holds one, the best sentence that does joins
            the answer if it scores at least this share of the ranker's
            `min_score` (0 never adds one). 0.5 is the floor the LLM generator
            already uses for a comparison's second article; on newsqa-dev it
            fires once in 40 questions (docs/answers.md).
        continuation: the sentence right after the best one joins it when it
            carries on what the best one reports: it opens with a pronoun ("He
            added ...") or is a quote of the best sentence's speaker (“If any
            troops appear there, ...,” he added; “...,” Putin said at an
            Economic Forum): news splits one statement over sentences, and the
            detail asked for is often in the second.
        lead_in: when the best sentence scored best read after the one before it
            (`RankingConfig.cross_context`), the one before is quoted first: the
            pair answers, and its first sentence often holds the answer.
        typed_first: when the question asks for a number, a date or a name and the
            first quoted sentence holds none, the first quoted one that does is put
            first (the first quote is the direct answer): on the newsqa-dev2 tune
            half the first quote answered 0.527 -> 0.568 of the answerable
            questions, answer_correct the same (`docs/answers.md`, ninth round).
    """

    max_sentences: int = 3
    follow_ratio: float = 0.8
    tie_ratio: float = 0.95
    typed_follow: float = 0.5
    continuation: bool = True
    lead_in: bool = True
    typed_first: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.max_sentences <= 10:
            raise ConfigError(f"max_sentences must be from 1 to 10, got {self.max_sentences}")
        if not 0.0 < self.follow_ratio <= 1.0 or not 0.0 < self.tie_ratio <= 1.0:
            raise ConfigError("follow_ratio and tie_ratio must be in (0, 1]")
        if not 0.0 <= self.typed_follow <= 2.0:
            raise ConfigError(f"typed_follow must be from 0 (off) to 2, got {self.typed_follow}")


class ExtractiveGenerator:
    """Answers with verbatim sentences of the passages, each cited `[n]`.

    Args:
        embedder: used to compare the question with each candidate sentence.
        cross_encoder: scores question-sentence relevance; None to go without.
        config: how many sentences to quote.
        ranking: weights and refusal threshold of the sentence ranker.
    """

    name = "extractive"

    def __init__(
        self,
        embedder: Embedder,
        cross_encoder: CrossEncoder | None = None,
        config: ExtractiveConfig | None = None,
        ranking: RankingConfig | None = None,
    ) -> None:
        self.ranker = SentenceRanker(embedder, cross_encoder, ranking)
        self.config = config or ExtractiveConfig()

    def generate(self, question: str | Question, passages: Sequence[ScoredChunk]) -> Answer:
        """Quote the best sentences; a question of several parts quotes the best one for each part
        (or says which part the articles don't answer)."""
        q = analyse(question)
        if len(q.parts) == 1:
            return self.answer(q, self.ranker.rank(q, passages))
        claims: list[Claim] = []
        quotes: list[Claim] = []
        citations: list[Citation] = []
        for part in q.parts:
            ranking = self.ranker.rank(q.part(part), passages)
            if ranking.unanswered or not ranking.order:
                claims.append(Claim.refusal(part=part))
                continue
            best = ranking.order[0]
            c = ranking.candidates[best]
            known = next((x for x in citations if (x.doc_id, x.start) == (c.passage.chunk.doc_id, c.start)), None)
            cite = known or citation_for(c, len(citations) + 1, float(ranking.scores[best]))
            if known is None:
                citations.append(cite)
            quotes.append(Claim.quote(cite, _span(c), part=part))
        if not quotes:
            return refusal(q.text, self.name)
        return Answer.of_claims([*claims, *quotes], citations, question=q.text, generator=self.name)

    def stream(self, question: str | Question, passages: Sequence[ScoredChunk]) -> Iterator[str | Answer]:
        """Nothing to stream: the `Answer` alone."""
        yield self.generate(question, passages)

    def answer(self, question: str | Question, ranking: Ranking) -> Answer:
        """The quoted answer for a ranking already made (a refusal when it found no answer)."""
        q = analyse(question)
        if ranking.another_time:
            return another_time(q, ranking, self.name)
        if ranking.unanswered or not ranking.order:
            return refusal(q.text, self.name)
        chosen = self._select(q, ranking)
        citations = []
        claims = []
        for n, i in enumerate(chosen, start=1):
            c = ranking.candidates[i]
            cite = citation_for(c, n, float(ranking.scores[i]))
            citations.append(cite)
            claims.append(Claim.quote(cite, _span(c)))
        return Answer.of_claims(claims, citations, question=q.text, generator=self.name)

    def _select(self, q: Question, ranking: Ranking) -> list[int]:
        cfg = self.config
        cands, scores, covered, order = ranking.candidates, ranking.scores, ranking.covered, ranking.order
        min_score = self.ranker.config.min_score
        best = order[0]
        chosen = [best]
        have = set(covered[best])
        docs = {cands[best].passage.chunk.doc_id}
        compare = q.comparison
        for i in order[1:]:
            if len(chosen) >= cfg.max_sentences or scores[i] < max(min_score, cfg.follow_ratio * scores[best]):
                break
            if _quoted(cands, i, chosen):
                continue
            adds_terms = bool(covered[i] - have)
            adds_side = compare and cands[i].passage.chunk.doc_id not in docs
            ties = scores[i] >= cfg.tie_ratio * scores[best]
            if adds_terms or adds_side or ties:
                chosen.append(i)
                have |= covered[i]
                docs.add(cands[i].passage.chunk.doc_id)
        if cfg.continuation and cfg.max_sentences >= 2:
            follow = continuation_of(best, ranking)
            if follow is not None and not _quoted(cands, follow, chosen):
                chosen = [best, follow] + chosen[1 : cfg.max_sentences - 1]
        if cfg.lead_in and ranking.leans_back is not None and ranking.leans_back[best]:
            lead = lead_of(best, ranking)
            if lead is not None:
                chosen = [lead] + [j for j in chosen if j != lead and not _same_text(cands[j], cands[lead])][: cfg.max_sentences - 1]
        if compare and len(docs) == 1:
            # A comparison quotes both sides: the other article's best sentence, whatever its score.
            side = ranking.other_side(docs)
            if side is not None:
                chosen = [chosen[0], side] + chosen[1 : cfg.max_sentences - 1]
        fits = ranking.fits_type
        if cfg.typed_follow and fits is not None and not any(fits[j] for j in chosen):
            # None of the chosen sentences holds what was asked for (a name, a number, a date): the best one that does joins them.
            typed = next((i for i in order if fits[i] and scores[i] >= cfg.typed_follow * min_score), None)
            if typed is not None and not _quoted(cands, typed, chosen):
                chosen = chosen[: cfg.max_sentences - 1] + [typed]
        if cfg.typed_first and fits is not None and not fits[chosen[0]] and not compare:
            # The first quote is the direct answer: the first chosen sentence that holds what was asked for leads.
            typed = next((j for j in chosen if fits[j]), None)
            if typed is not None:
                chosen = [typed] + [j for j in chosen if j != typed]
        return chosen


_OPENS_WITH_PRONOUN = re.compile(r"^\W*(he|she|they|his|her|their)\b", re.I)
# A quote attributed at its end: “...,” he added / “...,” Putin said at ...
_ATTRIBUTED = re.compile(r"[,.!?][”\"’']\s+(?:the\s+)?([A-Za-z][\w’'\-]*(?:\s+[A-Z][\w’'\-]*)?)\s+(?:said|added|told|stressed|continued|noted|warned|insisted)\b")


def continuation_of(i: int, ranking: Ranking) -> int | None:
    """The candidate right after sentence `i` in its passage, when it carries on what `i` reports
    (it opens with a pronoun, or quotes `i`'s speaker: a pronoun or a name `i` holds); else None."""
    c = ranking.candidates[i]
    chunk = c.passage.chunk
    nxt = min(
        (j for j in ranking.order if (d := ranking.candidates[j]).passage.chunk.doc_id == chunk.doc_id and d.start >= c.end),
        key=lambda j: ranking.candidates[j].start,
        default=None,
    )
    if nxt is None:
        return None
    d = ranking.candidates[nxt]
    if not (chunk.start <= d.start <= chunk.end) or chunk.text[c.end - chunk.start : d.start - chunk.start].strip():
        return None  # not the very next sentence of the same passage
    if _OPENS_WITH_PRONOUN.match(d.text):
        return nxt
    said = _ATTRIBUTED.search(d.text)
    if said is None:
        return None
    speaker = said.group(1).split()[-1]
    if speaker.lower() in ("he", "she", "they") or tf.fuzzy_in(tf.stem(speaker), set(tf.names(c.text, include_initial=True))):
        return nxt
    return None


def lead_of(i: int, ranking: Ranking) -> int | None:
    """The candidate that is the sentence right before sentence `i` in its article, if there is one
    among the ranking's `order` (a sentence left out of it, such as a screened instruction, is never quoted)."""
    c = ranking.candidates[i]
    if c.before_start < 0:
        return None
    doc = c.passage.chunk.doc_id
    return next((j for j in ranking.order if (d := ranking.candidates[j]).start == c.before_start and d.passage.chunk.doc_id == doc), None)


def _span(c: Candidate) -> Span:
    chunk = c.passage.chunk
    return Span.of(chunk.article, chunk.text, chunk.start, c.start, c.end)


def another_time(q: Question, ranking: Ranking, generator: str) -> Answer:
    """A refusal saying that only another time's articles answer, with the best of their sentences
    quoted as related: its citation carries the article's date (`Ranking.another_time`)."""
    claims = [Claim.refusal(another_time_text(q))]
    best = next((i for i in ranking.order if not addressed_to_ai(ranking.candidates[i].text)), None)
    if best is None:
        return Answer.of_claims(claims, [], question=q.text, generator=generator)
    cite = citation_for(ranking.candidates[best], 1, float(ranking.scores[best]))
    claims.append(Claim.quote(cite, _span(ranking.candidates[best]), role="related"))
    return Answer.of_claims(claims, [cite], question=q.text, generator=generator)


def citation_for(c: Candidate, n: int, score: float) -> Citation:
    """A citation quoting candidate sentence `c` as marker `n`."""
    return Citation.of(_span(c), n, min(1.0, max(0.0, score)))


def _quoted(cands: Sequence[Candidate], i: int, chosen: Sequence[int]) -> bool:
    """Whether candidate `i`, or a sentence with its very text (overlapping chunks repeat them), is already chosen."""
    return i in chosen or any(_same_text(cands[i], cands[j]) for j in chosen)


def _same_text(a: Candidate, b: Candidate) -> bool:
    return a.text.strip().lower() == b.text.strip().lower()
