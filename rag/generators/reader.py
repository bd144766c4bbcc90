"""The reader: a language model reads windows of the articles and copies the words that answer.

The model is the place for reading, not for claims (docs/answers.md):

1. `SentenceRanker` scores the sentences of the retrieved passages. When
   nothing answers (no sentence is relevant enough, or a name of the
   question is in none of them), the answer is a refusal and the model is
   not asked.
2. The best sentences, each with `context` sentences on either side, become
   numbered windows (at most `max_sources`), with their article's title and
   date. Sentences that address instructions to an AI are cut out
   (`rag.screen`). A question about one year ("Putin's 2025 invitation") is
   read from that year's articles, or from articles that name the year; an
   article of another year is never read as if it reported that event.
3. The model replies with a window's number and words of that window, one
   line per part of the question, or "none". Its decoding is held to that
   grammar (`copying.CopyConstraint`): it can choose the window and the span,
   not the words.
4. Each copied phrase becomes a `phrase` claim, shown first, with the
   sentence that holds it as a `quote` claim. When that sentence is one the
   extractive generator quotes for the question (the same ranker's choice),
   its other quotes follow; a phrase from elsewhere in its window is shown
   with its own sentence only. A question of one part that the model copies
   nothing for ("none") gets the extractive generator's quotes: the ranker
   decides what is answered (the model's "none" was right for 1 of 10 such
   questions of the newsqa-dev2 tune half); so does one whose "phrase" is a
   clause or a sentence (more than `max_phrase_words` words). A phrase the
   model was unsure of (its source's number and its words less likely than
   `min_phrase_logprob`: a bold phrase that is wrong reads as the answer, a
   quote does not) is not shown: the sentence it was copied from is quoted
   first (the model's reading), then the ranker's quotes. A part of a
   question of several parts that the model finds no answer to is a
   `refusal` claim, and when no part is answered the best sentence is shown
   as related. A comparison of two articles is answered by each article's
   best sentence, oldest first.

Nothing the model writes reaches the answer but words it copied: a backend
that cannot hold its decoding to the grammar (an OpenAI-compatible server)
is read the same way, and a reply that is not a phrase of the window it
names is listed in `Answer.unsupported`, with that window's best sentence
quoted instead.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from core.errors import ConfigError
from index.embedding import Embedder
from index.types import ArticleRef, ScoredChunk

from ..llm.base import LLM, Reply, constrained_replies
from ..prompts import Prompt
from ..question import Question, analyse
from ..retrieval.rerank import CrossEncoder
from ..screen import addressed_to_ai, screen_span
from ..types import Answer, Citation, Claim, Span, final_answer, refusal
from .copying import CopyConstraint, Window
from .extractive import ExtractiveGenerator, another_time
from .ranking import Ranking, RankingConfig


@dataclass(frozen=True)
class ReaderConfig:
    """What the reader shows the model and how it reads the reply (validated).

    Attributes:
        max_sources: most windows shown (3: with `context` 2, chosen on 80 questions of the newsqa-dev2
            tune half over 4 windows of one sentence's context: answer_correct 0.597 -> 0.675, truthfulness
            0.35 -> 0.475, the same latency; docs/answers.md).
        context: sentences shown on each side of a chosen sentence (within its passage).
        floor: a window after the first is shown only when its best sentence scores
            at least this share of the ranker's `min_score` (the floor the sources of the
            previous design had; not measured again).
        max_tokens: most tokens of the reply per part of the question.
        max_phrase_words: a copied "phrase" longer than this is a clause or a sentence, not an answer:
            a one-part question is then answered as if the model had copied nothing (the ranker's
            quotes), a part of a question of several by the sentence copied from (it replaces the
            grammar's bound of 25 words). Chosen on the newsqa-dev2 tune half: no phrase there had 7
            to 11 words; the 8 longer ones answered 3 questions right (2 in their first claim), the
            ranker's quotes 6 (5): answer_correct 0.747 -> 0.767, truthfulness 0.466 -> 0.503, the
            same for any limit from 6 to 11 (docs/answers.md). Checked again in the eleventh round: the
            clause's sentence quoted before the ranker's quotes lost 2 first claims that answered.
        min_phrase_logprob: a copied phrase is shown only when the model gave its source's number and its
            words at least this log-probability (their tokens' softmax over the whole vocabulary, before the
            grammar kept some; `CopyConstraint.confidence`): a phrase the model was unsure of is not shown,
            its sentence is quoted first. Chosen on the
            newsqa-dev2 tune half by `shown_answer_correct`, which counts a wrong phrase shown as a wrong
            answer, as the hand grading does (`python -m eval.bench_answers --phrase-gates ...`): every
            phrase shown 0.760, at -1.0 0.808, the best of -0.3 to -3 (27 -> 9 wrong phrases shown; 40
            withheld); answer_correct 0.781 -> 0.815, direct_answer 0.678 -> 0.651 (docs/answers.md,
            "Ninth round"). Swept again with the sentence quoted first (eleventh round): shown_answer_correct
            0.801 at -1.0, 0.808 from -0.5 to -0.1 (one question, with 23 to 67 more phrases withheld): kept.
            Twelfth round: the source's number counted in (before, the words only), on the same tune
            answers: shown_answer_correct 0.801 -> 0.822, shown_truthfulness 0.675 -> 0.712, wrong phrases
            shown 9 -> 6 (41 withheld, 33 before); swept: 0.788 / 0.808 / 0.822 / 0.822 / 0.815 / 0.822 at
            -1.5 / -1.25 / -1.0 / -0.9 / -0.7 / -0.5 (77 withheld): -1.0 kept. The words' mean, their least
            likely token, or the words after a leading "the" or "with" in place of their sum: no better.
    """

    max_sources: int = 3
    context: int = 2
    floor: float = 0.8
    max_tokens: int = 40
    max_phrase_words: int = 8
    min_phrase_logprob: float = -1.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_sources <= 9 or not 0 <= self.context <= 5 or not 8 <= self.max_tokens <= 256:
            raise ConfigError("max_sources must be 1-9, context 0-5, max_tokens 8-256")
        if not 1 <= self.max_phrase_words <= 64:
            raise ConfigError("max_phrase_words must be 1-64")
        if not 0.0 <= self.floor <= 2.0:
            raise ConfigError("floor must be 0-2")
        if not self.min_phrase_logprob <= 0.0:
            raise ConfigError("min_phrase_logprob must be 0 or less (a log-probability; -inf shows every phrase)")


class ReaderGenerator:
    """Answers with phrases the model copies from windows of the articles (see the module docstring).

    Args:
        llm: the model; one that can hold its decoding to a constraint (`ConstrainedLLM`) always
            copies; another is read and checked the same way.
        embedder, cross_encoder: for the sentence ranker.
        prompt: the prompt pieces (default `Prompt()`).
        config: windows and reply settings.
        ranking: the ranker's weights and refusal threshold.
        name: the generator's name as reported in answers.
    """

    def __init__(
        self,
        llm: LLM,
        embedder: Embedder,
        cross_encoder: CrossEncoder | None = None,
        *,
        prompt: Prompt | None = None,
        config: ReaderConfig | None = None,
        ranking: RankingConfig | None = None,
        name: str = "local",
    ) -> None:
        self.llm = llm
        self.name = name
        self.extractive = ExtractiveGenerator(embedder, cross_encoder, ranking=ranking)  # the ranker's quotes
        self.ranker = self.extractive.ranker
        self.prompt = prompt or Prompt()
        self.config = config or ReaderConfig()

    def generate(self, question: str | Question, passages: Sequence[ScoredChunk]) -> Answer:
        return final_answer(self.stream(question, passages))

    def warm_up(self) -> None:
        """Load the model and read the fixed part of the prompt now (a server calls it as it starts), so
        that the first question is answered as fast as the next ones."""
        window = Window.of(ArticleRef("warm-up"), "The newsroom opened on Monday.", 0)
        constraint = CopyConstraint([window], "When did the newsroom open?")
        constrained_replies(self.llm, [self.prompt.messages("When did the newsroom open?", [window])], [constraint], max_tokens=8)

    def stream(self, question: str | Question, passages: Sequence[ScoredChunk]) -> Iterator[str | Answer]:
        """The `Answer` (nothing to stream: the model writes a few copied words)."""
        q = analyse(question)
        ranking = self.ranker.rank(q, passages)
        if ranking.another_time:
            yield another_time(q, ranking, self.name)
            return
        if ranking.unanswered:
            yield refusal(q.text, self.name)
            return
        if q.comparison:
            yield self.compare(q, ranking)
            return
        windows = self.windows(q, ranking)
        if not windows:  # only another year's articles, or only instructions to an AI
            yield self._related(q, ranking, [Claim.refusal(_no_year(q))] if q.year else [])
            return
        constraint = CopyConstraint(windows, q.text, items=len(q.parts))
        messages = self.prompt.messages(q.text, windows)
        reply = constrained_replies(self.llm, [messages], [constraint], max_tokens=self.config.max_tokens * len(q.parts))[0]
        yield self.read_reply(q, reply, constraint, ranking)

    # --- what the model is shown -----------------------------------------------------

    def windows(self, q: Question, ranking: Ranking) -> list[Window]:
        """The best sentences with their context, merged per passage, best first (see the module docstring)."""
        cfg = self.config
        floor = cfg.floor * self.ranker.config.min_score
        order = _by_year(q, ranking)
        spans: list[tuple[ScoredChunk, int, int, float]] = []
        for i in order:
            if len(spans) >= cfg.max_sources or (spans and ranking.scores[i] < floor):
                break
            cand = ranking.candidates[i]
            chunk = cand.passage.chunk
            sentences = [(chunk.start + s, chunk.start + e) for s, e in chunk.sentence_spans()]
            at = next((k for k, (s, _e) in enumerate(sentences) if s == cand.start), None)
            start, end = (cand.start, cand.end) if at is None else (
                sentences[max(0, at - cfg.context)][0], sentences[min(len(sentences) - 1, at + cfg.context)][1])  # fmt: skip
            for k, (p, s, e, score) in enumerate(spans):
                if p.chunk.id == chunk.id and s <= end and start <= e:
                    spans[k] = (p, min(s, start), max(e, end), score)
                    break
            else:
                spans.append((cand.passage, start, end, float(ranking.scores[i])))
        out: list[Window] = []
        for passage, start, end, score in spans:
            chunk = passage.chunk
            sentences = [(chunk.start + s, chunk.start + e) for s, e in chunk.sentence_spans()]
            for a, b in screen_span(chunk.text, chunk.start, start, end, list(chunk.sentence_spans())):
                text = chunk.text[a - chunk.start : b - chunk.start]
                out.append(Window.of(chunk.article, text, a, sentences, score))
        return out[: cfg.max_sources]

    # --- the answer --------------------------------------------------------------------

    def read_reply(self, q: Question, reply: Reply | str, constraint: CopyConstraint, ranking: Ranking) -> Answer:
        """The claims a reply makes (see the module docstring); `reply` may break the grammar."""
        reply = reply if isinstance(reply, Reply) else Reply.written(reply)
        cites = _Citations()
        lines = [line.strip() for line in reply.text.strip().split("\n")]
        found = constraint.read(reply.text)
        sure = constraint.confidence(reply)
        direct: list[Claim] = []
        quotes: list[Claim] = []
        unsupported: list[str] = []
        several = len(q.parts) > 1
        for k, part in enumerate(q.parts):
            label = part if several else ""
            line = lines[k] if k < len(lines) else ""
            got = found[k] if k < len(found) else None
            named = constraint.named(line)
            if got is not None:
                n, phrase = got
                window = constraint.windows[n - 1]
                quote = window.quote_of(phrase)
                citation = cites.of(quote, window.score)
                if several and not self._shows(phrase.text, sure[k]):
                    quote_claim = Claim.quote(citation, quote, part=label)  # a clause copied, or unsure: its sentence answers the part
                else:
                    direct.append(Claim.phrase(phrase, quote, citation, part=label, logprob=sure[k]))
                    quote_claim = Claim.quote(citation, quote)  # the phrase names its part; a quote may back several
            elif named is not None:
                # A reply that is no phrase of the window it names (a backend that cannot constrain its
                # decoding): not shown; the window's best sentence, which the model chose, is.
                unsupported.append(line)
                window = constraint.windows[named - 1]
                quote = _best_in(window, ranking)
                quote_claim = Claim.quote(cites.of(quote, window.score), quote, part=label)  # in place of the part's phrase
            else:
                if line and not constraint.is_none(line):
                    unsupported.append(line)
                direct.append(Claim.refusal(part=label))
                continue
            if all(c.text != quote_claim.text for c in quotes):
                quotes.append(quote_claim)
        if not several:
            ranked = self.extractive.answer(q, _quotable(ranking))  # what the extractive generator would quote
            spans = [c.span for c in ranked.claims if c.kind == "quote" and c.span is not None]
            withheld = bool(direct) and direct[0].kind == "phrase" and not self._shows(direct[0].text, sure[0])
            if withheld:
                # A phrase the model was unsure of: not shown; the sentence it was copied from is, first, as for a
                # part of a question of several. A clause or a whole sentence copied (the model chose a sentence,
                # not an answer in it): read as "none", the ranker's quotes answer.
                if self._clause(direct[0].text) and spans:
                    quotes, cites = [], _Citations()  # its sentence is neither quoted nor cited
                direct = []
            if not quotes:
                # The model copied nothing, but the ranker found the question answered: its quotes are the answer
                # (on the tune half the model's "none" was right for 1 of 10 such questions).
                quotes = [Claim.quote(cites.of(sp, _score_of(ranked, sp)), sp) for sp in spans]
                direct = []
            elif withheld or (direct and direct[0].kind == "phrase" and any(_same_span(quotes[0].span, sp) for sp in spans)):
                # The phrase's sentence without it, or a phrase in a sentence the ranker quotes too: the ranker's
                # other quotes back the answer as well.
                quotes += [Claim.quote(cites.of(sp, _score_of(ranked, sp)), sp) for sp in spans if not _same_span(quotes[0].span, sp)]
        if not quotes:
            return self._related(q, ranking, direct, unsupported)
        return Answer.of_claims([*direct, *quotes], cites.list, question=q.text, generator=self.name, unsupported=unsupported)

    def _shows(self, phrase: str, logprob: float | None) -> bool:
        """Whether a copied phrase is shown: an answer, not a clause or a sentence, that the model was sure of
        (unknown for a backend that does not say)."""
        return not self._clause(phrase) and (logprob is None or logprob >= self.config.min_phrase_logprob)

    def _clause(self, phrase: str) -> bool:
        """Whether a copied "phrase" is a clause or a sentence (more than `max_phrase_words` words), not an answer."""
        return len(phrase.split()) > self.config.max_phrase_words

    def compare(self, q: Question, ranking: Ranking) -> Answer:
        """Each article's best sentence, oldest first: a comparison is answered by what each one says."""
        ranking = _quotable(ranking)
        if not ranking.order:
            return refusal(q.text, self.name)
        first = ranking.order[0]
        picks = [first]
        other = ranking.other_side({ranking.candidates[first].passage.chunk.doc_id})
        if other is not None:
            picks.append(other)
        picks.sort(key=lambda i: (ranking.candidates[i].passage.chunk.article.date or "9999", i))
        cites = _Citations()
        claims = []
        for i in picks:
            quote = _candidate_span(ranking, i)
            claims.append(Claim.quote(cites.of(quote, float(ranking.scores[i])), quote))
        return Answer.of_claims(claims, cites.list, question=q.text, generator=self.name)

    def _related(self, q: Question, ranking: Ranking, claims: list[Claim], unsupported: Sequence[str] = ()) -> Answer:
        """A refusal, with the best sentence shown as related (what the articles say near the question)."""
        cites = _Citations()
        refusals = [c for c in claims if c.kind == "refusal"] or [Claim.refusal()]
        ranking = _quotable(ranking)
        if not ranking.order:
            return Answer.of_claims(refusals, [], question=q.text, generator=self.name, unsupported=unsupported)
        best = ranking.order[0]
        quote = _candidate_span(ranking, best)
        c = cites.of(quote, float(ranking.scores[best]))
        related = Claim("quote", quote.text, (c.n,), "related", "", (), quote)
        return Answer.of_claims([*refusals, related], cites.list, question=q.text, generator=self.name, unsupported=unsupported)


class _Citations:
    """The answer's citations, one per distinct quoted span, numbered in order."""

    def __init__(self) -> None:
        self.list: list[Citation] = []

    def of(self, span: Span, score: float) -> Citation:
        for c in self.list:
            if (c.doc_id, c.start, c.end) == (span.article.doc_id, span.start, span.end):
                return c
        made = Citation.of(span, len(self.list) + 1, min(1.0, max(0.0, score)))
        self.list.append(made)
        return made


def _same_span(a: Span | None, b: Span) -> bool:
    return a is not None and (a.article.doc_id, a.start, a.end) == (b.article.doc_id, b.start, b.end)


def _score_of(answer: Answer, span: Span) -> float:
    """The ranker's score of the quoted sentence `span` (its citation's score in `answer`)."""
    return next((c.score for c in answer.citations if (c.doc_id, c.start) == (span.article.doc_id, span.start)), 0.0)


def _quotable(ranking: Ranking) -> Ranking:
    """The ranking without sentences that address instructions to an AI: never quoted either (`rag.screen`),
    as a quote would carry the instruction to whatever reads the answer."""
    return replace(ranking, order=[i for i in ranking.order if not addressed_to_ai(ranking.candidates[i].text)])


def _candidate_span(ranking: Ranking, i: int) -> Span:
    c = ranking.candidates[i]
    chunk = c.passage.chunk
    return Span.of(chunk.article, chunk.text, chunk.start, c.start, c.end)


def _best_in(window: Window, ranking: Ranking) -> Span:
    """The best-ranked sentence inside `window`."""
    for i in ranking.order:
        c = ranking.candidates[i]
        if c.passage.chunk.doc_id == window.article.doc_id and window.start <= c.start and c.end <= window.end:
            return window.best_sentence(c.start)
    return window.best_sentence(window.start)


def _by_year(q: Question, ranking: Ranking) -> list[int]:
    """The ranking's order, for a question that names a year: only sentences whose passage can report
    an event of that year (its article is of that year or its passage names it, first; then undated
    articles whose latest reported date is no later, the latest first); every sentence otherwise."""
    if q.year is None:
        return list(ranking.order)
    year = str(q.year)
    keyed = []
    for rank, i in enumerate(ranking.order):
        chunk = ranking.candidates[i].passage.chunk
        ref = chunk.article
        if ref.published_at[:4] == year or year in chunk.text:
            keyed.append(((0, "", rank), i))
        elif not ref.published_at and ref.inferred_date and ref.inferred_date[:4] <= year:
            keyed.append(((1, _inverse(ref.inferred_date), rank), i))
    return [i for _, i in sorted(keyed)]


def _inverse(day: str) -> str:
    """A key that sorts ISO dates latest first."""
    return "".join(chr(ord("9") - ord(ch) + ord("0")) if ch.isdigit() else ch for ch in day)


def _no_year(q: Question) -> str:
    return f"The articles don't say: none of them is from {q.year} or names it."
