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

from .judge import SupportJudge, Verdict, judge_all
from .llm.local import LlamaCppLLM

JUDGE_SYSTEM_PROMPT = (
    "You are a strict fact-checker. Judge only from the passage, never from what you know. "
    "Answer Yes only if everything in the claim is stated in the passage. Answer No if the claim changes "
    "a number, a name, who did what, or whether it happened, or adds anything the passage does not say."
)
JUDGE_USER_TEMPLATE = (
    "Passage: {passage}\nClaim: {claim}\nDoes the passage support every part of the claim? Answer Yes or No."
)

# P(yes) at which a claim counts as supported: the model leans towards "Yes", so 0.5 lets
# near-misses through; 0.7 sits in the gap between the dev set's two classes (0.61 / 0.77).
DEFAULT_THRESHOLD = 0.7

_YES = ("Yes", " Yes", "yes", " yes", "YES")
_NO = ("No", " No", "no", " no", "NO")


def _chatml(system: str, user: str) -> str:
    return f"<|im_start|>system\n{system}<|im_end|>\n<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n"


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
    ) -> None:
        self.llm = llm if llm is not None else LlamaCppLLM()
        self.threshold = threshold
        self.max_passage_tokens = max_passage_tokens
        self.system_prompt = system_prompt
        self.user_template = user_template
        self._answer_ids: tuple[list[int], list[int]] | None = None

    def judge(self, claim: str, passage: str) -> Verdict:
        p = self.probability(claim, passage)
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
        user = self.user_template.format(passage=passage, claim=_plain(claim))
        tokens = llama.tokenize(_chatml(self.system_prompt, user).encode("utf-8"), add_bos=False, special=True)
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

    The defaults suit `LexicalJudge`. Only its number veto (score 0.10: a number
    the passage lacks) is trusted as "unsupported"; its name and negation vetoes
    (0.15, 0.20) also fire on fair paraphrases ("the Russian leader" for Putin,
    "NATO", "would not" for "declined"), so they go to the slow judge. Only a
    near-verbatim claim (0.95 or more) is trusted as "supported": high word
    coverage cannot see a swapped role or verb among words the passage contains.
    """

    name = "cascade"

    def __init__(self, fast: SupportJudge, slow: SupportJudge, low: float = 0.1, high: float = 0.95) -> None:
        if low >= high:
            raise ValueError(f"low ({low}) must be below high ({high})")
        self.fast = fast
        self.slow = slow
        self.low = low
        self.high = high

    def judge(self, claim: str, passage: str) -> Verdict:
        return self._decide(self.fast.judge(claim, passage), claim, passage)

    def judge_many(self, claim: str, passages: Sequence[str], *, premise: str = "") -> list[Verdict]:
        """Judge one claim against several passages, batching the fast judge when it can."""
        firsts = judge_all(self.fast, claim, passages, premise=premise)
        return [self._decide(v, claim, p) for v, p in zip(firsts, passages)]

    def _decide(self, first: Verdict, claim: str, passage: str) -> Verdict:
        if first.score <= self.low:
            return Verdict(False, first.score, f"{self.fast.name}: {first.reason}")
        if first.score >= self.high:
            return Verdict(True, first.score, f"{self.fast.name}: {first.reason}")
        second = self.slow.judge(claim, passage)
        return Verdict(
            second.supported,
            second.score,
            f"{self.slow.name}: {second.reason} ({self.fast.name} uncertain at {first.score:.2f}: {first.reason})",
        )
