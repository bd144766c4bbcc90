import numpy as np
import pytest

from core.errors import ModelError
from rag.retrieval.rerank import OnnxCrossEncoder, OverlapCrossEncoder, best_window


@pytest.fixture(scope="module")
def cross_encoder():
    return OnnxCrossEncoder()


def test_real_cross_encoder_prefers_the_answering_sentence(cross_encoder):
    texts = [
        "Ukraine has made increasingly bold attacks within Russia.",
        "Defense Minister Sergei Shoigu ordered the troops to return to their permanent bases by May 1.",
        "The capital of Australia is Canberra.",
    ]
    logits = cross_encoder.score("Who ordered Russian troops back to their bases?", texts)
    assert logits.shape == (3,) and int(np.argmax(logits)) == 1
    assert logits[1] > 0 > logits[2]


def test_batches_keep_input_order(cross_encoder):
    texts = ["short", "a much longer sentence about the harbour closing on Friday because of the storm"] * 20
    small = OnnxCrossEncoder(batch_size=3)
    # INT8 dynamic quantisation picks its scale per batch, so logits move a little: a few
    # hundredths on an AVX2 CPU, up to 0.21 on one with AVX-512 VNNI. A scrambled order
    # would move them by about 15 (the two texts score about -10 and +5.5).
    a = small.score("Why did the harbour close?", texts)
    b = cross_encoder.score("Why did the harbour close?", texts)
    assert np.allclose(a, b, atol=0.5)
    assert np.all(a[1::2] > 0) and np.all(a[::2] < 0)
    assert cross_encoder.score("q", []).shape == (0,)


def test_missing_model_folder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelError, match="cannot load the cross-encoder"):
        OnnxCrossEncoder(tmp_path).score("q", ["t"])


def test_fake_scores_by_overlap():
    s = OverlapCrossEncoder().score("harbour storm", ["the harbour storm", "the harbour", "nothing"])
    assert s[0] > s[1] > s[2]


ARTICLE = (
    "The harbour of Brest reopened on Monday after a week of repairs. "
    "Officials said the storm had damaged two piers and sunk a ferry. "
    "The mayor thanked the crews who worked through the night. "
    "A new sea wall, costing 4 million euros, will be finished by June."
)


def test_best_window_reads_the_sentences_that_share_the_question_words():
    question = "How much will the new sea wall cost?"
    assert best_window(question, ARTICLE, 20) == "A new sea wall, costing 4 million euros, will be finished by June."
    window = best_window(question, ARTICLE, 25)  # room for the sentence before it, which starts earlier
    assert window == "The mayor thanked the crews who worked through the night. A new sea wall, costing 4 million euros, will be finished by June."
    assert len(window.split()) <= 25 and window in ARTICLE
    # the earliest window wins a tie; a text within the limit, or a limit of 0, comes back whole
    assert best_window("When did it reopen?", ARTICLE, 12).startswith("The harbour of Brest reopened")
    assert best_window("anything", ARTICLE, 100) == ARTICLE
    assert best_window("anything", ARTICLE, 0) == ARTICLE


def test_best_window_cuts_a_sentence_longer_than_the_limit():
    long = "word " * 50 + "storm damage."
    assert best_window("storm damage", long.strip(), 10) == " ".join(["word"] * 10)
