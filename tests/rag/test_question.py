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


def test_the_window_of_news_a_question_is_about():
    from datetime import date

    from rag.question import analyse

    plain = analyse("Who won the election?", "2023-08-31")
    w = plain.window()
    assert (w.start, w.end) == (date(2023, 5, 31), date(2023, 9, 1)) and plain.asked_on == date(2023, 8, 31)
    # An archive that ends earlier is asked about as of its end (the store's newest article, else the passages').
    assert analyse("Who won the election?", "2026-12-04", latest="2023-11-26").window().start == date(2023, 8, 26)
    assert plain.window(newest=date(2023, 1, 10)).start == date(2022, 10, 10)
    # A period it names, once begun, is the window (and a day after, for time zones); one still to
    # come names the event, not the report.
    this_week = analyse("What happened this week?", "2023-08-31").window()
    assert (this_week.start, this_week.end) == (date(2023, 8, 24), date(2023, 9, 1))
    in_2021 = analyse("Who won in 2021?", "2023-08-31").window()
    assert (in_2021.start, in_2021.end) == (date(2021, 1, 1), date(2022, 2, 1))
    assert analyse("Which car will GM retire in 2024?", "2023-08-31").window().start == date(2023, 5, 31)
    # Each part of a question is asked at the same time.
    two = analyse("Who closed the bridge, and when will it reopen?", "2023-08-31", latest="2023-09-30")
    assert {(p.asked_on, p.latest) for p in map(two.part, two.parts)} == {(date(2023, 8, 31), date(2023, 9, 30))}
