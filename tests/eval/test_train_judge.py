"""Training the entailment judge: the data builders, and a few steps of the real script (CI's smoke run)."""

from __future__ import annotations

import json
import random
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED

from core.sentences import sentence_spans, windows
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
        if p.label == 1:  # the sentence, its first clause, or two of the window's sentences joined
            parts = [c for c in sentence_spans_text(p.claim)]
            assert all(c.rstrip(".") in PASSAGE for c in parts), p
        else:
            assert p.claim.lower() not in PASSAGE.lower() and p.kind
    kinds = {p.kind for p in pairs if p.label == 0}
    assert {"number", "negation"} & kinds


def sentence_spans_text(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_document_level_pairs_join_sentences_and_borrow_from_other_passages():
    other = ("Mayor Anne Kerlann opened a new library in the port district last week. "
             "The building cost 4 million euros and holds 80,000 books.")
    pairs = perturbed_pairs([PASSAGE] * 30 + [other] * 30, 400, random.Random(3))
    by_kind: dict[tuple[int, str], list[Pair]] = {}
    for p in pairs:
        by_kind.setdefault((p.label, p.kind), []).append(p)
    joined = by_kind[(1, "join")]
    assert joined and all(len(sentence_spans_text(p.claim)) == 2 and all(c in p.passage for c in sentence_spans_text(p.claim))
               for p in joined)
    for p in by_kind[(0, "join")]:  # one true sentence of the window, one changed
        halves = sentence_spans_text(p.claim)
        assert len(halves) == 2 and sum(h in p.passage for h in halves) == 1, p
    elsewhere = by_kind[(0, "elsewhere")]
    assert elsewhere and all(p.claim not in p.passage and "Kerlann" in p.claim for p in elsewhere)


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

    # weights trained elsewhere (a GPU machine hands back the fp16 parts) rebuild the same model here
    parts = sorted(str(f) for f in out.glob("trained-fp16-*.safetensors"))
    assert parts
    again = tmp_path / "again"
    done = subprocess.run(
        [sys.executable, "-m", "eval.train_judge", "--out", str(again), "--pairs", "120", "--from-weights", *parts],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rebuilt = json.loads((again / "training.json").read_text())["export_check"]
    assert abs(rebuilt["torch"]["balanced_accuracy"] - check["torch"]["balanced_accuracy"]) <= 0.02


@pytest.mark.slow
def test_the_reranker_base_is_read_back_from_its_int8_onnx_file():
    import numpy as np
    import onnxruntime as ort
    import torch

    from eval.judge_base import load_base, reranker_dir

    tokenizer, model = load_base("reranker-l12")
    pairs = [("How many people live in Berlin?", "Berlin has a population of 3.5 million registered inhabitants."),
             ("How many people live in Berlin?", "The weather in Paris was sunny on Tuesday."),
             ("Who won the match?", "Brazil beat Chile 1-0 on Sunday.")]
    enc = tokenizer([q for q, _ in pairs], [p for _, p in pairs], padding=True, return_tensors="pt")
    with torch.no_grad():
        ours = model.eval()(**enc).logits[:, 0].numpy()
    session = ort.InferenceSession(str(reranker_dir() / "model.onnx"), providers=["CPUExecutionProvider"])
    theirs = session.run(None, {k: v.numpy() for k, v in enc.items()})[0][:, 0]
    assert np.abs(ours - theirs).max() < 0.6 and ours[0] > ours[2] > ours[1] and theirs[0] > theirs[1]


def test_a_base_without_token_types_exports_and_reads_like_the_others(tmp_path):
    """MPNet (the mpnet-base grader's architecture) takes no token types: the export feeds it ids and mask only."""
    import numpy as np
    import torch
    from transformers import MPNetConfig, MPNetForSequenceClassification

    from eval.judge_base import load_base
    from eval.train_judge import export
    from rag.retrieval.rerank import OnnxCrossEncoder

    tokenizer, _ = load_base("minilm-l6")  # any fast tokenizer will do; an MPNet one gives no token types
    tokenizer.model_input_names = ["input_ids", "attention_mask"]
    torch.manual_seed(0)
    config = MPNetConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                         intermediate_size=64, num_labels=1)  # fmt: skip
    model = MPNetForSequenceClassification(config)
    held = [Pair("The council voted to close the bridge.", PASSAGE, 1, "built"), Pair("Buses were cancelled.", PASSAGE, 0, "built")]
    export(model, tokenizer, tmp_path, held, {})
    check = json.loads((tmp_path / "judge.json").read_text())["export_check"]
    assert check["max_abs_prob_diff"] < 0.05  # INT8 ONNX reads as the PyTorch model does
    onnx = OnnxCrossEncoder(tmp_path, truncation="only_first", threads=1).logits([(PASSAGE, held[0].claim)])
    enc = tokenizer([PASSAGE], [held[0].claim], return_tensors="pt")
    with torch.no_grad():
        torch_logit = model.eval()(**enc).logits[0, 0].item()
    assert np.isclose(onnx[0], torch_logit, atol=0.05)
