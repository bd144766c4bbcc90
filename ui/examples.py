"""Example questions for a newcomer: real questions about the articles in the store, that the store answers.

Questions are made from the articles' own sentences, newest articles first:
a sentence whose subject is a name asks who did what it says ("Defense
Minister Sergei Shoigu on Thursday ordered the troops to return to their
permanent bases" gives "Who ordered the troops to return to their permanent
bases?"), so its answer is a short phrase the article holds: the subject. A
question is offered only if the server's generator answers it with that
subject (a copied phrase naming it, or for the extractive generator a quote
holding it), so every example works and shows what an answer looks like.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from core.sentences import sentence_spans

# verb (as written) -> question template for its subject
_QUESTIONS = {
    "said": "What did {s} say?", "says": "What did {s} say?", "announced": "What did {s} announce?",
    "offered": "What did {s} offer?", "ordered": "What did {s} order?", "promised": "What did {s} promise?",
    "proposed": "What did {s} propose?", "signed": "What did {s} sign?", "approved": "What did {s} approve?",
    "invited": "Whom did {s} invite?", "warned": "What did {s} warn about?", "won": "What did {s} win?",
    "launched": "What did {s} launch?", "accused": "Whom did {s} accuse?", "met": "Whom did {s} meet?",
    "decided": "What did {s} decide?", "rejected": "What did {s} reject?", "agreed": "What did {s} agree to?",
    "called": "What did {s} call for?", "urged": "What did {s} urge?",
}  # fmt: skip
_WEEKDAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
# The subject starts the sentence (a name, possibly with its title); a date or "also" may stand before the verb.
_SUBJECT = re.compile(
    r"^[“\"]?((?:[Tt]he )?[A-Z][\w'’.-]*(?: (?:of |the |de |van )?[A-Z][\w'’.-]*){0,5})"
    r"(?: (?:also|has|have|had|on (?:" + _WEEKDAYS + r")|(?:late |early )?(?:yesterday|today|last week)))? (" + "|".join(_QUESTIONS) + r")\b"
)
_CLAUSES = re.compile(r"[;:]\s+|,\s+(?:and|but|while)\s+")
_REST_END = re.compile(r"[,;:.!?“”\"()]| and | but | while | after | because ")
_NOT_SUBJECTS = set(_WEEKDAYS.lower().split("|")) | {"the", "he", "she", "it", "they", "we", "i", "this", "that"}


def questions_from_text(text: str, limit: int = 3) -> list[tuple[str, str]]:
    """`(question, subject)` pairs from sentences of `text` whose subject is a name: "Who <verb> <what follows>?",
    in order, without repeats."""
    out: list[tuple[str, str]] = []
    for start, end in sentence_spans(text):
        for clause in _CLAUSES.split(text[start:end]):
            match = _SUBJECT.match(clause)
            if match is None:
                continue
            subject, verb = match.group(1).strip(), match.group(2)
            if len(subject) < 3 or subject.lower() in _NOT_SUBJECTS or subject.split()[0].lower() == "the":
                continue
            rest = _REST_END.split(clause[match.end() :], maxsplit=1)[0].strip()
            if not 2 <= len(rest.split()) <= 14:
                continue
            question = f"Who {verb} {rest}?"
            if all(q != question for q, _ in out):
                out.append((question, subject))
        if len(out) >= limit:
            break
    return out


def example_questions(texts: Sequence[str], answers: Callable[[str, str], bool], n: int = 3) -> list[str]:
    """Up to `n` questions, at most one per article (`texts` in the order to prefer), that `answers(question, subject)` accepts."""
    chosen: list[str] = []
    for text in texts:
        for question, subject in questions_from_text(text, limit=4):
            if question not in chosen and answers(question, subject):
                chosen.append(question)
                break
        if len(chosen) >= n:
            break
    return chosen
