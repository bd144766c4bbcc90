"""`rag serve`: launch the web chat and the REST API (`ui.rest`), on loopback unless credentials are set.

Every request passes `ui.guard` first: the Host it names, the credentials (on
every route, Gradio's included), the origin of writes, the size of the body.
"""

from __future__ import annotations

import ipaddress
import sys
from collections.abc import Sequence

from core.errors import ConfigError
from core.settings import settings

from . import render
from .app import Backend, ServeConfig, build_app

LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`user:password` → (user, password); None when not given.

    Raises:
        ConfigError: malformed value.
    """
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ConfigError("credentials must look like user:password (--auth or $RAG_AUTH)")
    return user, password


def check_binding(host: str, auth: tuple[str, str] | None) -> None:
    """Anything but loopback needs credentials."""
    if not is_loopback(host) and auth is None:
        raise ConfigError(
            f"refusing to serve on {host} without credentials: anyone on the network could use it. "
            "Pass --auth user:password (or set RAG_AUTH), or bind to 127.0.0.1"
        )


def serve(
    config: ServeConfig, *, host: str = "127.0.0.1", port: int = 7860, auth: str | None = None, block: bool = True,
    backend: Backend | None = None, allow_hosts: Sequence[str] | None = None,
):
    """Build and launch the app; return `(demo, url)`.

    Args:
        allow_hosts: host names the server answers to besides `host` (default `$RAG_ALLOW_HOSTS`).

    Raises:
        ConfigError: non-loopback address without credentials, bad credentials.
    """
    from starlette.middleware import Middleware

    from .guard import Guard, Policy

    credentials = parse_auth(auth or settings().auth)
    check_binding(host, credentials)
    names = settings().allow_hosts if allow_hosts is None else allow_hosts
    policy = Policy.for_server(host, names, credentials, config.max_upload_mb)
    backend = backend or Backend(config)
    demo = build_app(backend)
    demo.queue(default_concurrency_limit=1, max_size=256)
    print(f"store {backend.location}: {len(backend.articles())} article(s); generator {backend.default_generator}", file=sys.stderr)
    _app, url, _share = demo.launch(
        server_name=host,
        server_port=port,
        auth=None,  # the guard asks for the credentials on every route (Gradio's login covers only some)
        app_kwargs={"middleware": [Middleware(Guard, policy=policy)]},
        max_file_size=f"{config.max_upload_mb}mb",
        prevent_thread_lock=True,
        quiet=True,
        share=False,
        footer_links=["api"],
        css=render.CSS,
        head=render.HEAD,
    )
    from . import rest

    rest.install(_app, backend)  # /api/...: the REST API, behind the same guard
    print(f"serving the chat on http://{'[' + host + ']' if ':' in host else host}:{demo.server_port}/  (Ctrl-C stops)", flush=True)
    if block:
        try:
            demo.block_thread()
        finally:
            demo.close()
    return demo, url
