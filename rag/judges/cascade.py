"""The cascade: a fast judge first, a slow one only for the claims it is unsure of."""

from __future__ import annotations

from collections.abc import Sequence

from .base import SupportJudge, Verdict


class CascadeJudge:
    """A fast judge first; the slow judge only for scores strictly between `low` and `high`.

    Args:
        fast: cheap judge whose score decides the clear cases (normally `LexicalJudge`).
        slow: expensive judge for the uncertain band (normally `LLMJudge`).
        low: a fast score at or below this is unsupported without asking the slow judge.
        high: a fast score at or above this is supported without asking the slow judge.
        max_slow: most slow calls per `judge_many` (one sentence against its source's quotes).
        doubt, overrule: a fast score at or below `doubt` is a reasoned objection (for
            `LexicalJudge`: a name or a negation the passage does not match); the slow
            judge must then score at least `overrule` to call the claim supported.

    The defaults suit `LexicalJudge`. Only its number veto (score 0.10: a number
    the passage lacks) is trusted as "unsupported"; its name and negation vetoes
    (0.15, 0.20) also fire on fair paraphrases ("the Russian leader" for Putin,
    "NATO", "would not" for "declined"), so they go to the slow judge, which must
    then be surer than usual (`overrule`) to let the claim through. Only a
    near-verbatim claim (0.95 or more) is trusted as "supported": high word
    coverage cannot see a swapped role or verb among words the passage contains.
    """

    name = "cascade"

    def __init__(
        self,
        fast: SupportJudge,
        slow: SupportJudge,
        low: float = 0.1,
        high: float = 0.95,
        *,
        max_slow: int = 2,
        doubt: float = 0.2,
        overrule: float = 0.7,
    ) -> None:
        if low >= high:
            raise ValueError(f"low ({low}) must be below high ({high})")
        if max_slow < 1:
            raise ValueError(f"max_slow must be at least 1, got {max_slow}")
        self.fast = fast
        self.slow = slow
        self.low = low
        self.high = high
        self.max_slow = max_slow
        self.doubt = doubt
        self.overrule = overrule

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        return self.judge_many(claim, [passage], premise=premise)[0]

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """Judge one claim against several candidate quotes (of one source), calling the slow judge sparingly.

        The fast judge reads every passage. If it is sure of one ("supported" at
        `high` or above), its verdicts stand. Otherwise the slow judge reads the
        uncertain passages best first, at most `max_slow` of them, and stops at the
        first it finds supporting; uncertain passages it did not read count as
        unsupported. So checking a sentence costs at most `max_slow` slow calls,
        however many quotes its source offers.
        """
        firsts = self.fast.judge_many(claim, passages, premise=premise)
        out = [self._settled(v) for v in firsts]
        if any(v.supported and v.score >= self.high for v in firsts):
            return out
        band = sorted((i for i, v in enumerate(firsts) if self.low < v.score < self.high), key=lambda i: -firsts[i].score)
        for n, i in enumerate(band):
            if n >= self.max_slow:
                out[i] = Verdict(False, firsts[i].score, f"not checked by {self.slow.name} ({self.fast.name}: {firsts[i].reason})")
                continue
            out[i] = self._decide(firsts[i], claim, passages[i])
            if out[i].supported:
                for j in band[n + 1 :]:
                    out[j] = Verdict(False, firsts[j].score, f"not checked: a better quote is supported ({self.fast.name}: {firsts[j].reason})")
                break
        return out

    def _settled(self, first: Verdict) -> Verdict:
        """`first` as the fast judge's final word when it lies outside the band; unsupported (unchecked) inside it."""
        if first.score <= self.low:
            return Verdict(False, first.score, f"{self.fast.name}: {first.reason}")
        if first.score >= self.high:
            return Verdict(True, first.score, f"{self.fast.name}: {first.reason}")
        return Verdict(False, first.score, f"not checked by {self.slow.name} ({self.fast.name}: {first.reason})")

    def _decide(self, first: Verdict, claim: str, passage: str) -> Verdict:
        if first.score <= self.low:
            return Verdict(False, first.score, f"{self.fast.name}: {first.reason}")
        if first.score >= self.high:
            return Verdict(True, first.score, f"{self.fast.name}: {first.reason}")
        second = self.slow.judge(claim, passage)
        supported = second.score >= self.overrule if first.score <= self.doubt else second.supported
        return Verdict(
            supported,
            second.score,
            f"{self.slow.name}: {second.reason} ({self.fast.name} uncertain at {first.score:.2f}: {first.reason})",
        )
