"""Reading a questions file (the format of `../shared/data/seeds-dev-qa.jsonl`) into `EvalQuestion`s."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .jsonl import read_records
from .metrics import EvalQuestion, Evidence


def load_questions(path: str | Path) -> list[EvalQuestion]:
    """Read a questions file; every bad line is reported with its number.

    Raises:
        InputError: missing file, bad JSON, or a record without `question`.
    """
    return read_records(path, "questions", _question)


def _question(rec: Any, i: int) -> EvalQuestion:
    if not isinstance(rec, dict) or not isinstance(rec.get("question"), str) or not rec["question"].strip():
        raise ValueError("a record needs a non-empty \"question\"")
    must = rec.get("must_include") or []
    return EvalQuestion(
        id=str(rec.get("id") or f"line-{i}"),
        question=rec["question"],
        type=str(rec.get("type") or ("null" if rec.get("answer") is None else "factoid")),
        answer=rec.get("answer"),
        must_include=tuple(tuple(str(a) for a in (alts if isinstance(alts, list) else [alts])) for alts in must),
        evidence=tuple(Evidence(str(e.get("doc", "")), str(e.get("quote") or "")) for e in rec.get("evidence") or []),
        asked_on=rec.get("asked_on"),
    )
