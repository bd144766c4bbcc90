"""Typed results: an `Answer` is a list of `Claim`s, each backed by its `Citation`s.

A claim is one of four kinds, and no code path can make another:

- `quote`: sentences of an article, verbatim (`Claim.quote`);
- `phrase`: the direct answer, words copied from a quote the answer shows
  (`Claim.phrase`: a `Span` inside that quote's span);
- `sentence`: a sentence the model wrote, shown only with the names of the
  judges that all passed it (`Claim.sentence`);
- `refusal`: the articles do not answer (the question, or one part of it).

Quotes and phrases are `Span`s, and a `Span` is only ever made by slicing its
article's text (`Span.of`): the text of a quote or a phrase cannot differ from
the article at its offsets. The CLI, the web chat, REST, MCP and the
evaluation all read these same objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from index.types import ArticleRef

REFUSAL_TEXT = "The articles don't say."
KINDS = ("quote", "phrase", "sentence", "refusal")
_SLICED = object()  # only Span.of passes it: a Span is always a slice of its article


@dataclass(frozen=True)
class Span:
    """Text of one article at `[start:end]` of its cleaned text; made only by `Span.of` (slicing)."""

    article: ArticleRef
    start: int
    end: int
    text: str
    _made_by: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._made_by is not _SLICED:
            raise TypeError("a Span is made by slicing its article: Span.of(article, text, offset, start, end)")

    @classmethod
    def of(cls, article: ArticleRef, text: str, offset: int, start: int, end: int) -> Span:
        """The span `[start:end]` of an article, given `text`, the article's text from offset `offset`
        (the whole text with `offset=0`, or a chunk with its start).

        Raises:
            ValueError: the span is empty or does not lie inside `text`.
        """
        if not offset <= start < end <= offset + len(text):
            raise ValueError(f"span {start}-{end} is not inside the text at {offset}-{offset + len(text)}")
        return cls(article, start, end, text[start - offset : end - offset], _SLICED)

    def within(self, other: Span) -> bool:
        return self.article.doc_id == other.article.doc_id and other.start <= self.start and self.end <= other.end


@dataclass(frozen=True)
class Citation:
    """One `[n]` marker of an answer and the article passage that supports it.

    Attributes:
        n: the marker number used in `Answer.text`.
        doc_id, title, source, url, published_at: the cited article.
        quote: the supporting text, verbatim from the article's cleaned text.
        start, end: offsets of `quote` in that text: `article.text[start:end] == quote`.
        score: how strongly the quote matched the question (0..1, higher is better).
        date_inferred: `published_at` was inferred from the article's text (it had no date).
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
    date_inferred: bool = False

    @classmethod
    def of(cls, span: Span, n: int, score: float) -> Citation:
        """Marker `n` quoting `span` (the score is rounded to 4 places). `published_at` is the article's
        date, or the date inferred from its text (`date_inferred`) when it has none."""
        a = span.article
        date, inferred = (a.published_at, False) if a.published_at else (a.inferred_date, bool(a.inferred_date))
        return cls(n, a.doc_id, a.title, a.source, a.url, date, span.text, span.start, span.end, round(score, 4), inferred)

    @property
    def article(self) -> ArticleRef:
        if self.date_inferred:
            return ArticleRef(self.doc_id, self.title, self.source, self.url, "", self.published_at)
        return ArticleRef(self.doc_id, self.title, self.source, self.url, self.published_at)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Claim:
    """One claim of an answer: a quote, a copied phrase, a written sentence or a refusal (see the module docstring).

    Attributes:
        kind: "quote", "phrase", "sentence" or "refusal".
        text: what is shown: for a quote or a phrase, the article's own text at its span.
        citations: the markers `n` of `Answer.citations` that back it (a phrase: the quote it was copied from).
        role: "answer", or "related" for what the articles say near a question they do not answer.
        part: the part of a question of several parts that it answers ("" for the whole question).
        checked_by: a written sentence's judges, every one of which passed it.
        span: where a quote or a phrase is in its article.
        logprob: for a copied phrase, how sure the model was of it (the log-probability it gave the source's
            number and the phrase's tokens); None when the backend does not say.
    """

    kind: str
    text: str
    citations: tuple[int, ...] = ()
    role: str = "answer"
    part: str = ""
    checked_by: tuple[str, ...] = ()
    span: Span | None = field(default=None, repr=False)
    logprob: float | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS or self.role not in ("answer", "related"):
            raise ValueError(f"no such claim: kind {self.kind!r}, role {self.role!r}")
        if self.kind in ("quote", "phrase") and (self.span is None or self.span.text != self.text or not self.citations):
            raise ValueError(f"a {self.kind} is its article's text at its span, with a citation")
        if self.kind == "sentence" and not (self.checked_by and self.citations):
            raise ValueError("a written sentence is shown only with its citations and the judges that passed it")

    @classmethod
    def quote(cls, citation: Citation, span: Span, *, role: str = "answer", part: str = "") -> Claim:
        """The quoted passage `span`, cited as `citation` (whose quote it is)."""
        if citation.quote != span.text or citation.start != span.start or citation.doc_id != span.article.doc_id:
            raise ValueError("a quote claim shows its citation's own passage")
        return cls("quote", span.text, (citation.n,), role, part, (), span)

    @classmethod
    def phrase(cls, span: Span, quote: Span, citation: Citation, *, part: str = "", logprob: float | None = None) -> Claim:
        """A phrase copied from `quote` (the passage `citation` shows), `logprob` how sure the model was of it.

        Raises:
            ValueError: `span` is not inside `quote`, or `citation` does not show `quote`.
        """
        if not span.within(quote) or citation.quote != quote.text or citation.start != quote.start:
            raise ValueError("a phrase is copied from a quote the answer shows")
        return cls("phrase", span.text, (citation.n,), "answer", part, (), span, logprob)

    @classmethod
    def sentence(cls, text: str, citations: tuple[int, ...], checked_by: tuple[str, ...], *, part: str = "") -> Claim:
        """A sentence the model wrote, passed by every judge in `checked_by` against the cited quotes."""
        return cls("sentence", text, citations, "answer", part, checked_by)

    @classmethod
    def refusal(cls, text: str = REFUSAL_TEXT, *, part: str = "") -> Claim:
        return cls("refusal", text, (), "answer", part)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind, "text": self.text, "citations": list(self.citations), "role": self.role}
        if self.part:
            out["part"] = self.part
        if self.checked_by:
            out["checked_by"] = list(self.checked_by)
        if self.span is not None:
            out |= {"doc_id": self.span.article.doc_id, "start": self.span.start, "end": self.span.end}
        if self.logprob is not None:
            out["logprob"] = round(self.logprob, 3)
        return out


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
        text: the claims as one text, with `[n]` markers (`render_claims`); a
            short "the articles don't say" message when `refused`.
        refused: True when the articles hold no grounded answer (no claim but refusals and related quotes).
        citations: one per `[n]` marker, in marker order.
        question: the question as asked.
        generator: name of the generator that wrote the answer.
        passages: the retrieved passages, best first.
        unsupported: what the model wrote that was not shown (a phrase no source holds, a sentence a judge did not pass).
        claims: the answer's claims, in the order shown (the direct answer first).
    """

    text: str
    refused: bool
    citations: tuple[Citation, ...] = ()
    question: str = ""
    generator: str = ""
    passages: tuple[Passage, ...] = field(default=(), repr=False)
    unsupported: tuple[str, ...] = ()
    claims: tuple[Claim, ...] = ()

    @classmethod
    def of_claims(cls, claims: Sequence[Claim], citations: Sequence[Citation], *, question: str = "", generator: str = "",
                  unsupported: Sequence[str] = ()) -> Answer:  # fmt: skip
        """The answer made of `claims`: its text is `render_claims(claims)`; refused when no claim answers."""
        refused = not any(c.role == "answer" and c.kind != "refusal" for c in claims)
        return cls(render_claims(claims), refused, tuple(citations), question, generator, (), tuple(unsupported), tuple(claims))

    @property
    def direct(self) -> Claim | None:
        """The first claim: the direct answer (a phrase when one was copied), or the refusal."""
        return self.claims[0] if self.claims else None

    def to_dict(self) -> dict[str, Any]:
        """The JSON form printed by `rag query --json` (and sent by REST and MCP)."""
        return {
            "answer": self.text,
            "refused": self.refused,
            "claims": [c.to_dict() for c in self.claims],
            "citations": [c.to_dict() for c in self.citations],
            "generator": self.generator,
            "unsupported": list(self.unsupported),
        }


def render_claims(claims: Sequence[Claim]) -> str:
    """The claims as one plain text with `[n]` markers: the direct answer, then what backs it; related quotes after "Related:"."""
    parts: list[str] = []
    related_open = False
    for c in claims:
        marks = "".join(f"[{n}]" for n in c.citations)
        if c.role == "related" and not related_open:
            parts.append("Related:")
            related_open = True
        body = " ".join(c.text.split())
        if c.kind == "phrase":
            body = f"{c.part.rstrip('?')}: {body}" if c.part else body
            parts.append(f"{body} {marks}.")
        elif c.kind == "refusal":
            parts.append(f"{c.part.rstrip('?')}: {c.text}" if c.part else c.text)
        else:
            parts.append(f"{body} {marks}".strip())
    return " ".join(parts)


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
    return Answer(text=text, refused=True, question=question, generator=generator, passages=passages, claims=(Claim.refusal(text),))
