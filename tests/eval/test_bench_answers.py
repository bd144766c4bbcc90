"""The refusal-gate sweep of eval.bench_answers: answers made with no gate, scored as each gate would refuse them."""

from __future__ import annotations

from eval.bench_answers import gate_sweep, half_of
from eval.metrics import EvalQuestion


def record(score: float, correct: float | None, *, refused: bool = False) -> dict:
    return {"refused": refused, "citations": [{"score": score}] if not refused else [],
            "answer_correct": correct, "direct_answer": correct}  # fmt: skip


def test_each_gate_refuses_what_scores_below_it_and_is_scored_by_hand():
    # ids a, c, d, e are in the tune half; b in the test half (a hash of the id)
    assert [half_of(i) for i in "acdeb"] == ["tune"] * 4 + ["test"]
    qs = [EvalQuestion("a", "Who won the cup?", answer="Brest"), EvalQuestion("c", "Who lost the cup?", answer="Lyon"),
          EvalQuestion("d", "Who sang?", type="null"), EvalQuestion("e", "Who danced?", answer="Ana"),
          EvalQuestion("b", "Who ran?", answer="Jo")]  # fmt: skip
    records = [record(0.9, 1.0), record(0.6, 0.0), record(0.5, None), record(0.0, None, refused=True), record(0.8, 1.0)]
    sweep = gate_sweep(qs, records, [0.4, 0.7])
    low, high = sweep["0.40"]["tune"], sweep["0.70"]["tune"]
    # gate 0.4: a right (+1), c wrong (-1), d answered though unanswerable (-1), e refused (0); the decision to
    # answer was right for a and c, wrong for d and e
    assert low == {"answer_correct": 0.3333, "direct_answer": 0.3333, "truthfulness": -0.25, "refusal_accuracy": 0.5}
    # gate 0.7: c and d refused too: a +1, c 0, d +1, e 0; decisions right for a and d
    assert high == {"answer_correct": 0.3333, "direct_answer": 0.3333, "truthfulness": 0.5, "refusal_accuracy": 0.5}
    assert sweep["0.70"]["test"]["answer_correct"] == 1.0
