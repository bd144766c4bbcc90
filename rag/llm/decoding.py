"""Greedy decoding held to a `Constraint`: the model chooses, the constraint decides what can be chosen.

At each step the model's most likely next tokens are tried best first; the
first one that keeps the reply allowed by the constraint is taken; a stop
token, or a line break or space the constraint does not allow there, ends the
reply where it may end. When none of the `top_k` best does, the
reply stops if it may, and otherwise is cut back to where it last could. A
reply is therefore always one the constraint allows: for a copied answer
phrase (`rag.generators.copying`), words of a shown source in their order.

Works on bytes: a token can hold part of a UTF-8 character ("’" is three
bytes, split over two tokens), and the constraint reads the reply as bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .base import Constraint


class TokenBytes:
    """The bytes of each token id, looked up once (`detokenize` is a call into llama.cpp)."""

    def __init__(self, detokenize: Callable[[int], bytes]) -> None:
        self._detokenize = detokenize
        self._cache: dict[int, bytes] = {}

    def __call__(self, token: int) -> bytes:
        found = self._cache.get(token)
        if found is None:
            found = self._cache[token] = self._detokenize(token)
        return found


def masked_greedy(
    logits: np.ndarray,
    advance: Callable[[int], np.ndarray],
    token_bytes: Callable[[int], bytes],
    constraint: Constraint,
    *,
    stop_tokens: Sequence[int],
    max_tokens: int = 32,
    top_k: int = 64,
) -> bytes:
    """The greedy reply under `constraint`.

    Args:
        logits: the model's next-token logits after the prompt.
        advance: feeds one chosen token to the model and returns the next logits.
        token_bytes: the bytes a token id stands for.
        constraint: which replies are allowed.
        stop_tokens: token ids that end the reply (end of turn, end of text).
        max_tokens: most tokens written.
        top_k: how many of the model's best tokens are tried at each step.

    Returns:
        The reply as bytes; `constraint.can_end` holds for it, or it is empty.
    """
    reply = b""
    last_end = b"" if constraint.can_end(b"") else None
    stops = set(stop_tokens)
    for _ in range(max_tokens):
        k = min(top_k, logits.shape[0])
        best = np.argpartition(-logits, k - 1)[:k]
        scored: list[tuple[float, int, bytes | None]] = []
        for token in best.tolist():
            piece = b"" if token in stops else token_bytes(token)
            if piece and constraint.allows(reply + piece):
                scored.append((float(logits[token]), token, piece))
            elif (not piece.strip()) and constraint.can_end(reply):
                # The end of the turn, or a line break or space the reply cannot take: the model wants to stop.
                scored.append((float(logits[token]), token, None))
        if not scored:
            break
        _, token, piece = max(scored, key=lambda item: item[0])
        if piece is None:  # a stop token won
            return reply
        reply += piece
        if constraint.can_end(reply):
            last_end = reply
        logits = advance(token)
    if constraint.can_end(reply):
        return reply
    return last_end if last_end is not None else b""
