"""The question, read once: what it asks for, about when, in how many parts.

`analyse(text, asked_on)` makes a `Question` that retrieval (the time frame),
the sentence ranker (what is asked for, the sentence that asks, a
comparison's topic) and the reader (the parts, the year) all read, instead
of each matching the words again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import core.text as tf
from core.sentences import sentence_spans
from index.filters import parse_date

from .retrieval.timeframe import TimeFrame, news_window, time_frame

_NUMBER_Q = re.compile(
    r"\b(how (many|much|old|long|far|large|big|high|often)|what (number|percentage|percent|share|proportion|amount|age|price|cost))\b",
    re.I,
)
_DATE_Q = re.compile(r"\b(when|what (date|day|year|month|time)|which (date|day|year|month)|by what)\b", re.I)
_NAME_Q = re.compile(r"\b(who|whom|whose|where|which|what (company|country|city|team|organi[sz]ation|group|party|state|place))\b", re.I)
_COMPARE_Q = re.compile(
    r"\b(both|compare|compared|comparison|differ|differs|difference|differences|each (article|report)|"
    r"two (articles|reports|stories)|what changed between|change[sd]? from)\b",
    re.I,
)
# A comparison of articles names them: "both" or "differ" alone may compare two sides of one story.
_ARTICLE_WORDS = re.compile(r"\b(articles?|reports?|stories|story|sources|outlets|accounts?|versions?|coverage)\b", re.I)
# The words that frame a comparison rather than name what is compared.
_COMPARE_FRAME = re.compile(
    r"\b(how|what|in what way|do|does|did|is|are|was|were|the|these|those|two|both|each|all|article|articles|report|reports|"
    r"story|stories|source|sources|differ|differs|differed|different|difference|differences|compare|compared|comparison|"
    r"between|change|changed|changes|say|says|said|about|in|on|of|from)\b",
    re.I,
)
_WH = r"(?:who|whom|whose|what|when|where|which|why|how|by what|by when|until when|since when|for how long)"
# "..., and by what date?" / "... and when will it reopen?": a second question joined to the first.
_SECOND_PART = re.compile(rf",?\s+and\s+(?={_WH}\b)", re.I)
# A question that names no time is about the news of this many days before it is asked
# (`Question.window`). On the newsqa-dev2 tune half 14 to 183 days gave the same answers
# (14: one more first quote that answers) and 365 fewer (docs/answers.md, tenth round):
# three months, the middle of the flat range, so that last month's news still answers.
RECENT_DAYS = 92
_YEAR = re.compile(r"\b((?:19|20)\d\d)\b")
_FOLLOW_UP = re.compile(
    r"^\s*(and|but|also|so|then|what about|how about|why|same)\b|\b(it|its|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|there|then|the same|which one|who else)\b",
    re.I,
)


@dataclass(frozen=True)
class Question:
    """A question as every stage reads it.

    Attributes:
        text: the question as asked (stripped).
        asked: the sentence that asks, when the question has several ("... died this week at 96.
            He was the first Black man to receive which award?"); "" when it has one.
        parts: the questions it joins ("Who ordered it, and by what date?" has two); one part for most.
        wants: what the answer is: "number", "date", "name", or "" (anything).
        comparison: it asks about two articles side by side.
        topic: what a comparison compares, its frame dropped ("casualty figures"); "" otherwise.
        frame: the publication dates it refers to ("this week", "in 2021"), if any.
        year: the one year it names ("Putin's 2025 invitation"), if it names exactly one.
        follow_up: it refers back to a conversation (a pronoun, "and ...", three words or fewer).
        asked_on: the day it is asked (today unless said).
        latest: the day of the newest article there is to answer from, when known (an archive
            that ends before `asked_on` is asked about as of its end; see `window`).
    """

    text: str
    asked: str = ""
    parts: tuple[str, ...] = ()
    wants: str = ""
    comparison: bool = False
    topic: str = ""
    frame: TimeFrame | None = None
    year: int | None = None
    follow_up: bool = False
    asked_on: date = field(default_factory=date.today)
    latest: date | None = None

    def window(self, newest: date | None = None) -> TimeFrame:
        """The publication dates of the news it is about (see `rag.retrieval.timeframe.news_window`):
        the period it names, once begun ("this week", "in 2021"); else the `RECENT_DAYS` up to the day
        asked, or up to the newest article there is when that is earlier (`latest`, else `newest`: the
        newest of the passages at hand). Each ends a day after its last day (time zones). The
        sentence ranker discounts the other articles (`RankingConfig.stale_penalty`); retrieval prefers
        those of the period named, else of the window (`RetrievalConfig.time_boost`)."""
        return news_window(self.frame, self.asked_on, self.latest or newest, RECENT_DAYS)

    def part(self, text: str) -> Question:
        """One part of it (`parts`), read as a question asked at the same time."""
        return analyse(text, self.asked_on, latest=self.latest)

    @property
    def names(self) -> list[str]:
        """Its names (capitalised words, stemmed): an answer must be about them."""
        return tf.names(self.text)

    def __str__(self) -> str:
        return self.text


def analyse(text: str | Question, asked_on: date | str | None = None, *, latest: date | str | None = None) -> Question:
    """Read `text` once (see `Question`); a `Question` is returned as it is.

    Raises:
        FilterError: `asked_on` or `latest` is not a date.
    """
    if isinstance(text, Question):
        return text
    day = parse_date(asked_on, "asked_on") or date.today()
    text = text.strip()
    spans = list(sentence_spans(text))
    asked = text[spans[-1][0] : spans[-1][1]] if len(spans) > 1 else ""
    comparison = is_comparison(text)
    years = set(_YEAR.findall(text))
    return Question(
        text=text,
        asked=asked,
        parts=split_parts(asked or text),
        wants=answer_type(text),
        comparison=comparison,
        topic=comparison_topic(text) if comparison else "",
        frame=time_frame(text, day),
        year=int(years.pop()) if len(years) == 1 else None,
        follow_up=bool(_FOLLOW_UP.search(text)) or len(text.split()) <= 3,
        asked_on=day,
        latest=parse_date(latest, "latest"),
    )


def answer_type(question: str) -> str:
    """What the question asks for: "number" ("how many"), "date" ("when"), "name" ("who", "which country"), or ""."""
    for kind, pattern in (("number", _NUMBER_Q), ("date", _DATE_Q), ("name", _NAME_Q)):
        if pattern.search(question):
            return kind
    return ""


def wants_all(question: str) -> tuple[bool, bool, bool]:
    """Whether it asks for a number, a date, a name (a question can ask for more than one)."""
    return bool(_NUMBER_Q.search(question)), bool(_DATE_Q.search(question)), bool(_NAME_Q.search(question))


def split_parts(question: str) -> tuple[str, ...]:
    """The questions `question` joins with "and" before a question word ("Who ordered the troops back,
    and by what date?" → "Who ordered the troops back?", "By what date?"); one part when it joins none."""
    pieces = [p.strip(" ,;?") for p in _SECOND_PART.split(question)]
    pieces = [p for p in pieces if p]
    if len(pieces) < 2 or len(pieces[0].split()) < 3:  # "Which bread and which cheese won?" is one question
        return (question,)
    return tuple(p[0].upper() + p[1:] + "?" for p in pieces)


def is_comparison(question: str) -> bool:
    """Whether the question asks about two articles side by side ("How do the figures in the two articles
    differ?"): a comparison word and a word for the articles ("Did both sides deny it?" is no comparison)."""
    return bool(_COMPARE_Q.search(question)) and bool(_ARTICLE_WORDS.search(question))


def comparison_topic(question: str) -> str:
    """What a comparison compares, its frame dropped ("How do the casualty figures in the two
    articles differ?" → "casualty figures"); "" when nothing is left."""
    return " ".join(_COMPARE_FRAME.sub(" ", question).replace("?", " ").split()).strip(" ,.;:")
