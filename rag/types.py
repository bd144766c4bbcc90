"""Typed results: an `Answer` carries its `Citation`s and the passages it was drawn from.

The CLI, the web chat and the evaluation all read these same objects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from index.types import ArticleRef

REFUSAL_TEXT = "The articles don't say."


@dataclass(frozen=True)
class Citation:
    """One `[n]` marker of an answer and the article passage that supports it.

    Attributes:
        n: the marker number used in `Answer.text`.
        doc_id, title, source, url, published_at: the cited article.
        quote: the supporting text, verbatim from the article's cleaned text.
        start, end: offsets of `quote` in that text: `article.text[start:end] == quote`.
        score: how strongly the quote matched the question (0..1, higher is better).
    """

    n: int
    doc_id: str
    title: str
    source: str
    url: str
    published_at: str
    quote: str
    start: int
    end: int
    score: float

    @classmethod
    def of(cls, article: ArticleRef, n: int, quote: str, start: int, end: int, score: float) -> Citation:
        """Marker `n` quoting `article`'s text from `start` to `end` (the score is rounded to 4 places)."""
        return cls(n, article.doc_id, article.title, article.source, article.url, article.published_at, quote, start, end, round(score, 4))

    @property
    def article(self) -> ArticleRef:
        return ArticleRef(self.doc_id, self.title, self.source, self.url, self.published_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as the answerer saw it (for evaluation and the sources panel); `score` is its cosine similarity to the question."""

    chunk_id: str
    doc_id: str
    title: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Answer:
    """The answer to one question.

    Attributes:
        text: the answer, with `[n]` markers; a short "the articles don't say"
            message when `refused`.
        refused: True when the articles hold no grounded answer.
        citations: one per `[n]` marker, in marker order; empty when refused.
        question: the question as asked.
        generator: name of the generator that wrote the answer.
        passages: the retrieved passages, best first.
        unsupported: answer sentences dropped because no cited passage supports them.
    """

    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    question: str = ""
    generator: str = ""
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    unsupported: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by `rag query --json`."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "citations": [c.to_dict() for c in self.citations],
            "generator": self.generator,
            "unsupported": list(self.unsupported),
        }


def final_answer(events: Iterable[str | Answer]) -> Answer:
    """Run a stream of draft pieces and answers to its end; return the last `Answer`."""
    answer = None
    for event in events:
        if isinstance(event, Answer):
            answer = event
    if answer is None:
        raise RuntimeError("internal error: the answer stream ended without an Answer")
    return answer


def refusal(question: str, generator: str, passages: tuple[Passage, ...] = (), text: str = REFUSAL_TEXT) -> Answer:
    """An answer that says the articles do not answer the question."""
    return Answer(text=text, refused=True, question=question, generator=generator, passages=passages)
