"""Articles from the web, on request only: news pages (trafilatura) and RSS or Atom feeds (feedparser).

Nothing here runs unless a URL is given. Fetching is polite and bounded:
- a timeout per request and a cap on the bytes read;
- conditional requests: the ETag and Last-Modified of every page fetched are
  kept beside the store (`web-cache.json`), so an unchanged page answers 304
  and is not read again;
- one request at a time per host, and a User-Agent that names the product;
- at most `MAX_REDIRECTS` redirects (a loop is reported as one).

An article from the web has its canonical URL as its id, so fetching an
unchanged page again changes nothing and a changed one replaces its chunks.
Every failure (an HTTP error, a timeout, not HTML, no article text, a feed
that is not a feed, a redirect loop) becomes a `Skipped` naming the URL and
the reason; the other URLs are still fetched.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import LoadError

from .loaders import Skipped, article_from_html
from .types import Article

USER_AGENT = "newsrag/0.1 (question answering over the user's own news; fetches only what the user asks for)"
TIMEOUT_S = 15.0
MAX_BYTES = 5 * 2**20
MAX_REDIRECTS = 5
CACHE_FILE = "web-cache.json"
MIN_WORDS = 15  # a page with less text than this outside its boilerplate holds no article


def is_url(text: str) -> bool:
    return str(text).lower().startswith(("http://", "https://"))


@dataclass(frozen=True)
class NotModified:
    """A page the server says has not changed since it was last fetched (HTTP 304)."""

    url: str


class Fetcher:
    """Fetches pages and feeds (see the module docstring).

    Args:
        cache: the file where validators (ETag, Last-Modified) are kept; None keeps none.
        timeout: seconds per request. max_bytes: the most read of one response.
        client: an `httpx.Client` (tests pass one with a mock transport).
        is_stored: whether an article id is in the store; a page whose article is not
            (deleted since) is fetched whole, not conditionally.
    """

    def __init__(
        self,
        cache: Path | None = None,
        *,
        timeout: float = TIMEOUT_S,
        max_bytes: int = MAX_BYTES,
        client: Any = None,
        is_stored: Callable[[str], bool] | None = None,
    ) -> None:
        import httpx

        self.cache = cache
        self.max_bytes = max_bytes
        self._client = client or httpx.Client(
            timeout=timeout, follow_redirects=True, max_redirects=MAX_REDIRECTS, headers={"User-Agent": USER_AGENT}
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

    def get(self, url: str, *, conditional: bool = True) -> tuple[bytes, str, dict[str, str]] | NotModified:
        """The body, final URL and headers of `url`, or `NotModified`.

        Raises:
            LoadError: naming the URL and what went wrong.
        """
        import httpx

        headers = {}
        known = self._validators.get(url, {}) if conditional else {}
        if known.get("id") and self._is_stored is not None and not self._is_stored(known["id"]):
            known = {}  # its article was deleted since: fetch it whole
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        with self._host_lock(url):
            try:
                with self._client.stream("GET", url, headers=headers) as response:
                    if response.status_code == 304:
                        return NotModified(url)
                    if response.status_code >= 400:
                        raise LoadError(url, f"the server answered HTTP {response.status_code}")
                    body = bytearray()
                    for part in response.iter_bytes():
                        body += part
                        if len(body) > self.max_bytes:
                            raise LoadError(url, f"larger than {self.max_bytes // 2**20} MB; not read")
                    final = str(response.url)
                    got = {k.lower(): v for k, v in response.headers.items()}
            except httpx.TooManyRedirects:
                raise LoadError(url, f"more than {MAX_REDIRECTS} redirects (a redirect loop?)") from None
            except httpx.TimeoutException:
                raise LoadError(url, "timed out; the server did not answer in time") from None
            except httpx.HTTPError as err:
                raise LoadError(url, f"cannot fetch it: {err}") from None
        validators = {k: got[h] for k, h in (("etag", "etag"), ("last_modified", "last-modified")) if got.get(h)}
        if validators:
            self._validators[url] = validators
        return bytes(body), final, got

    def article(self, url: str) -> Article | NotModified:
        """The article on the page at `url` (its id: the canonical URL).

        Raises:
            LoadError: fetching failed, the page is not HTML, or it holds no article text.
        """
        got = self.get(url)
        if isinstance(got, NotModified):
            return got
        body, final, headers = got
        kind = headers.get("content-type", "").split(";")[0].strip().lower()
        if kind and kind not in ("text/html", "application/xhtml+xml"):
            self._validators.pop(url, None)
            raise LoadError(url, f"not an HTML page ({kind})")
        html = body.decode(_charset(headers) or "utf-8", errors="replace")
        try:
            article = article_from_html(html, doc_id=None, origin=url, url=final)
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
        """The article links of the RSS or Atom feed at `url`, in feed order.

        Raises:
            LoadError: fetching failed, or the document is not a feed.
        """
        import feedparser

        got = self.get(url, conditional=False)  # a feed is cheap and lists what is new; its pages are conditional
        if isinstance(got, NotModified):
            return []
        body, final, _headers = got
        parsed = feedparser.parse(body)
        links = [e.get("link") for e in parsed.entries if e.get("link")]
        if not parsed.get("version") and not links:
            problem = getattr(parsed.get("bozo_exception"), "getMessage", lambda: "")() or str(parsed.get("bozo_exception") or "")
            raise LoadError(url, f"not an RSS or Atom feed{': ' + problem if problem else ''}")
        from urllib.parse import urljoin

        return list(dict.fromkeys(urljoin(final, link) for link in links))


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
