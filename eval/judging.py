"""Measure a support judge on labelled claim/passage pairs (`support-judge-dev.jsonl` format)."""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

from rag.judges import SupportJudge, make_judge

from .jsonl import read_records
from .metrics import judge_figures

LABELS = {"supported": True, "unsupported": False}


def load_pairs(path: str | Path) -> list[dict[str, Any]]:
    """The pairs in the JSONL file at `path`, each with its `passage` text.

    A pair gives its passage as text (`"passage"`) or, when it comes from articles
    that may not be copied, by place (`"passage_ref"`: `file`, relative to the pairs
    file, an article `id` when the file is JSONL, and `start`/`end` character offsets
    into its text, with an optional `sha1` prefix of the passage checked on loading).

    Raises:
        InputError: unreadable file or record, a cited file that is not there, a
            passage that no longer matches its `sha1`.
    """
    path = Path(path)
    texts: dict[Path, Any] = {}
    return read_records(path, "pairs", lambda rec, _line: _pair(rec, path.parent, texts))


def _pair(rec: Any, base: Path, texts: dict[Path, Any]) -> dict[str, Any]:
    if isinstance(rec.get("passage_ref"), dict) and "passage" not in rec:
        rec = {**rec, "passage": _cited_passage(rec["passage_ref"], base, texts)}
    if not isinstance(rec.get("claim"), str) or not isinstance(rec.get("passage"), str) or rec.get("label") not in LABELS:
        raise ValueError('each pair needs "claim", "passage" (or "passage_ref") and "label" (supported / unsupported)')
    return rec


def _cited_passage(ref: dict[str, Any], base: Path, texts: dict[Path, Any]) -> str:
    file = (base / str(ref.get("file", ""))).resolve()
    if file not in texts:
        if not file.is_file():
            raise ValueError(f"the passage is cited from {file}, which is not here (pairs built from articles that "
                             "may not be copied carry only their place: put the articles at that path)")  # fmt: skip
        raw = file.read_text(encoding="utf-8")
        texts[file] = (
            {r["id"]: r["text"] for r in map(json.loads, filter(str.strip, raw.splitlines()))}
            if file.suffix == ".jsonl" else raw
        )  # fmt: skip
    text = texts[file]
    if isinstance(text, dict):
        if ref.get("id") not in text:
            raise ValueError(f"no article {ref.get('id')!r} in {file}")
        text = text[ref["id"]]
    start, end = ref.get("start"), ref.get("end")
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise ValueError(f"passage_ref start/end must be offsets into the text (0..{len(text)}), got {start!r}/{end!r}")
    passage = text[start:end]
    if "sha1" in ref and not hashlib.sha1(passage.encode("utf-8")).hexdigest().startswith(str(ref["sha1"])):
        raise ValueError(f"the passage at {start}..{end} of {file} is not the one the pair was built from (sha1 differs)")
    return passage


def judge_pairs(path: str | Path, judge: str | SupportJudge = "lexical", *, limit: int | None = None) -> dict[str, Any]:
    """accuracy, balanced_accuracy, precision, recall of `judge` on the pairs in `path`, with per-pair verdicts.

    `seconds_per_pair` is timed after one untimed warm-up judgement (model loading).
    `limit` reads only the first pairs of the file.
    """
    pairs = load_pairs(path)[: limit or None]
    judge = make_judge(judge) if isinstance(judge, str) else judge
    predicted, records = [], []
    judge.judge(pairs[0]["claim"], pairs[0]["passage"])  # untimed warm-up: model loading and cached prompts
    t0 = time.perf_counter()
    for p in pairs:
        v = judge.judge(p["claim"], p["passage"])
        predicted.append(v.supported)
        records.append({"id": p.get("id", len(records)), "label": p["label"], "supported": v.supported, "score": round(v.score, 4), "reason": v.reason})
    elapsed = time.perf_counter() - t0
    figures = judge_figures(predicted, [LABELS[p["label"]] for p in pairs])
    return {"figures": {k: round(v, 4) for k, v in figures.items()}, "judge": judge.name, "pairs": records,
            "seconds_per_pair": round(elapsed / len(pairs), 4)}  # fmt: skip
