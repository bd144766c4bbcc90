"""Decoding held to the reply grammar: greedy, and back to the likeliest passed-over choice from a dead end."""

import numpy as np
import pytest

from index.types import ArticleRef
from rag.generators.copying import CopyConstraint, Window
from rag.llm.base import Reply
from rag.llm.decoding import masked_greedy

SOURCE = "Oxford Dictionaries said Monday that goblin mode won the vote."
QUESTION = "Which phrase did the Oxford Dictionary choose as its word of the year?"
PIECES = ["<end>", "[", "1", "]", " Oxford", " Dictionaries", " said", " goblin", " mode", " Monday", "none", " the"]
END = 0


class Model:
    """A scripted model: the logits after each reply (tuple of pieces) it is asked about; it counts the tokens it reads."""

    def __init__(self, prefers: dict[tuple[str, ...], dict[str, float]]) -> None:
        self.prefers = prefers
        self.evaluated = 0

    def logits(self, tokens=()) -> np.ndarray:
        row = np.zeros(len(PIECES))
        for piece, logit in self.prefers.get(tuple(PIECES[t] for t in tokens), {}).items():
            row[PIECES.index(piece)] = logit
        return row

    def logits_after(self, tokens) -> np.ndarray:
        self.evaluated += 1
        return self.logits(tuple(tokens))

    def decode(self, **options) -> Reply:
        constraint = CopyConstraint([Window.of(ArticleRef("a"), SOURCE, 0)], QUESTION)
        return masked_greedy(self.logits(), self.logits_after, lambda t: PIECES[t].encode(), constraint, stop_tokens=[END], top_k=3, **options)

    def reply(self, **options) -> str:
        return self.decode(**options).text


MARK = {(): {"[": 9, "none": 6}, ("[",): {"1": 9}, ("[", "1"): {"]": 9}}


def test_greedy_when_no_dead_end_and_no_extra_work():
    model = Model(MARK | {("[", "1", "]"): {" goblin": 8, " Oxford": 5}, ("[", "1", "]", " goblin"): {" mode": 8},
                          ("[", "1", "]", " goblin", " mode"): {"<end>": 8}})  # fmt: skip
    assert model.reply() == "[1] goblin mode"
    assert model.evaluated == 5  # one evaluation per token written


def test_a_dead_end_goes_back_to_the_likeliest_choice_passed_over():
    # The model copies "Oxford Dictionaries" (which adds nothing to the question, so it is no reply) and wants
    # to stop there; nothing among its best tokens continues the source.
    model = Model(MARK | {
        ("[", "1", "]"): {" Oxford": 8, " goblin": 7, " the": 2},
        ("[", "1", "]", " Oxford"): {" Dictionaries": 9},
        ("[", "1", "]", " Oxford", " Dictionaries"): {"<end>": 9, " goblin": 8, " mode": 7},
        ("[", "1", "]", " goblin"): {" mode": 8},
        ("[", "1", "]", " goblin", " mode"): {"<end>": 8},
    })  # fmt: skip
    assert model.reply(backtracks=0) == ""  # plain greedy decoding had nothing to show
    assert model.reply() == "[1] goblin mode"


def test_a_complete_reply_on_the_way_to_a_dead_end_is_kept():
    model = Model(MARK | {
        ("[", "1", "]"): {" goblin": 8, " Oxford": 7},
        ("[", "1", "]", " goblin"): {" mode": 8},
        ("[", "1", "]", " goblin", " mode"): {" Oxford": 9, " said": 8, " Monday": 7},  # nothing that follows "mode"
    })  # fmt: skip
    assert model.reply() == "[1] goblin mode"


def test_backtracking_is_bounded():
    # Both phrases the model starts dead-end; the likeliest choice left is "none", reached on the second try back.
    model = Model(MARK | {("[", "1", "]"): {" Oxford": 8, " the": 6}, ("[", "1", "]", " Oxford"): {" Dictionaries": 9},
                          ("[", "1", "]", " Oxford", " Dictionaries"): {"<end>": 9, " goblin": 8, " mode": 7},
                          ("[", "1", "]", " the"): {"<end>": 9, "[": 8, " Oxford": 7}})  # fmt: skip
    assert model.reply(backtracks=1) == ""
    assert model.evaluated == 6  # five tokens on the first path, one on the second
    assert model.reply(backtracks=2) == "none"


def log_softmax(row: dict[str, float], piece: str) -> float:
    logits = np.zeros(len(PIECES))
    for p, v in row.items():
        logits[PIECES.index(p)] = v
    return float(logits[PIECES.index(piece)] - np.log(np.exp(logits).sum()))


def test_the_reply_carries_each_tokens_log_probability_over_the_whole_vocabulary():
    rows = MARK | {("[", "1", "]"): {" goblin": 8, " Oxford": 7.5}, ("[", "1", "]", " goblin"): {" mode": 2, " Monday": 2},
                   ("[", "1", "]", " goblin", " mode"): {"<end>": 8}}  # fmt: skip
    reply = Model(rows).decode()
    assert reply.text == "[1] goblin mode"
    expected = [log_softmax(MARK[()], "["), log_softmax(MARK[("[",)], "1"), log_softmax(MARK[("[", "1")], "]"),
                log_softmax(rows[("[", "1", "]")], " goblin"), log_softmax(rows[("[", "1", "]", " goblin")], " mode")]  # fmt: skip
    assert [lp for _, lp in reply.pieces] == pytest.approx(expected)
    # The phrase's words: the tokens after the source's number (" goblin", " mode"), unsure of the second.
    assert reply.logprob(4, len(reply.data)) == pytest.approx(expected[3] + expected[4])
    assert expected[4] < -1 < expected[3] < 0
    assert Reply.written("[1] goblin mode").logprob(4, 15) is None  # a backend that does not say


def test_the_grammar_reads_the_confidence_of_each_lines_phrase():
    constraint = CopyConstraint([Window.of(ArticleRef("a"), SOURCE, 0)], QUESTION, items=2)
    reply = Reply(b"[1] goblin mode\nnone", ((b"[", -0.1), (b"1", -0.2), (b"]", -0.05), (b" goblin", -0.5), (b" mode", -0.25), (b"\n", 0.0), (b"none", -2.0)))
    # The source's number and the phrase's words (not the "[" that opens an answer, nor the "]").
    assert constraint.confidence(reply) == [pytest.approx(-0.95), None]
    unsure_of_the_source = Reply(reply.data, ((b"[", -0.1), (b"1", -1.5), *reply.pieces[2:]))
    assert constraint.confidence(unsure_of_the_source) == [pytest.approx(-2.25), None]
