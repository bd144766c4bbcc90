"""Articles from the web: pages and feeds from a server the test runs on 127.0.0.1 (pages written here).

The server stands for an internal news site, which the operator allows with
RAG_FETCH_ALLOW (the `allow_loopback` fixture); the tests of what is refused
take that away, or allow only the first hop.
"""

from __future__ import annotations

import email.utils
import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from conftest import free_port

from index import HashEmbedder, ingest, open_store
from index.web import UNREACHABLE, Fetcher, same_site
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
        self.sent = 0  # bytes of the endless page written before the client hung up


@pytest.fixture(autouse=True)
def allow_loopback(clean_environ, rag_env):
    """The test server is on 127.0.0.1: allowed the way an operator allows an internal news site."""
    rag_env("RAG_FETCH_ALLOW", "127.0.0.0/8")


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
            if self.path == "/loop" or self.path.startswith("/redirect?to="):
                self.send_response(302)
                self.send_header("Location", "/loop" if self.path == "/loop" else self.path.split("=", 1)[1])
                self.end_headers()
                return
            if self.path in ("/drip.html", "/drip-headers.html", "/endless.html", "/declared-huge.html"):
                self._trickle()
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

        def _trickle(self) -> None:
            """Pages that never end: a byte at a time (in the body or the headers), or megabytes without end."""
            try:
                if self.path == "/drip-headers.html":
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(200):
                        self.wfile.write(b"X-Drip: 1\r\n")
                        self.wfile.flush()
                        time.sleep(0.05)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                if self.path == "/declared-huge.html":
                    self.send_header("Content-Length", str(100 * 2**20))
                self.end_headers()
                if self.path == "/drip.html":
                    for _ in range(200):
                        self.wfile.write(b"<p>news</p>")
                        self.wfile.flush()
                        time.sleep(0.05)
                    return
                while state.sent < 256 * 2**20:
                    self.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")
                    state.sent += 65543
            except OSError:
                return  # the client hung up

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
        "/big-feed.xml": (200, "application/rss+xml", (
            "<?xml version='1.0'?><rss version='2.0'><channel><title>Firehose</title>"
            + "".join(f"<item><title>Story {i}</title><link>{base}/story/{i}.html</link></item>" for i in range(10_000))
            + "</channel></rss>").encode()),  # fmt: skip
        "/claims-another-site.html": (200, "text/html", _page("Storm closes Brest harbour", BRIDGE, "https://harbour.example/news/storm")),
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


def _connections(monkeypatch) -> list:  # noqa: ANN001
    """Every address a socket connects to from now on."""
    opened = []
    real = socket.socket.connect

    def spy(self, address):  # noqa: ANN001
        opened.append(address[:2])
        return real(self, address)

    monkeypatch.setattr(socket.socket, "connect", spy)
    return opened


def test_internal_addresses_are_refused_for_pages_and_feeds(site, tmp_path, rag_env, monkeypatch, capsys):
    rag_env("RAG_FETCH_ALLOW", None)  # the default: nothing internal
    port = site.base.rsplit(":", 1)[1]
    urls = [f"{site.base}/storm.html", f"http://localhost:{port}/storm.html", f"http://[::1]:{port}/storm.html",
            "http://10.0.0.1/admin.html", "http://192.168.1.1/", "http://169.254.169.254/latest/meta-data/"]  # fmt: skip
    opened = _connections(monkeypatch)
    report = ingest(urls, store=tmp_path / "store", embedder=HashEmbedder(), feeds=[f"{site.base}/feed.xml"])
    assert report.added == [] and {s.reason for s in report.skipped} == {UNREACHABLE}
    assert len(report.skipped) == len(urls) + 1
    assert site.requests == [] and opened == []  # nothing was even connected to
    assert cli(["ingest", f"{site.base}/storm.html", "--store", str(tmp_path / "s2")]) == 1
    assert UNREACHABLE in capsys.readouterr().err
    # The operator's flag allows it, as RAG_FETCH_ALLOW does.
    assert cli(["ingest", f"{site.base}/storm.html", "--store", str(tmp_path / "s2"), "--fetch-allow", "127.0.0.1/32"]) == 0


def test_feed_entries_and_redirects_are_checked_like_the_url_given(site, tmp_path, rag_env, monkeypatch):
    """The allow-list lets in the first hop (the feed, the redirecting page on 127.0.0.1) and nothing it points to."""
    rag_env("RAG_FETCH_ALLOW", "127.0.0.1/32")
    port = site.base.rsplit(":", 1)[1]
    forbidden = [f"http://[::1]:{port}/storm.html", f"http://127.0.0.2:{port}/storm.html", "http://169.254.169.254/latest/meta-data/",
                 "http://10.0.0.1/admin.html"]  # fmt: skip
    site.pages["/internal-feed.xml"] = (200, "application/rss+xml", (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Trap</title>"
        + "".join(f"<item><title>x</title><link>{u}</link></item>" for u in forbidden)
        + "</channel></rss>").encode())  # fmt: skip
    redirects = [f"{site.base}/redirect?to={u}" for u in forbidden]
    opened = _connections(monkeypatch)
    store = tmp_path / "store"
    report = ingest(redirects, store=store, embedder=HashEmbedder(), feeds=[f"{site.base}/internal-feed.xml"])
    assert report.added == []
    assert sorted(s.source for s in report.skipped) == sorted(forbidden + redirects)
    assert {s.reason for s in report.skipped} == {UNREACHABLE}
    assert set(opened) == {("127.0.0.1", int(port))}
    assert all(path.startswith(("/redirect", "/internal-feed")) for path, _headers in site.requests)
    # A redirect to another scheme is no web page.
    to_file = ingest([f"{site.base}/redirect?to=file:///etc/passwd"], store=store, embedder=HashEmbedder())
    assert "only http:// and https://" in to_file.skipped[0].reason


def test_a_name_that_resolves_to_loopback_is_refused(site, rag_env):
    rag_env("RAG_FETCH_ALLOW", None)
    port = site.base.rsplit(":", 1)[1]
    fetcher = Fetcher()
    with pytest.raises(Exception, match="not fetched"):
        fetcher.article(f"http://localhost:{port}/storm.html")
    assert site.requests == []


def test_a_closed_port_and_an_open_one_read_the_same(site, rag_env):
    """Nothing in the message tells which internal ports answer, allowed or not."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def not_http() -> None:  # an SSH-like service
        conn, _ = listener.accept()
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        conn.close()

    threading.Thread(target=not_http, daemon=True).start()
    ssh = f"http://127.0.0.1:{listener.getsockname()[1]}/"
    closed = f"http://127.0.0.1:{free_port()}/"
    web = f"{site.base}/storm.html"

    def reason(fetcher: Fetcher, url: str) -> str:
        try:
            fetcher.article(url)
        except Exception as err:  # noqa: BLE001
            return err.reason
        return "fetched"

    rag_env("RAG_FETCH_ALLOW", None)
    refused = Fetcher()
    assert reason(refused, closed) == reason(refused, web) == reason(refused, ssh) == UNREACHABLE
    rag_env("RAG_FETCH_ALLOW", "127.0.0.0/8")
    allowed = Fetcher()
    assert reason(allowed, closed) == reason(allowed, ssh) == UNREACHABLE
    listener.close()


def test_a_slow_drip_stops_at_the_deadline_for_the_whole_url(site):
    fetcher = Fetcher(timeout=1.0)
    for page in ("drip.html", "drip-headers.html"):
        started = time.monotonic()
        with pytest.raises(Exception, match="timed out"):
            fetcher.article(f"{site.base}/{page}")
        assert time.monotonic() - started < 2.5  # each read was quick; the page as a whole was not


def test_a_body_over_the_cap_is_stopped_while_it_streams(site, rag_env):
    rag_env("RAG_FETCH_MAX_MB", "1")
    fetcher = Fetcher()
    with pytest.raises(Exception, match="larger than 1 MB"):
        fetcher.article(f"{site.base}/endless.html")
    assert site.sent < 64 * 2**20  # the client hung up after about a megabyte (plus the sockets' buffers)
    with pytest.raises(Exception, match="larger than 1 MB; not read"):
        fetcher.article(f"{site.base}/declared-huge.html")  # refused on its Content-Length


def test_a_feed_gives_at_most_the_cap_of_entries(site, tmp_path, rag_env):
    assert Fetcher().max_entries == 100  # the default
    rag_env("RAG_FETCH_MAX_ENTRIES", "7")
    report = ingest([], store=tmp_path / "store", embedder=HashEmbedder(), feeds=[f"{site.base}/big-feed.xml"])
    assert len(report.skipped) == 7  # each page is missing (404): fetched, and no more than seven
    assert sum(path.startswith("/story/") for path, _headers in site.requests) == 7


def test_a_page_cannot_take_over_another_sites_article(site, tmp_path):
    store = tmp_path / "store"
    emb = HashEmbedder()
    record = tmp_path / "harbour.jsonl"
    record.write_text('{"id": "https://harbour.example/news/storm", "title": "Storm closes Brest harbour", "text": "' + STORM.replace("\n", " ") + '"}')
    ingest([record], store=store, embedder=emb)
    report = ingest([f"{site.base}/claims-another-site.html"], store=store, embedder=emb)
    assert report.added == [f"{site.base}/claims-another-site.html"] and report.updated == []
    db = open_store(store, emb)
    assert "forty fishing boats" in db.get_article("https://harbour.example/news/storm").text
    assert db.get_article(f"{site.base}/claims-another-site.html").url == f"{site.base}/claims-another-site.html"


@pytest.mark.parametrize(
    ("canonical", "fetched", "same"),
    [("https://www.bbc.co.uk/news/1", "https://bbc.co.uk/news/1?x", True),
     ("https://www.nytimes.com/a", "https://m.nytimes.com/a", True),
     ("http://127.0.0.1:8001/a", "http://127.0.0.1:8001/b", True),
     ("https://bbc.co.uk/news/1", "https://evil.co.uk/news/1", False),
     ("https://victim.github.io/a", "https://attacker.github.io/a", False),
     ("https://harbour.example/news/storm", "http://127.0.0.1:8001/x", False),
     ("file:///etc/passwd", "https://news.example/a", False)],
)  # fmt: skip
def test_same_site(canonical, fetched, same):
    assert same_site(canonical, fetched) is same
