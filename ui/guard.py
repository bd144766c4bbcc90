"""What `rag serve` checks on every request before any route sees it (one ASGI middleware, `Guard`).

- **Host**: only the address the server is bound to, `localhost` when it is
  bound to loopback, any IP address and `localhost` when it is bound to all of them, and the
  names it was told to answer to (`--allow-host`, `$RAG_ALLOW_HOSTS`). A web
  page whose name an attacker points at 127.0.0.1 (DNS rebinding) sends its own
  name as Host and is refused (403).
- **Credentials**, when set: HTTP Basic on every route, the page, Gradio's API
  and the REST API alike (401), except Gradio's start-up probe, which changes
  nothing.
- **Same origin for writes**: a POST, PUT, PATCH or DELETE whose Origin (else
  Referer) is present and is not this server is refused (403), so another web
  page open in the user's browser cannot add, delete or ask through it.
  Programs that send neither header (curl, httpx, gradio_client) are not
  browsers and pass.
- **Request bodies**: at most `MAX_BODY_MB` (1 MB for the REST API), uploads
  (`POST /api/articles`, Gradio's upload) at most `UPLOAD_FILES` times the
  upload limit; counted while the body arrives, 413 beyond.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException

MAX_BODY_MB = 16  # Gradio's events carry the chat shown so far; a long conversation is well under this
MAX_API_BODY_MB = 1  # a question is 2,000 characters at most
UPLOAD_FILES = 4  # one upload request may carry this many files of the largest size
UPLOAD_PATHS = ("/api/articles", "/gradio_api/upload")
OPEN_PATHS = ("/gradio_api/startup-events",)  # called by Gradio itself, without credentials, as it starts
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WILDCARDS = ("0.0.0.0", "::", "")


@dataclass(frozen=True)
class Policy:
    """What the server accepts.

    Attributes:
        hosts: host names and addresses (lowercase) a Host header may name.
        any_address: whether any IP address may be named (bound to all of them).
        credentials: (user, password) required on every route; None for none.
        upload_mb: the largest upload accepted, per file.
    """

    hosts: frozenset[str]
    any_address: bool = False
    credentials: tuple[str, str] | None = None
    upload_mb: int = 25

    @classmethod
    def for_server(cls, bind: str, allow_hosts: Iterable[str] = (), credentials: tuple[str, str] | None = None, upload_mb: int = 25) -> Policy:
        """The policy of a server bound to `bind`, also answering to `allow_hosts`."""
        bind = bind.strip("[]").lower()
        hosts = {bind, *(h.strip("[]").lower().rstrip(".") for h in allow_hosts)}
        if _is_loopback(bind) or bind in WILDCARDS:
            hosts.add("localhost")  # a wildcard binding listens on loopback too (and Gradio checks itself there)
        return cls(frozenset(hosts - {""}), bind in WILDCARDS, credentials, upload_mb)

    def host_ok(self, host_header: str) -> bool:
        name = _hostname(host_header)
        if not name:
            return False
        if name in self.hosts:
            return True
        return self.any_address and _is_ip(name)

    def origin_ok(self, source: str, host_header: str) -> bool:
        """Whether `source` (an Origin or Referer) is this server as the request names it, or a host it was told to answer to."""
        parts = urlsplit(source)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return False  # "null" (a sandboxed frame, a file), or garbage
        try:
            origin = (parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme])
            host = urlsplit("//" + host_header)
            ours = (host.hostname or "", host.port or _DEFAULT_PORTS[parts.scheme])
        except ValueError:
            return False
        return origin == ours or (parts.hostname in self.hosts and not _is_ip(parts.hostname) and parts.hostname != "localhost")

    def authorised(self, header: str) -> bool:
        if self.credentials is None:
            return True
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, sep, password = base64.b64decode(value.strip(), validate=True).partition(b":")
        except (binascii.Error, ValueError):
            return False
        # Bytes, not str: any user name (non-ASCII included) is compared, never an error.
        user_ok = secrets.compare_digest(user, self.credentials[0].encode("utf-8"))
        password_ok = secrets.compare_digest(password, self.credentials[1].encode("utf-8"))
        return bool(sep) and user_ok and password_ok

    def body_limit(self, method: str, path: str) -> int:
        if method == "POST" and path.rstrip("/") in UPLOAD_PATHS:
            return UPLOAD_FILES * self.upload_mb * 2**20
        return (MAX_API_BODY_MB if path.startswith("/api/") else MAX_BODY_MB) * 2**20

    def refusal(self, method: str, path: str, headers: Headers) -> tuple[int, str] | None:
        """(status, message) for a request that must not reach any route; None for one that may."""
        host = headers.get("host", "")
        if not self.host_ok(host):
            return 403, (f"this server does not answer to the host {_hostname(host) or '(none)'!r}; "
                         "start rag serve with --allow-host NAME to allow it")  # fmt: skip
        if path not in OPEN_PATHS and not self.authorised(headers.get("authorization", "")):
            return 401, "send the server's credentials (HTTP Basic user:password)"
        if method in WRITE_METHODS:
            source = headers.get("origin")
            source = source if source is not None else headers.get("referer")
            if source is not None and not self.origin_ok(source, host):
                return 403, "cross-origin request refused: only pages served by this server may change or ask through it"
        return None


_DEFAULT_PORTS = {"http": 80, "https": 443}


class BodyTooLarge(HTTPException):
    """The request body passed its limit while it was read (FastAPI lets an HTTPException from `receive` through)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request body is larger than {limit / 2**20:g} MB")


class Guard:
    """The ASGI middleware that applies a `Policy` (see the module docstring)."""

    def __init__(self, app: Any, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)  # lifespan
            return
        headers = Headers(scope=scope)
        method = scope.get("method", "GET") if scope["type"] == "http" else "POST"  # a websocket can write
        refused = self.policy.refusal(method, scope.get("path", ""), headers)
        if refused is not None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1008})
                return
            extra = {"www-authenticate": 'Basic realm="newsrag"'} if refused[0] == 401 else {}
            await _reply(send, refused[0], refused[1], extra)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        await self._limited(scope, receive, send, self.policy.body_limit(method, scope.get("path", "")))

    async def _limited(self, scope: dict, receive: Any, send: Any, limit: int) -> None:
        declared = Headers(scope=scope).get("content-length", "")
        too_large = BodyTooLarge(limit)
        if declared.isdigit() and int(declared) > limit:
            await _reply(send, 413, too_large.detail)
            return
        state = {"size": 0, "over": False, "started": False, "answered": False}

        async def counted() -> dict:
            message = await receive()
            if message["type"] == "http.request":
                state["size"] += len(message.get("body", b""))
                if state["size"] > limit:
                    state["over"] = True
                    raise too_large
            return message

        async def checked(message: dict) -> None:
            if state["over"] and not state["started"]:
                if not state["answered"]:  # whatever the route made of the cut body, the answer is 413
                    state["answered"] = True
                    await _reply(send, 413, too_large.detail)
                return
            state["started"] = state["started"] or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, checked)
        except BodyTooLarge:
            if state["started"]:
                raise
            if not state["answered"]:
                await _reply(send, 413, too_large.detail)


async def _reply(send: Any, status: int, message: str, headers: dict[str, str] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    raw = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    raw += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


def _hostname(host_header: str) -> str:
    if any(c in host_header for c in "@/\\?#"):
        return ""  # a Host header is a name and a port, nothing else
    try:
        return (urlsplit("//" + host_header.strip()).hostname or "").rstrip(".")
    except ValueError:
        return ""


def _is_ip(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
        return True
    except ValueError:
        return False


def _is_loopback(name: str) -> bool:
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
