"""Which articles a search may return: by article id, by source, by publication date.

One `Filters` value serves both searches: `where()` gives the Chroma filter for
dense search, `matches()` tests a chunk's metadata for keyword search.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from functools import cached_property
from typing import Any

from core.errors import ConfigError

from .store import published_timestamp


class FilterError(ConfigError):
    """A filter value that cannot be understood (the message says which and why)."""


@dataclass(frozen=True)
class Filters:
    """Restrict a search; empty fields do not restrict.

    Attributes:
        doc_ids: only these articles.
        sources: only articles from these outlets (the `source` names `rag list` shows).
        since, until: only articles published on or after `since` and on or before
            `until` (dates, inclusive). Undated articles are excluded by either.
    """

    doc_ids: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "doc_ids", _strings("doc_ids", self.doc_ids))
        object.__setattr__(self, "sources", _strings("sources", self.sources))
        object.__setattr__(self, "since", parse_date(self.since, "since"))
        object.__setattr__(self, "until", parse_date(self.until, "until"))
        if self.since and self.until and self.since > self.until:
            raise FilterError(f"since ({self.since}) is after until ({self.until})")

    def __bool__(self) -> bool:
        return bool(self.doc_ids or self.sources or self.since or self.until)

    @cached_property
    def _range(self) -> tuple[int | None, int | None]:
        lo = int(datetime.combine(self.since, time.min, timezone.utc).timestamp()) if self.since else None
        hi = int(datetime.combine(self.until, time.max, timezone.utc).timestamp()) if self.until else None
        return lo, hi

    def where(self) -> dict[str, Any] | None:
        """The Chroma `where` filter over chunk metadata, or None when nothing is restricted."""
        clauses: list[dict[str, Any]] = []
        if self.doc_ids:
            clauses.append({"doc_id": {"$in": list(self.doc_ids)}})
        if self.sources:
            clauses.append({"source": {"$in": list(self.sources)}})
        lo, hi = self._range
        if lo is not None:
            clauses.append({"published_ts": {"$gte": lo}})
        if hi is not None:
            clauses.append({"published_ts": {"$lte": hi}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, meta: Mapping[str, Any]) -> bool:
        """True when a chunk with metadata `meta` passes (the same rule as `where()`)."""
        if self.doc_ids and meta.get("doc_id") not in self.doc_ids:
            return False
        if self.sources and meta.get("source") not in self.sources:
            return False
        lo, hi = self._range
        if lo is not None or hi is not None:
            ts = meta.get("published_ts")
            if ts is None:
                ts = published_timestamp(str(meta.get("published_at", "")))
            if ts is None or (lo is not None and ts < lo) or (hi is not None and ts > hi):
                return False
        return True


def parse_date(value: object, field: str = "date") -> date | None:
    """A `date` from a date, a datetime or an ISO string (`2023-02-14`, `2023-02`, `2023`); None stays None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 4 and text.isdigit():
                return date(int(text), 1, 1)
            if len(text) == 7 and text[4] == "-":
                return date(int(text[:4]), int(text[5:]), 1)
            return datetime.fromisoformat(text.replace("Z", "+00:00")).date()
        except ValueError:
            pass
    raise FilterError(f"{field} must be a date like 2023-02-14, got {value!r}")


def _strings(field: str, values: Iterable[str] | str) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    values = tuple(values)
    if any(not isinstance(v, str) for v in values):
        raise FilterError(f"{field} must be text values, got {values!r}")
    return tuple(v.strip() for v in values if v.strip())
