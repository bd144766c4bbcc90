"""Grounding evaluation: retrieval, correctness, refusals and citation quality, and the judge itself.

    import eval
    report = eval.run("questions.jsonl", articles=["seeds/"])   # or store=".rag"
    report.write("report/")
    eval.judge_pairs("pairs.jsonl", judge="lexical")             # accuracy of the support judge

`rag eval` and `rag judge` are the same on the command line.
"""

from .judging import JUDGES, judge_pairs, make_judge
from .runner import METRICS, EvalReport, load_questions, run

__all__ = ["JUDGES", "METRICS", "EvalReport", "judge_pairs", "load_questions", "make_judge", "run"]
