"""`rag serve`: binding rules, the Backend over a live store, and the `/ask` API through gradio_client."""

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT, free_port

from core.errors import ConfigError
from ui.app import Backend, ServeConfig
from ui.cli import main as cli
from ui.server import check_binding, parse_auth, serve


def test_non_loopback_needs_credentials(capsys, tmp_path):
    check_binding("127.0.0.1", None)
    check_binding("::1", None)
    check_binding("0.0.0.0", ("u", "p"))
    with pytest.raises(ConfigError, match="--auth"):
        check_binding("0.0.0.0", None)
    assert parse_auth("ann:s3cret:x") == ("ann", "s3cret:x")
    for bad in ("nopassword", ":p", "u:"):
        with pytest.raises(ConfigError):
            parse_auth(bad)
    assert cli(["serve", "--host", "0.0.0.0", "--store", str(tmp_path / "s"), "--generator", "extractive"]) == 2
    assert "refusing to serve on 0.0.0.0 without credentials" in capsys.readouterr().err


def test_backend_sees_articles_ingested_by_another_process(tmp_path, seeds_copy, minilm):
    backend = Backend(ServeConfig(store=tmp_path / "store", generator="extractive"), embedder=minilm)
    assert backend.articles() == []
    assert backend.engine().query("Why was the harbour of Brest closed?").refused  # empty store: refusal, no crash
    report = backend.ingest([seeds_copy / "000_c0fd83c34287717f.txt"])
    assert report.added == ["000_c0fd83c34287717f.txt"]
    assert len(backend.articles()) == 1

    article = tmp_path / "brest.txt"
    article.write_text("Storm closes the harbour of Brest\n\nThe harbour of Brest was closed on Friday after a storm damaged two piers, the port authority said.\n")
    code = f"from index import ingest; print(ingest([{str(article)!r}], store={str(tmp_path / 'store')!r}).summary())"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=300)
    answer = backend.engine().query("Why was the harbour of Brest closed?")
    assert not answer.refused and "storm" in answer.text.lower()
    assert answer.citations[0].doc_id == "brest.txt"
    assert backend.delete(["brest.txt", "nope.txt"]) == ["nope.txt"]
    assert backend.engine().query("Why was the harbour of Brest closed?").refused


def test_oversized_upload_is_skipped_with_a_reason(tmp_path, minilm):
    backend = Backend(ServeConfig(store=tmp_path / "store", generator="extractive", max_upload_mb=1), embedder=minilm)
    big = tmp_path / "big.txt"
    big.write_text("Big news\n\n" + "word " * 300_000)
    report = backend.ingest([big])
    assert not report.ok and "larger than 1 MB" in str(report.skipped[0])


def test_ask_api_through_gradio_client(seed_store, monkeypatch):
    pytest.importorskip("gradio_client")
    from gradio_client import Client

    demo, _url = serve(ServeConfig(store=seed_store, generator="extractive"), host="127.0.0.1", port=free_port(), block=False)
    try:
        client = Client(f"http://127.0.0.1:{demo.server_port}/", verbose=False)
        result = client.predict("Who ordered Russian troops to return to their permanent bases?", "extractive", 5, api_name="/ask")
        assert not result["refused"] and "Shoigu" in result["answer"]
        assert result["citations"] and result["citations"][0]["quote"] in result["answer"]
        assert client.predict("What is the capital of Australia?", "", 0, api_name="/ask")["refused"]
        assert "error" in client.predict("   ", "", 0, api_name="/ask")
        # Filters: the seed articles have no dates, so a date range leaves nothing to answer from.
        assert client.predict("Who ordered Russian troops to return to their permanent bases?", "", 0, [], "2020-01-01", "",
                              api_name="/ask")["refused"]  # fmt: skip
        assert "date like" in client.predict("Who ordered the troops back?", "", 0, [], "soon", "", api_name="/ask")["error"]
    finally:
        demo.close()


def test_backend_filters_by_source_and_date(tmp_path, minilm):
    import json

    articles = [
        {"id": "ap", "title": "Harbour closed", "source": "AP", "published_at": "2024-01-05",
         "text": "The harbour of Brest was closed on Friday after a storm damaged two piers."},
        {"id": "ouest", "title": "Harbour shut", "source": "Ouest-France", "published_at": "2021-03-02",
         "text": "The harbour of Brest was shut on Tuesday after a fire destroyed a warehouse."},
    ]  # fmt: skip
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(a) for a in articles))
    backend = Backend(ServeConfig(store=tmp_path / "store", generator="extractive"), embedder=minilm)
    backend.ingest([tmp_path / "a.jsonl"])
    assert backend.sources() == ["AP", "Ouest-France"]
    q = "Why was the harbour of Brest closed?"
    assert {c["doc_id"] for c in backend.ask(q, sources=["Ouest-France"])["citations"]} == {"ouest"}
    assert {c["doc_id"] for c in backend.ask(q, since="2023-01-01")["citations"]} == {"ap"}
    assert "after" in backend.ask(q, since="2024", until="2020")["error"]


def test_upload_file_names_cannot_write_outside_the_upload_folder(seed_store, tmp_path):
    """A multipart upload named ../../x lands inside Gradio's upload folder; ingesting it keeps the name as an id only."""
    import uuid

    import httpx

    target = tmp_path / f"escaped-{uuid.uuid4().hex}.txt"
    evil_names = [f"../../../../../../..{target}", f"..\\..\\..\\{target.name}", f"%2e%2e%2f%2e%2e%2f{target.name}"]
    demo, _url = serve(ServeConfig(store=seed_store, generator="extractive"), host="127.0.0.1", port=free_port(), block=False)
    try:
        base = f"http://127.0.0.1:{demo.server_port}"
        for name in evil_names:
            files = {"files": (name, b"Harbour closed.\n\nThe harbour of Brest was closed on Friday after a storm.", "text/plain")}
            reply = httpx.post(f"{base}/gradio_api/upload", files=files, timeout=30)
            assert reply.status_code == 200, reply.text
            (saved,) = reply.json()
            assert not target.exists()
            assert ".." not in Path(saved).parts and Path(saved).is_file()
            assert seed_store not in Path(saved).parents  # nothing is written into the store by name
    finally:
        demo.close()
    backend = Backend(ServeConfig(store=tmp_path / "store", generator="extractive"))
    odd = tmp_path / "in" / "..\\..\\evil.txt"
    odd.parent.mkdir()
    odd.write_text("Harbour closed.\n\nThe harbour of Brest was closed on Friday after a storm.", encoding="utf-8")
    before = sorted(p.name for p in tmp_path.iterdir())
    report = backend.ingest([odd])
    assert report.added == ["..\\..\\evil.txt"]  # the file's name, used as an id, never as a path
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_serve_uses_its_retrieval_flags(monkeypatch, tmp_path):
    import ui.server
    from rag.retrieval import RetrievalConfig

    seen = {}
    monkeypatch.setattr(ui.server, "serve", lambda config, **kwargs: seen.update(config=config, **kwargs))
    assert cli(["serve", "--store", str(tmp_path / "s"), "--generator", "extractive", "--retrieval", "bm25",
                "--candidates", "7", "--port", "0"]) == 0  # fmt: skip
    assert seen["config"].retrieval == RetrievalConfig(mode="bm25", candidates=7)
    backend = Backend(ServeConfig(store=tmp_path / "s", generator="extractive", retrieval=RetrievalConfig(mode="dense", candidates=9)))
    assert backend.retriever.config.mode == "dense" and backend.retriever.config.candidates == 9


def test_example_questions_are_questions_the_seed_articles_answer(seed_store, minilm, tmp_path):
    import shutil

    from ui.examples import questions_from_text

    assert questions_from_text("The city council of Brest voted on Monday. Mayor Anne Kerlann said the bridge would close.") == [
        ("Who said the bridge would close?", "Mayor Anne Kerlann")
    ]
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    backend = Backend(ServeConfig(store=store, generator="extractive"), embedder=minilm)
    examples = backend.example_questions()
    assert len(examples) == 2 and len(set(examples)) == 2  # one per seed article, no repeats
    for question in examples:
        assert question.startswith("Who ") and question.endswith("?")
        answer = backend.engine("extractive").query(question)
        assert not answer.refused and answer.direct.kind == "quote"


def test_a_saved_conversation_comes_back_whole_and_garbage_comes_back_empty():
    import json

    from rag.chat import Turn
    from rag.types import Answer
    from ui.app import restored_conversation, saved_conversation

    turns = [Turn("Who ordered the troops back?", "Who ordered the troops back?", Answer("Shoigu did [1].", False))]
    history = [{"role": "user", "content": "Who ordered the troops back?"}, {"role": "assistant", "content": "<div>Shoigu did</div>"}]
    saved = json.loads(json.dumps(saved_conversation(history, turns, ["<div>sources</div>"], "<div>panel</div>")))  # as the browser keeps it
    got_history, got_turns, got_sections, panel = restored_conversation(saved)
    assert got_history == history and got_sections == ["<div>sources</div>"] and panel == "<div>panel</div>"
    assert got_turns[0].standalone == "Who ordered the troops back?" and got_turns[0].answer.text == "Shoigu did [1]."
    for junk in (None, {}, {"turns": "x"}, [1, 2]):
        assert restored_conversation(junk) == ([], [], [], "")
