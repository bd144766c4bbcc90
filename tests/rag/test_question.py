"""The question, read once: its parts, what it asks for, its year, a comparison."""

import pytest

from rag.question import analyse, split_parts


@pytest.mark.parametrize(
    "question, parts",
    [
        ("Who ordered Russian troops to return to their permanent bases, and by what date?",
         ("Who ordered Russian troops to return to their permanent bases?", "By what date?")),
        ("What closed the bridge, and when will it reopen?", ("What closed the bridge?", "When will it reopen?")),
        ("Who won the match and how many goals were scored?", ("Who won the match?", "How many goals were scored?")),
        ("What did Putin and Zelensky discuss?", ("What did Putin and Zelensky discuss?",)),  # "and" joins names, not questions
        ("Which bread and which cheese won?", ("Which bread and which cheese won?",)),  # one word before "and": not a question
    ],
)  # fmt: skip
def test_a_question_of_several_parts_is_split_at_the_second_question_word(question, parts):
    assert split_parts(question) == parts


def test_what_the_question_asks_for_its_year_and_its_asking_sentence():
    q = analyse("Harry Belafonte died this week at age 96. He was the first Black man to receive which award?", "2023-04-28")
    assert q.asked == "He was the first Black man to receive which award?" and q.wants == "name"
    assert q.frame is not None and q.frame.phrase == "this week" and q.year is None
    assert analyse("How many people were killed?").wants == "number"
    assert analyse("When will the harbour reopen?").wants == "date"
    assert analyse("Where did Putin invite Zelensky in 2025?").year == 2025
    assert analyse("Did prices rise between 2021 and 2022?").year is None  # two years: none is the year asked about
    assert analyse(analyse("Why?")).text == "Why?"


def test_a_comparison_names_the_articles_and_what_it_compares():
    q = analyse("How do the casualty figures in the two articles differ?")
    assert q.comparison and q.topic == "casualty figures"
    assert not analyse("Did both sides deny it?").comparison
