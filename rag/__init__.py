"""Question answering over news articles, with exact citations.

    import rag
    answer = rag.query("Where did Putin invite Zelensky?")
    print(answer.text)                    # "... to Moscow ... [1]"
    for c in answer.citations:            # c.quote == article.text[c.start:c.end]
        print(c.n, c.title, c.quote)

Ingest first with `rag ingest PATH` or `index.ingest([...])`.
"""

from core.errors import RagError

from .api import engine, get_article, query, stream_query
from .chat import Chat
from .engine import QueryEngine, RetrievalConfig, Retriever
from .types import Answer, Citation, Passage

__all__ = ["Answer", "Chat", "Citation", "Passage", "QueryEngine", "RagError", "RetrievalConfig", "Retriever", "engine", "get_article", "query", "stream_query"]
