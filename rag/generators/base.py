"""The `Generator` protocol: turn a question and retrieved passages into an `Answer`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Protocol, runtime_checkable

from index.types import ScoredChunk

from ..types import Answer


@runtime_checkable
class Generator(Protocol):
    """Writes a cited answer from passages; refuses when they do not answer.

    Implementations must only cite the passages they are given, and every
    `Citation.quote` must be verbatim article text at `[start:end]`.
    """

    name: str

    def generate(self, question: str, passages: Sequence[ScoredChunk]) -> Answer:
        """Answer `question` from `passages` (best first)."""
        ...

    def stream(self, question: str, passages: Sequence[ScoredChunk]) -> Iterator[str | Answer]:
        """Answer as it is written: draft pieces (str), then the checked `Answer` last.

        A generator that cannot stream yields only the `Answer`.
        """
        ...
