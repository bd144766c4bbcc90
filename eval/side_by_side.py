"""llama-index's default query engine (`eval.baseline`) as an engine `eval.run` can grade beside the product.

Its answer is free text: every sentence becomes a written-sentence claim
citing the two passages it was given, graded by the same judge as the
product's written sentences (the judge never filtered it, and is not its
model, so the grade is independent unless the judge is the local LLM). A
reply that says the context does not answer counts as a refusal.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from rag.types import REFUSAL_TEXT, Answer, Citation, Claim, Passage

from .claims import sentence_claims

_REFUSES = re.compile(
    r"^\W*(empty response|i (don't|do not|cannot|can't) (know|answer|determine)|there is no (information|mention))|"
    r"\b(context|information|text|articles?|sources?|documents?)\b[^.]{0,60}\b(does not|doesn't|do not|don't|did not)\b[^.]{0,30}"
    r"\b(provide|mention|contain|include|say|specify|state|give)\b|\b(not (mentioned|provided|specified|stated)|no information)\b",
    re.I,
)


def refuses(text: str) -> bool:
    """Whether a free-written reply says the context does not answer."""
    return not text.strip() or bool(_REFUSES.search(text))


class BaselineEngine:
    """Wraps `eval.baseline.LlamaIndexBaseline` in the engine interface `eval.run` reads (`query`, `retrieve`)."""

    name = "llama-index"

    def __init__(self, baseline: Any, store: Any) -> None:
        self.baseline = baseline
        self.retriever = _Retriever(store)

    @classmethod
    def from_store(cls, store: str | Path, *, embedder: Any = None) -> BaselineEngine:
        from index.store import open_store

        from .baseline import LlamaIndexBaseline

        if embedder is None:
            from index.embedding import shared_embedder

            embedder = shared_embedder()
        return cls(LlamaIndexBaseline.from_store(store, embedder=embedder), open_store(store, embedder))

    def retrieve(self, question: str, top_k: int = 10, **_: Any) -> list[Any]:
        return []  # its own retrieval is what `query` hands the model (`Answer.passages`)

    def query(self, question: str, *, top_k: int | None = None, **_: Any) -> Answer:
        got = self.baseline.query(question)
        passages = tuple(Passage(chunk_id, doc_id, "", text, 0, len(text), 0.0) for doc_id, chunk_id, text in got.passages)
        if refuses(got.text):
            claims: tuple[Claim, ...] = (Claim.refusal(),)
            return Answer(REFUSAL_TEXT, True, (), question, self.name, passages, (), claims)
        citations = tuple(Citation(n, p.doc_id, "", "", "", "", p.text, 0, len(p.text), 0.0) for n, p in enumerate(passages, start=1))
        claims = tuple(sentence_claims(got.text, [p.text for p in passages]))
        return Answer(got.text, False, citations, question, self.name, passages, (), claims)


class _Retriever:
    def __init__(self, store: Any) -> None:
        self.store = store
