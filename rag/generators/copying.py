"""What the model may reply when it reads the sources: a source's number and words copied from it.

The reader (`reader.py`) shows the model numbered windows of article text and
asks which one answers the question, and with which words. `CopyConstraint`
is the grammar of its reply, held during decoding (`rag.llm.decoding`):

    none                      the sources do not answer
    [n] <words of source n>   a span of source n, from the start of a word to the end of one

A word here is a whole token: a phrase cannot end or start inside "U.S.",
"3.134", "1,000" or "well-known" (it ends before "'s": "Florida" of "Florida's").

so the phrase cannot hold a word that is not in the source, in that order.
`Window` keeps the shown text's map back to the article, so the phrase found
in the reply becomes a `Span` sliced from the article (`Span.of`): a phrase is
never built from the reply's own characters. A reply that breaks the grammar
(a backend that cannot constrain its decoding, a scripted fake) finds no span,
and the answer has no phrase.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import core.text as tf
from index.types import ArticleRef

from ..llm.base import Reply
from ..types import Span

NONE_REPLY = "none"
_MARK = re.compile(rb"^\[(\d)\] ")
_CURRENCY = "$£€¥#"
_TRAILING = " .,;:!?\"')”’"
_JOINERS = ".-/"  # inside a token when a letter or digit follows: "U.S.", "3.134", "well-known", "24/7"
_DIGIT_JOINERS = ",:"  # inside a number: "1,000", "10:30"


@dataclass(frozen=True)
class Window:
    """A span of one article as the model is shown it: whitespace runs become one space.

    Attributes:
        article: the article.
        start, end: offsets of the span in the article text.
        text: the article text `[start:end]`, verbatim.
        shown: `text` with whitespace collapsed, as it appears in the prompt.
        offsets: for each character of `shown`, its offset in the article text.
        sentences: the `(start, end)` article offsets of its sentences.
        score: the ranker's score of its best sentence.
    """

    article: ArticleRef
    start: int
    end: int
    text: str
    shown: str
    offsets: tuple[int, ...]
    sentences: tuple[tuple[int, int], ...] = ()
    score: float = 0.0

    @classmethod
    def of(cls, article: ArticleRef, article_text_span: str, start: int, sentences: Sequence[tuple[int, int]] = (),
           score: float = 0.0) -> Window:  # fmt: skip
        """The window over `article_text_span`, which is the article's text from offset `start`."""
        shown: list[str] = []
        offsets: list[int] = []
        pending_space = False
        for i, ch in enumerate(article_text_span):
            if ch.isspace():
                pending_space = bool(shown)
                continue
            if pending_space:
                shown.append(" ")
                offsets.append(start + i - 1)
                pending_space = False
            shown.append(ch)
            offsets.append(start + i)
        end = start + len(article_text_span)
        inside = tuple((a, b) for a, b in sentences if start <= a < b <= end) or ((start, end),)
        return cls(article, start, end, article_text_span, "".join(shown), tuple(offsets), inside, score)

    def span(self, shown_start: int, shown_end: int) -> Span:
        """The article span behind `shown[shown_start:shown_end]`, sliced from the article text."""
        a = self.offsets[shown_start]
        b = self.offsets[shown_end - 1] + 1
        return Span.of(self.article, self.text, self.start, a, b)

    def quote_of(self, phrase: Span) -> Span:
        """The sentences of the window that hold `phrase` (the quote a copied phrase is shown with)."""
        touched = [(a, b) for a, b in self.sentences if a < phrase.end and phrase.start < b]
        a, b = (touched[0][0], touched[-1][1]) if touched else (self.start, self.end)
        return Span.of(self.article, self.text, self.start, a, b)

    def best_sentence(self, at: int) -> Span:
        """The sentence of the window that starts at article offset `at` (else the one holding it)."""
        found = next(((a, b) for a, b in self.sentences if a <= at < b), (self.start, self.end))
        return Span.of(self.article, self.text, self.start, *found)


def _word(ch: str) -> bool:
    return ch.isalnum()


def _joined(ch: str, mark: str, beyond: str) -> bool:
    """Whether `mark`, next to the word character `ch`, joins it to `beyond` inside one token
    ("U" and "S" of "U.S.", "1" and "000" of "1,000")."""
    return (mark in _JOINERS and _word(beyond)) or (mark in _DIGIT_JOINERS and ch.isdigit() and beyond.isdigit())


def _trim(line: bytes) -> bytes:
    """A reply line without the punctuation after its last word (a line cut inside a character stays as it is)."""
    try:
        return line.decode("utf-8").rstrip(_TRAILING).encode("utf-8")
    except UnicodeDecodeError:
        return line


class CopyConstraint:
    """The reply grammar above, over the windows shown to the model (see the module docstring).

    A question of several parts ("Who ordered it, and by what date?") gets one
    line per part: exactly `items` lines, each "none" or "[n] words" (a reply
    that stops after the first part may not end there).

    Args:
        windows: the numbered sources, in order (at most 9: one digit each).
        question: the question; a phrase must add a word it does not hold
            ("Florida" to "Florida's governor launched his campaign in which state?" answers nothing).
        items: how many lines the reply may have (one per part of the question).
    """

    def __init__(self, windows: Sequence[Window], question: str = "", *, items: int = 1) -> None:
        if not 1 <= len(windows) <= 9:
            raise ValueError(f"a reply can name 1 to 9 sources, got {len(windows)}")
        self.windows = list(windows)
        self.items = max(1, items)
        self._asked = set(tf.content_terms(question))
        self._bytes = [w.shown.encode("utf-8") for w in windows]
        self._starts: list[set[int]] = []
        self._ends: list[set[int]] = []
        for w in windows:
            starts, ends = set(), set()
            pos = 0
            text = w.shown
            for i, ch in enumerate(text):
                before = text[i - 2 : i] if i >= 2 else " " + text[:i]
                if (_word(ch) or ch in _CURRENCY) and not _word(before[-1]) and not _joined(ch, before[-1], before[0]):
                    starts.add(pos)
                pos += len(ch.encode("utf-8"))
                after = text[i + 1 : i + 3].ljust(2)
                if (_word(ch) or ch == "%") and not _word(after[0]) and not _joined(ch, after[0], after[1]):
                    ends.add(pos)
            self._starts.append(starts)
            self._ends.append(ends)
        self._none = NONE_REPLY.encode()
        self._marks = [f"[{n}] ".encode() for n in range(1, len(windows) + 1)]

    # --- the grammar (`rag.llm.base.Constraint`) -------------------------------------

    def allows(self, reply: bytes) -> bool:
        lines = reply.split(b"\n")
        if len(lines) > self.items or not all(self._complete(line) for line in lines[:-1]):
            return False
        return self._item_prefix(lines[-1])

    def can_end(self, reply: bytes) -> bool:
        # One line for each part: a part is answered or refused ("none"), never left out.
        lines = reply.split(b"\n")
        return len(lines) == self.items and all(self._complete(line) for line in lines)

    def _item_prefix(self, line: bytes) -> bool:
        if self._none.startswith(line) or any(mark.startswith(line) for mark in self._marks):
            return True
        split = self._split(line)
        return split is not None and bool(self._occurrences(*split))

    def _complete(self, line: bytes) -> bool:
        return line == self._none or self._locate(line) is not None

    def _split(self, line: bytes) -> tuple[int, bytes] | None:
        m = _MARK.match(line)
        if m is None or not 1 <= int(m.group(1)) <= len(self.windows):
            return None
        return int(m.group(1)), line[m.end() :]

    def _occurrences(self, n: int, phrase: bytes) -> list[int]:
        source, starts = self._bytes[n - 1], self._starts[n - 1]
        out, at = [], source.find(phrase)
        while at != -1:
            if at in starts:
                out.append(at)
            at = source.find(phrase, at + 1)
        return out

    def _locate(self, line: bytes) -> tuple[int, int, int] | None:
        """(source number, start, end in its `shown` text) of a complete phrase line, else None.

        Punctuation after the last word ("Lukashenko." where the source goes on) is not part of it."""
        split = self._split(_trim(line))
        if split is None or not split[1]:
            return None
        n, phrase = split
        shown = self._bytes[n - 1]
        for at in self._occurrences(n, phrase):
            if at + len(phrase) in self._ends[n - 1]:
                start = len(shown[:at].decode("utf-8"))
                end = start + len(phrase.decode("utf-8"))
                text = self.windows[n - 1].shown[start:end]
                if self._adds_to_question(text):
                    return n, start, end
        return None

    def _adds_to_question(self, phrase: str) -> bool:
        said = tf.content_terms(phrase)
        return any(not tf.fuzzy_in(t, self._asked) for t in said)

    # --- reading a reply -------------------------------------------------------------

    def read(self, reply: str) -> list[tuple[int, Span] | None]:
        """Each line of a reply: the source number and the article span it copies, or None
        (a refusal, or words that are not a phrase of the source it names)."""
        out: list[tuple[int, Span] | None] = []
        for line in reply.strip().split("\n")[: self.items]:
            found = self._locate(line.strip().encode("utf-8"))
            if found is None:
                out.append(None)
                continue
            n, start, end = found
            out.append((n, self.windows[n - 1].span(start, end)))
        return out

    def confidence(self, reply: Reply) -> list[float | None]:
        """For each line of `reply`, the log-probability the model gave the source's number and the words after
        it (not of the brackets around the number): which source and which words are one reading, and a model
        unsure of the source is unsure of the answer (None for a line that names no source, or when the backend
        does not report probabilities)."""
        data = reply.data
        at = len(data) - len(data.lstrip())
        out: list[float | None] = []
        for line in data.strip().split(b"\n")[: self.items]:
            lead = len(line) - len(line.lstrip())
            m = _MARK.match(line.strip())
            if m is None:
                out.append(None)
            else:
                number = reply.logprob(at + lead + m.start(1), at + lead + m.end(1))
                words = reply.logprob(at + lead + m.end(), at + len(line.rstrip()))
                out.append(None if number is None or words is None else number + words)
            at += len(line) + 1
        return out

    def named(self, line: str) -> int | None:
        """The source number a reply line names, valid or not as a phrase (None when it names none)."""
        split = self._split(line.strip().encode("utf-8"))
        return split[0] if split else None

    @staticmethod
    def is_none(line: str) -> bool:
        return line.strip().lower().rstrip(".") == NONE_REPLY
