"""Greedy decoding held to a `Constraint`: the model chooses, the constraint decides what can be chosen.

At each step the model's most likely next tokens are tried best first; the
first one that keeps the reply allowed by the constraint is taken; a stop
token, or a line break or space the constraint does not allow there, ends the
reply where it may end. A reply is therefore always one the constraint
allows: for a copied answer phrase (`rag.generators.copying`), words of a
shown source in their order.

A greedy path can end in a dead end: none of the model's `top_k` best tokens
continues it, and no part of it is a complete reply ("[1] Oxford
Dictionaries", which adds nothing to a question about the Oxford English
Dictionary, then a space nothing may follow). The decoder then goes back to
the likeliest choice it passed over on the way (by the reply's probability
up to that choice, as the model scored it) and goes on greedily from there,
at most `backtracks` times: the reply is the model's next choice, not an
empty one. A path that reaches a dead end after a complete reply ends with
that reply, as greedy decoding would.

Works on bytes: a token can hold part of a UTF-8 character ("’" is three
bytes, split over two tokens), and the constraint reads the reply as bytes.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from .base import Constraint, Reply

BACKTRACKS = 16  # a bound on the model's work in a dead end (each costs one token's evaluation), not a tuned choice


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


@dataclass(frozen=True)
class _Path:
    """A reply being written: its tokens, their bytes and log-probabilities, and how many of them make
    the longest complete reply on the way (None: none yet)."""

    tokens: tuple[int, ...] = ()
    pieces: tuple[bytes, ...] = ()
    lps: tuple[float, ...] = ()
    complete: int | None = None

    @property
    def reply(self) -> bytes:
        return b"".join(self.pieces)

    def then(self, token: int, piece: bytes, lp: float, constraint: Constraint) -> _Path:
        path = _Path((*self.tokens, token), (*self.pieces, piece), (*self.lps, lp), self.complete)
        return replace(path, complete=len(path.tokens)) if constraint.can_end(path.reply) else path

    def decoded(self, n: int | None = None) -> Reply:
        n = len(self.tokens) if n is None else n
        return Reply(b"".join(self.pieces[:n]), tuple(zip(self.pieces[:n], self.lps[:n])))


def masked_greedy(
    logits: np.ndarray,
    logits_after: Callable[[Sequence[int]], np.ndarray],
    token_bytes: Callable[[int], bytes],
    constraint: Constraint,
    *,
    stop_tokens: Sequence[int],
    max_tokens: int = 32,
    top_k: int = 64,
    backtracks: int = BACKTRACKS,
) -> Reply:
    """The greedy reply under `constraint`, going back to the likeliest passed-over choice from a dead end.

    Args:
        logits: the model's next-token logits after the prompt.
        logits_after: the model's next-token logits after the prompt followed by these reply tokens
            (called with one token more than a path it was called with before, or, after a dead end,
            with another path: the model rewinds its cache to the common part).
        token_bytes: the bytes a token id stands for.
        constraint: which replies are allowed.
        stop_tokens: token ids that end the reply (end of turn, end of text).
        max_tokens: most tokens written.
        top_k: how many of the model's best tokens are tried at each step.
        backtracks: most choices taken again after dead ends.

    Returns:
        The reply, with its tokens' log-probabilities; `constraint.can_end` holds for it, or it is empty.
    """
    stops = set(stop_tokens)
    passed: list[tuple[float, int, _Path, int | None, bytes, float]] = []  # choices passed over, likeliest first
    path = _Path(complete=0 if constraint.can_end(b"") else None)
    while True:  # each turn writes a token (at most max_tokens a path) or goes back (at most backtracks)
        options = _options(logits, path.reply, constraint, stops, token_bytes, min(top_k, logits.shape[0]))
        if options and len(path.tokens) < max_tokens:
            norm = _logsumexp(logits)
            so_far = sum(path.lps)
            for logit, token, piece in options[1:]:
                heapq.heappush(passed, (-(so_far + logit - norm), len(passed), path, token, piece, logit - norm))
            logit, token, piece = options[0]
            if token is None:  # the model ends the reply here
                return path.decoded()
            lp = logit - norm
        elif constraint.can_end(path.reply):
            return path.decoded()
        elif path.complete is not None:
            return path.decoded(path.complete)
        elif passed and backtracks > 0:  # a dead end: the likeliest choice passed over on the way
            backtracks -= 1
            _, _, path, token, piece, lp = heapq.heappop(passed)
            if token is None:
                return path.decoded()
        else:
            return Reply(b"")
        path = path.then(token, piece, lp, constraint)
        logits = logits_after(path.tokens)


def _options(logits: np.ndarray, reply: bytes, constraint: Constraint, stops: set[int], token_bytes: Callable[[int], bytes],
             k: int) -> list[tuple[float, int | None, bytes]]:  # fmt: skip
    """The allowed next steps, likeliest first: (logit, token, its bytes); token None ends the reply (once)."""
    best = np.argpartition(-logits, k - 1)[:k]
    out: list[tuple[float, int | None, bytes]] = []
    may_end = constraint.can_end(reply)
    for token in sorted(best.tolist(), key=lambda t: -logits[t]):
        piece = b"" if token in stops else token_bytes(token)
        if piece and constraint.allows(reply + piece):
            out.append((float(logits[token]), token, piece))
        elif not piece.strip() and may_end:
            # The end of the turn, or a line break or space the reply cannot take: the model wants to stop.
            out.append((float(logits[token]), None, b""))
            may_end = False
    return out


def _logsumexp(logits: np.ndarray) -> float:
    top = float(np.max(logits))
    return top + float(np.log(np.sum(np.exp(logits - top))))
