"""Reading the suite's JSONL files (questions, judge pairs) with errors that name the line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from core.errors import InputError

T = TypeVar("T")


def read_records(path: str | Path, what: str, parse: Callable[[object, int], T]) -> list[T]:
    """`parse(record, line_number)` for every non-blank line of the JSONL file at `path`.

    `what` names the records in messages ("questions", "pairs").

    Raises:
        InputError: missing file, bad JSON, a record `parse` rejects (ValueError,
            TypeError, AttributeError; reported with its line), or no records.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"no {what} file at {path}")
    out = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(parse(json.loads(line), i))
        except (ValueError, TypeError, AttributeError) as err:
            raise InputError(f"{path}, line {i}: {err}") from None
    if not out:
        raise InputError(f"{path} holds no {what}")
    return out
