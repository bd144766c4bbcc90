"""The `rag` command: ingest, query, chat, serve, mcp, eval, judge, list, delete.

Exit codes: 0 success; 1 some input was skipped (ingest); 2 usage or
configuration error, or a store / model problem (the message says what to do).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from .cli_articles import _delete, _ingest, _list, _watch


def _configure_runtime() -> None:
    """Offline, quiet defaults for a command-line run (never done at import)."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "GRADIO_ANALYTICS_ENABLED": "False",
        "TOKENIZERS_PARALLELISM": "false",
        "TRANSFORMERS_VERBOSITY": "error",
    }.items():
        os.environ.setdefault(key, value)
    import logging

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("chromadb", "sentence_transformers", "transformers", "httpx", "bm25s"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _build_parser() -> argparse.ArgumentParser:
    from rag.engine import DEFAULT_TOP_K, MODES
    from rag.judges import JUDGES

    parser = argparse.ArgumentParser(prog="rag", description="Ask questions about news articles; every answer cites its sources.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def store_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--store", help="store folder or Chroma server URL (default: $RAG_CHROMA_URL, else $RAG_STORE, else ./.rag)"
        )

    def fetch_opt(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--fetch-allow", action="append", default=[], metavar="HOSTS",
            help="internal host names and networks that may be fetched, comma-separated (e.g. 10.1.0.0/16,news.intranet; "
            "default: $RAG_FETCH_ALLOW, else only public addresses)",
        )  # fmt: skip

    p = sub.add_parser("ingest", help="add articles (files, folders, web pages, feeds) to the store")
    p.add_argument("paths", nargs="*", metavar="PATH|URL", help=".txt, .md, .html, .json or .jsonl files, folders, or news page URLs")
    p.add_argument("--feed", action="append", default=[], metavar="URL", help="an RSS or Atom feed whose articles to ingest; repeatable")
    store_opt(p)
    p.add_argument("--chunk-size", type=int, default=200, help="chunk size in embedding-model tokens (default 200)")
    p.add_argument("--chunk-overlap", type=int, default=40, help="overlap between chunks in tokens (default 40)")
    p.add_argument("--encoding", default="utf-8", help="encoding of text files (default utf-8)")
    p.add_argument("--rebuild", action="store_true", help="delete the store first and ingest from scratch")
    fetch_opt(p)

    def answer_opts(p: argparse.ArgumentParser) -> None:
        store_opt(p)
        p.add_argument("--top-k", type=int, default=DEFAULT_TOP_K, help=f"passages to retrieve (default {DEFAULT_TOP_K})")
        p.add_argument(
            "--generator",
            help="local (the packaged LLM; default when installed), openai (RAG_OPENAI_BASE_URL) or extractive (no LLM)",
        )
        p.add_argument("--model", help="GGUF file for the local generator (default: $RAG_LLM_MODEL, else the packaged model)")
        p.add_argument("--retrieval", choices=MODES, default="hybrid", help="hybrid (BM25 + dense, fused; default), dense or bm25")
        p.add_argument("--candidates", type=int, default=20, help="candidates per search passed to the reranker (default 20)")
        p.add_argument("--rerank", action="store_true", help="rerank the candidates with the cross-encoder (slower; see docs/retrieval.md)")

    def filter_opts(p: argparse.ArgumentParser) -> None:
        p.add_argument("--source", action="append", default=[], metavar="NAME", help="only articles from this source; repeatable")
        p.add_argument("--since", metavar="DATE", help="only articles published on or after DATE (2023-02-14, 2023-02 or 2023)")
        p.add_argument("--until", metavar="DATE", help="only articles published on or before DATE")
        p.add_argument("--article", action="append", default=[], metavar="ID", help="only this article (id from rag list); repeatable")

    p = sub.add_parser("watch", help="keep ingesting what is new in a list of feeds")
    p.add_argument("feeds_file", metavar="FEEDS.txt", help="one feed URL per line (# starts a comment)")
    store_opt(p)
    p.add_argument("--every", default="15m", help="time between polls: 90s, 15m, 2h (default 15m)")
    p.add_argument("--rounds", type=int, default=0, help="stop after this many polls (default: run until Ctrl-C)")
    fetch_opt(p)

    p = sub.add_parser("query", help="answer one question")
    p.add_argument("question")
    answer_opts(p)
    filter_opts(p)
    p.add_argument("--asked-on", metavar="DATE", help="the day the question is asked (default today): dates 'this week', 'recently'")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = sub.add_parser("chat", help="answer questions typed at a prompt")
    answer_opts(p)
    filter_opts(p)

    p = sub.add_parser("serve", help="serve the web chat")
    answer_opts(p)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1; others need --auth)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth", help="user:password required to open the chat (default: $RAG_AUTH)")
    p.add_argument(
        "--allow-host", action="append", default=[], metavar="NAME",
        help="a host name the server answers to besides the address it is bound to (behind a proxy); repeatable "
        "(default: $RAG_ALLOW_HOSTS)",
    )  # fmt: skip
    fetch_opt(p)

    p = sub.add_parser("mcp", help="serve the articles to MCP clients over stdio (tools: ask, search, list_articles)")
    store_opt(p)
    p.add_argument("--generator", help="local, openai or extractive (default as for rag query)")

    p = sub.add_parser("eval", help="measure grounding on a questions file (retrieval, correctness, refusals, citations)")
    p.add_argument("questions", metavar="QUESTIONS.jsonl")
    p.add_argument("--articles", nargs="+", metavar="PATH", help="articles to ingest into a fresh temporary store (unless --store)")
    answer_opts(p)
    p.add_argument("--judge", choices=JUDGES, help="grader of written sentences (default: one that neither wrote nor filtered them: "
                                                   "the mpnet grader when trained into the cache, else nli, else lexical; quotes and phrases are "
                                                   "checked exactly)")
    p.add_argument("--baseline", action="store_true", help="also run llama-index's default query engine on the same store and "
                                                            "questions, side by side (needs the bench and llm extras)")
    p.add_argument("--out", help="write report.json, report.md and plots into this folder")
    p.add_argument("--min", action="append", default=[], metavar="METRIC=VALUE", help="fail (exit 1) when METRIC is below VALUE; repeatable")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")

    p = sub.add_parser("judge", help="measure a support judge on labelled claim/passage pairs")
    p.add_argument("pairs", metavar="PAIRS.jsonl")
    p.add_argument("--judge", default="lexical", choices=JUDGES, help="the judge to measure (default lexical)")
    p.add_argument("--json", action="store_true", help="print accuracy, balanced_accuracy, precision, recall as JSON")

    p = sub.add_parser("list", help="list the articles in the store")
    store_opt(p)
    p.add_argument("--json", action="store_true", help="print JSON")

    p = sub.add_parser("delete", help="remove articles (by id) from the store")
    p.add_argument("ids", nargs="+", metavar="ID")
    store_opt(p)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the `rag` command; return its exit code."""
    args = _build_parser().parse_args(argv)
    _configure_runtime()
    from core.errors import RagError

    try:
        _apply_network(args)
        return _COMMANDS[args.command](args)
    except RagError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _format_sources(answer) -> str:
    lines = []
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (c.source, c.published_at[:10]) if x)
            lines.append(f"[{c.n}] {c.title}" + (f" ({meta})" if meta else "") + f"  [{c.doc_id} {c.start}:{c.end}]")
            if c.url:
                lines.append(f"    {c.url}")
            lines.append(f"    “{c.quote}”")
    return "\n".join(lines)


def _print_stream(events) -> object:
    """Print the answer claim by claim, then its sources; return the Answer."""
    from rag.types import Answer

    answer = None
    for event in events:
        if isinstance(event, Answer):
            answer = event
    assert answer is not None
    print(_format_claims(answer))
    print(_format_sources(answer))
    for reply in answer.unsupported:
        print(f"(not shown: the model's reply was not copied from its source: {reply})", file=sys.stderr)
    return answer


def _format_claims(answer) -> str:
    """The claims as a terminal shows them: the copied phrase first, quotes indented with their source and date."""
    by_n = {c.n: c for c in answer.citations}
    lines = []
    for claim in answer.claims or ():
        marks = "".join(f"[{n}]" for n in claim.citations)
        part = f"{claim.part} " if claim.part else ""
        if claim.role == "related" and not any(line.startswith("Related") for line in lines):
            lines.append("Related (what the articles say nearby, not an answer):")
        if claim.kind == "quote":
            c = by_n.get(claim.citations[0])
            when = f", {c.published_at[:10]}{' (inferred)' if c.date_inferred else ''}" if c and c.published_at else ""
            lines.append(f"  {part}“{' '.join(claim.text.split())}” {marks}{f' ({c.source}{when})' if c and (c.source or when) else ''}")
        elif claim.kind == "sentence":
            lines.append(f"{part}{claim.text} {marks} (written; passed by {', '.join(claim.checked_by)})")
        else:
            lines.append(f"{part}{claim.text} {marks}".rstrip())
    return "\n".join(lines) or answer.text


def _query(args: argparse.Namespace) -> int:
    engine = _engine(args)
    filters = _filters(args)
    if args.json:
        answer = engine.query(args.question, top_k=args.top_k, filters=filters, asked_on=args.asked_on)
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        answer = _print_stream(engine.stream(args.question, top_k=args.top_k, filters=filters, asked_on=args.asked_on))
    print(f"(generator: {answer.generator})", file=sys.stderr)
    return 0


def _apply_model(args: argparse.Namespace) -> None:
    """`--model FILE` becomes the process's setting (never an environment variable)."""
    if getattr(args, "model", None):
        from dataclasses import replace

        from core.settings import configure, settings

        configure(replace(settings(), llm_model=args.model))


def _apply_network(args: argparse.Namespace) -> None:
    """`--fetch-allow` and `--allow-host` replace their settings (RAG_FETCH_ALLOW, RAG_ALLOW_HOSTS) for this run."""
    from dataclasses import replace

    from core.settings import configure, settings, split_list

    changes = {}
    if getattr(args, "fetch_allow", None):
        changes["fetch_allow"] = split_list(",".join(args.fetch_allow))
    if getattr(args, "allow_host", None):
        changes["allow_hosts"] = split_list(",".join(args.allow_host))
    if changes:
        configure(replace(settings(), **changes))


def _retrieval(args: argparse.Namespace):
    from rag.engine import RetrievalConfig

    return RetrievalConfig(mode=args.retrieval, candidates=args.candidates, rerank=args.rerank)


def _filters(args: argparse.Namespace):
    from index.filters import Filters

    filters = Filters(doc_ids=tuple(args.article), sources=tuple(args.source), since=args.since, until=args.until)
    return filters or None


def _engine(args: argparse.Namespace):
    import rag

    _apply_model(args)
    return rag.engine(args.store, args.generator, _retrieval(args))


def _chat(args: argparse.Namespace) -> int:
    from core.errors import InputError
    from rag.chat import Chat, rewriter_of

    engine = _engine(args)
    engine.top_k = args.top_k
    chat = Chat(engine, rewriter=rewriter_of(engine.generator), filters=_filters(args))
    print(f"Ask about the articles in the store (generator: {engine.generator.name}). Empty line or Ctrl-D to quit.")
    while True:
        try:
            question = input("\nyou> ").strip()
        except EOFError:
            print()
            return 0
        if not question or question.lower() in {"exit", "quit", ":q"}:
            return 0
        try:
            _print_stream(chat.stream(question))
        except InputError as err:
            print(f"error: {err}")


def _serve(args: argparse.Namespace) -> int:
    from ui.app import ServeConfig
    from ui.server import serve

    _apply_model(args)
    config = ServeConfig(store=args.store, generator=args.generator, top_k=args.top_k, retrieval=_retrieval(args))
    serve(config, host=args.host, port=args.port, auth=args.auth)
    return 0


def _mcp(args: argparse.Namespace) -> int:
    import logging

    from ui.mcp_server import serve_stdio

    logging.getLogger("mcp").setLevel(logging.WARNING)
    serve_stdio(args.store, args.generator)
    return 0


def _parse_minimums(items: Sequence[str]) -> dict[str, float]:
    import eval as evaluation
    from core.errors import ConfigError

    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or name not in evaluation.METRICS:
                raise ValueError
            out[name] = float(value)
        except ValueError:
            raise ConfigError(f"--min wants METRIC=VALUE with METRIC one of {', '.join(evaluation.METRICS)}; got {item!r}") from None
    return out


def _eval(args: argparse.Namespace) -> int:
    import eval as evaluation
    from rag.api import default_embedder
    from rag.judges import independent_judge

    minimums = _parse_minimums(args.min)
    _apply_model(args)
    embedder = default_embedder()
    report = evaluation.run(
        args.questions,
        articles=args.articles,
        store=args.store,
        generator=args.generator,
        top_k=args.top_k,
        judge=evaluation.make_judge(args.judge or independent_judge(), embedder),
        embedder=embedder,
        retrieval=_retrieval(args),
        progress=None if not args.json else False,
        baseline=args.baseline,
    )
    if args.out:
        path = report.write(args.out)
        print(f"report: {path}", file=sys.stderr)
    others = report.config.get("compare", {})
    if args.json:
        print(json.dumps(report.metrics if not others else {report.config["generator"]: report.metrics, **others}, indent=2))
    else:
        width = max(len(k) for k in report.metrics)
        names = [report.config["generator"], *others]
        print(f"{'':<{width}}  " + "  ".join(f"{n:>12}" for n in names))
        for name, value in report.metrics.items():
            row = [value, *(o.get(name) for o in others.values())]
            print(f"{name:<{width}}  " + "  ".join(f"{'–' if v is None else f'{v:.4f}':>12}" for v in row))
        graders = "; ".join(f"{k}: {v}" for k, v in report.config["graders"].items())
        print(f"({len(report.questions)} questions; graders: {graders})", file=sys.stderr)
    shortfalls = report.shortfalls(minimums)
    for message in shortfalls:
        print(f"FAILED: {message}", file=sys.stderr)
    return 1 if shortfalls else 0


def _judge(args: argparse.Namespace) -> int:
    import eval as evaluation

    result = evaluation.judge_pairs(args.pairs, args.judge)
    if args.json:
        print(json.dumps(result["figures"], indent=2))
        return 0
    for p in result["pairs"]:
        mark = "ok " if p["supported"] == (p["label"] == "supported") else "BAD"
        print(f"{mark} {p['id']}: {p['label']:<11} judged {'supported' if p['supported'] else 'unsupported'} ({p['reason']})")
    for name, value in result["figures"].items():
        print(f"{name:<18} {value:.4f}")
    print(f"judge {result['judge']}: {result['seconds_per_pair']:.3f} s per pair", file=sys.stderr)
    return 0


_COMMANDS = {
    "ingest": _ingest,
    "watch": _watch,
    "query": _query,
    "chat": _chat,
    "serve": _serve,
    "mcp": _mcp,
    "eval": _eval,
    "judge": _judge,
    "list": _list,
    "delete": _delete,
}


if __name__ == "__main__":
    sys.exit(main())
