"""Models are loaded once per process and shared; the local model serves one stream at a time without
letting an abandoned stream block the others."""

from __future__ import annotations

import threading
import time

import pytest

import rag
from core.models import ModelRegistry
from rag.llm.base import Message
from rag.llm.fake import FakeLlama
from rag.llm.local import LlamaCppLLM
from rag.retrieval import RetrievalConfig

QUESTION = [Message("user", "Where did Putin invite Zelensky?")]


def test_the_registry_builds_a_model_once_even_when_threads_race():
    registry = ModelRegistry()
    built = []

    def load() -> object:
        time.sleep(0.2)
        built.append(1)
        return object()

    got = []
    threads = [threading.Thread(target=lambda: got.append(registry.get(("m", 1), load))) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(built) == 1 and len({id(g) for g in got}) == 1
    assert registry.loads[("m", 1)] == 1


def test_the_registry_closes_what_it_loaded():
    registry = ModelRegistry()
    llama = FakeLlama("hi")
    llm = registry.get("llm", lambda: LlamaCppLLM(loader=lambda: llama))
    assert llm.llama is llama
    registry.close()
    assert llama.closed and registry.keys() == []


def test_two_generators_and_two_retrieval_configs_load_the_llm_once(seed_store, tmp_path, monkeypatch, rag_env):
    model_file = tmp_path / "model.gguf"
    model_file.write_bytes(b"not really a model")
    rag_env("RAG_LLM_MODEL", str(model_file))
    loads: list[LlamaCppLLM] = []

    def fake_load(self: LlamaCppLLM) -> FakeLlama:
        loads.append(self)
        return FakeLlama("[1] Moscow")

    monkeypatch.setattr(LlamaCppLLM, "_load", fake_load)
    question = "Where did Putin invite Zelensky?"
    answers = [
        rag.query(question, store=seed_store, generator="local"),
        rag.query(question, store=seed_store, generator="local", retrieval=RetrievalConfig(mode="dense")),
        rag.query(question, store=seed_store, generator="extractive"),
        rag.query(question, store=seed_store, generator="extractive", retrieval=RetrievalConfig(mode="bm25")),
        rag.query(question, store=seed_store),  # the default generator: extractive, the more truthful on newsqa-dev2's test half
    ]
    assert [a.generator for a in answers] == ["local", "local", "extractive", "extractive", "extractive"]
    assert all("Moscow" in a.text for a in answers)
    assert len(loads) == 1
    engines = {id(rag.engine(seed_store, "local", cfg).generator) for cfg in (RetrievalConfig(), RetrievalConfig(mode="dense"))}
    assert len(engines) == 1  # one generator object, one model
    assert rag.get_article("000_c0fd83c34287717f.txt", store=seed_store) is not None


def test_a_closed_stream_frees_the_model_for_the_next_one():
    llm = LlamaCppLLM(loader=lambda: FakeLlama("word " * 400, delay=0.02))  # 8 s if read to the end
    first = llm.stream(QUESTION, max_tokens=400)
    assert next(first) == "word "
    first.close()  # the reader went away (GeneratorExit): generation stops at the next token
    started = time.monotonic()
    second = "".join(llm.stream(QUESTION, max_tokens=10))
    assert second == "word " * 10
    assert time.monotonic() - started < 3.0


def test_an_abandoned_stream_holds_the_model_no_longer_than_its_generation():
    llama = FakeLlama("word " * 50, delay=0.02)  # 1 s for the whole reply
    llm = LlamaCppLLM(loader=lambda: llama)
    abandoned = llm.stream(QUESTION, max_tokens=50)
    assert next(abandoned) == "word "  # never read again, never closed
    started = time.monotonic()
    assert "".join(llm.stream(QUESTION, max_tokens=5)) == "word " * 5
    assert time.monotonic() - started < 5.0
    assert llama.completions == 2
    del abandoned


def test_a_model_failure_mid_stream_is_a_model_error():
    from core.errors import ModelError

    class Broken(FakeLlama):
        def create_chat_completion(self, *args, **kwargs):
            yield {"choices": [{"delta": {"content": "Mos"}}]}
            raise RuntimeError("decode failed")

    llm = LlamaCppLLM(loader=lambda: Broken(""))
    with pytest.raises(ModelError, match="decode failed"):
        "".join(llm.stream(QUESTION))
    assert "".join(LlamaCppLLM(loader=lambda: FakeLlama("ok")).stream(QUESTION)) == "ok"


def test_the_weights_are_loaded_as_the_file_lays_them_out():
    from rag.llm.cpu import safe_weight_layout

    bindings = pytest.importorskip("llama_cpp.llama_cpp", reason="install the llm extra: pip install -e '.[llm]'")
    default = bindings.llama_model_default_params
    assert default().use_extra_bufts  # llama.cpp's default: repack for the CPU
    with safe_weight_layout():
        assert not bindings.llama_model_default_params().use_extra_bufts
    assert bindings.llama_model_default_params is default
    with pytest.raises(RuntimeError), safe_weight_layout():
        raise RuntimeError("a failed load")
    assert bindings.llama_model_default_params is default  # put back after a failure too


def test_the_model_is_loaded_with_flash_attention_and_its_saved_state_is_kept_apart(tmp_path, monkeypatch):
    llama_cpp = pytest.importorskip("llama_cpp", reason="install the llm extra: pip install -e '.[llm]'")
    import rag.llm.state as state
    from rag.llm.cpu import FLASH_ATTENTION

    seen = {}

    class Recorder:
        def __init__(self, **kwargs):
            seen.update(kwargs, extra_bufts=llama_cpp.llama_cpp.llama_model_default_params().use_extra_bufts)

    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setattr(llama_cpp, "Llama", Recorder)
    LlamaCppLLM(model, prefix_cache=False).llama
    assert seen["flash_attn"] is FLASH_ATTENTION and seen["extra_bufts"] is False
    with_it = state.state_path(tmp_path, model, 4096, "system")
    monkeypatch.setattr(state, "FLASH_ATTENTION", not FLASH_ATTENTION)
    assert state.state_path(tmp_path, model, 4096, "system") != with_it  # a KV cache of the other layout is never read
