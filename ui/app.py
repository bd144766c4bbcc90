"""The web chat (Gradio): streamed answers with citations, a sources panel, article management.

    from ui.app import Backend, ServeConfig, build_app
    demo = build_app(Backend(ServeConfig(store=".rag")))

`Backend` holds what the page needs (an engine per generator over one store,
ingest, list, delete) so it can be tested without a browser; `build_app` lays
out the page. `rag serve` (ui/server.py) launches it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import RagError
from index.embedding import Embedder
from index.filters import Filters
from index.pipeline import IngestReport
from index.store import ChromaStore, open_store, resolve_location
from index.types import ArticleInfo
from rag.chat import Chat, Turn, rewriter_of
from rag.engine import DEFAULT_TOP_K, QueryEngine, RetrievalConfig, Retriever, check_top_k
from rag.generators import Generator, available, default_name, make_generator
from rag.types import Answer

from . import render

UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".json", ".jsonl"]
log = logging.getLogger(__name__)
MAX_SOURCE_TURNS = 10  # sources panel keeps the sources of this many recent answers


@dataclass(frozen=True)
class ServeConfig:
    """Server settings.

    Attributes:
        store: the store folder (None: `$RAG_STORE`, else `./.rag`); created if missing.
        generator: default generator name (None: `rag.generators.default_name()`).
        top_k: default passages per question.
        max_upload_mb: largest accepted upload, per file.
        retrieval: how passages are found (`rag serve --retrieval/--candidates/--rerank`).
    """

    store: str | Path | None = None
    generator: str | None = None
    top_k: int = DEFAULT_TOP_K
    max_upload_mb: int = 25
    retrieval: RetrievalConfig = field(default_factory=RetrievalConfig)


class Backend:
    """The chat's engines and article operations over one store.

    Args:
        config: server settings.
        embedder: the embedding model (default: all-MiniLM-L6-v2).
        generator_factory: builds a generator by name (default `make_generator`);
            tests pass fakes.
    """

    def __init__(
        self,
        config: ServeConfig,
        embedder: Embedder | None = None,
        generator_factory: Callable[[str, Embedder], Generator] | None = None,
    ) -> None:
        if embedder is None:
            from rag.api import default_embedder

            embedder = default_embedder()
        self.config = config
        self.location = resolve_location(config.store)
        self.embedder = embedder
        self.default_generator = config.generator or default_name()
        self.top_k = check_top_k(config.top_k)
        self._make_generator = generator_factory or make_generator
        self.store: ChromaStore = open_store(self.location, embedder, create=True)
        cross_encoder = None
        if config.retrieval.rerank:
            from rag.retrieval.rerank import default_cross_encoder

            cross_encoder = default_cross_encoder()
        # One retriever for all generators: one keyword index in memory.
        self.retriever = Retriever(self.store, embedder, cross_encoder=cross_encoder, config=config.retrieval)
        self._engines: dict[str, QueryEngine] = {}
        self._lock = threading.Lock()

    def generators(self) -> list[str]:
        names = available()
        return names if self.default_generator in names else [self.default_generator, *names]

    def engine(self, generator: str | None = None) -> QueryEngine:
        name = generator or self.default_generator
        with self._lock:
            if name not in self._engines:
                gen = self._make_generator(name, self.embedder)
                self._engines[name] = QueryEngine(self.retriever, gen, top_k=self.top_k)
            return self._engines[name]

    def chat_stream(
        self, question: str, turns: list[Turn], generator: str | None, top_k: int | None, filters: Filters | None = None
    ) -> Iterator[str | Answer]:
        """One turn of a conversation whose earlier turns are `turns` (appended to)."""
        engine = self.engine(generator)
        chat = Chat(engine, rewriter=rewriter_of(engine.generator), history=turns, filters=filters)
        return chat.stream(question, top_k=top_k)

    def ask(
        self,
        question: str,
        generator: str | None = None,
        top_k: int | None = None,
        sources: Sequence[str] = (),
        since: str = "",
        until: str = "",
    ) -> dict[str, Any]:
        """A single question for programs (the `/ask` API): the `rag query --json` form."""
        try:
            filters = Filters(sources=tuple(sources), since=since or None, until=until or None) or None
            return self.engine(generator).query(question, top_k=top_k, filters=filters).to_dict()
        except RagError as err:
            return {"error": str(err)}

    def sources(self) -> list[str]:
        """The distinct `source` names of the stored articles, sorted."""
        return sorted({a.source for a in self.articles() if a.source})

    def articles(self) -> list[ArticleInfo]:
        return self.store.list_articles()

    def ingest(self, paths: Sequence[str | Path], progress: bool = False, *, urls: Sequence[str] = (), feeds: Sequence[str] = ()) -> IngestReport:
        """Ingest uploaded files, web pages (`urls`) and feeds; the report names what was skipped and why."""
        from index import ingest

        too_big = [Path(p) for p in paths if Path(p).stat().st_size > self.config.max_upload_mb * 2**20]
        # Written through the store the searches use: they see the new articles at once.
        sources = [p for p in paths if Path(p) not in too_big] + [u for u in urls if u.strip()]
        report = ingest(sources, store=self.store, embedder=self.embedder, progress=progress, feeds=[f for f in feeds if f.strip()])
        from index.loaders import Skipped

        for p in too_big:
            report.skipped.append(Skipped(str(p.name), f"larger than {self.config.max_upload_mb} MB"))
        return report

    def delete(self, ids: Sequence[str]) -> list[str]:
        """Delete articles; return the ids that were not in the store."""
        return self.store.delete_articles(ids)

    def warm_up(self) -> None:
        """Load the default generator's model and read its fixed prompt (when it has one) before the first question."""
        try:
            warm = getattr(self.engine().generator, "warm_up", None)
            if callable(warm):
                warm()
        except RagError as err:  # the first question will report it to the user
            log.warning("could not warm up the generator: %s", err)

    def example_questions(self, n: int = 3) -> list[str]:
        """Real questions about the stored articles (newest first) that the server's generator answers with
        the words the article gives (`ui.examples`). Asking them also loads and warms the generator's model,
        so the first question a user asks is answered as fast as the next ones."""
        from .examples import example_questions

        texts = []
        for info in self.articles()[: 4 * n]:
            article = self.store.get_article(info.id)
            if article is not None:
                texts.append(article.text[:3000])
        if not texts:
            return []
        try:
            engine = self.engine()
        except RagError:
            return []

        def answered(question: str, subject: str) -> bool:
            try:
                first = engine.query(question).direct
            except RagError:
                return False
            last = subject.split()[-1].lower()
            return first is not None and first.kind in ("phrase", "quote") and last in first.text.lower()

        return example_questions(texts, answered, n)


def saved_conversation(history: list, turns: list[Turn], sections: list[str], panel_html: str) -> dict[str, Any]:
    """A conversation as the browser keeps it (JSON): the chat, the turns the rewriter needs, the sources panel."""
    return {
        "history": history,
        "turns": [{"question": t.question, "standalone": t.standalone, "answer": t.answer.text, "refused": t.answer.refused} for t in turns],
        "sections": sections,
        "panel": panel_html,
    }


def restored_conversation(saved: Any) -> tuple[list, list[Turn], list[str], str]:
    """`saved_conversation`'s parts back (empty for nothing saved or anything malformed)."""
    try:
        turns = [Turn(t["question"], t["standalone"], Answer(text=t["answer"], refused=bool(t["refused"]), question=t["question"]))
                 for t in saved["turns"]]  # fmt: skip
        history = [m for m in saved["history"] if isinstance(m, dict) and m.get("role") in ("user", "assistant")]
        sections = [str(x) for x in saved["sections"]][:MAX_SOURCE_TURNS]
        return history, turns, sections, str(saved.get("panel") or "")
    except (TypeError, KeyError, AttributeError):
        return [], [], [], ""


def build_app(backend: Backend) -> Any:
    """The page: chat and sources side by side; articles and settings below."""
    import gradio as gr

    def delete_choices(infos: Sequence[ArticleInfo]) -> list[tuple[str, str]]:
        return [(f"{a.title or a.id} ({a.id})", a.id) for a in infos]

    def article_table() -> tuple[Any, Any]:
        infos = backend.articles()
        return render.article_rows(infos), gr.update(choices=delete_choices(infos), value=[])

    def sources_panel(sections: list[str]) -> str:
        return "".join(sections) if sections else render.sources_html(None, 0)

    def respond(
        message: str, history: list, turns: list, sections: list, generator: str, top_k: float,
        sources: list | None = None, since: str = "", until: str = "",
    ) -> Iterator[tuple]:  # fmt: skip
        message = (message or "").strip()
        if not message:
            yield history, gr.skip(), turns, sections, "", gr.skip()
            return
        try:
            filters = Filters(sources=tuple(sources or ()), since=(since or "").strip() or None, until=(until or "").strip() or None) or None
        except RagError as err:
            history = [*history, {"role": "user", "content": render.esc(message)}, {"role": "assistant", "content": render.error_html(str(err))}]
            yield history, gr.skip(), turns, sections, message, gr.skip()
            return
        turn = len(turns) + 1
        history = [*history, {"role": "user", "content": render.esc(message)}, {"role": "assistant", "content": "…"}]
        yield history, gr.skip(), turns, sections, "", gr.skip()
        draft = ""
        answer = None
        try:
            for event in backend.chat_stream(message, turns, generator, int(top_k), filters):
                if isinstance(event, Answer):
                    answer = event
                else:
                    draft += event
                    history[-1] = {"role": "assistant", "content": render.draft_html(draft)}
                    yield history, gr.skip(), turns, sections, "", gr.skip()
        except RagError as err:
            history[-1] = {"role": "assistant", "content": render.error_html(str(err))}
            yield history, gr.skip(), turns, sections, "", gr.skip()
            return
        assert answer is not None
        history[-1] = {"role": "assistant", "content": render.answer_html(answer, turn)}
        # One list per answer, newest first; the panel shows one of them (render.sources_html).
        sections = [render.sources_html(answer, turn, open_first=False), *sections][:MAX_SOURCE_TURNS]
        panel_html = sources_panel(sections)
        yield history, panel_html, turns, sections, "", saved_conversation(history, turns, sections, panel_html)

    def new_chat() -> tuple:
        return [], sources_panel([]), [], [], "", {"cleared": True}

    def restore(saved: dict | None) -> tuple:
        """The conversation kept in this browser (a reload keeps it; "New chat" clears it)."""
        history, turns, sections, panel_html = restored_conversation(saved)
        return history, panel_html or sources_panel(sections), turns, sections

    def add_articles(files: list | None, links: str = "", progress: Any = gr.Progress(track_tqdm=True)) -> tuple:  # noqa: B008
        lines = [line.strip() for line in (links or "").splitlines() if line.strip()]
        if not files and not lines:
            return "Choose one or more files, or paste page or feed URLs, first.", *article_table(), None, links
        feeds = [line[5:].strip() for line in lines if line.lower().startswith("feed:")]
        urls = [line for line in lines if not line.lower().startswith("feed:")]
        bad = [u for u in urls + feeds if not u.lower().startswith(("http://", "https://"))]
        if bad:
            return f"Not web addresses (http:// or https://): {', '.join(bad)}", *article_table(), None, links
        paths = [getattr(f, "name", f) for f in files or []]
        report = backend.ingest(paths, progress=True, urls=urls, feeds=feeds)
        rows, choices = article_table()
        return report.summary(), rows, choices, None, ""

    def delete_articles(ids: list[str] | None) -> tuple:
        if not ids:
            return "Select articles to delete first.", *article_table()
        missing = backend.delete(ids)
        note = f"Deleted {len(ids) - len(missing)} article(s)." + (f" Not found: {', '.join(missing)}" if missing else "")
        return note, *article_table()

    with gr.Blocks(title="newsrag: ask the news", analytics_enabled=False) as demo:
        gr.Markdown("## Ask the news\nAnswers come only from the articles in the store; every `[n]` opens the passage that backs it.")
        turns = gr.State([])
        sections = gr.State([])
        saved = gr.BrowserState(None, storage_key="newsrag-conversation")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(label="Chat", height=480, elem_id="rag-chat", sanitize_html=True, buttons=["copy"])
                question = gr.Textbox(placeholder="Ask about the articles…", show_label=False, elem_id="rag-question", max_length=2000, submit_btn=True)
                with gr.Row():
                    new = gr.Button("New chat", elem_id="rag-new-chat", size="sm")
                backend.warm_up()
                examples = backend.example_questions()
                if examples:
                    gr.Examples([[q] for q in examples], inputs=[question], label="Try", elem_id="rag-examples")
            with gr.Column(scale=2):
                panel = gr.HTML(sources_panel([]), elem_id="rag-sources")
        with gr.Accordion("Settings", open=False):
            generator = gr.Dropdown(backend.generators(), value=backend.default_generator, label="Generator", elem_id="rag-generator")
            top_k = gr.Slider(1, 20, value=backend.top_k, step=1, label="Passages retrieved (top-k)", elem_id="rag-top-k")
            with gr.Row():
                only_sources = gr.Dropdown(backend.sources(), multiselect=True, label="Only these sources (none: all)", elem_id="rag-filter-sources")
                since = gr.Textbox(label="Published since (YYYY-MM-DD)", placeholder="any date", elem_id="rag-filter-since")
                until = gr.Textbox(label="Published until (YYYY-MM-DD)", placeholder="any date", elem_id="rag-filter-until")
        with gr.Accordion("Articles", open=False, elem_id="rag-articles"):
            infos = backend.articles()
            table = gr.Dataframe(value=render.article_rows(infos), headers=render.ARTICLE_COLUMNS, datatype="str", interactive=False, elem_id="rag-article-table")
            with gr.Row():
                with gr.Column():
                    upload = gr.File(file_count="multiple", file_types=UPLOAD_TYPES, label="Add articles (.txt .md .html .json .jsonl)", elem_id="rag-upload")
                    links = gr.Textbox(label="Or from the web: page URLs, one per line (feed:URL for an RSS or Atom feed)", lines=2,
                                       placeholder="https://example.org/news/story.html\nfeed:https://example.org/rss.xml", elem_id="rag-links")  # fmt: skip
                with gr.Column():
                    add = gr.Button("Add to the store", variant="primary", elem_id="rag-add")
                    to_delete = gr.Dropdown(choices=delete_choices(infos), multiselect=True, label="Articles to delete", elem_id="rag-delete-choice")
                    delete = gr.Button("Delete selected", variant="stop", elem_id="rag-delete")
                    refresh = gr.Button("Refresh list", size="sm", elem_id="rag-refresh")
            report = gr.Textbox(label="Report", lines=4, interactive=False, elem_id="rag-report")

        outputs = [chatbot, panel, turns, sections, question, saved]
        question.submit(respond, [question, chatbot, turns, sections, generator, top_k, only_sources, since, until], outputs, api_visibility="private")
        new.click(new_chat, None, outputs, api_visibility="private")
        demo.load(restore, [saved], [chatbot, panel, turns, sections], api_visibility="private")
        add.click(add_articles, [upload, links], [report, table, to_delete, upload, links], api_visibility="private")
        delete.click(delete_articles, [to_delete], [report, table, to_delete], api_visibility="private")
        refresh.click(article_table, None, [table, to_delete], api_visibility="private")
        demo.load(article_table, None, [table, to_delete], api_visibility="private")

        def ask(question: str, generator: str = "", top_k: float = 0, sources: list[str] | None = None, since: str = "", until: str = "") -> dict:
            """Answer one question from the articles (optionally only some sources, or a date range YYYY-MM-DD);
            returns answer, refused, citations, generator, unsupported (or error)."""
            return backend.ask(question, generator or None, int(top_k) or None, sources or (), since, until)

        gr.api(ask, api_name="ask")
    return demo
