"""Sentence-aware chunking with exact character offsets.

Chunks are runs of whole sentences packed up to `chunk_size` tokens of the
embedding model (so nothing is silently cut off at embedding time), with up to
`chunk_overlap` tokens of whole sentences repeated from the previous chunk.
Because a chunk is a span of the article, `article.text[start:end] == chunk.text`
holds by construction; llama-index's `SentenceSplitter` returns strings instead,
which then have to be found again in the text (and can be found at the wrong
place when a sentence repeats).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from core.errors import ConfigError
from core.sentences import sentence_spans

from .types import Article, Chunk

TokenCounter = Callable[[Sequence[str]], list[int]]


@dataclass(frozen=True)
class ChunkingConfig:
    """Validated chunking settings, in tokens of the embedding model.

    Raises:
        ConfigError: when a value is out of range.
    """

    chunk_size: int = 200
    chunk_overlap: int = 40

    def __post_init__(self) -> None:
        if not isinstance(self.chunk_size, int) or not 16 <= self.chunk_size <= 8192:
            raise ConfigError(f"chunk_size must be an integer from 16 to 8192 tokens, got {self.chunk_size!r}")
        if not isinstance(self.chunk_overlap, int) or not 0 <= self.chunk_overlap <= self.chunk_size // 2:
            raise ConfigError(
                f"chunk_overlap must be an integer from 0 to half the chunk size ({self.chunk_size // 2}), "
                f"got {self.chunk_overlap!r}"
            )

    def fingerprint(self) -> str:
        return f"size={self.chunk_size},overlap={self.chunk_overlap}"


def word_counter(texts: Sequence[str]) -> list[int]:
    """A token counter that counts white-space separated words (for tests and fakes)."""
    return [len(t.split()) for t in texts]


def chunk_article(article: Article, config: ChunkingConfig, count_tokens: TokenCounter) -> list[Chunk]:
    """Split an article into chunks of whole sentences (long sentences are split at spaces)."""
    text = article.text
    spans, sizes = _fit_spans(text, list(sentence_spans(text)), config.chunk_size, count_tokens)
    if not spans:
        return []
    meta = article.metadata()
    chunks: list[Chunk] = []
    first = 0
    while first < len(spans):
        last, total = first, sizes[first]
        while last + 1 < len(spans) and total + sizes[last + 1] <= config.chunk_size:
            last += 1
            total += sizes[last]
        start, end = spans[first][0], spans[last][1]
        sentences = tuple((s - start, e - start) for s, e in spans[first : last + 1])
        chunks.append(Chunk(article.id, len(chunks), text[start:end], start, end, meta, sentences, total))
        if last + 1 >= len(spans):
            break
        # Next chunk starts with as many trailing sentences as fit in the overlap.
        nxt, overlap = last + 1, 0
        while nxt - 1 > first and overlap + sizes[nxt - 1] <= config.chunk_overlap:
            nxt -= 1
            overlap += sizes[nxt]
        first = nxt
    return chunks


def _fit_spans(
    text: str, spans: list[tuple[int, int]], limit: int, count_tokens: TokenCounter
) -> tuple[list[tuple[int, int]], list[int]]:
    """Split any sentence longer than `limit` tokens into pieces at spaces; the spans and their token counts.

    Each sentence is tokenised once; only the pieces of a split one are counted again.
    """
    sizes = count_tokens([text[s:e] for s, e in spans]) if spans else []
    fitted: list[tuple[int, int]] = []
    fitted_sizes: list[int] = []
    for (start, end), size in zip(spans, sizes):
        if size <= limit:
            fitted.append((start, end))
            fitted_sizes.append(size)
        else:
            pieces = _split_long(text, start, end, limit, count_tokens)
            fitted.extend(pieces)
            fitted_sizes.extend(count_tokens([text[s:e] for s, e in pieces]))
    return fitted, fitted_sizes


def _split_long(text: str, start: int, end: int, limit: int, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    words: list[tuple[int, int]] = []
    pos = start
    for word in text[start:end].split():
        ws = text.index(word, pos)
        words.append((ws, ws + len(word)))
        pos = ws + len(word)
    sizes = count_tokens([text[s:e] for s, e in words])
    pieces: list[tuple[int, int]] = []
    piece_start, total = words[0][0], 0
    prev_end = words[0][1]
    for (ws, we), size in zip(words, sizes):
        if total and total + size > limit:
            pieces.append((piece_start, prev_end))
            piece_start, total = ws, 0
        if size > limit:  # one "word" longer than the limit (a URL, a table): cut by characters
            pieces.extend(_split_chars(ws, we, limit, text, count_tokens))
            piece_start, total = we, 0
            prev_end = we
            continue
        total += size
        prev_end = we
    if total:
        pieces.append((piece_start, prev_end))
    return [(s, e) for s, e in pieces if e > s]


def _split_chars(start: int, end: int, limit: int, text: str, count_tokens: TokenCounter) -> list[tuple[int, int]]:
    step = max(1, limit)  # one token is at least one character
    out = []
    pos = start
    while pos < end:
        stop = min(end, pos + step)
        while stop - pos > 1 and count_tokens([text[pos:stop]])[0] > limit:
            stop = pos + (stop - pos) // 2
        out.append((pos, stop))
        pos = stop
    return out
