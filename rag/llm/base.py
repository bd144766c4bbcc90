"""The `LLM` protocol: chat messages in, streamed text out.

Generators talk to every model through this, so adding a backend means one
small adapter (see `local.py`, `openai.py`, and `fake.py` for tests).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass(frozen=True)
class Message:
    """One chat message: role is "system", "user" or "assistant"."""

    role: str
    content: str

    def to_dict(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@runtime_checkable
class LLM(Protocol):
    """A chat model that streams its reply."""

    name: str

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0, stop: Sequence[str] = ()
    ) -> Iterator[str]:
        """Yield the reply to `messages` piece by piece.

        Raises:
            rag.errors.ModelError: the model cannot be loaded or reached.
        """
        ...


def complete(llm: LLM, messages: Sequence[Message], **kwargs: object) -> str:
    """The whole reply at once."""
    return "".join(llm.stream(messages, **kwargs))  # type: ignore[arg-type]


@dataclass(frozen=True)
class Reply:
    """A reply decoded under a constraint, with how sure the model was of each token where the backend
    says: the log-probability of its softmax over all tokens, before the constraint kept only some.

    Attributes:
        data: the reply, as UTF-8 bytes (the constraint reads bytes).
        pieces: each token's bytes and log-probability, in order; empty when unknown (a reply written
            freely by a backend that reports none).
    """

    data: bytes
    pieces: tuple[tuple[bytes, float], ...] = ()

    @property
    def text(self) -> str:
        return self.data.decode("utf-8", errors="replace")

    @classmethod
    def written(cls, text: str) -> Reply:
        """A reply whose tokens' probabilities are unknown."""
        return cls(text.encode("utf-8"))

    def logprob(self, start: int, end: int) -> float | None:
        """The log-probability of the tokens that make bytes `start` to `end` of the reply (those that
        overlap it); None when unknown."""
        if not self.pieces:
            return None
        total, at = 0.0, 0
        for piece, lp in self.pieces:
            if at < end and at + len(piece) > start:
                total += lp
            at += len(piece)
        return total


@runtime_checkable
class Constraint(Protocol):
    """Which replies a model may write, read as UTF-8 bytes as they are written.

    A decoder that honours it (`ConstrainedLLM`) only ever appends a token when
    the reply so far plus the token is still `allows`-ed, and only stops where
    `can_end` says so: the reply is then one of the constraint's replies by
    construction, whatever the model would rather have written.
    """

    def allows(self, reply: bytes) -> bool:
        """Whether `reply` is a reply or can still grow into one."""
        ...

    def can_end(self, reply: bytes) -> bool:
        """Whether `reply` may stop here."""
        ...


@runtime_checkable
class ConstrainedLLM(Protocol):
    """A model whose decoding can be held to a `Constraint` (the local llama.cpp model)."""

    name: str

    def constrained(self, prompts: Sequence[Sequence[Message]], constraints: Sequence[Constraint], *, max_tokens: int = 32) -> list[Reply]:
        """The greedy reply to each prompt under its constraint, in order.

        Consecutive prompts that share a beginning (the same sources, another
        part of the question) read it once.

        Raises:
            rag.errors.ModelError: the model cannot be loaded or fails.
        """
        ...


def constrained_replies(llm: LLM, prompts: Sequence[Sequence[Message]], constraints: Sequence[Constraint], *, max_tokens: int = 32) -> list[Reply]:
    """Each prompt's reply: decoded under its constraint when `llm` can do that, else written freely
    (an OpenAI-compatible server, a scripted fake): the caller must then check each reply itself."""
    if isinstance(llm, ConstrainedLLM):
        return llm.constrained(prompts, constraints, max_tokens=max_tokens)
    return [Reply.written(complete(llm, p, max_tokens=max_tokens, stop=("\n",)).strip()) for p in prompts]
