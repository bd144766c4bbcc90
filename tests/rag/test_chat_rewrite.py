"""The chat's follow-up rewrite without a model: a personal pronoun becomes the earlier question's first name."""

from __future__ import annotations

from rag.chat import resolve_person

EARLIER = "At what event did Vladimir Putin promise to guarantee Zelensky's security in Moscow?"


def test_a_pronoun_becomes_the_earlier_questions_first_name():
    assert resolve_person("And what did he say about foreign troops?", EARLIER) == "And what did Vladimir Putin say about foreign troops?"
    assert resolve_person("What was his reason?", EARLIER) == "What was Vladimir Putin's reason?"
    assert resolve_person("Who asked her?", EARLIER) == "Who asked Vladimir Putin?"


def test_without_a_pronoun_or_a_name_nothing_is_rewritten():
    assert resolve_person("And when?", EARLIER) is None  # the chat then puts the earlier question before it
    assert resolve_person("And what did he say?", "Where did the president go?") is None
