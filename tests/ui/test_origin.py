"""What `rag serve` lets through (ui.guard): its own origin and Host, its credentials on every route, bounded bodies.

A real server on 127.0.0.1 (extractive generator, the hash embedder) driven with httpx.
"""

from __future__ import annotations

import base64
import socket
import tracemalloc

import httpx
import pytest
from conftest import free_port
from starlette.datastructures import Headers

from core.errors import ModelError
from index import HashEmbedder
from ui.app import Backend, ServeConfig
from ui.guard import Policy
from ui.rest import Conversations
from ui.server import serve

STORY = b"Storm closes the harbour of Brest\n\nThe harbour of Brest was closed on Friday after a storm damaged two piers."
EVIL = "http://evil.example"


def _serve(tmp_path, **kwargs):  # noqa: ANN001, ANN202
    backend = Backend(ServeConfig(store=tmp_path / "store", generator="extractive"), embedder=HashEmbedder())
    demo, _url = serve(backend.config, host="127.0.0.1", port=free_port(), block=False, backend=backend, **kwargs)
    return demo, f"http://127.0.0.1:{demo.server_port}", backend


@pytest.fixture
def server(tmp_path):
    demo, base, backend = _serve(tmp_path)
    try:
        yield base, backend
    finally:
        demo.close()


@pytest.fixture
def locked(tmp_path):
    demo, base, backend = _serve(tmp_path, auth="ann:s3cret")
    try:
        yield base, backend
    finally:
        demo.close()


def _upload(name: str = "brest.txt", data: bytes = STORY) -> list:
    return [("files", (name, data, "text/plain"))]


def test_writes_from_another_origin_are_refused_and_the_servers_own_pass(server):
    base, backend = server
    for headers in ({"Origin": EVIL}, {"Referer": f"{EVIL}/attack.html"}, {"Origin": "null"}, {"Origin": base.replace("127.0.0.1", "localhost")}):
        reply = httpx.post(f"{base}/api/articles", files=_upload(), headers=headers, timeout=30)
        assert reply.status_code == 403 and "cross-origin" in reply.json()["error"], headers
        assert httpx.delete(f"{base}/api/articles/brest.txt", headers=headers, timeout=30).status_code == 403
        assert httpx.post(f"{base}/api/ask", json={"question": "Why was the harbour closed?", "conversation_id": "c"},
                          headers=headers, timeout=30).status_code == 403  # fmt: skip
        for route in ("/gradio_api/upload", "/gradio_api/queue/join", "/gradio_api/call/ask"):
            assert httpx.post(base + route, files=_upload(), headers=headers, timeout=30).status_code == 403, route
    assert backend.articles() == []
    # The page's own requests (a browser sends its origin) and programs (no Origin at all) pass.
    own = httpx.post(f"{base}/api/articles", files=_upload(), headers={"Origin": base, "Referer": f"{base}/"}, timeout=60)
    assert own.status_code == 200, own.text
    assert httpx.post(f"{base}/gradio_api/upload", files=_upload(), headers={"Origin": base}, timeout=30).status_code == 200
    assert httpx.delete(f"{base}/api/articles/brest.txt", timeout=30).json() == {"deleted": "brest.txt"}


def test_a_foreign_host_is_refused(server):
    """DNS rebinding: a page at rebind.example, its name pointed at 127.0.0.1, sends Host: rebind.example."""
    base, _backend = server
    port = base.rsplit(":", 1)[1]
    for host in (f"rebind.example:{port}", "evil.example", f"127.0.0.2:{port}", f"evil.example@127.0.0.1:{port}"):
        for reply in (httpx.get(f"{base}/api/health", headers={"Host": host}, timeout=30), httpx.get(f"{base}/", headers={"Host": host}, timeout=30)):
            assert reply.status_code == 403 and "--allow-host" in reply.json()["error"], host
    assert httpx.get(f"{base}/api/health", headers={"Host": f"localhost:{port}"}, timeout=30).status_code == 200
    assert httpx.get(f"{base}/", timeout=30).status_code == 200


def test_credentials_are_checked_on_every_route_and_any_user_name_is_a_401(locked):
    base, _backend = locked
    for user in ("jürgen", "ann\u202e", "ann"):
        token = base64.b64encode(f"{user}:wrong".encode()).decode()
        reply = httpx.get(f"{base}/api/health", headers={"Authorization": f"Basic {token}"}, timeout=30)
        assert reply.status_code == 401 and reply.headers["www-authenticate"].startswith("Basic"), user
    for route in ("/", "/config", "/gradio_api/info", "/api/health"):
        assert httpx.get(base + route, timeout=30).status_code == 401, route
    assert httpx.post(f"{base}/gradio_api/call/ask", json={"data": ["Why?", "", 0]}, timeout=30).status_code == 401
    assert httpx.post(f"{base}/gradio_api/upload", files=_upload(), timeout=30).status_code == 401
    garbage = httpx.get(f"{base}/api/health", headers={"Authorization": "Basic %%%not base64"}, timeout=30)
    assert garbage.status_code == 401
    assert httpx.get(f"{base}/", auth=("ann", "s3cret"), timeout=30).status_code == 200
    assert httpx.post(f"{base}/gradio_api/call/ask", json={"data": ["Why?", "", 0]}, auth=("ann", "s3cret"), timeout=30).status_code == 200
    from gradio_client import Client

    basic = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert "refused" in Client(base + "/", headers={"Authorization": basic}, verbose=False).predict("Why?", "", 0, api_name="/ask")


def test_a_30_mb_upload_is_refused_without_being_held_in_memory(server, tmp_path):
    base, backend = server
    big = tmp_path / "big.txt"
    with big.open("wb") as out:
        out.write(b"Big news\n\n")
        for _ in range(30):
            out.write(b"word " * (2**20 // 5))
    tracemalloc.start()
    try:
        with big.open("rb") as f:  # httpx streams a file object; the client holds no copy either
            reply = httpx.post(f"{base}/api/articles", files=[("files", ("big.txt", f, "text/plain"))], timeout=120)
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reply.status_code == 207 and reply.json()["skipped"] == [{"source": "big.txt", "reason": "larger than 25 MB"}]
    assert peak < 12 * 2**20, f"{peak / 2**20:.1f} MB held while a 30 MB upload went by"
    assert backend.articles() == []


def test_request_bodies_are_bounded(server):
    base, _backend = server
    host, port = "127.0.0.1", int(base.rsplit(":", 1)[1])
    with socket.create_connection((host, port), timeout=30) as conn:  # a body announced larger than the limit: never read
        conn.sendall(f"POST /api/ask HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {50 * 2**20}\r\n\r\n".encode())  # fmt: skip
        assert conn.recv(200).startswith(b"HTTP/1.1 413")

    def chunks():  # no Content-Length: counted as it arrives
        for _ in range(40):
            yield b" " * 65536

    reply = httpx.post(f"{base}/api/ask", content=chunks(), headers={"Content-Type": "application/json"}, timeout=30)
    assert reply.status_code == 413 and "larger than 1 MB" in reply.json()["error"]
    too_long = httpx.post(f"{base}/api/ask", json={"question": "Why? " * 500}, timeout=30)
    assert too_long.status_code == 422


def test_a_model_failure_is_a_server_error(server, monkeypatch):
    base, backend = server

    def broken(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ModelError("the local model could not be loaded; pip install -e .[llm]")

    monkeypatch.setattr(backend, "chat_stream", broken)
    reply = httpx.post(f"{base}/api/ask", json={"question": "Why was the harbour closed?"}, timeout=30)
    assert reply.status_code == 503 and "could not be loaded" in reply.json()["error"]


def test_conversations_are_bounded_in_number_and_length():
    kept = Conversations(limit=2, turns=3)
    turns = kept.get("a")
    turns.extend(range(7))  # turns a chat appended
    assert kept.get("a") == [4, 5, 6]
    kept.get("b")
    kept.get("c")
    assert len(kept) == 2 and kept.get("a") == []  # "a", least recently used, was dropped


def test_the_policy_names_the_hosts_it_answers_to():
    loopback = Policy.for_server("127.0.0.1")
    assert loopback.host_ok("127.0.0.1:7860") and loopback.host_ok("localhost:7860") and not loopback.host_ok("news.example")
    assert not loopback.host_ok("") and not loopback.host_ok("10.0.0.5:7860")
    proxied = Policy.for_server("127.0.0.1", ["chat.example.org"])
    assert proxied.host_ok("chat.example.org") and proxied.host_ok("CHAT.example.org.:443")
    # Behind a proxy that rewrites Host, the page's origin is the allowed name.
    assert proxied.origin_ok("https://chat.example.org", "127.0.0.1:7860")
    assert not proxied.origin_ok("https://evil.example", "127.0.0.1:7860")
    everywhere = Policy.for_server("0.0.0.0", credentials=("u", "p"))
    assert everywhere.host_ok("192.168.1.20:7860") and everywhere.host_ok("[fe80::1]:7860") and not everywhere.host_ok("rebind.example")
    assert everywhere.host_ok("localhost:7860")  # Gradio checks itself there as it starts
    six = Policy.for_server("::1")
    assert six.host_ok("[::1]:7860") and six.origin_ok("http://[::1]:7860", "[::1]:7860")
    assert loopback.origin_ok("http://127.0.0.1", "127.0.0.1:80") and not loopback.origin_ok("https://127.0.0.1:7860", "127.0.0.1:7861")
    assert loopback.refusal("POST", "/api/articles", Headers({"host": "127.0.0.1:7860", "origin": EVIL}))[0] == 403
    assert loopback.refusal("GET", "/api/articles", Headers({"host": "127.0.0.1:7860", "origin": EVIL})) is None


def test_posted_urls_cannot_reach_the_servers_own_network(server):
    """The issue's report: a page on another loopback port was fetched and answered from; ports told apart by their errors."""
    base, backend = server
    own_port = base.rsplit(":", 1)[1]
    reasons = []
    for url in (f"http://127.0.0.1:{own_port}/", f"http://127.0.0.1:{free_port()}/admin.html", "http://169.254.169.254/latest/meta-data/"):
        reply = httpx.post(f"{base}/api/articles", data={"urls": url}, timeout=30)
        assert reply.status_code == 207, reply.text
        reasons += [s["reason"] for s in reply.json()["skipped"]]
    assert len(set(reasons)) == 1 and "not fetched" in reasons[0]
    assert backend.articles() == []
