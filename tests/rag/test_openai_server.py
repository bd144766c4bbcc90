"""The openai generator against a real OpenAI-compatible server.

The test starts llama-cpp-python's server (`python -m llama_cpp.server`) on
127.0.0.1 with the packaged model and talks to it over HTTP: no mock.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
from conftest import free_port

import rag
from core.errors import ModelError
from rag import QueryEngine
from ui.cli import main as cli

pytestmark = pytest.mark.slow

MODEL_ALIAS = "newsrag-test-model"


# `python -m llama_cpp.server`, with the weights kept as laid out on a CPU with AMX (as the product loads them).
SERVE = ("import runpy, sys; from rag.llm.cpu import safe_weight_layout; sys.argv[0] = 'llama_cpp.server'\n"
         "with safe_weight_layout(): runpy.run_module('llama_cpp.server', run_name='__main__', alter_sys=True)")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    pytest.importorskip("llama_cpp.server.app", reason="install the dev extra: pip install -e '.[dev,llm]'")
    import httpx

    from rag.llm.local import resolve_model_path

    model = resolve_model_path()
    port = free_port()
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", SERVE, "--model", str(model), "--model_alias", MODEL_ALIAS,
             "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096", "--n_threads", str(os.cpu_count() or 2),
             "--verbose", "False"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 180
        while True:
            if proc.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {proc.returncode}:\n{log.read_text()[-2000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not start in 180 s:\n{log.read_text()[-2000:]}")
            time.sleep(0.5)
        yield base_url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def openai_env(server, monkeypatch, rag_env):
    rag_env("RAG_OPENAI_BASE_URL", server)
    rag_env("RAG_OPENAI_MODEL", MODEL_ALIAS)
    rag_env("RAG_OPENAI_API_KEY", None)
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    return server


def test_server_lists_the_model(server):
    import httpx

    ids = [m["id"] for m in httpx.get(f"{server}/models", timeout=5).json()["data"]]
    assert MODEL_ALIAS in ids


def test_answer_through_the_server_cites_the_article(openai_env, seed_store, minilm):
    from rag.generators import make_generator

    engine = QueryEngine.from_store(seed_store, embedder=minilm, generator=make_generator("openai", minilm))
    answer = engine.query("Who ordered Russian troops to return to their permanent bases?")
    assert isinstance(answer, rag.Answer)
    assert answer.generator == "openai" and not answer.refused
    assert "Shoigu" in answer.text
    assert answer.citations
    # The server's reply was not held to the grammar: it is shown only as far as its window holds it.
    for claim in answer.claims:
        article = engine.retriever.store.get_article(claim.span.article.doc_id)
        assert article.text[claim.span.start : claim.span.end] == claim.text
    for c in answer.citations:
        article = engine.retriever.store.get_article(c.doc_id)
        assert article.text[c.start : c.end] == c.quote
    # The question it cannot answer is refused before the server is asked.
    assert engine.query("What is the population of Australia?").refused


def test_cli_uses_the_server(openai_env, seed_store, capsys):
    code = cli(["query", "Which Ukrainian regions did Putin decree annexed in 2022?", "--store", str(seed_store), "--generator", "openai"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "Donetsk" in captured.out and "Sources:" in captured.out
    assert "(generator: openai)" in captured.err


def test_unreachable_server_and_missing_config_are_clear_errors(monkeypatch, rag_env):
    from core.errors import ConfigError
    from rag.llm.base import Message
    from rag.llm.openai import OpenAICompatibleLLM

    llm = OpenAICompatibleLLM(f"http://127.0.0.1:{free_port()}/v1", "m", timeout=5)
    with pytest.raises(ModelError, match="cannot reach the model server"):
        "".join(llm.stream([Message("user", "Say hi.")], max_tokens=4))
    rag_env("RAG_OPENAI_BASE_URL", None)
    with pytest.raises(ConfigError, match="RAG_OPENAI_BASE_URL"):
        OpenAICompatibleLLM()
