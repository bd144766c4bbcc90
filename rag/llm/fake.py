"""A scripted fake LLM for tests: replies from a list or a function, word by word."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from .base import Message


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
