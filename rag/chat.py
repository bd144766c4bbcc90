"""Conversations: follow-up questions are rewritten to stand alone, then answered from the articles.

Only the question is rewritten; the answer is still retrieved and cited from
the articles, never from earlier turns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace

import core.text as tf
from index.filters import Filters

from .engine import QueryEngine, check_question
from .generators.base import Generator
from .llm.base import LLM, Message, complete
from .prompts import REWRITE_SYSTEM_PROMPT, REWRITE_USER_TEMPLATE
from .question import analyse
from .types import Answer, final_answer


@dataclass
class Turn:
    question: str
    standalone: str
    answer: Answer


@dataclass
class Chat:
    """A conversation over one `QueryEngine`.

    Args:
        engine: answers standalone questions.
        rewriter: the LLM that rewrites follow-ups; None uses a rule (the
            previous question, then the follow-up, which the ranker reads as the sentence that asks).
        max_turns: how many earlier turns the rewriter sees.
        filters: restrict every turn's search (sources, dates, articles).
    """

    engine: QueryEngine
    rewriter: LLM | None = None
    max_turns: int = 3
    history: list[Turn] = field(default_factory=list)

    filters: Filters | None = None

    def ask(self, question: str, *, top_k: int | None = None) -> Answer:
        return final_answer(self.stream(question, top_k=top_k))

    def stream(self, question: str, *, top_k: int | None = None) -> Iterator[str | Answer]:
        """Like `QueryEngine.stream`, for the next turn of the conversation."""
        question = check_question(question)
        standalone = self.standalone(question)
        for event in self.engine.stream(standalone, top_k=top_k, filters=self.filters):
            if isinstance(event, Answer):
                event = replace(event, question=question)
                self.history.append(Turn(question, standalone, event))
            yield event

    def reset(self) -> None:
        self.history.clear()

    def standalone(self, question: str) -> str:
        """The question rewritten to be understood without the conversation."""
        if not self.history or not needs_context(question):
            return question
        recent = self.history[-self.max_turns :]
        if self.rewriter is not None:
            rewritten = self._rewrite_with_llm(question, recent)
            if rewritten:
                return rewritten
        return resolve_person(question, recent[-1].standalone) or f"{recent[-1].standalone} {question}"

    def _rewrite_with_llm(self, question: str, recent: list[Turn]) -> str | None:
        history = "\n".join(f"User: {t.standalone}\nAssistant: {_said(t.answer)}" for t in recent)
        reply = complete(
            self.rewriter,  # type: ignore[arg-type]
            [Message("system", REWRITE_SYSTEM_PROMPT), Message("user", REWRITE_USER_TEMPLATE.format(history=history, question=question))],
            max_tokens=60,
            stop=("\n",),
        ).strip().strip('"')
        if not reply or len(reply) > 400:
            return None
        # The rewrite may only use words from the conversation: no new names.
        known = set(tf.content_terms(history + " " + question))
        if any(not tf.fuzzy_in(n, known) for n in tf.names(reply)):
            return None
        return reply


_MARKERS = re.compile(r" ?\[\d+\]")


def _said(answer: Answer) -> str:
    """What an earlier turn answered, as the rewriter reads it: its copied phrases (the quotes would hand it
    the next answer: "And by what date?" was rewritten "By May 1, when will the troops return?"), else the
    answer's first claim."""
    phrases = [c.text for c in answer.claims if c.kind == "phrase"]
    if phrases:
        return "; ".join(phrases)
    first = answer.claims[0].text if answer.claims else answer.text
    return _MARKERS.sub("", first)[:200]


def rewriter_of(generator: Generator) -> LLM | None:
    """The model that rewrites follow-ups for conversations with `generator`: its own LLM when it has
    one (a `ReaderGenerator`), else None (the rule-based rewrite)."""
    from .generators.reader import ReaderGenerator

    return generator.llm if isinstance(generator, ReaderGenerator) else None


_PERSON = re.compile(r"\b(he|she|him|her|his)\b", re.IGNORECASE)


def resolve_person(question: str, earlier: str) -> str | None:
    """The follow-up with its personal pronoun replaced by the first name of the earlier question ("And what did
    he say?" after "... did Putin promise ...?": "And what did Putin say?"), or None when it has no such pronoun
    or the earlier question names no one. Without a model to rewrite it, this is the follow-up the ranker can
    read: the earlier question put before it reads as what is asked, and draws the earlier answer back."""
    spans = tf.name_spans(earlier)
    found = _PERSON.search(question)
    if not spans or not found:
        return None
    _, start, end = spans[0]
    for _, more_start, more_end in spans[1:]:  # the whole name: "Vladimir Putin", not "Vladimir"
        if earlier[end:more_start] != " ":
            break
        end = more_end
    name = earlier[start:end]
    word = found.group(1).lower()
    replacement = name + "'s" if word == "his" or (word == "her" and not _object_position(question, found.end())) else name
    return question[: found.start()] + replacement + question[found.end():]


def _object_position(question: str, at: int) -> bool:
    """Whether "her" ends the clause ("asked her?", "told her about"): an object, not "her plan"."""
    rest = question[at:].lstrip()
    return not rest or rest[0] in "?.,!" or rest.split()[0].lower() in ("about", "to", "for", "with", "that", "if")


def needs_context(question: str) -> bool:
    """Whether a question refers back to the conversation (`rag.question.Question.follow_up`)."""
    return analyse(question).follow_up
