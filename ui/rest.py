"""The REST API beside the web chat, on the same server and behind the same credentials.

    POST   /api/ask               {"question": ..., "generator", "top_k", "sources", "since", "until",
                                   "conversation_id", "stream"} -> the Answer as JSON, or server-sent events
    GET    /api/articles          the stored articles
    POST   /api/articles          multipart files -> the ingest report
    DELETE /api/articles/{id}     remove one article
    GET    /api/health            status, article count, default generator
    GET    /api/docs              OpenAPI documentation (GET /api/openapi.json: the document)

The routes are installed behind `ui.guard` (by `rag serve`): when the server
was started with credentials, every route wants them as HTTP Basic
authentication (401 otherwise); writes from another origin and requests naming
another Host are refused (403); bodies are bounded (413). Uploads are copied
to disk a megabyte at a time and a file over the upload limit is skipped, never
held in memory. Bad requests get a 4xx whose `error` says what to change; a
model that fails is a 503; a streamed answer sends `draft` events (text
pieces) and one `answer` event (the checked answer), or one `error` event.
"""

import json
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path, PurePath
from typing import Any

from fastapi import APIRouter, File, Form, UploadFile
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from core.errors import InputError, ModelError, RagError, StoreError
from index.filters import Filters
from index.loaders import Skipped
from rag.chat import Turn
from rag.types import Answer, final_answer

from .app import Backend

MAX_CONVERSATIONS = 1000  # follow-up histories kept in memory, least recently used dropped first
MAX_TURNS = 10  # turns kept per conversation (the rewriter reads the last 3: rag.chat.Chat.max_turns)
COPY_CHUNK = 2**20  # uploads are copied to disk this much at a time


class Conversations:
    """Earlier turns per conversation id (bounded in both), so `/api/ask` can answer follow-ups."""

    def __init__(self, limit: int = MAX_CONVERSATIONS, turns: int = MAX_TURNS) -> None:
        self._turns: OrderedDict[str, list[Turn]] = OrderedDict()
        self._limit = limit
        self._keep = turns
        self._lock = threading.Lock()

    def get(self, conversation_id: str) -> list[Turn]:
        """The conversation's turns (the list a new turn is appended to), its oldest beyond `turns` dropped."""
        with self._lock:
            turns = self._turns.pop(conversation_id, [])
            del turns[: max(0, len(turns) - self._keep)]
            self._turns[conversation_id] = turns
            while len(self._turns) > self._limit:
                self._turns.popitem(last=False)
            return turns

    def __len__(self) -> int:
        return len(self._turns)


class AskRequest(BaseModel):
    """The body of POST /api/ask."""

    question: str = Field(description="the question, in plain words", max_length=2000)
    generator: str | None = Field(None, description="local, openai or extractive (default: the server's)")
    top_k: int | None = Field(None, ge=1, le=50, description="passages retrieved (default: the server's)")
    sources: list[str] = Field(default_factory=list, max_length=100, description="only articles from these sources")
    since: str | None = Field(None, description="only articles published on or after this date (2024-01-31, 2024-01, 2024)")
    until: str | None = Field(None, description="only articles published on or before this date")
    conversation_id: str | None = Field(None, max_length=200, description="answer as a follow-up within this conversation")
    stream: bool = Field(False, description="stream server-sent events: draft pieces, then the answer")


def install(app: Any, backend: Backend) -> None:
    """Add the `/api` routes to the server's FastAPI `app` (behind `ui.guard.Guard`, which checks credentials)."""
    conversations = Conversations()
    router = APIRouter()

    @router.post("/ask", summary="Answer a question from the stored articles, with citations")
    def ask(body: AskRequest) -> Any:
        try:
            filters = Filters(sources=tuple(body.sources), since=body.since or None, until=body.until or None) or None
            turns = conversations.get(body.conversation_id) if body.conversation_id else []
            events = backend.chat_stream(body.question, turns, body.generator, body.top_k, filters)
            if not body.stream:
                answer = final_answer(events)
                return _answer_json(answer, body.conversation_id)
            first = next(events)  # errors in the question or settings surface before the stream starts
        except RagError as err:
            return JSONResponse({"error": str(err)}, status_code=_status(err))
        return StreamingResponse(_sse(first, events, body.conversation_id), media_type="text/event-stream")

    @router.get("/articles", summary="The stored articles, newest first")
    def articles() -> list[dict[str, Any]]:
        return [dict(a.__dict__) for a in backend.articles()]

    @router.post("/articles", summary="Add articles: files (.txt .md .html .json .jsonl), web pages (urls), feeds")
    def add_articles(
        files: list[UploadFile] | None = File(None, description="article files"),  # noqa: B008
        urls: list[str] = Form(default_factory=list, description="news page URLs"),  # noqa: B008
        feeds: list[str] = Form(default_factory=list, description="RSS or Atom feed URLs"),  # noqa: B008
    ) -> Any:
        if not files and not urls and not feeds:
            return JSONResponse({"error": "send article files (files=@story.txt), page URLs (urls=...) or feeds (feeds=...)"}, status_code=400)
        bad = [u for u in urls + feeds if not u.lower().startswith(("http://", "https://"))]
        if bad:
            return JSONResponse({"error": f"not web addresses (http:// or https://): {', '.join(bad)}"}, status_code=400)
        limit = backend.config.max_upload_mb * 2**20
        with tempfile.TemporaryDirectory(prefix="rag-upload-") as tmp:
            paths, too_big = [], []
            for n, upload in enumerate(files or []):
                name = PurePath(upload.filename or f"upload-{n}.txt").name.replace("\\", "_") or f"upload-{n}.txt"
                path = Path(tmp) / f"{n:03d}" / name  # the name is kept (it is the article id), never used as a path
                path.parent.mkdir()
                if _copy_at_most(upload.file, path, limit):
                    paths.append(path)
                else:
                    too_big.append(Skipped(name, f"larger than {backend.config.max_upload_mb} MB"))
            try:
                report = backend.ingest(paths, urls=urls, feeds=feeds)
            except RagError as err:
                return JSONResponse({"error": str(err)}, status_code=_status(err))
            report.skipped.extend(too_big)
        body = {"added": report.added, "updated": report.updated, "unchanged": report.unchanged,
                "skipped": [{"source": s.source, "reason": s.reason} for s in report.skipped],
                "chunks_written": report.chunks_written}  # fmt: skip
        return JSONResponse(body, status_code=200 if report.ok else 207)

    @router.delete("/articles/{doc_id:path}", summary="Remove one article")
    def delete_article(doc_id: str) -> Any:
        try:
            missing = backend.delete([doc_id])
        except RagError as err:
            return JSONResponse({"error": str(err)}, status_code=_status(err))
        if missing:
            return JSONResponse({"error": f"no article {doc_id!r} in the store; GET /api/articles lists them"}, status_code=404)
        return {"deleted": doc_id}

    @router.get("/health", summary="Whether the server and its store answer")
    def health() -> Any:
        try:
            count = len(backend.articles())
        except RagError as err:
            return JSONResponse({"status": "error", "error": str(err)}, status_code=503)
        return {"status": "ok", "articles": count, "generator": backend.default_generator, "store": str(backend.location)}

    def openapi_document() -> dict[str, Any]:
        return get_openapi(title="newsrag API", version="1", routes=router.routes, description=__doc__.split("\n\n")[0])

    @router.get("/openapi.json", include_in_schema=False)
    def openapi() -> dict[str, Any]:
        doc = openapi_document()
        doc["paths"] = {f"/api{k}": v for k, v in doc["paths"].items()}
        return doc

    @router.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title="newsrag API")

    app.include_router(router, prefix="/api")


def _copy_at_most(source: Any, path: Path, limit: int) -> bool:
    """Copy the file object `source` to `path` a chunk at a time; False (and nothing kept) once it passes `limit` bytes."""
    size = 0
    with path.open("wb") as out:
        while chunk := source.read(COPY_CHUNK):
            size += len(chunk)
            if size > limit:
                break
            out.write(chunk)
    if size > limit:
        path.unlink()
        return False
    return True


def _status(err: RagError) -> int:
    if isinstance(err, InputError):
        return 400
    if isinstance(err, StoreError | ModelError):
        return 503  # the server's store or model failed, not the request
    return 400


def _answer_json(answer: Answer, conversation_id: str | None) -> dict[str, Any]:
    out = answer.to_dict()
    out["question"] = answer.question
    if conversation_id:
        out["conversation_id"] = conversation_id
    return out


def _sse(first: str | Answer, events: Iterator[str | Answer], conversation_id: str | None) -> Iterator[str]:
    def event(kind: str, data: Any) -> str:
        return f"event: {kind}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"

    try:
        for item in _chain(first, events):
            if isinstance(item, Answer):
                yield event("answer", _answer_json(item, conversation_id))
            else:
                yield event("draft", item)
    except RagError as err:
        yield event("error", {"error": str(err)})
    finally:
        close = getattr(events, "close", None)
        if callable(close):
            close()  # a client that went away stops the generation


def _chain(first: str | Answer, rest: Iterator[str | Answer]) -> Iterator[str | Answer]:
    yield first
    yield from rest
