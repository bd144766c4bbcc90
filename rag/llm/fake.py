"""A scripted fake LLM for tests: replies from a list or a function, word by word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from .base import Message, Reply


class ScriptedLLM:
    """Replies with scripted text and records every prompt it was given.

    Args:
        replies: a list of replies used in turn (the last one repeats), or a
            function from the messages to the reply.
    """

    name = "scripted"

    def __init__(self, replies: Sequence[str] | Callable[[Sequence[Message]], str]) -> None:
        self._replies = replies
        self.calls: list[list[Message]] = []

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        self.calls.append(list(messages))
        if callable(self._replies):
            reply = self._replies(messages)
        else:
            reply = self._replies[min(len(self.calls), len(self._replies)) - 1]
        yield from re.findall(r"\S+\s*|\s+", reply)


class FakeLlama:
    """A stand-in for `llama_cpp.Llama` (what `LlamaCppLLM` drives): streams a fixed reply word by word.

    Args:
        reply: the text every completion streams.
        delay: seconds per streamed piece (to test streams that take a while).
    """

    def __init__(self, reply: str, *, delay: float = 0.0) -> None:
        self.reply = reply
        self.delay = delay
        self.completions = 0
        self.pieces_sent = 0
        self.closed = False

    def create_chat_completion(self, messages: Sequence[dict], max_tokens: int = 256, stream: bool = True, **_: object) -> Iterator[dict]:
        import time

        self.completions += 1
        for n, piece in enumerate(re.findall(r"\S+\s*|\s+", self.reply)):
            if n >= max_tokens:
                return
            if self.delay:
                time.sleep(self.delay)
            self.pieces_sent += 1
            yield {"choices": [{"delta": {"content": piece}}]}

    def close(self) -> None:
        self.closed = True


class CopyingFake:
    """A model whose decoding is held to a constraint (a `ConstrainedLLM`), for tests: it "wants" to write
    its scripted reply, piece by piece (a word, a space, a line break), and `masked_greedy` decides what
    it may write, as it does for the local model. Its vocabulary is the pieces of the reply and of the
    prompt; every piece but the wanted one scores 0, the end of the reply 1.

    Args:
        replies: replies used in turn (the last one repeats).
        certainty: the logit of the wanted piece (20: the model is sure of every token; a few: unsure).
    """

    name = "copying-fake"
    _END = 0

    def __init__(self, replies: Sequence[str], *, certainty: float = 20.0) -> None:
        self._replies = list(replies)
        self.certainty = certainty
        self.calls: list[list[Message]] = []

    def constrained(self, prompts: Sequence[Sequence[Message]], constraints: Sequence[object], *, max_tokens: int = 32) -> list[Reply]:
        out = []
        for messages, constraint in zip(prompts, constraints):
            self.calls.append(list(messages))
            wanted = self._replies[min(len(self.calls), len(self._replies)) - 1]
            out.append(self._decode(wanted, messages[-1].content, constraint, max_tokens))
        return out

    def _decode(self, wanted: str, prompt: str, constraint: object, max_tokens: int) -> Reply:
        import numpy as np

        from .decoding import masked_greedy

        pieces = ["<end>"] + sorted(set(_pieces(wanted) + _pieces(prompt) + ["[", "]", "\n"]))
        index = {p: i for i, p in enumerate(pieces)}
        plan = [index[p] for p in _pieces(wanted)]
        step = [0]

        def logits_now() -> np.ndarray:
            row = np.zeros(len(pieces))
            row[self._END] = 1.0
            if step[0] < len(plan):
                row[plan[step[0]]] = self.certainty
            return row

        def logits_after(tokens: Sequence[int]) -> np.ndarray:
            step[0] = len(tokens)
            return logits_now()

        reply = masked_greedy(logits_now(), logits_after, lambda t: pieces[t].encode("utf-8"), constraint,  # type: ignore[arg-type]
                              stop_tokens=[self._END], max_tokens=max_tokens, top_k=len(pieces))  # fmt: skip
        return reply


def _pieces(text: str) -> list[str]:
    """Words, single spaces, line breaks and brackets: the fake's tokens."""
    return re.findall(r"\[|\]|\n|[^\s\[\]]+| ", text)
