"""The shipped entailment judge: loads offline, orders hand-written pairs, reads long passages window by window."""

from __future__ import annotations

import pytest

from rag.judges import SupportJudge, make_judge
from rag.judges.nli import MODEL_DIR, NLIJudge

# Written for this test (made-up news), not taken from any data set.
PASSAGE = (
    "Mayor Ines Duarte of Lisbon awarded the new tram contract to Carris on Tuesday, the city said. "
    "The contract is worth 48 million euros and covers 20 new trams. "
    "The council had approved the purchase in March after a long debate."
)
# Known gaps of this small model, measured (docs/judges.md): it reads a swapped role as supported, and a
# weaker verb ("proposed" for "approved") nearly so (0.89 against 0.98; the 6-layer model it replaced
# scored 0.63 against 0.78). Kept as strict expected failures: a better model makes them pass, and then
# they must be turned into plain tests.
KNOWN_GAP = pytest.mark.xfail(strict=True, reason="the MiniLM entailment model does not see who did what (docs/judges.md)")
WEAKER_VERB = pytest.mark.xfail(strict=True, reason="the model reads 'proposed' as close to 'approved' (docs/judges.md)")
PAIRS = [
    # (what is tested, supported claim, unsupported variant)
    pytest.param("a swapped role", "Duarte awarded the tram contract to Carris.", "Carris awarded the tram contract to Duarte.",
                 marks=KNOWN_GAP, id="a swapped role"),  # fmt: skip
    pytest.param("a changed number", "The contract covers 20 new trams.", "The contract covers 30 new trams.", id="a changed number"),
    pytest.param("a negation", "The council approved the purchase in March.", "The council did not approve the purchase.", id="a negation"),
    pytest.param("a paraphrase", "Lisbon's mayor awarded a deal for twenty trams.", "Lisbon's mayor cancelled a deal for twenty trams.",
                 id="a paraphrase"),  # fmt: skip
    pytest.param("a certainty change", "The council approved the purchase in March.", "The council proposed the purchase in March.",
                 marks=WEAKER_VERB, id="a certainty change"),  # fmt: skip
    pytest.param("an added detail", "The council had approved the purchase.", "The council had approved and paid for the purchase.",
                 id="an added detail"),  # fmt: skip
]


@pytest.fixture(scope="module")
def judge() -> NLIJudge:
    return NLIJudge()


def test_the_model_ships_with_the_package_and_its_card():
    for name in ("model.onnx", "tokenizer.json", "judge.json", "MODEL_CARD.md"):
        assert (MODEL_DIR / name).is_file(), f"{name} is missing from {MODEL_DIR}"
    card = (MODEL_DIR / "MODEL_CARD.md").read_text()
    assert "ms-marco-MiniLM-L-12-v2" in card and "ANLI" in card  # names its base and says what it was never trained on


def test_it_is_a_judge_like_the_others(judge):
    assert isinstance(judge, SupportJudge) and judge.name == "nli"
    assert make_judge("nli").name == "nli"


@pytest.mark.parametrize(("kind", "good", "bad"), PAIRS)
def test_the_supported_claim_scores_above_its_changed_twin(judge, kind, good, bad):
    right, wrong = judge.scores(good, [PASSAGE])[0], judge.scores(bad, [PASSAGE])[0]
    assert right > wrong + 0.1, f"{kind}: {right:.3f} vs {wrong:.3f}"


def test_a_long_passage_is_read_window_by_window(judge):
    filler = " ".join(f"Residents of district {i} reported a quiet weekend with little traffic." for i in range(60))
    long = filler + " " + PASSAGE
    assert len(long.split()) > 3 * judge.window_words
    claim = "The tram contract is worth 48 million euros."
    windowed = judge.scores(claim, [long])[0]
    first_part_only = float(judge.probabilities([(long, claim)])[0])  # what a 256-token read of the start sees
    assert windowed > first_part_only and windowed > 0.5
    assert len(judge.windows_of(long)) > 3


def test_several_passages_at_once_and_quotes_together(judge):
    verdicts = judge.judge_many("The contract covers 20 new trams.", [PASSAGE, "Ferries ran late in Porto on Monday."])
    assert verdicts[0].score > verdicts[1].score and not verdicts[1].supported
    quotes = ["Mayor Ines Duarte of Lisbon awarded the new tram contract to Carris on Tuesday.",
              "The contract is worth 48 million euros and covers 20 new trams."]  # fmt: skip
    combined = "Duarte awarded a 48 million euro contract for 20 trams."
    assert judge.judge_together(combined, quotes).score > max(judge.scores(combined, quotes))


def test_the_evaluation_grader_is_used_once_trained_into_the_cache(tmp_path, monkeypatch, judge):
    import shutil

    import rag.judges as judges
    from core.errors import ConfigError

    folder = tmp_path / "judges" / "nli-mpnet"
    monkeypatch.setattr("rag.judges.nli.grader_dir", lambda: folder)
    assert not judges.grader_installed() and judges.independent_judge() == "nli"
    with pytest.raises(ConfigError, match="train_judge --base mpnet-base"):  # says how to get it
        make_judge("mpnet")
    shutil.copytree(MODEL_DIR, folder)  # a model of the same layout stands in for the trained grader
    assert judges.grader_installed() and judges.independent_judge() == "mpnet"
    grader = make_judge("mpnet")
    assert grader.name == "mpnet" and grader.model_dir == folder  # reports name the grader, not "nli"
    claim = "The contract covers 20 new trams."
    assert grader.scores(claim, [PASSAGE]) == pytest.approx(judge.scores(claim, [PASSAGE]), abs=1e-5)
