"""Articles from the web: pages and feeds from a server the test runs on 127.0.0.1 (pages written here)."""

from __future__ import annotations

import email.utils
import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from index import HashEmbedder, ingest, open_store
from ui.cli import main as cli


def _page(title: str, body: str, canonical: str) -> bytes:
    paragraphs = "".join(f"<p>{p}</p>" for p in body.split("\n"))
    return (
        f"<html><head><title>{title}</title><link rel='canonical' href='{canonical}'>"
        f"<meta property='og:site_name' content='Harbour Gazette'><meta name='date' content='2024-03-05'></head>"
        f"<body><nav>Home | Sport | Weather</nav><article><h1>{title}</h1>{paragraphs}</article>"
        f"<footer>Copyright Harbour Gazette</footer></body></html>"
    ).encode()


STORM = ("The harbour of Brest was closed on Friday after a storm damaged two piers, the port authority said.\n"
         "Officials said the harbour would reopen on Monday once divers had inspected the quays.\n"
         "About forty fishing boats stayed in port during the closure, and ferries to the islands were cancelled.")  # fmt: skip
BRIDGE = ("The city council voted 31 to 12 on Monday to close the old harbour bridge to cars from June.\n"
          "Cyclists and pedestrians will still be able to cross, and buses will be rerouted, the mayor said.\n"
          "Shop owners on the quay said they feared losing customers during the works.")  # fmt: skip


class Site:
    """What the test server serves; tests change it between runs."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.modified = email.utils.formatdate(usegmt=True)


@pytest.fixture
def site():
    state = Site()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # noqa: ANN002
            pass

        def do_GET(self) -> None:
            state.requests.append((self.path, dict(self.headers)))
            if self.path == "/slow.html":
                time.sleep(3)
            if self.path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
                self.end_headers()
                return
            status, kind, body = state.pages.get(self.path, (404, "text/plain", b"not found"))
            etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
            if status == 200 and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    state.base = f"http://127.0.0.1:{server.server_port}"
    base = state.base
    state.pages = {
        "/storm.html": (200, "text/html; charset=utf-8", _page("Storm closes Brest harbour", STORM, f"{base}/news/storm")),
        "/bridge.html": (200, "text/html", _page("Council closes harbour bridge to cars", BRIDGE, f"{base}/news/bridge")),
        "/empty.html": (200, "text/html", b"<html><body><nav>Home</nav></body></html>"),
        "/photo.png": (200, "image/png", b"\x89PNG\r\n\x1a\n" + b"0" * 100),
        "/slow.html": (200, "text/html", _page("Slow", STORM, f"{base}/slow")),
        "/feed.xml": (200, "application/rss+xml", (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Harbour Gazette</title>"
            f"<item><title>Storm</title><link>{base}/storm.html</link></item>"
            f"<item><title>Bridge</title><link>{base}/bridge.html</link></item>"
            "</channel></rss>").encode()),  # fmt: skip
        "/atom.xml": (200, "application/atom+xml", (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'><title>Gazette</title>"
            f"<entry><title>Bridge</title><link href='{base}/bridge.html'/><id>b</id></entry></feed>").encode()),  # fmt: skip
        "/broken-feed.xml": (200, "application/rss+xml", b"this is not a feed at all"),
    }
    yield state
    server.shutdown()


def test_a_page_is_ingested_under_its_canonical_url_and_a_second_run_adds_nothing(site, tmp_path, capsys):
    store = tmp_path / "store"
    assert cli(["ingest", f"{site.base}/storm.html", "--store", str(store)]) == 0
    db = open_store(store, _embedder_of(store))
    (article,) = db.list_articles()
    assert article.id == f"{site.base}/news/storm" and article.url == f"{site.base}/news/storm"
    assert article.title == "Storm closes Brest harbour" and article.source == "Harbour Gazette"
    text = db.get_article(article.id).text
    assert "forty fishing boats" in text and "Copyright" not in text and "Sport" not in text
    assert site.requests[-1][1].get("User-Agent", "").startswith("newsrag/")

    assert cli(["ingest", f"{site.base}/storm.html", "--store", str(store)]) == 0
    assert site.requests[-1][1].get("If-None-Match")  # a conditional request, answered 304
    assert "added 0, updated 0, unchanged 1" in capsys.readouterr().out


def test_a_changed_page_replaces_its_article(site, tmp_path):
    store = tmp_path / "store"
    emb = HashEmbedder()
    ingest([f"{site.base}/storm.html"], store=store, embedder=emb)
    site.pages["/storm.html"] = (200, "text/html", _page("Storm closes Brest harbour", STORM.replace("Monday", "Wednesday"), f"{site.base}/news/storm"))
    report = ingest([f"{site.base}/storm.html"], store=store, embedder=emb)
    assert report.updated == [f"{site.base}/news/storm"]
    assert "Wednesday" in open_store(store, emb).get_article(f"{site.base}/news/storm").text


def test_a_deleted_article_is_fetched_again_not_reported_unchanged(site, tmp_path):
    store = tmp_path / "store"
    emb = HashEmbedder()
    ingest([f"{site.base}/storm.html"], store=store, embedder=emb)
    open_store(store, emb).delete_articles([f"{site.base}/news/storm"])
    assert ingest([f"{site.base}/storm.html"], store=store, embedder=emb).added == [f"{site.base}/news/storm"]


def test_feeds_rss_and_atom(site, tmp_path):
    store = tmp_path / "store"
    emb = HashEmbedder()
    report = ingest([], store=store, embedder=emb, feeds=[f"{site.base}/feed.xml", f"{site.base}/atom.xml"])
    assert sorted(report.added) == [f"{site.base}/news/bridge", f"{site.base}/news/storm"] and report.ok
    again = ingest([], store=store, embedder=emb, feeds=[f"{site.base}/feed.xml"])
    assert again.added == [] and again.updated == [] and len(again.unchanged) == 2


def test_every_failure_is_named_and_the_rest_are_ingested(site, tmp_path, capsys):
    from index.web import Fetcher

    store = tmp_path / "store"
    urls = [f"{site.base}/{p}" for p in ("missing.html", "photo.png", "empty.html", "loop", "slow.html", "bridge.html")]
    fetcher = Fetcher(tmp_path / "cache.json", timeout=1.0)
    report = ingest(urls, store=store, embedder=HashEmbedder(), feeds=[f"{site.base}/broken-feed.xml"], fetcher=fetcher)
    reasons = {s.source.rsplit("/", 1)[-1]: s.reason for s in report.skipped}
    assert report.added == [f"{site.base}/news/bridge"]
    assert "HTTP 404" in reasons["missing.html"]
    assert "not an HTML page (image/png)" in reasons["photo.png"]
    assert "no article text" in reasons["empty.html"]
    assert "redirect" in reasons["loop"]
    assert "timed out" in reasons["slow.html"]
    assert "not an RSS or Atom feed" in reasons["broken-feed.xml"]
    # The command line exits 1 when anything was skipped, naming each.
    assert cli(["ingest", f"{site.base}/missing.html", f"{site.base}/storm.html", "--store", str(tmp_path / "s2")]) == 1
    err = capsys.readouterr().err
    assert "missing.html: the server answered HTTP 404" in err


def test_watch_polls_the_feeds_and_ingests_what_is_new(site, tmp_path):
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(f"# the harbour\n{site.base}/atom.xml\n")
    store = tmp_path / "store"
    assert cli(["watch", str(feeds), "--store", str(store), "--every", "1s", "--rounds", "2"]) == 0
    ids = {a.id for a in open_store(store, _embedder_of(store)).list_articles()}
    assert ids == {f"{site.base}/news/bridge"}
    assert cli(["watch", str(tmp_path / "nope.txt"), "--store", str(store)]) == 2


def test_ingesting_files_opens_no_socket(tmp_path, seeds_copy, monkeypatch):
    opened = []
    real = socket.socket.connect

    def spy(self, address):  # noqa: ANN001
        opened.append(address)
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    report = ingest([seeds_copy], store=tmp_path / "store", embedder=HashEmbedder())
    assert report.ok and len(report.added) == 2
    assert opened == []


def _embedder_of(store):  # noqa: ANN001, ANN202 - the CLI ingests with the default embedder
    from index.embedding import shared_embedder

    return shared_embedder()


def test_the_chat_backend_takes_urls_and_feeds(site, tmp_path):
    from ui.app import Backend, ServeConfig

    backend = Backend(ServeConfig(store=tmp_path / "store", generator="extractive"), embedder=HashEmbedder())
    report = backend.ingest([], urls=[f"{site.base}/storm.html", f"{site.base}/missing.html"], feeds=[f"{site.base}/atom.xml"])
    assert sorted(report.added) == [f"{site.base}/news/bridge", f"{site.base}/news/storm"]
    assert [s.reason for s in report.skipped] == ["the server answered HTTP 404"]
    answer = backend.engine().query("Why was the harbour of Brest closed?")
    assert not answer.refused and answer.citations[0].url == f"{site.base}/news/storm"
