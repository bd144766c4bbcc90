"""Whether a question's names are in the articles: the check that refuses a question about something else."""

from __future__ import annotations

import pytest

import core.text as tf

ARTICLE = ("Mount Etna, Italy's most active volcano, erupted on the 5th, officials in Sicily said. "
           "Flights from Catania were cancelled; Russia and Ukraine sent condolences.")  # fmt: skip


@pytest.mark.parametrize("question", [
    "Which Italian island saw an eruption?",  # a people's word: the place's name and an ending
    "Did Russian and Ukrainian officials react?",
    "Which volcano erupted on Tuesday in March?",  # when, said another way or not at all
    "Which volcano did Sicillian officials name?",  # a misspelling of a long name
])  # fmt: skip
def test_a_question_about_what_the_article_says_names_nothing_missing(question):
    vocabulary = set(tf.content_terms(ARTICLE))
    assert [n for n in tf.names(question) if not tf.mentioned(n, vocabulary)] == []


@pytest.mark.parametrize(("question", "missing"), [
    ("Which Japanese island saw an eruption?", ["japanese"]),
    ("Did Etna erupt near Naples?", ["naple"]),  # names are stemmed
    ("What did Portuguese officials say?", ["portuguese"]),
])  # fmt: skip
def test_a_name_the_articles_never_mention_is_missing(question, missing):
    vocabulary = set(tf.content_terms(ARTICLE))
    assert [n for n in tf.names(question) if not tf.mentioned(n, vocabulary)] == missing
