"""A date for an article that has none: the latest date its text reports.

Plain-text files carry no publication date. News is written about what just
happened, so the latest date an article mentions ("on 5 September 2025",
"in February 2022", "in all of 2020") is a lower bound of when it was
written; it is kept apart from `published_at` (`Article.inferred_date`) and
shown marked as inferred, so date filters never treat a guess as a fact.
Dates after the day of ingest are plans ("by 2030"), not reports, and are
ignored.
"""

from __future__ import annotations

import re
from datetime import date

_MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december")
_MONTH = r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_YEAR = r"((?:19|20)\d\d)"
_PATTERNS = (
    (re.compile(rf"\b{_YEAR}-(\d\d)-(\d\d)\b"), "ymd"),
    (re.compile(rf"\b{_MONTH} (\d{{1,2}})(?:st|nd|rd|th)?,? {_YEAR}\b", re.I), "mdy"),
    (re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)? (?:of )?{_MONTH},? {_YEAR}\b", re.I), "dmy"),
    (re.compile(rf"\b{_MONTH},? {_YEAR}\b", re.I), "my"),
    (re.compile(rf"\b{_YEAR}\b"), "y"),
)


def _month(name: str) -> int:
    low = name.lower().rstrip(".")[:3]
    return next(i for i, m in enumerate(_MONTHS, start=1) if m.startswith(low))


def _found(match: re.Match[str], form: str) -> tuple[tuple[int, int, int], str] | None:
    g = match.groups()
    try:
        if form == "ymd":
            y, m, d = int(g[0]), int(g[1]), int(g[2])
            date(y, m, d)
            return (y, m, d), f"{y:04d}-{m:02d}-{d:02d}"
        if form == "mdy":
            y, m, d = int(g[2]), _month(g[0]), int(g[1])
            date(y, m, d)
            return (y, m, d), f"{y:04d}-{m:02d}-{d:02d}"
        if form == "dmy":
            y, m, d = int(g[2]), _month(g[1]), int(g[0])
            date(y, m, d)
            return (y, m, d), f"{y:04d}-{m:02d}-{d:02d}"
        if form == "my":
            y, m = int(g[1]), _month(g[0])
            return (y, m, 0), f"{y:04d}-{m:02d}"
        y = int(g[0])
        return (y, 0, 0), f"{y:04d}"
    except (ValueError, StopIteration):
        return None


def infer_date(text: str, *, today: date | None = None) -> str:
    """The latest date `text` reports, as "YYYY-MM-DD", "YYYY-MM" or "YYYY" (as precise as it says); "" when none.

    A more precise date of the same year or month wins ties ("2022" and "24 February 2022" give "2022-02-24").
    """
    limit = today or date.today()
    best: tuple[tuple[int, int, int], str] | None = None
    for pattern, form in _PATTERNS:
        for match in pattern.finditer(text):
            found = _found(match, form)
            if found is None:
                continue
            (y, m, d), _ = found
            if (y, m or 1, d or 1) > (limit.year, limit.month, limit.day):
                continue
            if best is None or _later(found[0], best[0]):
                best = found
    return best[1] if best else ""


def _later(a: tuple[int, int, int], b: tuple[int, int, int]) -> bool:
    """Whether date `a` is later than `b`, or the same period told more precisely (0 = not given)."""
    for x, y in zip(a, b):
        if x != y:
            if x == 0 or y == 0:
                return y == 0  # "February 2022" refines "2022"; "2022" never replaces "February 2022"
            return x > y
    return False
