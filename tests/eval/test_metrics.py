"""Each metric on small hand-made cases whose right value is known."""

import json

import pytest

from eval.metrics import (
    EvalQuestion,
    Evidence,
    Retrieved,
    contains_all,
    evidence_overlap,
    judge_figures,
    percentile,
    refusal_metrics,
    retrieval_metrics,
    used_metrics,
)
from eval.report import EvalReport
from eval.runner import _aggregate
from rag.types import Answer, Citation, Passage

Q = EvalQuestion("q1", "When will the harbour reopen?", "factoid", "On Monday.", (("Monday",),), (Evidence("port", "would reopen on Monday"),))
PORT = "The harbour of Brest was closed on Friday after a storm. Officials said it would reopen on Monday."
BOATS = "About 40 fishing boats stayed in port during the closure."


def test_retrieval_hits_mrr_and_answer_chunk():
    retrieved = [Retrieved("other", "Nothing here."), Retrieved("port", "The harbour was closed."), Retrieved("port", PORT)]
    m = retrieval_metrics(Q, retrieved)
    assert m["hits@1"] == 0.0 and m["hits@4"] == 1.0 and m["hits@10"] == 1.0
    assert m["mrr@10"] == 0.5
    # The first evidence chunk lacks "Monday": answer_chunk needs the third.
    assert m["answer_chunk@1"] == 0.0 and m["answer_chunk@4"] == 1.0
    assert retrieval_metrics(Q, [Retrieved("other", "Monday")])["mrr@10"] == 0.0


def _cite(n, doc, quote, text):
    start = text.index(quote)
    return Citation(n, doc, doc, "", "", "", quote, start, start + len(quote), 1.0)


def _answer(text, cites, passages):
    return Answer(text, False, tuple(cites), passages=tuple(Passage(f"{d}#0", d, d, t, 0, len(t), 1.0) for d, t in passages))


def test_retrieval_of_what_the_answer_used():
    used = [Retrieved("other", "Nothing here."), Retrieved("port", PORT)]
    assert used_metrics(Q, used) == {"used_hits@1": 0.0, "used_hits@k": 1.0, "used_answer_chunk@1": 0.0, "used_answer_chunk@k": 1.0}
    assert used_metrics(Q, [Retrieved("port", "The harbour was closed.")])["used_answer_chunk@k"] == 0.0


def test_evidence_overlap_needs_the_gold_article_and_quote():
    on_quote = _answer("x [1]", [_cite(1, "port", "Officials said it would reopen on Monday.", PORT)], [("port", PORT)])
    off_quote = _answer("x [1]", [_cite(1, "port", "The harbour of Brest was closed on Friday after a storm.", PORT)], [("port", PORT)])
    other = _answer("x [1]", [_cite(1, "boats", BOATS, BOATS)], [("boats", BOATS)])
    assert evidence_overlap(Q, on_quote) == 1.0
    assert evidence_overlap(Q, off_quote) == 0.0
    assert evidence_overlap(Q, other) == 0.0
    assert evidence_overlap(Q, Answer("The articles don't say.", True)) is None


def test_refusal_metrics_and_a_refused_answerable_question():
    # Questions: answerable refused (wrong), null refused (right), answerable answered (right), null answered (wrong).
    m = refusal_metrics([True, True, False, False], [False, True, False, True])
    assert m == {"refusal_precision": 0.5, "refusal_recall": 0.5, "refusal_accuracy": 0.5}
    qs = [Q, EvalQuestion("q2", "Who won?", "null")]
    records = [
        {"refused": True, "answer_correct": 0.0, "truthfulness": 0.0, "evidence_overlap": None, "latency_s": 1.0},
        {"refused": True, "truthfulness": 1.0, "evidence_overlap": None, "latency_s": 3.0},
    ]
    agg = _aggregate(qs, records)
    assert agg["answer_correct"] == 0.0 and agg["truthfulness"] == 0.5
    assert agg["refusal_precision"] == 0.5 and agg["refusal_recall"] == 1.0 and agg["refusal_accuracy"] == 0.5
    assert agg["latency_p50_s"] == 1.0 and agg["latency_p95_s"] == 3.0


def test_percentile_and_judge_figures():
    assert percentile([5, 1, 3, 2, 4], 50) == 3
    assert percentile([], 50) is None
    f = judge_figures([True, True, False, False], [True, False, False, True])
    assert f == {"accuracy": 0.5, "balanced_accuracy": 0.5, "precision": 0.5, "recall": 0.5}
    assert judge_figures([True, False], [True, False])["balanced_accuracy"] == 1.0


def test_report_files_and_thresholds(tmp_path):
    records = [
        {"id": "b", "type": "factoid", "question": "Q b", "answer": "ok [1]", "refused": False, "failed": False, "failure": None,
         "answer_correct": 1.0, "truthfulness": 1.0, "latency_s": 0.2, "claims": [{"kind": "phrase", "text": "ok", "role": "answer"}],
         "claim_grades": [], "citations": []},
        {"id": "a", "type": "null", "question": "Q a", "answer": "wrong", "refused": False, "failed": True,
         "failure": "answered an unanswerable one", "truthfulness": -1.0, "latency_s": 0.4,
         "claims": [{"kind": "quote", "text": "wrong", "role": "answer"}],
         "claim_grades": [{"kind": "quote", "text": "wrong", "supported": False, "grader": "exact", "reason": "r"}], "citations": []},
    ]  # fmt: skip
    report = EvalReport({"answer_correct": 1.0, "refusal_recall": 0.0, "truthfulness": None}, records,
                        {"generator": "g", "top_k": 5, "judge": "nli", "graders": {"quote": "exact"}})  # fmt: skip
    md = report.write(tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert set(data) >= {"metrics", "questions"} and data["metrics"]["answer_correct"] == 1.0
    text = md.read_text()
    assert "## Failures by kind" in text and "### answered an unanswerable one (1)" in text and "Q a" in text
    assert "quote: exact" in text
    assert (tmp_path / "metrics_by_type.png").stat().st_size > 1000 and (tmp_path / "latency.png").stat().st_size > 1000
    assert report.shortfalls({"answer_correct": 0.9}) == []
    assert len(report.shortfalls({"answer_correct": 0.9, "refusal_recall": 0.5, "truthfulness": 0.1})) == 2


@pytest.mark.parametrize("line", ['{"question": ""}', "not json", '{"id": 1}'])
def test_bad_question_lines_name_the_line(tmp_path, line):
    from core.errors import InputError
    from eval.runner import load_questions

    path = tmp_path / "q.jsonl"
    path.write_text('{"question": "ok?", "answer": null}\n' + line + "\n")
    with pytest.raises(InputError, match="line 2"):
        load_questions(path)


def test_answer_terms_match_case_and_an_amounts_scale_either_way():
    assert contains_all("Fox agreed to pay $787.5 million.", [["$787.5m"]])
    assert contains_all("a $787.5M settlement", [["$787.5 million"]])
    assert contains_all("losses of 3bn euros", [["3 billion"]])
    assert not contains_all("the 5 men", [["5m"]])
    assert not contains_all("$787.5 million", [["$787.5 billion"]])
    assert contains_all("COVID-19 and flu", [["covid-19"], ["Flu", "influenza"]])


def test_a_possessive_holds_the_name_and_is_read_either_way():
    assert contains_all("Vladimir Putin’s invasion of Ukraine", [["Vladimir Putin"]])
    assert contains_all("Vladimir Putin's invasion", [["Vladimir Putin"]])
    assert contains_all("a new McDonalds menu", [["McDonald's"]])
    assert contains_all("at McDonald’s", [["McDonalds"]])
    assert not contains_all("Putinsky said", [["Putin"]])
    assert not contains_all("the Kremlin's view", [["Putin"]])


def test_token_f1_is_squads():
    from eval.metrics import token_f1

    assert token_f1("Liz Cheney", "Rep. Liz Cheney") == 0.8  # 2 of 2 words, 2 of 3
    assert token_f1("the Snowman", "The Snowman") == 1.0
    assert token_f1("Burmese python", "Snake") == 0.0
    assert token_f1("", "Snake") == 0.0
