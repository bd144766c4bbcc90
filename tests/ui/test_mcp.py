"""`rag mcp` over stdio, driven by the `mcp` package's own client."""

from __future__ import annotations

import json
import sys

import anyio
import pytest
from conftest import ROOT

pytestmark = pytest.mark.slow


def _payload(result) -> dict:  # noqa: ANN001 - mcp CallToolResult
    assert not result.is_error, result
    if result.structured_content is not None:
        return result.structured_content
    return json.loads(result.content[0].text)


def test_an_mcp_client_lists_the_tools_and_gets_a_cited_answer(seed_store):
    pytest.importorskip("mcp")
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    from rag.api import get_article

    params = StdioServerParameters(command=sys.executable, args=["-m", "ui.cli", "mcp", "--store", str(seed_store), "--generator", "extractive"],
                                   cwd=str(ROOT))  # fmt: skip

    async def session() -> tuple[set[str], object, object, object]:
        async with stdio_client(params) as (read, write), ClientSession(read, write) as client:
            await client.initialize()
            tools = {t.name for t in (await client.list_tools()).tools}
            answer = _payload(await client.call_tool("ask", {"question": "Who ordered Russian troops to return to their permanent bases?"}))
            hits = _payload(await client.call_tool("search", {"query": "Shoigu troops bases", "top_k": 2}))
            articles = _payload(await client.call_tool("list_articles", {}))
            return tools, answer, hits, articles

    tools, answer, hits, articles = anyio.run(session)
    assert tools == {"ask", "search", "list_articles"}
    assert not answer["refused"] and "Shoigu" in answer["answer"] and answer["citations"]
    for c in answer["citations"]:
        assert get_article(c["doc_id"], store=seed_store).text[c["start"] : c["end"]] == c["quote"]
        assert c["title"]
    assert len(hits["passages"]) == 2 and all(h["end"] > h["start"] for h in hits["passages"])
    assert hits["untrusted"] and all(h["kind"] == "untrusted article content" for h in hits["passages"])
    assert len(articles["articles"]) == 2
