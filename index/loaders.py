"""Load articles from files and folders: `.txt`, `.md`, `.html`, `.json`, `.jsonl`.

Every problem with one source becomes a `Skipped` record naming the file (and
line) and the reason, so that one bad file never stops the others.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.errors import LoadError

from .clean import clean_text, fallback_title, split_headline
from .dates import infer_date
from .types import Article

TEXT_SUFFIXES = frozenset({".txt", ".text"})
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSON_SUFFIXES = frozenset({".json"})
JSONL_SUFFIXES = frozenset({".jsonl", ".ndjson"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | MARKDOWN_SUFFIXES | HTML_SUFFIXES | JSON_SUFFIXES | JSONL_SUFFIXES
SUPPORTED_LIST = ", ".join(sorted(SUPPORTED_SUFFIXES))

MAX_FILE_BYTES = 100 * 1024 * 1024
_RECORD_FIELDS = ("id", "title", "url", "source", "published_at", "text")
_TOO_DEEP = "JSON nested too deeply to be an article record"


@dataclass(frozen=True)
class Skipped:
    """A source that was not ingested, and why."""

    source: str
    reason: str

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def discover(paths: Iterable[str | Path]) -> Iterator[Path | Skipped]:
    """Expand files and folders (recursively, in sorted order) into article files.

    Hidden files and folders are ignored. A path that does not exist, a named
    file of an unsupported type, and a folder with no usable file are `Skipped`.
    """
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = False
            for child in sorted(path.rglob("*")):
                rel = child.relative_to(path)
                if any(part.startswith(".") for part in rel.parts) or not child.is_file():
                    continue
                if child.suffix.lower() in SUPPORTED_SUFFIXES:
                    found = True
                    yield child
                else:
                    yield Skipped(str(child), f"unsupported file type; supported: {SUPPORTED_LIST}")
            if not found:
                yield Skipped(str(path), f"folder holds no article files ({SUPPORTED_LIST})")
        elif path.is_file():
            if path.suffix.lower() in SUPPORTED_SUFFIXES:
                yield path
            else:
                yield Skipped(str(path), f"unsupported file type; supported: {SUPPORTED_LIST}")
        else:
            yield Skipped(str(path), "no such file or folder")


def load_file(path: Path, *, encoding: str = "utf-8") -> Iterator[Article | Skipped]:
    """Load the article(s) in one file; problems are yielded as `Skipped`."""
    suffix = path.suffix.lower()
    try:
        if suffix in JSONL_SUFFIXES:
            yield from _load_jsonl(path, encoding)
        elif suffix in JSON_SUFFIXES:
            yield from _load_json(path, encoding)
        elif suffix in HTML_SUFFIXES:
            yield _load_html(path, encoding)
        else:
            yield _load_text(path, encoding, markdown=suffix in MARKDOWN_SUFFIXES)
    except LoadError as err:
        yield Skipped(err.source, err.reason)
    except OSError as err:
        yield Skipped(str(path), f"cannot read the file ({err.strerror or err})")


def read_text(path: Path, encoding: str = "utf-8") -> str:
    """Read a text file, rejecting empty, binary, oversized and wrongly encoded files.

    Raises:
        LoadError: with a reason a user can act on.
    """
    size = path.stat().st_size
    if size > MAX_FILE_BYTES:
        raise LoadError(str(path), f"file is {size // 2**20} MB; the limit is {MAX_FILE_BYTES // 2**20} MB")
    data = path.read_bytes()
    return decode(data, str(path), encoding)


def decode(data: bytes, source: str, encoding: str = "utf-8") -> str:
    """Decode bytes of a text file (see `read_text`)."""
    if not data.strip():
        raise LoadError(source, "empty file")
    head = data[:8192]
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise LoadError(source, "binary file, not text")
    codec = "utf-8-sig" if encoding.lower().replace("_", "-") in ("utf-8", "utf8") else encoding
    try:
        text = data.decode(codec)
    except UnicodeDecodeError as err:
        bad = data[err.start : err.start + 1].hex()
        raise LoadError(
            source,
            f"not valid {encoding} text (byte 0x{bad} at offset {err.start}); "
            "re-save it as UTF-8, or ingest it with --encoding (e.g. --encoding latin-1)",
        ) from None
    except LookupError:
        raise LoadError(source, f"unknown encoding {encoding!r}") from None
    controls = sum(1 for ch in text[:8192] if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(8, len(text[:8192]) // 100):
        raise LoadError(source, "binary file, not text")
    return text


def _load_text(path: Path, encoding: str, *, markdown: bool) -> Article:
    text = clean_text(read_text(path, encoding), markdown=markdown)
    title, body = split_headline(text)
    return _article(path.name, body, str(path), title=title)


def _load_html(path: Path, encoding: str) -> Article:
    return article_from_html(read_text(path, encoding), doc_id=path.name, origin=str(path))


def article_from_html(html: str, *, doc_id: str | None, origin: str, url: str = "") -> Article:
    """The article in a news page (trafilatura): text, title, source, date and canonical URL.

    Args:
        doc_id: the article's id; None uses the page's canonical URL (else `url`).
        origin: where the page came from (a file, or the URL fetched).
        url: the address it was fetched from (the canonical URL wins when the page gives one).

    Raises:
        LoadError: the page cannot be parsed or holds no article text.
    """
    import trafilatura  # heavy (lxml); only on this path

    try:
        doc = trafilatura.bare_extraction(html, url=url or None, with_metadata=True, include_comments=False, include_tables=False)
    except Exception as err:  # trafilatura raises a variety of parser errors
        raise LoadError(origin, f"cannot parse the HTML ({err})") from None
    text = getattr(doc, "text", None) if doc is not None else None
    if not text or not text.strip():
        raise LoadError(origin, "no article text found in the page")
    body = clean_text(text)
    title = (doc.title or "").strip()
    first, _, rest = body.partition("\n")
    if title and first.strip() == title and rest.strip():
        body = rest.strip()  # the extracted text repeats the headline
    canonical = (doc.url or url or "").strip()
    return _article(
        doc_id or canonical or origin,
        body,
        origin,
        title=title,
        source=doc.sitename or doc.hostname or "",
        url=canonical,
        published_at=doc.date or "",
    )


def _load_json(path: Path, encoding: str) -> Iterator[Article | Skipped]:
    text = read_text(path, encoding)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise LoadError(str(path), f"not valid JSON ({err.msg} at line {err.lineno}, column {err.colno})") from None
    except RecursionError:
        raise LoadError(str(path), _TOO_DEEP) from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    if not records:
        raise LoadError(str(path), "no articles in the file (an empty list)")
    for i, record in enumerate(records):
        where = f"{path}[{i}]" if isinstance(data, list) else str(path)
        yield _from_record(record, where, default_id=path.name if len(records) == 1 else f"{path.name}#{i}")


def _load_jsonl(path: Path, encoding: str) -> Iterator[Article | Skipped]:
    text = read_text(path, encoding)
    lines = [(n, line) for n, line in enumerate(text.split("\n"), start=1) if line.strip()]
    if not lines:  # only characters Python counts as blank (spaces, "\x1c" file separators, ...)
        raise LoadError(str(path), "no articles in the file (only blank lines)")
    for lineno, line in lines:
        where = f"{path}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as err:
            yield Skipped(where, f"not valid JSON ({err.msg}, column {err.colno})")
            continue
        except RecursionError:
            yield Skipped(where, _TOO_DEEP)
            continue
        yield _from_record(record, where, default_id=f"{path.name}:{lineno}")


def _from_record(record: Any, where: str, *, default_id: str) -> Article | Skipped:
    if not isinstance(record, dict):
        return Skipped(where, f"expected a JSON object with {', '.join(_RECORD_FIELDS)}; got {type(record).__name__}")
    fields: dict[str, str] = {}
    for name in _RECORD_FIELDS:
        value = record.get(name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            return Skipped(where, f"field {name!r} must be a string, not {type(value).__name__}")
        fields[name] = str(value).strip()
    if not fields.get("text"):
        return Skipped(where, "record has no 'text'")
    record_id = fields.get("id") or (f"url:{fields['url']}" if fields.get("url") else default_id)
    try:
        return _article(
            record_id,
            clean_text(fields["text"]),
            where,
            title=fields.get("title", ""),
            source=fields.get("source", ""),
            url=fields.get("url", ""),
            published_at=fields.get("published_at", ""),
        )
    except LoadError as err:
        return Skipped(err.source, err.reason)


def _article(doc_id: str, body: str, origin: str, *, title: str = "", **meta: str) -> Article:
    if not body.strip():
        raise LoadError(origin, "no article text left after removing boilerplate")
    if len(doc_id) > 512:
        raise LoadError(origin, "article id is longer than 512 characters")
    inferred = "" if meta.get("published_at") else infer_date(body)
    return Article(id=doc_id, text=body, title=title or fallback_title(body), origin=origin, inferred_date=inferred, **meta)
