"""Ingest: load, clean, chunk and embed news articles into a Chroma store.

    from index import ingest
    report = ingest(["seeds/"], store=".rag")
"""

from .chunking import ChunkingConfig, chunk_article
from .embedding import Embedder, HashEmbedder, OnnxEmbedder, SentenceTransformerEmbedder, make_embedder
from .filters import Filters
from .loaders import Skipped
from .pipeline import IngestReport, ingest
from .store import ChromaStore, open_store, resolve_location
from .types import Article, ArticleInfo, ArticleRef, Chunk, ScoredChunk

__all__ = [
    "ArticleRef",
    "Filters",
    "Article",
    "ArticleInfo",
    "ChromaStore",
    "Chunk",
    "ChunkingConfig",
    "Embedder",
    "HashEmbedder",
    "IngestReport",
    "OnnxEmbedder",
    "ScoredChunk",
    "SentenceTransformerEmbedder",
    "Skipped",
    "chunk_article",
    "ingest",
    "make_embedder",
    "open_store",
    "resolve_location",
]
