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
    compared: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # another engine's records, by its name

    def to_dict(self) -> dict[str, Any]:
        out = {"metrics": self.metrics, "questions": self.questions, "config": self.config}
        if self.compared:
            out["compared"] = self.compared
        return out

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


PER_TYPE = ("answer_correct", "direct_answer", "truthfulness", "refusal_correct", "claims_exact")
FAILURE_KINDS = ("wrong source chosen", "wrong phrase", "refused an answerable one", "answered an unanswerable one",
                 "unsupported claim", "slow")  # fmt: skip
TABLE = ("answer_correct", "truthfulness", "direct_answer", "refusal_accuracy", "claims_exact", "sentences_supported",
         "sentences_self_graded", "unsupported_claims", "used_answer_chunk@k", "latency_p50_s", "latency_p95_s")  # fmt: skip


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
    """Write everything into `out_dir`; return the path of report.md.

    report.md opens with the table (beside the other engines run on the same questions, when
    `config["compare"]` holds their metrics), names the grader of each kind of claim, then lists the
    failures by kind, each with its question, claims and quotes, then every question."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "report.json").write_text(json.dumps(report.to_dict(), ensure_ascii=False, indent=1))
    plots = _plots(report, out_dir)
    cfg = report.config
    name = cfg.get("generator", "")
    others: dict[str, dict[str, Any]] = cfg.get("compare", {})
    lines = ["# Grounding evaluation", ""]
    lines.append(f"{len(report.questions)} questions, top-k {cfg.get('top_k', '')}.")
    graders = cfg.get("graders", {})
    if graders:
        lines.append("Graders: " + "; ".join(f"{kind}: {who}" for kind, who in graders.items())
                     + ". Self-graded figures (a judge that is the model that wrote the answers) are kept apart and never called independent.")  # fmt: skip
    columns = [name, *others]
    lines += ["", "| metric | " + " | ".join(f"`{c}`" for c in columns) + " |", "|---|" + "---|" * len(columns)]
    names = [m for m in TABLE if m in report.metrics] + [m for m in report.metrics if m not in TABLE]
    for metric in names:
        row = [report.metrics.get(metric), *(o.get(metric) for o in others.values())]
        lines.append(f"| {metric} | " + " | ".join(_fmt(v) for v in row) + " |")
    lines += ["", "## By question type", "", "| type | n | " + " | ".join(PER_TYPE) + " |", "|---|---|" + "---|" * len(PER_TYPE)]
    for kind, row in per_type(report).items():
        lines.append(f"| {kind} | {row['n']} | " + " | ".join(_fmt(row[m]) for m in PER_TYPE) + " |")
    for png in plots:
        lines += ["", f"![{png.stem}]({png.name})"]
    lines += ["", "## Failures by kind", ""]
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in report.questions:
        if r.get("failure"):
            by_kind[r["failure"]].append(r)
    if not by_kind:
        lines.append("None.")
    for kind in [*FAILURE_KINDS, *(k for k in by_kind if k not in FAILURE_KINDS)]:
        if kind not in by_kind:
            continue
        lines += [f"### {kind} ({len(by_kind[kind])})", ""]
        for r in by_kind[kind]:
            lines.append(f"- **{r['id']}** {_cell(r['question'], 200)} (gold: {_cell(r.get('gold') or '—', 80)}; {r['latency_s']:.2f} s)")
            for c in r.get("claims", []):
                lines.append(f"  - {c['kind']}{' (related)' if c.get('role') == 'related' else ''}: {_cell(c['text'], 240)}")
            for g in r.get("claim_grades", []):
                if not g["supported"]:
                    lines.append(f"  - not supported ({g['grader']}): {_cell(g['text'], 160)} ({_cell(g.get('reason', ''), 80)})")
        lines.append("")
    ordered = sorted(report.questions, key=lambda r: (not r["failed"], r["id"]))
    lines += ["## Every question", "", "| | id | type | question | answer | refused | correct | direct | latency s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in ordered:
        lines.append(
            f"| {'✗' if r['failed'] else '✓'} | {r['id']} | {r['type']} | {_cell(r['question'], 90)} | {_cell(r['answer'])} | "
            f"{'yes' if r['refused'] else 'no'} | {_fmt(r.get('answer_correct'))} | {_fmt(r.get('direct_answer'))} | {r['latency_s']:.2f} |"
        )
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
        ax.set_ylim(-1.05, 1.05)
        ax.axhline(0, color="#999", linewidth=0.5)
        ax.set_title("Scores by question type (truthfulness runs from -1 to 1)")
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
