"""Retrieval: find the passages that answer a question.

- `config`: `RetrievalConfig`, the validated settings.
- `retriever`: `Retriever`, dense and BM25 search fused by reciprocal rank, then the steps below.
- `ranking`: the lead lift, the period preference and near-duplicate removal.
- `rerank`: cross-encoders (the packaged ms-marco reranker, a fake) and the window they read.
- `timeframe`: the period a question names ("this week", "in 2021").
"""

from .config import MODES, RetrievalConfig
from .ranking import drop_near_duplicates, prefer_leads, prefer_period
from .rerank import CrossEncoder, OnnxCrossEncoder, OverlapCrossEncoder, best_window, default_cross_encoder
from .retriever import Retriever
from .timeframe import TimeFrame, time_frame

__all__ = [
    "MODES",
    "CrossEncoder",
    "OnnxCrossEncoder",
    "OverlapCrossEncoder",
    "RetrievalConfig",
    "Retriever",
    "TimeFrame",
    "best_window",
    "default_cross_encoder",
    "drop_near_duplicates",
    "prefer_leads",
    "prefer_period",
    "time_frame",
]
