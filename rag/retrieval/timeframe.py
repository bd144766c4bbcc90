"""When a question is about: "this week", "recently", "last month", "in 2021".

News questions often carry a time that only makes sense from the day they are
asked: "Which politician announced this week that she is running?" asked on
2023-02-17 is about articles from 10-17 February 2023, not about an older
announcement that reads the same. `time_frame(question, asked_on)` turns such
an expression into a date range; retrieval then prefers articles published in
it (see `Retriever`). It never excludes the others: an article can report an
event of "last year", and dates in metadata can be missing or wrong. To
exclude, use `Filters(since=..., until=...)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from index.filters import parse_date

_MONTHS = {
    m: i
    for i, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
            ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
            ("november", "nov"), ("december", "dec"),
        ),
        start=1,
    )
    for m in names
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))


@dataclass(frozen=True)
class TimeFrame:
    """The publication dates a question is about, inclusive, and the words that said so."""

    start: date
    end: date
    phrase: str

    def contains(self, published_at: str) -> bool:
        """True when an ISO date(-time) string falls in the frame (False when missing or unreadable)."""
        day = day_of(published_at)
        return day is not None and self.start <= day <= self.end


def day_of(iso: str) -> date | None:
    """The day of an ISO date(-time) string; None when missing or unreadable."""
    try:
        return parse_date(iso[:10]) if iso else None
    except ValueError:
        return None


def news_window(frame: TimeFrame | None, asked_on: date, newest: date | None, days: int) -> TimeFrame:
    """The publication dates of the news a question asked on `asked_on` is about.

    A question is about the news of when it is asked: "Who won the championship?"
    asked in August 2023 is answered by that month's report, not by a 2021 article
    on an earlier title. So the window is `frame` when the question names a period
    that has begun by the day asked ("this week", "in 2021"; a frame still to
    come, "in 2025" asked in 2023, names when the event happens, not when it was
    reported); otherwise the `days` before the day asked, or before `newest` (the
    newest article there is) when that is earlier: an archive that ends in 2023 is
    asked about as of its end. Every window ends a day after its last day (a
    report dated the next day in another time zone); later articles are news from
    after the question.
    """
    now = min(asked_on, newest) if newest is not None else asked_on
    start, end = now - timedelta(days=days), asked_on + timedelta(days=1)
    if frame is None or frame.start > asked_on:
        return TimeFrame(start, end, "")
    return TimeFrame(frame.start, frame.end + timedelta(days=1), frame.phrase)


def _month_end(year: int, month: int) -> date:
    return (date(year + (month == 12), month % 12 + 1, 1)) - timedelta(days=1)


# (pattern, function of (match, asked_on) -> (start, end)); the first match wins.
_RULES: list[tuple[re.Pattern[str], object]] = [
    (re.compile(r"\b(today|tonight|this morning|this afternoon|this evening)\b"), lambda m, d: (d - timedelta(days=1), d)),
    (re.compile(r"\byesterday\b"), lambda m, d: (d - timedelta(days=2), d)),
    (re.compile(r"\b(this|the) (past )?(week|weekend)\b|\bpast (seven|7) days\b|\bthis past\b"), lambda m, d: (d - timedelta(days=7), d)),
    (re.compile(r"\blast (week|weekend)\b"), lambda m, d: (d - timedelta(days=14), d)),
    (re.compile(r"\b(this|the past) month\b|\bpast (30|thirty) days\b"), lambda m, d: (d - timedelta(days=31), d)),
    (re.compile(r"\blast month\b"), lambda m, d: (d - timedelta(days=62), d)),
    (re.compile(r"\b(recently|recent|lately|latest)\b|\bin recent (days|weeks)\b"), lambda m, d: (d - timedelta(days=31), d)),
    (re.compile(r"\bthis year\b"), lambda m, d: (date(d.year, 1, 1), d)),
    (re.compile(r"\blast year\b"), lambda m, d: (date(d.year - 1, 1, 1), d)),
    (
        re.compile(rf"\b(?:in|during|of) ({_MONTH_RE})\.? (\d{{4}})\b"),
        lambda m, d: (date(int(m.group(2)), _MONTHS[m.group(1)], 1), _month_end(int(m.group(2)), _MONTHS[m.group(1)]) + timedelta(days=31)),
    ),
    (re.compile(r"\b(?:in|during|of) ((?:19|20)\d\d)\b"), lambda m, d: (date(int(m.group(1)), 1, 1), date(int(m.group(1)) + 1, 1, 31))),
]


def time_frame(question: str, asked_on: date | str | None = None) -> TimeFrame | None:
    """The date range `question` refers to, relative to `asked_on` (default today); None when it names none.

    Raises:
        FilterError: `asked_on` is not a date.
    """
    day = parse_date(asked_on, "asked_on") if asked_on is not None else date.today()
    text = question.lower()
    for pattern, span in _RULES:
        for m in pattern.finditer(text):
            said = question[m.start() : m.end()]
            if said.isupper() and len(said) > 2:  # a name: "USA TODAY", "TODAY show"
                continue
            start, end = span(m, day)  # type: ignore[operator]
            return TimeFrame(start, end, m.group(0))
    return None
