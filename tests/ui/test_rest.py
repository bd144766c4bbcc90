"""The REST API against a real `rag serve` (httpx over loopback)."""

from __future__ import annotations

import json
import shutil

import httpx
import pytest
from conftest import SEEDS, free_port

from ui.app import Backend, ServeConfig
from ui.server import serve

pytestmark = pytest.mark.slow
QUESTION = "Who ordered Russian troops to return to their permanent bases?"


@pytest.fixture
def server(tmp_path, seed_store, minilm):
    store = tmp_path / "store"
    shutil.copytree(seed_store, store)
    backend = Backend(ServeConfig(store=store, generator="extractive"), embedder=minilm)
    demo, _url = serve(backend.config, host="127.0.0.1", port=free_port(), block=False, backend=backend, auth="ann:s3cret")
    try:
        yield f"http://127.0.0.1:{demo.server_port}/api", backend
    finally:
        demo.close()


def test_ask_answers_with_quotes_that_are_the_article_text(server):
    base, backend = server
    reply = httpx.post(f"{base}/ask", json={"question": QUESTION}, auth=("ann", "s3cret"), timeout=60)
    assert reply.status_code == 200, reply.text
    answer = reply.json()
    assert not answer["refused"] and "Shoigu" in answer["answer"] and answer["citations"]
    for c in answer["citations"]:
        text = backend.store.get_article(c["doc_id"]).text
        assert text[c["start"] : c["end"]] == c["quote"]


def test_credentials_are_required(server):
    base, _ = server
    for route in ("/health", "/articles"):
        assert httpx.get(base + route, timeout=30).status_code == 401
        assert httpx.get(base + route, auth=("ann", "wrong"), timeout=30).status_code == 401
    assert httpx.post(f"{base}/ask", json={"question": QUESTION}, timeout=30).status_code == 401
    health = httpx.get(f"{base}/health", auth=("ann", "s3cret"), timeout=30).json()
    assert health["status"] == "ok" and health["articles"] == 2


def test_streamed_answer_and_follow_up_by_conversation(server):
    base, _ = server
    auth = ("ann", "s3cret")
    with httpx.stream("POST", f"{base}/ask", json={"question": QUESTION, "stream": True, "conversation_id": "c1"},
                      auth=auth, timeout=60) as reply:  # fmt: skip
        assert reply.status_code == 200 and reply.headers["content-type"].startswith("text/event-stream")
        events = [line for line in reply.iter_lines() if line.startswith("event:")]
    assert events[-1] == "event: answer"
    follow = httpx.post(f"{base}/ask", json={"question": "By when?", "conversation_id": "c1"}, auth=auth, timeout=60).json()
    assert not follow["refused"] and "May 1" in follow["answer"]


def test_articles_can_be_listed_added_and_deleted(server, tmp_path):
    base, _ = server
    auth = ("ann", "s3cret")
    listed = httpx.get(f"{base}/articles", auth=auth, timeout=30).json()
    assert {a["id"] for a in listed} == {p.name for p in SEEDS.iterdir() if p.suffix == ".txt"}
    files = [("files", ("brest.txt", b"Storm closes the harbour of Brest\n\nThe harbour of Brest was closed on Friday after a storm.", "text/plain")),
             ("files", ("empty.txt", b"   ", "text/plain"))]  # fmt: skip
    report = httpx.post(f"{base}/articles", files=files, auth=auth, timeout=120)
    assert report.status_code == 207  # something was skipped, and says why
    assert report.json()["added"] == ["brest.txt"] and report.json()["skipped"][0]["reason"]
    answer = httpx.post(f"{base}/ask", json={"question": "Why was the harbour of Brest closed?"}, auth=auth, timeout=60).json()
    assert answer["citations"][0]["doc_id"] == "brest.txt"
    assert httpx.delete(f"{base}/articles/brest.txt", auth=auth, timeout=30).json() == {"deleted": "brest.txt"}
    missing = httpx.delete(f"{base}/articles/brest.txt", auth=auth, timeout=30)
    assert missing.status_code == 404 and "GET /api/articles" in missing.json()["error"]


def test_bad_requests_say_what_to_change_and_the_document_lists_every_route(server):
    base, _ = server
    auth = ("ann", "s3cret")
    empty = httpx.post(f"{base}/ask", json={"question": "   "}, auth=auth, timeout=30)
    assert empty.status_code == 400 and "empty" in empty.json()["error"]
    bad_date = httpx.post(f"{base}/ask", json={"question": QUESTION, "since": "soon"}, auth=auth, timeout=30)
    assert bad_date.status_code == 400 and "date" in bad_date.json()["error"]
    assert httpx.post(f"{base}/ask", json={"top_k": 3}, auth=auth, timeout=30).status_code == 422  # no question
    assert httpx.post(f"{base}/ask", json={"question": QUESTION, "top_k": 99}, auth=auth, timeout=30).status_code == 422
    doc = httpx.get(f"{base}/openapi.json", auth=auth, timeout=30).json()
    assert {"/api/ask", "/api/articles", "/api/articles/{doc_id}", "/api/health"} <= set(doc["paths"])
    assert set(doc["paths"]["/api/articles"]) == {"get", "post"}
    assert "swagger" in httpx.get(f"{base}/docs", auth=auth, timeout=30).text.lower()
    json.dumps(doc)
