"""Support judges built on the local LLM, and a cascade that calls it only when needed.

`LLMJudge` asks the local chat model (Qwen2.5, llama.cpp) "does the passage
support every part of the claim? Yes or No" and reads P(yes) straight from the
logits of the first reply token, so it costs one prompt evaluation and no
sampling. The fixed system prompt comes first, so llama.cpp's KV cache keeps it
between calls and each judgement only pays for the passage and the claim.

`CascadeJudge` puts a fast judge (normally `LexicalJudge`) in front of a slow
one: clear cases are settled by the fast judge's score, only the uncertain band
in between reaches the slow judge.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .judge import SupportJudge, Verdict, judge_all, names_out_of_order, swap_spans
from .llm.local import LlamaCppLLM

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
        llm: the local model; default a new `LlamaCppLLM()` (loaded on first use).
            Pass the generator's instance to share one loaded model.
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
        self.llm = llm if llm is not None else LlamaCppLLM()
        self.threshold = threshold
        self.max_passage_tokens = max_passage_tokens
        self.system_prompt = system_prompt
        self.user_template = user_template
        self.examples = tuple(examples)
        self.contrast = contrast
        self._answer_ids: tuple[list[int], list[int]] | None = None

    def judge(self, claim: str, passage: str) -> Verdict:
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

    def judge_many(self, claim: str, passages: Sequence[str]) -> list[Verdict]:
        """Judge one claim against several passages (one model call each)."""
        return [self.judge(claim, p) for p in passages]

    def probability(self, claim: str, passage: str) -> float:
        """P(yes) for "does `passage` support every part of `claim`?", from the first reply token's logits."""
        with self.llm._lock:
            llama = self.llm.llama
            tokens = self._prompt_tokens(llama, claim, passage)
            logits = self._next_token_logits(llama, tokens)
            yes_ids, no_ids = self._answer_token_ids(llama)
        yes = _logsumexp(logits[yes_ids])
        no = _logsumexp(logits[no_ids])
        return 1.0 / (1.0 + math.exp(no - yes))

    # -- internals (called with the model lock held) --

    def _prompt_tokens(self, llama, claim: str, passage: str) -> list[int]:  # noqa: ANN001 - llama_cpp.Llama
        passage = _plain(passage)
        cut = llama.tokenize(passage.encode("utf-8"), add_bos=False, special=False)
        if len(cut) > self.max_passage_tokens:
            passage = llama.detokenize(cut[: self.max_passage_tokens]).decode("utf-8", errors="ignore") + " …"
        turns = [(self.user_template.format(passage=p, claim=c), a) for p, c, a in self.examples]
        turns.append((self.user_template.format(passage=passage, claim=_plain(claim)), None))
        tokens = llama.tokenize(_chatml(self.system_prompt, turns).encode("utf-8"), add_bos=False, special=True)
        if len(tokens) >= llama.n_ctx():
            raise ValueError(f"judge prompt of {len(tokens)} tokens does not fit the {llama.n_ctx()}-token context")
        return tokens

    def _next_token_logits(self, llama, tokens: list[int]) -> np.ndarray:  # noqa: ANN001
        """Evaluate `tokens`, reusing the cached prefix as `Llama.generate` does, and return the next-token logits."""
        common = 0
        for a, b in zip(llama._input_ids, tokens):
            if a != b:
                break
            common += 1
        common = min(common, len(tokens) - 1)  # always decode at least one token so the logits are fresh
        if common > 0 and llama._ctx.kv_cache_seq_rm(-1, common, -1):
            llama.n_tokens = common
            llama._requires_eval = True
        else:
            llama.reset()
            common = 0
        try:
            llama.eval(tokens[common:])
        except Exception:
            llama.reset()
            raise
        # With logits_all=False `llama.scores` is never filled; the context holds the last output row.
        row = llama._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(row, shape=(llama.n_vocab(),)).copy()

    def _answer_token_ids(self, llama) -> tuple[list[int], list[int]]:  # noqa: ANN001
        if self._answer_ids is None:

            def single(words: Sequence[str]) -> list[int]:
                ids = {tuple(llama.tokenize(w.encode("utf-8"), add_bos=False, special=False)) for w in words}
                return sorted(t[0] for t in ids if len(t) == 1)

            yes, no = single(_YES), single(_NO)
            if not yes or not no:
                raise ValueError("the model's vocabulary has no single-token Yes/No")
            self._answer_ids = (yes, no)
        return self._answer_ids


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

    def judge(self, claim: str, passage: str) -> Verdict:
        return self._decide(self.fast.judge(claim, passage), claim, passage)

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """Judge one claim against several candidate quotes (of one source), calling the slow judge sparingly.

        The fast judge reads every passage. If it is sure of one ("supported" at
        `high` or above), its verdicts stand. Otherwise the slow judge reads the
        uncertain passages best first, at most `max_slow` of them, and stops at the
        first it finds supporting; uncertain passages it did not read count as
        unsupported. So checking a sentence costs at most `max_slow` slow calls,
        however many quotes its source offers.
        """
        firsts = judge_all(self.fast, claim, passages, premise=premise)
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
