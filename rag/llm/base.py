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
