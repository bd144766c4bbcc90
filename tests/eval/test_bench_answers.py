"""The sweeps of eval.bench_answers: answers made with no gate, scored as each refusal gate would refuse them,
or as each phrase gate would withhold their phrases."""

from __future__ import annotations

from eval.bench_answers import gate_sweep, half_of, phrase_gate_sweep
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


def scored(correct: float, direct: float, shown: float, *, phrase: float | None = None, phrase_correct: float | None = None) -> dict:
    claims = [] if phrase is None else [{"kind": "phrase", "role": "answer", "logprob": phrase}]
    rec = {"claims": claims, "answer_correct": correct, "direct_answer": direct, "shown_answer_correct": shown,
           "truthfulness": 2 * correct - 1, "shown_truthfulness": 2 * shown - 1}  # fmt: skip
    return rec if phrase_correct is None else rec | {"phrase_correct": phrase_correct}


def test_each_phrase_gate_answers_an_unsure_phrase_with_the_extractive_answer():
    qs = [EvalQuestion("a", "Who won?", answer="Brest"), EvalQuestion("c", "Who lost?", answer="Lyon"),
          EvalQuestion("e", "Who danced?", answer="Ana"), EvalQuestion("b", "Who ran?", answer="Jo")]  # fmt: skip
    reader = [scored(1, 1, 1, phrase=-0.2, phrase_correct=1),  # a sure, right phrase
              scored(1, 0, 0, phrase=-1.5, phrase_correct=0),  # c: an unsure, wrong phrase over a quote that answers
              scored(0, 0, 0),  # e: no phrase, wrong
              scored(1, 1, 1, phrase=-3.0, phrase_correct=1)]  # b (test half): unsure but right  # fmt: skip
    extractive = [scored(1, 0, 1), scored(1, 1, 1), scored(1, 1, 1), scored(0, 0, 0)]
    sweep = phrase_gate_sweep(qs, reader, extractive, [-99, -1])
    everything, gated = sweep["-99"]["tune"], sweep["-1"]["tune"]
    assert everything == {"answer_correct": 0.6667, "direct_answer": 0.3333, "shown_answer_correct": 0.3333,
                          "truthfulness": 0.3333, "shown_truthfulness": -0.3333, "wrong_phrases_shown": 1, "phrases_withheld": 0}  # fmt: skip
    # At -1, c's phrase is withheld: its answer is the extractive one (right, first quote answers); a and e keep theirs.
    assert gated == {"answer_correct": 0.6667, "direct_answer": 0.6667, "shown_answer_correct": 0.6667,
                     "truthfulness": 0.3333, "shown_truthfulness": 0.3333, "wrong_phrases_shown": 0, "phrases_withheld": 1}  # fmt: skip
    assert sweep["-1"]["test"]["answer_correct"] == 0.0 and sweep["-99"]["test"]["answer_correct"] == 1.0
