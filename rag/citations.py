"""Check a generated answer against its sources, sentence by sentence.

A model's draft is never shown as the final answer unchecked:

1. `[n]` markers that point to no source are removed.
2. Each answer sentence is matched to the sentence (or two adjacent sentences)
   of each source it cites that best supports it; that becomes the citation's
   `quote`, with its exact offsets in the article.
3. The support judge decides whether the quote supports the sentence (what
   the sentence repeats from the question is granted; when no quote alone
   supports it, the article's headline, which the model saw with its source,
   is read with the quote). When
   the cited source does not, the other sources are tried (models often cite
   the wrong number); a sentence with no marker is treated the same way.
4. Sentences no source supports are dropped from the answer and listed in
   `Answer.unsupported`, and so are short phrases that only repeat words of
   the question ("Florida [1]" for "Florida's governor began his campaign in
   which state?"): a reply that adds nothing to the question does not answer it.
   If nothing supported remains, the answer is a refusal.

Markers are then renumbered in order of appearance, one per distinct quote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import core.text as tf
from core.sentences import sentence_spans
from index.types import ArticleRef

from .judges import LexicalJudge, SupportJudge, Verdict, judge_all
from .types import Answer, Citation, refusal

_MARKER = re.compile(r"\s*\[(\d+(?:\s*(?:,|;|and)\s*\d+)*)\]")
_MARKERS_AFTER_PERIOD = re.compile(r"([.!?])((?:\s*\[\d+(?:\s*(?:,|;|and)\s*\d+)*\])+)\s*")
_ONLY_MARKERS = re.compile(r"^\s*(?:\[[\d\s,;and]+\]\s*)+[.!?]?\s*$")
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.I)
_REFUSAL = re.compile(
    r"^\W*(the\s+)?(articles?|sources?|documents?|provided\s+(texts?|sources?))\s+(do\s+not|don['’]t|does\s+not|doesn['’]t)\s+"
    r"(say|mention|contain|provide|include|state)|^\W*(i\s+(don['’]t|do\s+not)\s+know|there\s+is\s+no\s+information)",
    re.I,
)


@dataclass(frozen=True)
class Source:
    """A numbered passage shown to the model: a span of one article.

    Attributes:
        n: the number the model sees, from 1.
        article: the article it comes from.
        text: the article text of the span, verbatim.
        start, end: the span's offsets in the article text.
        sentences: absolute `(start, end)` spans of its sentences.
    """

    n: int
    article: ArticleRef
    text: str
    start: int
    end: int
    sentences: tuple[tuple[int, int], ...]

    @property
    def doc_id(self) -> str:
        return self.article.doc_id

    @property
    def title(self) -> str:
        return self.article.title

    def quote_candidates(self) -> list[tuple[int, int]]:
        """Single sentences and adjacent pairs of sentences, as absolute spans."""
        spans = list(self.sentences)
        pairs = [(a[0], b[1]) for a, b in zip(spans, spans[1:])]
        return spans + pairs

    def span_text(self, start: int, end: int) -> str:
        return self.text[start - self.start : end - self.start]


def is_refusal(text: str) -> bool:
    """True when a model's reply says that the sources do not answer."""
    return bool(_REFUSAL.search(text.strip()))


def adds_nothing(sentence: str, question: str, *, max_words: int = 4) -> bool:
    """True when `sentence` is a short phrase (at most `max_words` words) all of whose content words are in `question`.

    Such a reply ("Florida" to "Florida's governor began his campaign in which
    state?") answers nothing. Longer sentences may rightly reuse the question's
    words ("The storm damaged two piers" to "How do the two articles differ on
    the piers?"), and a yes or no is an answer.
    """
    if not question.strip() or _YES_NO.match(sentence) or len(tf.tokens(sentence)) > max_words:
        return False
    asked = set(tf.content_terms(question))
    said = tf.content_terms(sentence)
    return bool(said) and all(tf.fuzzy_in(t, asked) for t in said)


def split_claims(text: str) -> list[tuple[str, list[int]]]:
    """Split an answer into `(sentence without markers, cited numbers)`.

    A run of markers standing after a sentence's final period ("... Monday. [1]")
    belongs to that sentence.
    """
    # "Monday. [1] It cost" -> "Monday [1]. It cost": markers go before the period they follow.
    text = _MARKERS_AFTER_PERIOD.sub(lambda m: f"{m.group(2).rstrip()}{m.group(1)} ", text)
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        piece = text[s:e]
        numbers = [int(n) for group in _MARKER.findall(piece) for n in re.findall(r"\d+", group)]
        if _ONLY_MARKERS.match(piece) and out:
            out[-1][1].extend(numbers)
            continue
        clean = _MARKER.sub("", piece).strip()
        clean = re.sub(r"\s+([.,;:!?])", r"\1", clean)
        if clean:
            out.append((clean, numbers))
    return out


class CitationChecker:
    """Turns a model's draft into a checked `Answer` (see the module docstring).

    Args:
        judge: decides whether a quote supports a sentence (default `LexicalJudge()`).
    """

    def __init__(self, judge: SupportJudge | None = None) -> None:
        self.judge = judge or LexicalJudge()

    def check(self, draft: str, sources: Sequence[Source], *, question: str = "", generator: str = "") -> Answer:
        draft = draft.strip()
        if not draft or is_refusal(draft):
            return refusal(question, generator)
        by_n = {s.n: s for s in sources}
        kept: list[tuple[str, list[tuple[Source, int, int, Verdict]]]] = []
        unsupported: list[str] = []
        for sentence, cited in split_claims(draft):
            if is_refusal(sentence):
                continue
            if adds_nothing(sentence, question):
                unsupported.append(sentence)
                continue
            valid = [by_n[n] for n in dict.fromkeys(cited) if n in by_n]
            support = self._supported_by(sentence, valid, question)
            if not support:
                others = [s for s in sources if s not in valid]
                support = self._supported_by(sentence, others, question)[:1]
            if support:
                kept.append((sentence, support))
            else:
                unsupported.append(sentence)
        if not kept:
            return Answer(
                text=refusal(question, generator).text,
                refused=True,
                question=question,
                generator=generator,
                unsupported=tuple(unsupported),
            )
        return self._assemble(kept, unsupported, question, generator)

    def _supported_by(self, sentence: str, sources: Sequence[Source], question: str = "") -> list[tuple[Source, int, int, Verdict]]:
        """For each source that supports `sentence`: its best quote span and the verdict."""
        out = []
        for src in sources:
            spans = src.quote_candidates()
            texts = [src.span_text(s, e) for s, e in spans]
            verdicts = judge_all(self.judge, sentence, texts, premise=question)
            if src.title and not any(v.supported for v in verdicts):
                # The model read the headline with the source: a claim it completes is supported too.
                verdicts = judge_all(self.judge, sentence, [_with_headline(src, t) for t in texts], premise=question)
            # Prefer supported, then the higher score, then the shorter quote.
            best = max(range(len(spans)), key=lambda i: (verdicts[i].supported, verdicts[i].score, -(spans[i][1] - spans[i][0])))
            if verdicts[best].supported:
                out.append((src, spans[best][0], spans[best][1], verdicts[best]))
        return sorted(out, key=lambda item: -item[3].score)

    def _assemble(self, kept, unsupported, question, generator) -> Answer:
        citations: list[Citation] = []
        numbers: dict[tuple[str, int, int], int] = {}
        parts = []
        for sentence, support in kept:
            marks = []
            for src, start, end, verdict in support:
                key = (src.doc_id, start, end)
                if key not in numbers:
                    numbers[key] = len(numbers) + 1
                    citations.append(
                        Citation.of(src.article, numbers[key], src.span_text(start, end), start, end, float(verdict.score))
                    )
                marks.append(f"[{numbers[key]}]")
            body = sentence.rstrip()
            end_punct = body[-1] if body and body[-1] in ".!?" else ""
            body = body[:-1] if end_punct else body
            parts.append(f"{body} {''.join(dict.fromkeys(marks))}{end_punct}")
        return Answer(
            text=" ".join(parts),
            refused=False,
            citations=tuple(citations),
            question=question,
            generator=generator,
            unsupported=tuple(unsupported),
        )


def _with_headline(src: Source, quote: str) -> str:
    """The text a judge reads for a quote: the article's headline (shown to the model too), then the quote."""
    title = " ".join(src.title.split()).rstrip(" .…")
    return f"{title}. {quote}" if title else quote


def sources_from_spans(spans: Sequence[tuple[object, int, int]]) -> list[Source]:
    """Build numbered sources from `(passage, start, end)` spans (article offsets).

    `passage` is an `index.types.ScoredChunk` whose chunk contains the span.
    """
    out = []
    for n, (passage, start, end) in enumerate(spans, start=1):
        chunk = passage.chunk  # type: ignore[attr-defined]
        text = chunk.text[start - chunk.start : end - chunk.start]
        # The chunk's sentences (found at ingest) that make up the span; found again if the span cuts one.
        inside = [(chunk.start + s, chunk.start + e) for s, e in chunk.sentence_spans() if start <= chunk.start + s and chunk.start + e <= end]
        text_covered = bool(inside) and inside[0][0] == start and inside[-1][1] == end
        sentences = tuple(inside) if text_covered else tuple((start + s, start + e) for s, e in sentence_spans(text))
        out.append(Source(n, chunk.article, text, start, end, sentences))
    return out
