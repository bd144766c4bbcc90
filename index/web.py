"""Articles from the web, on request only: news pages (trafilatura) and RSS or Atom feeds (feedparser).

Nothing here runs unless a URL is given. Fetching is safe, polite and bounded:
- only public addresses on ports 80 and 443, unless the operator allows internal
  hosts or networks (`RAG_FETCH_ALLOW`); every URL is checked, feed entries and
  each redirect included, and the connection goes to the address checked
  (`index.netguard`). A refusal reads the same as a host that does not answer;
- a total deadline per URL, redirects included (`RAG_FETCH_TIMEOUT`), a cap on
  the bytes read, enforced while reading (`RAG_FETCH_MAX_MB`), at most
  `RAG_FETCH_MAX_ENTRIES` entries of a feed and `RAG_FETCH_MAX_REDIRECTS`
  redirects (a loop is reported as one); the content type is checked before
  the body is read;
- conditional requests: the ETag and Last-Modified of every page fetched are
  kept beside the store (`web-cache.json`), so an unchanged page answers 304
  and is not read again;
- one request at a time per host, and a User-Agent that names the product.

An article from the web has its canonical URL as its id when that URL is on
the site that served the page (the same host, or one a subdomain of the other,
ignoring "www."); otherwise the address it was served from is its id, so no
page can replace another site's article. Fetching an unchanged page again
changes nothing and a changed one replaces its chunks. Every failure (an HTTP
error, a timeout, not HTML, no article text, a feed that is not a feed, a
redirect loop, an address that may not be fetched) becomes a `Skipped` naming
the URL and the reason; the other URLs are still fetched.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

from core.errors import LoadError
from core.settings import settings

from .loaders import Skipped, article_from_html
from .types import Article

USER_AGENT = "newsrag/0.1 (question answering over the user's own news; fetches only what the user asks for)"
CACHE_FILE = "web-cache.json"
MIN_WORDS = 15  # a page with less text than this outside its boilerplate holds no article
PAGE_TYPES = ("text/html", "application/xhtml+xml")
# One message for an address that may not be fetched and for one where nothing (or no web server) answered:
# which of the two it was would tell whoever sent the URL which internal hosts and ports are alive.
UNREACHABLE = "not fetched: nothing that may be fetched answered at this address (internal hosts need RAG_FETCH_ALLOW)"


def is_url(text: str) -> bool:
    return str(text).lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class NotModified:
    """A page the server says has not changed since it was last fetched (HTTP 304)."""

    url: str


class Fetcher:
    """Fetches pages and feeds (see the module docstring). Each limit left None comes from `core.settings`.

    Args:
        cache: the file where validators (ETag, Last-Modified) are kept; None keeps none.
        timeout: seconds one URL may take in all, redirects included.
        max_bytes: the most read of one response.
        max_entries: the most entries taken from one feed.
        max_redirects: the most redirects followed for one URL.
        allow: internal host names and networks that may be fetched (`RAG_FETCH_ALLOW`).
        transport: an httpx transport (default `index.netguard.PinnedTransport`; a test's
            `httpx.MockTransport` bypasses the address checks).
        resolve: `(host, port) -> [address, ...]` for the address checks (tests pass fakes).
        is_stored: whether an article id is in the store; a page whose article is not
            (deleted since) is fetched whole, not conditionally.
    """

    def __init__(
        self,
        cache: Path | None = None,
        *,
        timeout: float | None = None,
        max_bytes: int | None = None,
        max_entries: int | None = None,
        max_redirects: int | None = None,
        allow: Iterable[str] | None = None,
        transport: Any = None,
        resolve: Callable[[str, int], list[str]] | None = None,
        is_stored: Callable[[str], bool] | None = None,
    ) -> None:
        import httpx

        from .netguard import AllowList, Guard, PinnedTransport

        config = settings()
        self.cache = cache
        self.timeout = config.fetch_timeout if timeout is None else timeout
        self.max_bytes = int(config.fetch_max_mb * 2**20) if max_bytes is None else max_bytes
        self.max_entries = config.fetch_max_entries if max_entries is None else max_entries
        self.max_redirects = config.fetch_max_redirects if max_redirects is None else max_redirects
        self.guard = Guard(AllowList.parse(config.fetch_allow if allow is None else allow), resolve)
        self._client = httpx.Client(
            transport=transport or PinnedTransport(self.guard),
            timeout=self.timeout,
            follow_redirects=False,  # each hop is checked here (see `get`)
            headers={"User-Agent": USER_AGENT},
        )
        self._validators: dict[str, dict[str, str]] = self._read_cache()
        self._is_stored = is_stored
        self._hosts: dict[str, threading.Lock] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        self._client.close()

    def _read_cache(self) -> dict[str, dict[str, str]]:
        if self.cache is None or not self.cache.is_file():
            return {}
        try:
            data = json.loads(self.cache.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def save(self) -> None:
        """Keep the validators for the next run (only when the store was written: see `ingest_urls`)."""
        if self.cache is None:
            return
        self.cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.cache.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._validators, indent=1), encoding="utf-8")
        tmp.replace(self.cache)

    def _host_lock(self, url: str) -> threading.Lock:
        host = urlsplit(url).netloc.lower()
        with self._lock:
            return self._hosts.setdefault(host, threading.Lock())

    def get(
        self, url: str, *, conditional: bool = True, expect: str = ""
    ) -> tuple[bytes, str, dict[str, str]] | NotModified:
        """The body, final URL and headers of `url`, or `NotModified`.

        Args:
            conditional: send the validators kept for `url` (a 304 answers `NotModified`).
            expect: "page" or "feed": a response of another content type is refused before
                its body is read ("": any type).

        Raises:
            LoadError: naming the URL and what went wrong.
        """
        import httpx

        from .netguard import Refused, deadline

        headers = {}
        known = self._validators.get(url, {}) if conditional else {}
        if known.get("id") and self._is_stored is not None and not self._is_stored(known["id"]):
            known = {}  # its article was deleted since: fetch it whole
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        with self._host_lock(url), deadline(self.timeout):  # the deadline starts once this host is free
            try:
                fetched = self._follow(url, headers, expect)
            except httpx.TimeoutException:
                raise LoadError(url, f"timed out; the server did not answer within {self.timeout:g} s") from None
            except (Refused, httpx.HTTPError, httpx.InvalidURL):
                raise LoadError(url, UNREACHABLE) from None
        if fetched is None:
            return NotModified(url)
        body, final, got = fetched
        validators = {k: got[h] for k, h in (("etag", "etag"), ("last_modified", "last-modified")) if got.get(h)}
        if validators:
            self._validators[url] = validators
        return body, final, got

    def _follow(self, url: str, headers: dict[str, str], expect: str) -> tuple[bytes, str, dict[str, str]] | None:
        """`get` within its deadline, every redirect checked like the URL itself; None for HTTP 304."""
        current = url
        for _hop in range(self.max_redirects + 1):
            if urlsplit(current).scheme.lower() not in ("http", "https"):
                raise LoadError(url, f"only http:// and https:// addresses are fetched, not {current[:100]!r}")
            with self._client.stream("GET", current, headers=headers) as response:
                if response.status_code == 304:
                    return None
                if response.is_redirect:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise LoadError(url, f"the server answered HTTP {response.status_code}")
                got = {k.lower(): v for k, v in response.headers.items()}
                kind = got.get("content-type", "").split(";")[0].strip().lower()
                if expect and not _EXPECTED[expect][0](kind):
                    raise LoadError(url, f"not {_EXPECTED[expect][1]} ({kind}); not read")
                declared = got.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise LoadError(url, f"larger than {_megabytes(self.max_bytes)}; not read")
                body = bytearray()
                for part in response.iter_bytes():
                    body += part
                    if len(body) > self.max_bytes:
                        raise LoadError(url, f"larger than {_megabytes(self.max_bytes)}; not read")
                return bytes(body), str(response.url), got
        raise LoadError(url, f"more than {self.max_redirects} redirects (a redirect loop?)")

    def article(self, url: str) -> Article | NotModified:
        """The article on the page at `url` (its id: the canonical URL when it is on the same site, else the page's URL).

        Raises:
            LoadError: fetching failed, the page is not HTML, or it holds no article text.
        """
        try:
            got = self.get(url, expect="page")
        except LoadError:
            self._validators.pop(url, None)
            raise
        if isinstance(got, NotModified):
            return got
        body, final, headers = got
        html = body.decode(_charset(headers) or "utf-8", errors="replace")
        try:
            article = article_from_html(html, doc_id=None, origin=url, url=final)
            if not same_site(article.id, final):  # a page may not claim another site's article
                article = replace(article, id=final, url=final)
        except LoadError:
            self._validators.pop(url, None)  # nothing stored from it: never answer "unchanged" for it
            raise
        words = len(article.text.split())
        if words < MIN_WORDS:  # navigation or a cookie banner, not an article
            self._validators.pop(url, None)
            raise LoadError(url, f"no article text found in the page (only {words} words outside menus and footers)")
        if url in self._validators:
            self._validators[url]["id"] = article.id
        return article

    def feed(self, url: str) -> list[str]:
        """The article links of the RSS or Atom feed at `url`, in feed order: the first `max_entries`.

        Raises:
            LoadError: fetching failed, or the document is not a feed.
        """
        import feedparser

        got = self.get(url, conditional=False, expect="feed")  # a feed is cheap and lists what is new; its pages are conditional
        if isinstance(got, NotModified):
            return []
        body, final, _headers = got
        parsed = feedparser.parse(body)
        links = [e.get("link") for e in parsed.entries if e.get("link")]
        if not parsed.get("version") and not links:
            problem = getattr(parsed.get("bozo_exception"), "getMessage", lambda: "")() or str(parsed.get("bozo_exception") or "")
            raise LoadError(url, f"not an RSS or Atom feed{': ' + problem if problem else ''}")
        return list(dict.fromkeys(urljoin(final, link) for link in links))[: self.max_entries]


def _is_page_type(kind: str) -> bool:
    return not kind or kind in PAGE_TYPES


def _is_feed_type(kind: str) -> bool:
    # Feeds come as application/rss+xml, atom+xml, xml, text/xml, and often as text/html or text/plain.
    return not kind or "xml" in kind or kind.startswith("text/")


_EXPECTED: dict[str, tuple[Callable[[str], bool], str]] = {"page": (_is_page_type, "an HTML page"), "feed": (_is_feed_type, "a feed")}


def _megabytes(n: int) -> str:
    return f"{n / 2**20:g} MB"


def same_site(canonical: str, fetched: str) -> bool:
    """Whether `canonical` is on the site of `fetched`: the same host, or one a subdomain of the other, "www." aside.

    Without a public-suffix list, `news.example.co.uk` and `evil.co.uk` are told
    apart (neither is under the other), and so are two sites on one hosting
    domain (`a.github.io`, `b.github.io`).
    """
    a, b = (_site_host(u) for u in (canonical, fetched))
    if not a or not b:
        return False
    if a == b:
        return True
    if _is_ip(a) or _is_ip(b):
        return False
    return a.endswith("." + b) or b.endswith("." + a)


def _site_host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return ""
    host = (parts.hostname or "").rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return False


def _charset(headers: dict[str, str]) -> str | None:
    for part in headers.get("content-type", "").split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key.lower() == "charset" and value:
            return value.strip('"')
    return None


def fetch_articles(urls: Iterable[str], feeds: Iterable[str], fetcher: Fetcher) -> Iterator[Article | Skipped | NotModified]:
    """The articles at `urls` and in `feeds`, each page once; failures as `Skipped`."""
    pages: list[str] = list(dict.fromkeys(urls))
    for feed in feeds:
        try:
            pages += [link for link in fetcher.feed(feed) if link not in pages]
        except LoadError as err:
            yield Skipped(err.source, err.reason)
    for url in pages:
        try:
            yield fetcher.article(url)
        except LoadError as err:
            yield Skipped(err.source, err.reason)
