"""Write an evaluation report: report.json, report.md (failures first) and PNG plots."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class EvalReport:
    """Overall metrics and one record per question (see `write`)."""

    metrics: dict[str, float | None]
    questions: list[dict[str, Any]]
    config: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"metrics": self.metrics, "questions": self.questions, "config": self.config}

    def shortfalls(self, minimums: dict[str, float]) -> list[str]:
        """Messages for each metric below its minimum (or missing)."""
        out = []
        for name, floor in minimums.items():
            value = self.metrics.get(name)
            if value is None or value < floor:
                out.append(f"{name} = {value if value is None else round(value, 4)} is below the minimum {floor}")
        return out

    def write(self, out_dir: str | Path) -> Path:
        """Write report.json, report.md and plots into `out_dir`; return the folder."""
        return write_report(self, Path(out_dir))


PER_TYPE = ("answer_correct", "refusal_correct", "citation_recall", "citation_precision", "hits@4")


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)


def _cell(text: str, limit: int = 160) -> str:
    text = " ".join(str(text or "").split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def per_type(report: EvalReport) -> dict[str, dict[str, float | None]]:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in report.questions:
        groups[r["type"]].append(r)
    out = {}
    for kind, recs in sorted(groups.items()):
        row = {}
        for name in PER_TYPE:
            values = [r.get(name) for r in recs if r.get(name) is not None]
            row[name] = sum(values) / len(values) if values else None
        row["n"] = len(recs)
        out[kind] = row
    return out


def write_report(report: EvalReport, out_dir: Path) -> Path:
    """Write everything into `out_dir`; return the path of report.md."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    plots = _plots(report, out_dir)
    lines = ["# Grounding evaluation", ""]
    cfg = report.config
    lines.append(f"generator `{cfg.get('generator', '')}`, top-k {cfg.get('top_k', '')}, judge `{cfg.get('judge', '')}`, {len(report.questions)} questions")
    lines += ["", "| metric | value |", "|---|---|"]
    lines += [f"| {name} | {_fmt(value)} |" for name, value in report.metrics.items()]
    lines += ["", "## By question type", "", "| type | n | " + " | ".join(PER_TYPE) + " |", "|---|---|" + "---|" * len(PER_TYPE)]
    for kind, row in per_type(report).items():
        lines.append(f"| {kind} | {row['n']} | " + " | ".join(_fmt(row[m]) for m in PER_TYPE) + " |")
    for png in plots:
        lines += ["", f"![{png.stem}]({png.name})"]
    ordered = sorted(report.questions, key=lambda r: (not r["failed"], r["id"]))
    failed = sum(r["failed"] for r in ordered)
    lines += ["", f"## Questions ({failed} failed, listed first)", "", "| | id | type | question | answer | refused | correct | cit. recall | cit. precision | latency s |", "|---|---|---|---|---|---|---|---|---|---|"]
    for r in ordered:
        lines.append(
            f"| {'✗' if r['failed'] else '✓'} | {r['id']} | {r['type']} | {_cell(r['question'], 90)} | {_cell(r['answer'])} | "
            f"{'yes' if r['refused'] else 'no'} | {_fmt(r.get('answer_correct'))} | {_fmt(r['citation_recall'])} | "
            f"{_fmt(r['citation_precision'])} | {r['latency_s']:.2f} |"
        )
    unsupported = [(r["id"], v["sentence"], v["reason"]) for r in ordered for v in r["judge"] if not v["supported"]]
    if unsupported:
        lines += ["", "## Sentences the judge found unsupported by their citations", ""]
        lines += [f"- {qid}: {_cell(sentence, 200)} ({_cell(reason, 80)})" for qid, sentence, reason in unsupported]
    path = out_dir / "report.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _plots(report: EvalReport, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    table = per_type(report)
    if table:
        fig, ax = plt.subplots(figsize=(7, 3.5))
        kinds = list(table)
        width = 0.8 / len(PER_TYPE)
        for i, name in enumerate(PER_TYPE):
            ax.bar([k + i * width for k in range(len(kinds))], [table[t][name] or 0 for t in kinds], width, label=name)
        ax.set_xticks([k + 0.4 - width / 2 for k in range(len(kinds))], [f"{t} (n={table[t]['n']})" for t in kinds])
        ax.set_ylim(0, 1.05)
        ax.set_title("Metrics by question type")
        ax.legend(fontsize=7, loc="lower right")
        fig.tight_layout()
        path = out_dir / "metrics_by_type.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        out.append(path)
    latencies = [r["latency_s"] for r in report.questions]
    if latencies:
        fig, ax = plt.subplots(figsize=(6, 3))
        ax.hist(latencies, bins=min(20, max(5, len(latencies) // 2)))
        ax.set_xlabel("seconds per answer")
        ax.set_ylabel("questions")
        ax.set_title("Latency")
        fig.tight_layout()
        path = out_dir / "latency.png"
        fig.savefig(path, dpi=100)
        plt.close(fig)
        out.append(path)
    return out
