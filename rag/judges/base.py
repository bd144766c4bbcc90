"""What every support judge is: a `Verdict` on a claim against a passage, through one protocol.

    SupportJudge.judge(claim, passage, premise="") -> Verdict
    SupportJudge.judge_many(claim, passages, premise="") -> list[Verdict]

`premise` is text the claim may take for granted (the question it answers);
judges that cannot use it ignore it. `judge_many` lets a judge batch its work
(one embedding call, one model batch) for a claim against several quotes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Verdict:
    """A judge's decision, with the evidence behind it."""

    supported: bool
    score: float  # 0..1, higher means better supported
    reason: str = ""


@runtime_checkable
class SupportJudge(Protocol):
    """Decides whether a passage supports every part of a claim."""

    name: str

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        """The verdict on `claim` against `passage`."""
        ...

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """The verdicts on `claim` against each of `passages`, in order."""
        ...


def judge_all(judge: SupportJudge, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
    """`judge`'s verdicts on `claim` against each passage (one `judge_many` call)."""
    return judge.judge_many(claim, passages, premise=premise)
