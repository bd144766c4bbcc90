"""Every support judge on every labelled pair file: accuracy figures and time per pair.

    .venv/bin/python -m eval.bench_judges [PAIRS.jsonl ...] [--judges lexical llm cascade] [--out FILE.json]

Default pair files: `../shared/data/support-judge-dev.jsonl` (the given dev pairs),
`eval/data/support-pairs-built.jsonl` (built from real articles; the LLM judge's
prompt was chosen on these and the dev pairs),
`eval/data/support-pairs-heldout.jsonl` (built later from other passages, looked at
only to measure), `eval/data/support-pairs-heldout2.jsonl` and
`eval/data/support-pairs-heldout3.jsonl` (written later still, each without
reading the judges' code, prompt, documentation or the other pair files; never
tuned on). Each judge is built once (the model loaded once) and warmed up before
timing. For the cascade, `slow_share` is the share of pairs that reached the LLM.
Prints one JSON object per judge and file, then all of them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rag.judges import JUDGES, make_judge

from .benchio import emit
from .judging import judge_pairs

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_FILES = [
    ROOT.parent / "shared" / "data" / "support-judge-dev.jsonl",
    ROOT / "eval" / "data" / "support-pairs-built.jsonl",
    ROOT / "eval" / "data" / "support-pairs-heldout.jsonl",
    ROOT / "eval" / "data" / "support-pairs-heldout2.jsonl",
    ROOT / "eval" / "data" / "support-pairs-heldout3.jsonl",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.bench_judges", description=__doc__.split("\n\n")[0])
    parser.add_argument("pairs", nargs="*", type=Path, default=DEFAULT_FILES)
    parser.add_argument("--judges", nargs="+", default=list(JUDGES), choices=JUDGES)
    parser.add_argument("--out", type=Path, help="also write the JSON here")
    args = parser.parse_args(argv)
    rows = []
    for name in args.judges:
        judge = make_judge(name)
        slow = getattr(judge, "slow", None)
        for path in args.pairs:
            result = judge_pairs(path, judge)
            n = len(result["pairs"])
            row = {"judge": name, "pairs_file": path.name, "pairs": n, **result["figures"],
                   "seconds_per_pair": result["seconds_per_pair"]}  # fmt: skip
            row["misjudged"] = [p["id"] for p in result["pairs"] if p["supported"] != (p["label"] == "supported")]
            if slow is not None:  # the cascade's verdicts say which judge decided
                row["slow_share"] = round(sum(p["reason"].startswith(f"{slow.name}:") for p in result["pairs"]) / n, 3)
            print(row, file=sys.stderr, flush=True)
            rows.append(row)
    emit(rows, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
