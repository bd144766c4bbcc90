"""Training the entailment judge: the data builders, and a few steps of the real script (CI's smoke run)."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED

from core.sentences import windows
from eval.nli_data import Pair, best_window, load_rows, perturbed_pairs, sample_public

TRAIN = SHARED / "data" / "nli" / "train" / "pairs.jsonl"
PASSAGE = (
    "The city council of Brest voted 31 to 12 on Monday to close the old harbour bridge to cars from June. "
    "Mayor Anne Kerlann said the council had proposed the closure in March after engineers found cracks. "
    "Cyclists and pedestrians will still be able to cross, and buses will be rerouted through Recouvrance. "
    "Some shop owners on the quay said they feared losing customers."
)


def test_windows_cover_the_text_with_whole_sentences():
    text = " ".join(f"Sentence number {i} is here." for i in range(30))
    spans = windows(text, 20)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(len(text[s:e].split()) <= 20 for s, e in spans)
    assert all(text[s:e].endswith(".") for s, e in spans)
    assert all(b[0] < a[1] for a, b in zip(spans, spans[1:]))  # consecutive windows overlap by a sentence


def test_best_window_finds_the_sentences_about_the_claim():
    long = " ".join(["Weather was mild across the region on Sunday."] * 40) + " " + PASSAGE
    window = best_window("Brest's council voted to close the harbour bridge to cars.", long, max_words=40)
    assert "harbour bridge" in window and len(window.split()) <= 40


def test_built_pairs_change_one_thing_and_keep_half_supported():
    rng = random.Random(0)
    pairs = perturbed_pairs([PASSAGE] * 20, 40, rng)
    assert len(pairs) == 40 and sum(p.label for p in pairs) == 20
    for p in pairs:
        assert p.passage in PASSAGE  # judged against its own window
        if p.label == 1:
            assert p.claim.rstrip(".") in PASSAGE or p.claim in PASSAGE
        else:
            assert p.claim.lower() not in PASSAGE.lower() and p.kind
    kinds = {p.kind for p in pairs if p.label == 0}
    assert {"number", "negation"} & kinds


def test_non_commercial_rows_are_refused(tmp_path):
    path = tmp_path / "pairs.jsonl"
    path.write_text(json.dumps({"id": "x", "claim": "a", "passage": "b", "label": "supported", "licence": "CC BY-NC 4.0"}) + "\n")
    with pytest.raises(ValueError, match="not for training"):
        load_rows(path)
    path.write_text(json.dumps({"id": "y", "claim": "a", "passage": "b", "label": "supported",
                                "licence": "BSD-3-Clause (DocNLI); MultiNLI (OANC and others)"}) + "\n")  # fmt: skip
    assert len(load_rows(path)) == 1


def test_sampling_takes_at_most_the_cap_per_family():
    rows = [{"claim": f"c{i}", "passage": "p", "label": "supported" if i % 2 else "unsupported", "source": "e-SNLI dev"} for i in range(10)]
    rows += [{"claim": "d", "passage": "p", "label": "supported", "source": "Climate-FEVER"}]
    got = sample_public(rows, {"esnli": 4}, random.Random(1))
    assert sum(p.source == "esnli" for p in got) == 4 and sum(p.source == "climate-fever" for p in got) == 1
    assert all(isinstance(p, Pair) for p in got)


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN.exists(), reason="needs ../shared/data/nli")
def test_the_training_script_runs_a_few_steps_and_exports(tmp_path):
    out = tmp_path / "judge"
    done = subprocess.run(
        [sys.executable, "-m", "eval.train_judge", "--out", str(out), "--pairs", "120", "--steps", "3", "--batch", "8"],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "epoch 1: loss" in done.stdout
    for name in ("model.onnx", "tokenizer.json", "judge.json", "training.json"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "training.json").read_text())
    check = summary["export_check"]  # INT8 against PyTorch on the held-out pairs
    assert summary["steps"] == 3 and abs(check["onnx_int8"]["balanced_accuracy"] - check["torch"]["balanced_accuracy"]) <= 0.2
    from rag.judges.nli import NLIJudge

    judge = NLIJudge(out)
    verdicts = judge.judge_many("The council voted to close the bridge.", [PASSAGE, "Nothing related."])
    assert len(verdicts) == 2 and all(0.0 <= v.score <= 1.0 for v in verdicts)
