"""The sweeps of eval.bench_answers: answers made with no gate, scored as each refusal gate would refuse them,
or as each phrase gate would withhold their phrases."""

from __future__ import annotations

from eval.bench_answers import gate_sweep, half_of, phrase_gate_sweep, withheld_claims
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


def answered(claims: list[tuple[str, str, float | None]], *, correct: float, direct: float, shown: float,
             phrase_correct: float | None = None) -> dict:
    """A reader's or the extractive generator's record: its claims (kind, text, log-probability) and scores."""
    rec = {"refused": False, "claims": [{"kind": k, "text": t, "role": "answer"} | ({} if lp is None else {"logprob": lp}) for k, t, lp in claims],
           "answer_correct": correct, "direct_answer": direct, "shown_answer_correct": shown,
           "truthfulness": 2 * correct - 1, "shown_truthfulness": 2 * shown - 1}  # fmt: skip
    return rec if phrase_correct is None else rec | {"phrase_correct": phrase_correct}


def test_each_phrase_gate_shows_an_unsure_phrases_sentence_first_then_the_ranked_quotes():
    qs = [EvalQuestion("a", "Who won?", answer="Brest", must_include=(("Brest",),)),
          EvalQuestion("c", "Who lost?", answer="Lyon", must_include=(("Lyon",),)),
          EvalQuestion("e", "Who danced?", answer="Ana", must_include=(("Ana",),)),
          EvalQuestion("b", "Who ran?", answer="Jo", must_include=(("Jo",),))]  # fmt: skip
    reader = [answered([("phrase", "Brest", -0.2), ("quote", "Brest won the cup.", None)], correct=1, direct=1, shown=1, phrase_correct=1),
              # c: an unsure, wrong phrase; the sentence it was copied from holds the answer
              answered([("phrase", "Nantes", -1.5), ("quote", "Lyon lost to Nantes.", None)], correct=1, direct=0, shown=0, phrase_correct=0),
              answered([("quote", "Bob danced.", None)], correct=0, direct=0, shown=0),  # e: no phrase, wrong
              answered([("phrase", "Jo", -3.0), ("quote", "Jo ran fast.", None)], correct=1, direct=1, shown=1, phrase_correct=1)]  # fmt: skip
    extractive = [answered([("quote", "Brest won the cup.", None)], correct=1, direct=1, shown=1),
                  answered([("quote", "The final was in Paris.", None), ("quote", "Lyon lost to Nantes.", None)], correct=1, direct=0, shown=1),
                  answered([("quote", "Bob danced.", None)], correct=0, direct=0, shown=0),
                  answered([("quote", "Someone ran.", None)], correct=0, direct=0, shown=0)]  # fmt: skip
    sweep = phrase_gate_sweep(qs, reader, extractive, [-99, -1])
    everything, gated = sweep["-99"]["tune"], sweep["-1"]["tune"]
    assert everything == {"answer_correct": 0.6667, "direct_answer": 0.3333, "shown_answer_correct": 0.3333,
                          "truthfulness": 0.3333, "shown_truthfulness": -0.3333, "wrong_phrases_shown": 1, "phrases_withheld": 0}  # fmt: skip
    # At -1, c's phrase is withheld: the sentence it was copied from comes first (it answers), then the ranker's
    # other quote; the extractive answer alone would not answer first. a and e keep theirs.
    assert gated == {"answer_correct": 0.6667, "direct_answer": 0.6667, "shown_answer_correct": 0.6667,
                     "truthfulness": 0.3333, "shown_truthfulness": 0.3333, "wrong_phrases_shown": 0, "phrases_withheld": 1}  # fmt: skip
    # b (test half): withheld, its sentence still answers, first.
    assert sweep["-1"]["test"]["direct_answer"] == 1.0 and sweep["-99"]["test"]["answer_correct"] == 1.0


def test_a_withheld_phrases_sentence_leads_the_ranked_quotes():
    reader = answered([("phrase", "Nantes", -2.0), ("quote", "Lyon lost to Nantes.", None)], correct=1, direct=0, shown=0)
    ranked = [("quote", "Sentence 0.", None), ("quote", "Lyon lost to Nantes.", None), ("quote", "Sentence 2.", None)]
    extractive = answered(ranked, correct=1, direct=0, shown=1)
    claims = withheld_claims(reader, extractive, -1.0)
    assert [c.text for c in claims] == ["Lyon lost to Nantes.", "Sentence 0.", "Sentence 2."]  # once each
    assert withheld_claims(reader, extractive, -3.0) is None  # the phrase passes that gate: nothing withheld
    several = answered([("phrase", "Nantes", -2.0), ("phrase", "Paris", -0.1), ("quote", "Lyon lost to Nantes.", None)], correct=1, direct=0, shown=0)
    for c in several["claims"][:2]:
        c["part"] = "Who won?" if c["text"] == "Nantes" else "Where?"
    assert [c.text for c in withheld_claims(several, extractive, -1.0)] == ["Paris", "Lyon lost to Nantes."]
