"""The product's settings: every `RAG_*` environment variable, read once into one validated object.

    from core.settings import settings
    settings().cache_dir          # $RAG_CACHE_DIR, else ~/.cache/newsrag

A bad value fails when the settings are first read, naming the variable and
what it accepts. Nothing else in the product reads `RAG_*` variables. The
command line applies its flags with `configure(replace(settings(), ...))`
instead of writing `os.environ`; tests call `reset()` to read the environment
again.

| variable | field | meaning |
|---|---|---|
| RAG_STORE | store | the store folder (default ./.rag) |
| RAG_CHROMA_URL | chroma_url | a Chroma server to use instead of a folder |
| RAG_CHROMA_TOKEN | chroma_token | bearer token for that server |
| RAG_CACHE_DIR | cache_dir | derived files: the assembled LLM, ONNX exports (default ~/.cache/newsrag) |
| RAG_EMBEDDER | embedder | onnx (default) or torch |
| RAG_GENERATOR | generator | extractive (the default), local or openai |
| RAG_LLM_MODEL | llm_model | a GGUF file for the local generator (default: the packaged model) |
| RAG_OPENAI_BASE_URL | openai_base_url | the OpenAI-compatible server of the openai generator |
| RAG_OPENAI_MODEL | openai_model | the model name sent to it (default "default") |
| RAG_OPENAI_API_KEY | openai_api_key | the key sent to it (never OPENAI_API_KEY: that one is for OpenAI) |
| RAG_LOCK_TIMEOUT | lock_timeout | seconds a writer waits for the store's write lock (default 30) |
| RAG_AUTH | auth | user:password for `rag serve` |
| RAG_ALLOW_HOSTS | allow_hosts | host names `rag serve` answers to besides the address it is bound to (comma-separated) |
| RAG_FETCH_ALLOW | fetch_allow | internal hosts and networks ingest may fetch from: names and CIDR networks, comma-separated (default none) |
| RAG_FETCH_TIMEOUT | fetch_timeout | seconds one URL may take in all, redirects included (default 15) |
| RAG_FETCH_MAX_MB | fetch_max_mb | the most read of one page or feed, in MB (default 5) |
| RAG_FETCH_MAX_ENTRIES | fetch_max_entries | the most entries taken from one feed (default 100) |
| RAG_FETCH_MAX_REDIRECTS | fetch_max_redirects | the most redirects followed for one URL (default 5) |
"""

from __future__ import annotations

import ipaddress
import os
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

EMBEDDERS = ("onnx", "torch")
DEFAULT_LOCK_TIMEOUT = 30.0
# Fetching: a news page is well under 5 MB and answers in seconds; a newsroom feed lists 20 to 100 entries.
DEFAULT_FETCH_TIMEOUT = 15.0
DEFAULT_FETCH_MAX_MB = 5.0
DEFAULT_FETCH_MAX_ENTRIES = 100
DEFAULT_FETCH_MAX_REDIRECTS = 5
_HOST_NAME = re.compile(r"(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*")


@dataclass(frozen=True)
class Settings:
    """See the module docstring for each field's variable and meaning."""

    store: str = ""
    chroma_url: str = ""
    chroma_token: str = field(default="", repr=False)
    cache_dir: Path = field(default_factory=lambda: Path.home() / ".cache" / "newsrag")
    embedder: str = "onnx"
    generator: str = ""
    llm_model: str = ""
    openai_base_url: str = ""
    openai_model: str = "default"
    openai_api_key: str = field(default="", repr=False)
    lock_timeout: float = DEFAULT_LOCK_TIMEOUT
    auth: str = field(default="", repr=False)
    allow_hosts: tuple[str, ...] = ()
    fetch_allow: tuple[str, ...] = ()
    fetch_timeout: float = DEFAULT_FETCH_TIMEOUT
    fetch_max_mb: float = DEFAULT_FETCH_MAX_MB
    fetch_max_entries: int = DEFAULT_FETCH_MAX_ENTRIES
    fetch_max_redirects: int = DEFAULT_FETCH_MAX_REDIRECTS

    def __post_init__(self) -> None:
        if self.embedder not in EMBEDDERS and not Path(self.embedder).expanduser().is_dir():
            raise ConfigError(
                f"RAG_EMBEDDER must be {' or '.join(EMBEDDERS)} or the folder of a sentence-transformers model, got {self.embedder!r}"
            )
        if not self.lock_timeout >= 0:
            raise ConfigError(f"RAG_LOCK_TIMEOUT must be a number of seconds (0 or more), got {self.lock_timeout!r}")
        if self.chroma_url and not self.chroma_url.lower().startswith(("http://", "https://")):
            raise ConfigError(f"RAG_CHROMA_URL must be an http:// or https:// address, got {self.chroma_url!r}")
        for entry in self.fetch_allow:
            if not is_host_or_network(entry):
                raise ConfigError(f"RAG_FETCH_ALLOW (--fetch-allow) takes host names and networks like 10.0.0.0/8, got {entry!r}")
        for entry in self.allow_hosts:
            if "/" in entry or not is_host_or_network(entry):
                raise ConfigError(f"RAG_ALLOW_HOSTS (--allow-host) takes host names or addresses, got {entry!r}")
        for name, low in (("fetch_timeout", 0.1), ("fetch_max_mb", 0.001), ("fetch_max_entries", 1), ("fetch_max_redirects", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int | float) or not value >= low:
                raise ConfigError(f"RAG_{name.upper()} must be a number of at least {low}, got {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the `RAG_*` variables of `environ` (default `os.environ`).

        Raises:
            ConfigError: a variable holds a value it does not accept.
        """
        env = os.environ if environ is None else environ

        def get(name: str) -> str:
            return env.get(name, "").strip()

        raw_timeout = get("RAG_LOCK_TIMEOUT")
        try:
            timeout = float(raw_timeout) if raw_timeout else DEFAULT_LOCK_TIMEOUT
        except ValueError:
            raise ConfigError(f"RAG_LOCK_TIMEOUT must be a number of seconds (0 or more), got {raw_timeout!r}") from None
        cache = get("RAG_CACHE_DIR")

        def number(name: str, default: float, kind: type = float) -> float:
            raw = get(name)
            try:
                return kind(raw) if raw else default
            except ValueError:
                raise ConfigError(f"{name} must be a {'whole number' if kind is int else 'number'}, got {raw!r}") from None

        return cls(
            store=get("RAG_STORE"),
            chroma_url=get("RAG_CHROMA_URL").rstrip("/"),
            chroma_token=get("RAG_CHROMA_TOKEN"),
            cache_dir=Path(cache).expanduser() if cache else Path.home() / ".cache" / "newsrag",
            embedder=get("RAG_EMBEDDER") or "onnx",
            generator=get("RAG_GENERATOR"),
            llm_model=get("RAG_LLM_MODEL"),
            openai_base_url=get("RAG_OPENAI_BASE_URL").rstrip("/"),
            openai_model=get("RAG_OPENAI_MODEL") or "default",
            openai_api_key=get("RAG_OPENAI_API_KEY"),
            lock_timeout=timeout,
            auth=get("RAG_AUTH"),
            allow_hosts=split_list(get("RAG_ALLOW_HOSTS")),
            fetch_allow=split_list(get("RAG_FETCH_ALLOW")),
            fetch_timeout=number("RAG_FETCH_TIMEOUT", DEFAULT_FETCH_TIMEOUT),
            fetch_max_mb=number("RAG_FETCH_MAX_MB", DEFAULT_FETCH_MAX_MB),
            fetch_max_entries=int(number("RAG_FETCH_MAX_ENTRIES", DEFAULT_FETCH_MAX_ENTRIES, int)),
            fetch_max_redirects=int(number("RAG_FETCH_MAX_REDIRECTS", DEFAULT_FETCH_MAX_REDIRECTS, int)),
        )


def split_list(text: str) -> tuple[str, ...]:
    """A comma-separated setting as its entries: stripped, lowercased, without a host name's trailing dot."""
    return tuple(part.strip().lower().rstrip(".") for part in text.split(",") if part.strip())


def is_host_or_network(entry: str) -> bool:
    """Whether `entry` is a host name, an IP address or a CIDR network (`10.0.0.0/8`, `fd00::/8`)."""
    try:
        ipaddress.ip_network(entry.strip("[]"), strict=False)
        return True
    except ValueError:
        return bool(_HOST_NAME.fullmatch(entry.lower()))


VARIABLES = tuple(f"RAG_{f.name.upper()}" for f in fields(Settings))

_lock = threading.Lock()
_current: Settings | None = None


def settings() -> Settings:
    """The process's settings: read from the environment on first use, then kept."""
    global _current
    with _lock:
        if _current is None:
            _current = Settings.from_env()
        return _current


def configure(value: Settings) -> Settings:
    """Use `value` as the process's settings from now on (the command line's flags); returns it."""
    global _current
    if not isinstance(value, Settings):
        raise ConfigError(f"configure() wants a Settings object, not {type(value).__name__}")
    with _lock:
        _current = value
    return value


def reset() -> None:
    """Forget the settings, so the next `settings()` reads the environment again (tests)."""
    global _current
    with _lock:
        _current = None
