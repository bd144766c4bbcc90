"""bench.first_question against a real `rag serve` (the extractive generator: no model to load)."""

from __future__ import annotations

import pytest
from conftest import SEEDS

from bench.first_question import run

pytestmark = pytest.mark.slow


def test_every_question_is_asked_twice_of_one_fresh_server_and_the_first_is_compared_with_the_second_round(tmp_path):
    questions = ["Where did Putin invite Zelensky to meet him?", "Who won the 2031 chess olympiad?"]
    result = run("extractive", questions, SEEDS, tmp_path)
    lat = result["latencies_s"]
    assert result["questions"] == 2 and len(lat) == 4 and all(t > 0 for t in lat)
    assert result["first_s"] == lat[0] and result["first_asked_again_s"] == lat[2]
    assert result["p50_second_round_s"] == round((lat[2] + lat[3]) / 2, 3)
    assert result["first_over_p50"] == round(lat[0] / result["p50_second_round_s"], 2)
    assert result["server_ready_s"] > 0 and (tmp_path / "store").is_dir()
