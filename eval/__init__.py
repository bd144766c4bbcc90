"""Grounding evaluation: retrieval, correctness, refusals and citation quality, and the judge itself.

    import eval
    report = eval.run("questions.jsonl", articles=["seeds/"])   # or store=".rag"
    report.write("report/")
    eval.judge_pairs("pairs.jsonl", judge="lexical")             # accuracy of the support judge

`rag eval` and `rag judge` are the same on the command line.
"""

from rag.judges import JUDGES, make_judge

from .judging import judge_pairs
from .report import EvalReport
from .runner import METRICS, load_questions, run

__all__ = ["JUDGES", "METRICS", "EvalReport", "judge_pairs", "load_questions", "make_judge", "run"]
