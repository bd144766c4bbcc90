"""The LLM judge: the local chat model's probability of answering "Yes".

`LLMJudge` asks the local chat model (Qwen2.5, llama.cpp) "does the passage
support every part of the claim? Yes or No" and reads P(yes) straight from the
logits of the first reply token, so it costs one prompt evaluation and no
sampling. The fixed system prompt comes first, so llama.cpp's KV cache keeps it
between calls and each judgement only pays for the passage and the claim.

The model is reached through `LlamaCppLLM.next_token_logits` and its
tokenizer, never through llama-cpp-python's internals.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ..llm.local import LlamaCppLLM, shared_llm
from .base import Verdict
from .lexical import names_out_of_order, swap_spans

JUDGE_SYSTEM_PROMPT = (
    "You are a strict fact-checker. Judge only from the passage, never from what you know. "
    "Answer Yes only if everything in the claim is stated in the passage. Answer No if the claim changes "
    "a number, a name, who did what, or whether it happened, or adds anything the passage does not say."
)
JUDGE_USER_TEMPLATE = (
    "Passage: {passage}\nClaim: {claim}\nDoes the passage support every part of the claim? Answer Yes or No."
)

# Worked examples, shown to the model as earlier turns of the conversation (made-up
# news, not from any evaluation set). A 1.5B model told only the rule lets swapped
# roles, added causes and over-generalisations through; with these before it,
# balanced accuracy on pairs it never saw rose from 0.78 to 0.85 (docs/judges.md).
# They never change, so llama.cpp keeps them in its KV cache with the system prompt.
JUDGE_EXAMPLES: tuple[tuple[str, str, str], ...] = (
    ("The city council of Brest voted 31 to 12 on Monday to close the old harbour bridge to cars from June.",
     "Brest's council approved closing the harbour bridge to cars, by 31 votes to 12.", "Yes"),
    ("The city council of Brest voted 31 to 12 on Monday to close the old harbour bridge to cars from June.",
     "Brest's council voted 31 to 12 to close the harbour bridge to cars from July.", "No"),
    ("Striker Ana Lopes joined Porto from Benfica for 12 million euros, the clubs said on Friday.",
     "Benfica signed Ana Lopes from Porto for 12 million euros.", "No"),
    ("Striker Ana Lopes joined Porto from Benfica for 12 million euros, the clubs said on Friday.",
     "Porto paid 12 million euros for Ana Lopes, who left Benfica.", "Yes"),
    ("The storm cut power to about 40,000 homes in Galway, the utility said, and crews worked through the night.",
     "The storm cut power to about 40,000 homes in Galway after flooding a substation.", "No"),
    ("The company asked regulators in March to approve its new battery plant.",
     "Regulators approved the company's new battery plant in March.", "No"),
    ("Of the 20 climbers who set out, 14 reached the summit, including three from Nepal.",
     "Twenty climbers reached the summit.", "No"),
    ("Prime Minister Elena Varga said on Tuesday she would not seek a third term.",
     "Varga announced she will not run for a third term as prime minister.", "Yes"),
    ("Prime Minister Elena Varga said on Tuesday she would not seek a third term.",
     "Elena Varga said she would seek a third term.", "No"),
    ("Mayor Tom Reyes, a former teacher, opened the library, which cost $3 million.",
     "The library that Reyes opened cost $3 million.", "Yes"),
)  # fmt: skip

# P(yes) at which a claim counts as supported. With the worked examples the model's
# answers are calibrated around the middle (0.5 was best on the dev and built pairs).
DEFAULT_THRESHOLD = 0.5

_YES = ("Yes", " Yes", "yes", " yes", "YES")
_NO = ("No", " No", "no", " no", "NO")


def _chatml(system: str, turns: Sequence[tuple[str, str | None]]) -> str:
    """A ChatML prompt: the system message, then (user, assistant) turns; the last turn's assistant is left open."""
    text = f"<|im_start|>system\n{system}<|im_end|>\n"
    for user, reply in turns:
        text += f"<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"
        if reply is not None:
            text += f"{reply}<|im_end|>\n"
    return text


def _plain(text: str) -> str:
    """Text that cannot smuggle in chat-control tokens such as <|im_end|>."""
    return " ".join(text.replace("<|", "< |").replace("|>", "| >").split())


def _logsumexp(values: np.ndarray) -> float:
    top = float(values.max())
    return top + math.log(float(np.exp(values - top).sum()))


class LLMJudge:
    """Judges support by the local LLM's probability of answering "Yes".

    Args:
        llm: the local model; default the process's shared judging context
            (`shared_llm(role="judge")`, loaded on first use).
        threshold: P(yes) at or above which a claim is supported.
        max_passage_tokens: longer passages are cut to this many tokens.
        system_prompt, user_template: override `JUDGE_SYSTEM_PROMPT` / `JUDGE_USER_TEMPLATE`
            (the template takes `{passage}` and `{claim}`).
        examples: worked (passage, claim, "Yes"/"No") turns before the question
            (default `JUDGE_EXAMPLES`; () for none).
        contrast: when the claim names people in another order than the passage
            (`rag.judge.names_out_of_order`), the claim with those names exchanged is
            judged too; if its P(yes) is higher by this much, the claim is unsupported
            (swapped roles). 0 turns the check off.
    """

    name = "llm"

    def __init__(
        self,
        llm: LlamaCppLLM | None = None,
        threshold: float = DEFAULT_THRESHOLD,
        *,
        max_passage_tokens: int = 768,
        system_prompt: str = JUDGE_SYSTEM_PROMPT,
        user_template: str = JUDGE_USER_TEMPLATE,
        examples: Sequence[tuple[str, str, str]] = JUDGE_EXAMPLES,
        contrast: float = 0.1,
    ) -> None:
        self.llm = llm if llm is not None else shared_llm(role="judge")
        self.threshold = threshold
        self.max_passage_tokens = max_passage_tokens
        self.system_prompt = system_prompt
        self.user_template = user_template
        self.examples = tuple(examples)
        self.contrast = contrast
        self._answer_ids: tuple[list[int], list[int]] | None = None

    def judge(self, claim: str, passage: str, *, premise: str = "") -> Verdict:
        """The verdict on `claim` against `passage` (`premise` is not used: the model reads the claim whole)."""
        p = self.probability(claim, passage)
        if p >= self.threshold and self.contrast > 0:
            pair = names_out_of_order(claim, passage)
            if pair is not None:
                # Small models judge "Zelensky invited Putin" against "Putin invited
                # Zelensky" by its words; asked about both orders, they prefer the right one.
                swapped = swap_spans(claim, *pair)
                q = self.probability(swapped, passage)
                if q - p >= self.contrast:
                    return Verdict(False, min(p, 1.0 - q), f"P(yes)={p:.2f}, but {q:.2f} with the names swapped: {swapped!r}")
        return Verdict(p >= self.threshold, p, f"P(yes)={p:.2f}")

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """Judge one claim against several passages (one model call each)."""
        return [self.judge(claim, p) for p in passages]

    def probability(self, claim: str, passage: str) -> float:
        """P(yes) for "does `passage` support every part of `claim`?", from the first reply token's logits."""
        logits = self.llm.next_token_logits(self._prompt(claim, passage))
        yes_ids, no_ids = self._answer_token_ids()
        yes = _logsumexp(logits[yes_ids])
        no = _logsumexp(logits[no_ids])
        return 1.0 / (1.0 + math.exp(no - yes))

    def _prompt(self, claim: str, passage: str) -> str:
        passage = _plain(passage)
        cut = self.llm.tokenize(passage)
        if len(cut) > self.max_passage_tokens:
            passage = self.llm.detokenize(cut[: self.max_passage_tokens]) + " …"
        turns = [(self.user_template.format(passage=p, claim=c), a) for p, c, a in self.examples]
        turns.append((self.user_template.format(passage=passage, claim=_plain(claim)), None))
        return _chatml(self.system_prompt, turns)

    def _answer_token_ids(self) -> tuple[list[int], list[int]]:
        if self._answer_ids is None:

            def single(words: Sequence[str]) -> list[int]:
                ids = {tuple(self.llm.tokenize(w)) for w in words}
                return sorted(t[0] for t in ids if len(t) == 1)

            yes, no = single(_YES), single(_NO)
            if not yes or not no:
                raise ValueError("the model's vocabulary has no single-token Yes/No")
            self._answer_ids = (yes, no)
        return self._answer_ids
