"""The `rag` commands that manage articles: ingest (files, pages, feeds), watch, list, delete."""

from __future__ import annotations

import argparse
import json
import sys


def _ingest(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from index import ChunkingConfig, ingest
    from index.store import resolve_location

    if not args.paths and not args.feed:
        raise InputError("name files, folders or URLs to ingest, or --feed URL")
    chunking = ChunkingConfig(chunk_size=args.chunk_size, chunk_overlap=args.chunk_overlap)
    report = ingest(
        args.paths,
        store=args.store,
        chunking=chunking,
        rebuild=args.rebuild,
        encoding=args.encoding,
        progress=None,
        on_skip=lambda s: print(f"skipped {s}", file=sys.stderr),
        feeds=args.feed,
    )
    print(f"store {resolve_location(args.store)}: {report.summary().splitlines()[0]}")
    if report.skipped:
        print(f"{len(report.skipped)} source(s) skipped; see the messages above", file=sys.stderr)
    return 0 if report.ok else 1


def _watch(args: argparse.Namespace) -> int:
    """Poll the feeds of FEEDS.txt every --every; each round ingests what is new (pages are fetched conditionally)."""
    import time
    from pathlib import Path

    from core.errors import InputError
    from index import ingest
    from index.store import resolve_location

    path = Path(args.feeds_file)
    if not path.is_file():
        raise InputError(f"no feeds file at {path}; write one feed URL per line")
    feeds = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not feeds:
        raise InputError(f"{path} lists no feeds; write one feed URL per line")
    seconds = _duration(args.every)
    skipped_any = False
    rounds = 0
    while True:
        rounds += 1
        report = ingest([], store=args.store, feeds=feeds, on_skip=lambda s: print(f"skipped {s}", file=sys.stderr))
        skipped_any |= not report.ok
        print(f"{time.strftime('%H:%M:%S')} store {resolve_location(args.store)}: {report.summary().splitlines()[0]}", flush=True)
        if args.rounds and rounds >= args.rounds:
            return 1 if skipped_any else 0
        time.sleep(seconds)


def _duration(text: str) -> float:
    from core.errors import ConfigError

    units = {"s": 1, "m": 60, "h": 3600}
    value, unit = text[:-1], text[-1:].lower()
    if unit.isdigit():
        value, unit = text, "s"
    try:
        seconds = float(value) * units[unit]
    except (KeyError, ValueError):
        raise ConfigError(f"--every wants a duration like 90s, 15m or 2h, got {text!r}") from None
    if seconds < 1:
        raise ConfigError(f"--every must be at least 1s, got {text!r}")
    return seconds


def _list(args: argparse.Namespace) -> int:
    from index import open_store
    from rag.api import default_embedder

    articles = open_store(args.store, default_embedder()).list_articles()
    if args.json:
        print(json.dumps([a.__dict__ for a in articles], ensure_ascii=False, indent=2))
        return 0
    for a in articles:
        meta = ", ".join(x for x in (a.source, a.published_at[:10]) if x)
        print(f"{a.id}\t{a.chunks} chunks\t{a.title}" + (f" ({meta})" if meta else ""))
    print(f"{len(articles)} article(s)", file=sys.stderr)
    return 0


def _delete(args: argparse.Namespace) -> int:
    from index import open_store
    from rag.api import default_embedder

    db = open_store(args.store, default_embedder())
    missing = db.delete_articles(args.ids)
    for doc_id in missing:
        print(f"not in the store: {doc_id}", file=sys.stderr)
    print(f"deleted {len(args.ids) - len(missing)} article(s)")
    return 1 if missing else 0
