"""The LLM generator: a fluent answer from a language model, every sentence checked.

1. `SentenceRanker` scores the sentences of the retrieved passages. When the
   question is unanswered by them (a name in the question is nowhere in the
   articles, or no sentence is relevant), the answer is a refusal and the model
   is not called: a small model asked anyway tends to answer from memory.
2. The best sentences (with `context_sentences` of their neighbours on either
   side; none by default) become numbered sources: the model reads a few
   hundred tokens, not whole chunks.
3. The model's draft streams out as it is written.
4. `CitationChecker` verifies each sentence against the passages it cites and
   drops what no passage supports; the checked `Answer` comes last.
5. When the model did answer but none of its sentences survives the check
   (it reworded beyond what the judge can verify, or added a detail), the
   answer quotes the best sentences instead, as the extractive generator
   does, rather than refuse a question the sources answer. When the names or
   numbers the draft answered with stand in another sentence of an article it
   was shown (the draft said "COVID-19", its source only "the national
   emergency"; the article's lead names the virus), that sentence is quoted
   too, verbatim: the model's reading picks the quote, the article says it.
   A refusal written by the model itself is kept, except for a question
   about two articles side by side: when the model refuses it or cites one
   article only, each article's best sentence is quoted instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace

import core.text as tf
from core.errors import ConfigError
from index.embedding import Embedder
from index.types import ScoredChunk

from ..citations import CitationChecker, Source, is_refusal, sources_from_spans, split_claims
from ..judges import LexicalJudge, SupportJudge
from ..llm.base import LLM
from ..prompts import Prompt
from ..retrieval.rerank import CrossEncoder
from ..screen import addressed_to_ai, screen_span
from ..types import REFUSAL_TEXT, Answer, final_answer, refusal
from .extractive import ExtractiveGenerator, continuation_of
from .ranking import Ranking, RankingConfig, SentenceRanker, is_comparison


class LLMGenerator:
    """Writes answers with a language model and checks every citation.

    Args:
        llm: the chat model.
        embedder: for ranking sentences and for the support judge.
        cross_encoder: for ranking sentences (None: embeddings and words only).
        judge: support judge (default `LexicalJudge(embedder)`).
        prompt: prompt pieces (default `Prompt()`).
        name: the generator's name as reported in answers.
        max_sources: most sources shown to the model.
        context_sentences: sentences of context on each side of a chosen sentence.
        lead_context: sentences of context on each side of the best sentence only (at
            least `context_sentences`): the answer is often beside the sentence that
            matches the question ("..., Putin said at an Economic Forum" after the
            sentence about his promise).
        show_continuation: the best sentence is shown with the sentence after it when
            that one carries on what it reports (`extractive.continuation_of`: "“...,”
            Putin said at an Economic Forum" after the sentence about his promise).
        max_tokens: most tokens the model may write.
        ranking: weights and refusal threshold of the ranker.
        quote_fallback: quote the best sentences when the checker drops the whole draft.
        retry_refusals: when the model refuses but the ranker's best sentence scores at
            least this, the model is asked once more (`Prompt.retry`); its second draft
            is checked like the first and replaces the refusal only if some of it is
            supported. None (default) never asks again: on newsqa-dev it changed no
            answer (docs/answers.md).
        overrule_refusal: when the model still refuses but the ranker's best sentence
            scores at least this, the answer quotes the best sentences instead (as the
            extractive generator does). The 1.5B model refuses answerable questions whose
            answer sentence the ranker scored 0.86-0.96; 0.75 was chosen on half of
            newsqa-dev (docs/answers.md). None keeps every refusal.
    """

    def __init__(
        self,
        llm: LLM,
        embedder: Embedder,
        cross_encoder: CrossEncoder | None = None,
        *,
        judge: SupportJudge | None = None,
        prompt: Prompt | None = None,
        name: str = "llm",
        max_sources: int = 4,
        context_sentences: int = 0,
        lead_context: int = 0,
        show_continuation: bool = True,
        max_tokens: int = 200,
        ranking: RankingConfig | None = None,
        quote_fallback: bool = True,
        retry_refusals: float | None = None,
        overrule_refusal: float | None = 0.75,
    ) -> None:
        if not 1 <= max_sources <= 20 or not 0 <= context_sentences <= 5 or not 0 <= lead_context <= 5 or not 16 <= max_tokens <= 4096:
            raise ConfigError("max_sources must be 1-20, context_sentences and lead_context 0-5, max_tokens 16-4096")
        self.llm = llm
        self.name = name
        self.ranker = SentenceRanker(embedder, cross_encoder, ranking)
        self.quoter = ExtractiveGenerator(embedder, cross_encoder, ranking=ranking) if quote_fallback else None
        self.checker = CitationChecker(judge or LexicalJudge(embedder))
        self.prompt = prompt or Prompt()
        self.max_sources = max_sources
        self.context_sentences = context_sentences
        self.lead_context = lead_context
        self.show_continuation = show_continuation
        self.max_tokens = max_tokens
        if retry_refusals is not None and not 0.0 <= retry_refusals <= 1.5:
            raise ConfigError(f"retry_refusals must be from 0 to 1.5 (a ranker score) or None, got {retry_refusals}")
        self.retry_refusals = retry_refusals
        if overrule_refusal is not None and not 0.0 <= overrule_refusal <= 1.5:
            raise ConfigError(f"overrule_refusal must be from 0 to 1.5 (a ranker score) or None, got {overrule_refusal}")
        self.overrule_refusal = overrule_refusal

    def generate(self, question: str, passages: Sequence[ScoredChunk]) -> Answer:
        return final_answer(self.stream(question, passages))

    def stream(self, question: str, passages: Sequence[ScoredChunk]) -> Iterator[str | Answer]:
        """Yield the model's draft in pieces (str), then the checked `Answer`."""
        ranking = self.ranker.rank(question, passages)
        if ranking.unanswered:
            yield refusal(question, self.name)
            return
        compare = is_comparison(question)
        sources = self.sources(ranking, compare=compare)
        if not sources:  # every relevant sentence was an instruction to an AI (rag.screen)
            yield refusal(question, self.name)
            return
        retry = self.retry_refusals is not None and ranking.best_score >= self.retry_refusals
        draft: list[str] = []
        # A refusal that may not stand (asked again, or overruled) is not shown while it is written.
        hold = retry or (self.quoter is not None and (compare or self._overrules(ranking)))
        yield from self._draft(self.prompt.messages(question, sources), draft, hold_refusal=hold)
        text = "".join(draft)
        if retry and is_refusal(text):
            second: list[str] = []
            yield from self._draft(self.prompt.retry_messages(question, sources), second, hold_refusal=False)
            checked = self.checker.check("".join(second), sources, question=question, generator=self.name)
            if not checked.refused:
                yield checked
                return
        answer = self.checker.check(text, sources, question=question, generator=self.name)
        # Quoted in the model's place: never an instruction to an AI (rag.screen), which the model was not shown
        # either; a quote of it would carry it to whatever reads the answer.
        quotable = replace(ranking, order=[i for i in ranking.order if not addressed_to_ai(ranking.candidates[i].text)])
        if answer.refused and self.quoter is not None and text.strip() and not is_refusal(text):
            quoted = self.quoter.answer(question, quotable, also=evidence_for(text, question, quotable, sources))
            answer = replace(quoted, generator=self.name, unsupported=answer.unsupported)
        elif answer.refused and self.quoter is not None and self._overrules(quotable):
            # The model said the articles don't say, but the ranker is sure a sentence answers: quote it.
            answer = replace(self.quoter.answer(question, quotable), generator=self.name)
        if compare and self.quoter is not None and _one_sided(answer, quotable):
            # Asked about two articles, the model refused or spoke for one: quote each side instead.
            answer = replace(self.quoter.answer(question, quotable), generator=self.name, unsupported=answer.unsupported)
        yield answer

    def _overrules(self, ranking: Ranking) -> bool:
        return self.overrule_refusal is not None and ranking.best_score >= self.overrule_refusal

    def _draft(self, messages: list, into: list[str], *, hold_refusal: bool) -> Iterator[str]:
        """Stream the model's reply to `messages`, collecting it in `into`.

        With `hold_refusal`, pieces are held back while the reply could still be
        the refusal sentence, and a reply that is one is not shown: the model will
        be asked again, and the reader sees only the answer that stands.
        """
        held: list[str] = []
        for piece in self.llm.stream(messages, max_tokens=self.max_tokens, stop=("\nQuestion:", "\nSources:", "<|im_end|>")):
            into.append(piece)
            if hold_refusal and held is not None:
                held.append(piece)
                so_far = "".join(held).strip().lower()
                if _could_be_refusal(so_far):
                    continue
                yield from held
                held = None  # type: ignore[assignment]
                continue
            yield piece
        if held and not is_refusal("".join(held)):
            yield from held

    def sources(self, ranking: Ranking, *, compare: bool = False) -> list[Source]:
        """The best sentences with their context, merged per article, best first.

        With `compare` (a question about two articles side by side), the best
        sentence of a second article is shown too, even when it ranks lower.
        """
        min_score = self.ranker.config.min_score
        order = list(ranking.order)
        if compare and order:
            other = ranking.other_side({ranking.candidates[order[0]].passage.chunk.doc_id})
            if other is not None:
                order.remove(other)
                order.insert(1, other)
        spans: list[tuple[ScoredChunk, int, int]] = []
        for rank, i in enumerate(order):
            if len(spans) >= self.max_sources:
                break
            if spans and ranking.scores[i] < min_score * 0.8 and not (compare and rank == 1):
                break
            cand = ranking.candidates[i]
            if addressed_to_ai(cand.text):
                continue
            around = max(self.context_sentences, self.lead_context) if not spans else self.context_sentences
            start, end = _with_context(cand.passage, cand.start, cand.end, around)
            if not spans and self.show_continuation:
                follow = continuation_of(i, ranking)
                if follow is not None:
                    end = max(end, ranking.candidates[follow].end)
            for k, (p, s, e) in enumerate(spans):
                if p.chunk.doc_id == cand.passage.chunk.doc_id and s <= end and start <= e:
                    # Overlaps a chosen span of the same article: widen it if both lie in one chunk.
                    lo, hi = min(s, start), max(e, end)
                    if p.chunk.start <= lo and hi <= p.chunk.end:
                        spans[k] = (p, lo, hi)
                    break
            else:
                spans.append((cand.passage, start, end))
        return sources_from_spans(_screened(spans))


def evidence_for(draft: str, question: str, ranking: Ranking, sources: Sequence[Source]) -> int | None:
    """The best-ranked sentence, in an article the model was shown, holding every name and number
    the draft gave beyond the question's own; None when the draft gave none or no sentence holds them all."""
    body = " ".join(sentence for sentence, _ in split_claims(draft))
    asked = set(tf.content_terms(question)) | set(tf.names(question, include_initial=True))
    names = [n for n in tf.names(body, include_initial=True) if not tf.fuzzy_in(n, asked)]
    numbers = tf.numbers(body) - tf.numbers(question)
    if not names and not numbers:
        return None
    shown = {s.doc_id for s in sources}
    for i in ranking.order:
        c = ranking.candidates[i]
        if c.passage.chunk.doc_id in shown and all(tf.fuzzy_in(n, set(c.terms)) for n in names) and numbers <= tf.numbers(c.text):
            return i
    return None


def _one_sided(answer: Answer, ranking: Ranking) -> bool:
    """Whether a comparison's answer cites fewer than two articles while another retrieved article has a sentence to quote."""
    docs = {c.doc_id for c in answer.citations}
    return len(docs) < 2 and ranking.other_side(docs) is not None


def _could_be_refusal(text: str) -> bool:
    """Whether a reply beginning `text` (lower case) may still turn out to be the refusal sentence."""
    target = REFUSAL_TEXT.lower()
    return not text or target.startswith(text) or text.startswith(target.rstrip("."))


def _screened(spans: list[tuple[ScoredChunk, int, int]]) -> list[tuple[ScoredChunk, int, int]]:
    """The spans with sentences that instruct an AI system cut out (see `rag.screen`)."""
    out: list[tuple[ScoredChunk, int, int]] = []
    for passage, start, end in spans:
        chunk = passage.chunk
        parts = screen_span(chunk.text, chunk.start, start, end, list(chunk.sentence_spans()))
        out += [(passage, s, e) for s, e in parts]
    return out


def _with_context(passage: ScoredChunk, start: int, end: int, n: int) -> tuple[int, int]:
    """Widen the sentence at `[start, end)` by `n` sentences each side, within its chunk."""
    chunk = passage.chunk
    spans = [(chunk.start + s, chunk.start + e) for s, e in chunk.sentence_spans()]
    idx = next((i for i, (s, _e) in enumerate(spans) if s == start), None)
    if idx is None:
        return start, end
    lo = spans[max(0, idx - n)][0]
    hi = spans[min(len(spans) - 1, idx + n)][1]
    return lo, hi
