"""The records that flow through ingest: an `Article` in, `Chunk`s out."""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field, fields, replace

from core.screen import addressed_to_ai
from core.sentences import sentence_spans


@dataclass(frozen=True)
class ArticleRef:
    """Which article a passage, source or citation comes from: what a reader is shown besides the text."""

    doc_id: str
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""
    inferred_date: str = ""  # for an article without `published_at`: the latest date its text reports (index.dates)

    @property
    def date(self) -> str:
        """The publication date, else the inferred one ("" when neither is known)."""
        return self.published_at or self.inferred_date

    @classmethod
    def from_metadata(cls, meta: dict[str, str]) -> ArticleRef:
        """The reference a chunk's metadata holds (missing keys are empty).

        A title that reads as an instruction to an AI system (`core.screen`; an
        untitled article's title is its first line) is left out: it would reach the
        model beside every passage of the article. It stays in the store.
        """
        ref = cls(*(str(meta.get(f.name, "")) for f in fields(cls)))
        return replace(ref, title="") if ref.title and addressed_to_ai(ref.title) else ref


@dataclass(frozen=True)
class Article:
    """One news article after loading and cleaning.

    Attributes:
        id: stable identifier: the record `id`, or for a file its file name.
        text: the cleaned article body; every offset in the product refers to it.
        title, source, url, published_at: metadata, empty strings when unknown
            (`published_at` is an ISO 8601 date or datetime when known).
        origin: where it was loaded from (path, and line for JSON Lines).
    """

    id: str
    text: str
    title: str = ""
    source: str = ""
    url: str = ""
    published_at: str = ""
    origin: str = ""
    inferred_date: str = ""

    def content_hash(self) -> str:
        """A fingerprint of everything that ends up in the store for this article."""
        h = hashlib.sha256()
        for part in (self.id, self.title, self.source, self.url, self.published_at, self.text):
            h.update(part.encode("utf-8"))
            h.update(b"\x00")
        return h.hexdigest()

    @property
    def ref(self) -> ArticleRef:
        return ArticleRef(self.id, self.title, self.source, self.url, self.published_at, self.inferred_date)

    def metadata(self) -> dict[str, str]:
        """The metadata every chunk of this article carries: its reference's fields."""
        return asdict(self.ref)


@dataclass(frozen=True)
class Chunk:
    """A contiguous passage of an article: `article.text[start:end] == text`.

    `sentences` holds the `(start, end)` offsets of its sentences within `text`,
    as the chunker found them at ingest (stored with the chunk); empty when
    unknown (a store written before they were kept), and then
    `sentence_spans()` finds them again. `tokens` is the length of `text` in
    the embedder's tokenizer as the chunker counted it (the sum of its
    sentences'; 0 when unknown, as for chunks read back from a store).
    """

    doc_id: str
    index: int
    text: str
    start: int
    end: int
    metadata: dict[str, str] = field(default_factory=dict)
    sentences: tuple[tuple[int, int], ...] = ()
    tokens: int = 0

    @property
    def article(self) -> ArticleRef:
        """The article this chunk belongs to."""
        return ArticleRef.from_metadata({**self.metadata, "doc_id": self.doc_id})

    def sentence_spans(self) -> tuple[tuple[int, int], ...]:
        """Offsets of the chunk's sentences within `text`."""
        return self.sentences or tuple(sentence_spans(self.text))

    @property
    def id(self) -> str:
        """Stable id: the same article and position always give the same id."""
        return f"{self.doc_id}::{self.index:05d}"


@dataclass(frozen=True)
class ScoredChunk:
    """A chunk found by a search.

    Attributes:
        score: its score in the ranking that produced it, higher is better:
            cosine similarity from the vector store, BM25 from the keyword
            index, reciprocal-rank fusion after fusing. Compare it only within
            one ranking.
        similarity: cosine similarity of chunk and query, when known (the
            vector store's hits; the retriever fills it in for every passage it
            returns). What generators read as a feature.
    """

    chunk: Chunk
    score: float
    similarity: float | None = None

    @property
    def cosine(self) -> float:
        """`similarity`, or 0.0 when the search that found the chunk had none."""
        return self.similarity if self.similarity is not None else 0.0


@dataclass(frozen=True)
class ArticleInfo:
    """What the store knows about one ingested article, without its text."""

    id: str
    title: str
    source: str
    url: str
    published_at: str
    chunks: int
    origin: str
    inferred_date: str = ""
