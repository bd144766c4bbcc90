"""The judge benchmark's threshold choice, and recording it in a newly trained model's judge.json."""

from __future__ import annotations

import json

import numpy as np

from eval.bench_judges import choose_threshold, write_threshold


def test_the_threshold_is_chosen_on_the_choose_halves_only():
    scores = np.array([0.9, 0.8, 0.35, 0.3, 0.2, 0.1])
    labels = np.array([True, True, True, False, False, False])
    choose = np.array([True, True, True, True, True, True])
    # A file outside the design set, whose labels a low threshold would suit, must not move the choice.
    other = (np.array([0.12, 0.11]), np.array([True, True]), np.array([True, True]))
    threshold = choose_threshold({"wice": (scores, labels, choose), "heldout2": other})
    assert 0.3 < threshold <= 0.35


def test_the_chosen_threshold_is_written_beside_what_the_model_already_says(tmp_path):
    config = tmp_path / "judge.json"
    config.write_text(json.dumps({"format": 1, "max_length": 256, "threshold": 0.5}))
    write_threshold(config, 0.31, ["qags-c", "wice"])
    data = json.loads(config.read_text())
    assert data["threshold"] == 0.31 and data["max_length"] == 256
    assert data["threshold_chosen_on"] == ["qags-c (choose half)", "wice (choose half)"]
