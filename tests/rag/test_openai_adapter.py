"""The OpenAI-compatible adapter against an `httpx.MockTransport`: requests, streaming, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from core.errors import ConfigError, ModelError
from rag.llm.base import Message
from rag.llm.openai import OpenAICompatibleLLM


def _sse(*payloads: object) -> bytes:
    lines = [f"data: {json.dumps(p) if not isinstance(p, str) else p}\n\n" for p in payloads]
    return "".join(lines).encode()


def _delta(text: str) -> dict:
    return {"choices": [{"delta": {"content": text}}]}


def _llm(handler, **kwargs) -> OpenAICompatibleLLM:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return OpenAICompatibleLLM("http://127.0.0.1:9/v1", client=client, **kwargs)


def test_streams_the_reply_and_sends_model_stop_and_key():
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["url"] = str(request.url)
        seen["auth"] = request.headers.get("authorization")
        seen["body"] = json.loads(request.content)
        return httpx.Response(200, content=_sse(_delta("Moscow "), _delta("[1]."), "[DONE]"))

    llm = _llm(handler, model="m", api_key="secret")
    text = "".join(llm.stream([Message("user", "q")], max_tokens=20, stop=("a", "b", "c", "d", "e")))
    assert text == "Moscow [1]."
    assert seen["url"] == "http://127.0.0.1:9/v1/chat/completions"
    assert seen["auth"] == "Bearer secret"
    assert seen["body"]["model"] == "m" and seen["body"]["stream"] is True
    assert seen["body"]["stop"] == ["a", "b", "c", "d"]  # the API takes four at most


def test_an_error_payload_in_the_stream_is_an_error_not_a_refusal():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=_sse(_delta("Mos"), {"error": {"message": "out of memory"}}))

    with pytest.raises(ModelError, match="out of memory"):
        "".join(_llm(handler).stream([Message("user", "q")]))


def test_a_failed_request_names_the_status_and_body():
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, text="no such model")

    with pytest.raises(ModelError, match="404: no such model"):
        "".join(_llm(handler).stream([Message("user", "q")]))


def test_openai_api_key_is_never_sent_to_another_server(monkeypatch, rag_env):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-belongs-to-openai")
    rag_env("RAG_OPENAI_API_KEY", None)
    seen = {}

    def handler(request: httpx.Request) -> httpx.Response:
        seen["auth"] = request.headers.get("authorization")
        return httpx.Response(200, content=_sse(_delta("ok"), "[DONE]"))

    assert "".join(_llm(handler).stream([Message("user", "q")])) == "ok"
    assert seen["auth"] is None
    rag_env("RAG_OPENAI_API_KEY", "sk-for-this-server")
    "".join(_llm(handler).stream([Message("user", "q")]))
    assert seen["auth"] == "Bearer sk-for-this-server"


def test_a_missing_or_bad_base_url_is_a_config_error(rag_env):
    rag_env("RAG_OPENAI_BASE_URL", None)
    with pytest.raises(ConfigError, match="RAG_OPENAI_BASE_URL"):
        OpenAICompatibleLLM()
    with pytest.raises(ConfigError, match="http"):
        OpenAICompatibleLLM("ftp://example")
