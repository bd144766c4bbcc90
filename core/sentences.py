"""Sentence segmentation that returns character spans, not strings.

Spans let every chunk and every quote point back into the article
(`text[start:end]`), which is what makes citations checkable. The rules are
tuned for news prose: a line break always ends a sentence (headlines, captions
and one-line paragraphs carry no final period), and a period after a common
abbreviation or an initial ("Gov.", "U.S.", "J.") does not.

A hand-written splitter rather than NLTK's Punkt: importing `nltk` costs about
2.5 s, which a query pays on every cold start, and Punkt's trained English model
makes the same decisions on news text in all but rare cases.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Words that are commonly followed by a period without ending a sentence.
_ABBREVIATIONS = frozenset(
    """
    mr mrs ms mx dr prof gov sen rep gen col lt sgt capt cmdr adm maj cpl pvt rev fr
    hon pres supt insp det st mt ft ave blvd rd dept univ assn bros inc corp co ltd llc
    plc jr sr vs v no nos vol pp fig approx est al jan feb mar apr jun jul aug sep sept
    oct nov dec mon tue tues wed thu thur thurs fri sat sun e.g i.e cf
    """.split()
)

# A candidate end of sentence: terminators, then closing quotes/brackets, then space.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s)")
_OPENERS = "\"'“‘([¿¡"


def _is_boundary(text: str, match: re.Match[str]) -> bool:
    """Decide whether the terminator at `match` ends a sentence."""
    after = match.end()
    nxt = after
    while nxt < len(text) and text[nxt] in " \t":
        nxt += 1
    if nxt >= len(text) or text[nxt] == "\n":
        return True
    following = text[nxt]
    if not (following.isupper() or following.isdigit() or following in _OPENERS):
        return False
    if "." not in match.group() or "!" in match.group() or "?" in match.group():
        return True
    # A period: look at the word in front of it.
    word_start = match.start()
    while word_start > 0 and not text[word_start - 1].isspace() and text[word_start - 1] not in _OPENERS:
        word_start -= 1
    word = text[word_start : match.start()].lower()
    if not word:
        return True
    if word in _ABBREVIATIONS:
        return False
    # Initials and dotted acronyms: "J.", "U.S.", "D.C."
    return not (len(word) == 1 and word.isalpha() or re.fullmatch(r"(?:[a-z]\.)+[a-z]", word))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> Iterator[tuple[int, int]]:
    """Yield `(start, end)` spans of the sentences in `text[start:end]`.

    Spans are stripped of surrounding white space, never empty, in order and
    non-overlapping; offsets are relative to `text`, not to the slice.
    """
    end = len(text) if end is None else end
    line_start = start
    while line_start < end:
        line_end = text.find("\n", line_start, end)
        if line_end == -1:
            line_end = end
        yield from _line_spans(text, line_start, line_end)
        line_start = line_end + 1


def _line_spans(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    sent_start = start
    for match in _END.finditer(text, start, end):
        if _is_boundary(text, match):
            span = _strip(text, sent_start, match.end())
            if span:
                yield span
            sent_start = match.end()
    span = _strip(text, sent_start, end)
    if span:
        yield span


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def windows(text: str, max_words: int, *, overlap: int = 1) -> list[tuple[int, int]]:
    """Cover `text` with `(start, end)` spans of whole sentences of at most `max_words` words each.

    Consecutive windows share `overlap` sentences, so a fact told across a
    sentence boundary is read whole by at least one window. A sentence longer
    than `max_words` is a window of its own (the reader truncates it). Judges
    read a long passage window by window and keep the best score, as SummaC and
    MiniCheck do.
    """
    if max_words < 1 or overlap < 0:
        raise ValueError("max_words must be positive and overlap non-negative")
    spans = list(sentence_spans(text))
    if not spans:
        return []
    sizes = [len(text[s:e].split()) for s, e in spans]
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        j, words = i, sizes[i]
        while j + 1 < len(spans) and words + sizes[j + 1] <= max_words:
            j += 1
            words += sizes[j]
        out.append((spans[i][0], spans[j][1]))
        if j + 1 >= len(spans):
            break
        i = max(i + 1, j + 1 - overlap)
    return out
