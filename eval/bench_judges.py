"""Every support judge on every labelled pair file, side by side with published judges.

    .venv/bin/python -m eval.bench_judges [--judges lexical nli llm cascade] [--files NAME ...] [--out FILE.json]
    .venv/bin/python -m eval.bench_judges --judges mpnet --write-threshold   # a newly trained grader

Pair files (by name):
- `dev`: `../shared/data/support-judge-dev.jsonl` (the given dev pairs);
- `built`, `heldout`: the project's pairs from real articles (`eval/data/`);
- `heldout2`, `heldout3`: written blind (without reading the judges' code,
  prompts, documentation or the other pair files): measured, never tuned on;
- `wice`, `qags-c`, `qags-x`: public benchmarks (`../shared/data/nli/dev/`):
  WiCE (Wikipedia claims against the web pages they cite; supported only when
  fully supported, as the LLM-AggreFact leaderboard scores it) and QAGS
  (summary sentences of CNN/DM and XSum articles);
- `anli` (CC BY-NC, measuring only; 6,400 pairs): asked for by name.

Thresholds are chosen on half of the data and reported on the other half.
Every file except the blind ones is split in two by a hash of each pair's id
(`choose` and `report`); a judge with a score (nli, llm) gets the threshold that
maximises the mean balanced accuracy over the `choose` halves of `wice`,
`qags-c`, `qags-x` and `built`, and every file is reported at that threshold
(`report` halves, whole blind files), beside the judge's shipped threshold.

Each judge is built once (its model loaded once) and warmed up before timing.
Prints one JSON row per judge, file and part, then a Markdown table.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from rag.judges import JUDGES, make_judge

from .benchio import emit
from .judging import judge_pairs

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
FILES = {
    "dev": SHARED / "support-judge-dev.jsonl",
    "built": ROOT / "eval" / "data" / "support-pairs-built.jsonl",
    "heldout": ROOT / "eval" / "data" / "support-pairs-heldout.jsonl",
    "heldout2": ROOT / "eval" / "data" / "support-pairs-heldout2.jsonl",
    "heldout3": ROOT / "eval" / "data" / "support-pairs-heldout3.jsonl",
    "wice": SHARED / "nli" / "dev" / "wice-dev.jsonl",
    "qags-c": SHARED / "nli" / "dev" / "qags-cnndm.jsonl",
    "qags-x": SHARED / "nli" / "dev" / "qags-xsum.jsonl",
    "anli": SHARED / "nli" / "dev" / "anli.jsonl",
}
DEFAULT_FILES = ["dev", "built", "heldout", "heldout2", "heldout3", "wice", "qags-c", "qags-x"]
BLIND = {"heldout2", "heldout3"}
CHOOSE_ON = ("wice", "qags-c", "qags-x", "built")
# Balanced accuracy on WiCE published on the LLM-AggreFact leaderboard (../shared/README.md).
PUBLISHED_WICE = {"GPT-4o": 0.785, "MiniCheck-Flan-T5-L": 0.722, "MiniCheck-DeBERTa-L": 0.694, "AlignScore": 0.660, "SummaC-ZS": 0.628}


def part_of(pair_id: object) -> str:
    """"choose" or "report": a fixed half of every file, by a hash of the pair's id."""
    return "choose" if hashlib.sha1(str(pair_id).encode()).digest()[0] % 2 == 0 else "report"


def figures(labels: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    tp = int((predicted & labels).sum())
    fp = int((predicted & ~labels).sum())
    fn = int((~predicted & labels).sum())
    tn = int((~predicted & ~labels).sum())
    recall = tp / max(1, tp + fn)
    specificity = tn / max(1, tn + fp)
    return {"balanced_accuracy": round((recall + specificity) / 2, 4), "precision": round(tp / max(1, tp + fp), 4),
            "recall": round(recall, 4), "pairs": int(len(labels))}  # fmt: skip


def choose_threshold(scored: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]) -> float | None:
    """The threshold maximising the mean balanced accuracy over the `choose` halves of `CHOOSE_ON`."""
    design = [(s[m], y[m]) for name, (s, y, m) in scored.items() if name in CHOOSE_ON and m.any()]
    if not design:
        return None
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    means = [np.mean([figures(y, s >= t)["balanced_accuracy"] for s, y in design]) for t in grid]
    return float(grid[int(np.argmax(means))])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_judges", description=__doc__.split("\n\n")[0])
    parser.add_argument("--judges", nargs="+", default=["lexical", "nli"], choices=JUDGES)
    parser.add_argument("--files", nargs="+", default=DEFAULT_FILES, choices=sorted(FILES))
    parser.add_argument("--limit", type=int, default=0, help="at most this many pairs per file (quick looks)")
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    parser.add_argument("--write-threshold", action="store_true",
                        help="write each model judge's chosen threshold into its judge.json (a newly trained model)")
    args = parser.parse_args(argv)
    rows = []
    for name in args.judges:
        judge = make_judge(name)
        shipped = getattr(judge, "threshold", None)
        scored: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        timing: dict[str, float] = {}
        for file in args.files:
            path = FILES[file]
            if not path.exists():
                print(f"skipped {file}: {path} is not there", file=sys.stderr)
                continue
            result = judge_pairs(path, judge, limit=args.limit or None)
            recs = result["pairs"]
            scored[file] = (
                np.array([r["score"] for r in recs], dtype=float),
                np.array([r["label"] == "supported" for r in recs]),
                np.array([part_of(r["id"]) == "choose" and file not in BLIND for r in recs]),
            )
            timing[file] = result["seconds_per_pair"]
            verdicts = np.array([r["supported"] for r in recs])
            row = {"judge": name, "file": file, "part": "all", "threshold": shipped, **figures(scored[file][1], verdicts),
                   "ms_per_pair": round(1000 * timing[file], 1)}  # fmt: skip
            print(row, file=sys.stderr, flush=True)
            rows.append(row)
        chosen = choose_threshold(scored) if shipped is not None else None
        if chosen is None:
            continue
        if args.write_threshold and getattr(judge, "model_dir", None) is not None:
            write_threshold(Path(judge.model_dir) / "judge.json", chosen, sorted(set(scored) & set(CHOOSE_ON)))
        for file, (s, y, m) in scored.items():
            parts = {"whole (blind)": np.ones_like(m)} if file in BLIND else {"choose": m, "report": ~m}
            for part, mask in parts.items():
                if mask.any():
                    rows.append({"judge": name, "file": file, "part": part, "threshold": chosen,
                                 **figures(y[mask], s[mask] >= chosen), "ms_per_pair": round(1000 * timing[file], 1)})  # fmt: skip
    emit(rows, args.out)
    print(markdown(rows))
    return 0


def write_threshold(config: Path, threshold: float, chosen_on: list[str]) -> None:
    """Record `threshold` in a model judge's `judge.json`, with the files whose `choose` halves chose it."""
    data = json.loads(config.read_text(encoding="utf-8"))
    data.update(threshold=threshold, threshold_chosen_on=[f"{name} (choose half)" for name in chosen_on])
    config.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    print(f"threshold {threshold} written to {config}", file=sys.stderr)


def markdown(rows: list[dict]) -> str:
    """The table docs/judges.md carries: balanced accuracy (precision / recall), ms per pair."""
    lines = ["| judge | threshold | file | part | pairs | balanced acc. | precision | recall | ms / pair |", "|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['judge']} | {r['threshold'] if r['threshold'] is not None else '–'} | {r['file']} | {r['part']} | {r['pairs']} | "
                     f"{r['balanced_accuracy']:.3f} | {r['precision']:.3f} | {r['recall']:.3f} | {r['ms_per_pair']} |")  # fmt: skip
    lines.append("")
    lines.append("Published balanced accuracy on WiCE (LLM-AggreFact): " + ", ".join(f"{k} {v:.3f}" for k, v in PUBLISHED_WICE.items()))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
