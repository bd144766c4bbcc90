"""Shared fixtures; the whole suite runs offline by design.

Any attempt to open a non-loopback connection or resolve a remote host name
fails the test that made it, loudly.
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SHARED = ROOT.parent / "shared"

for _key, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
    "HF_HUB_DISABLE_PROGRESS_BARS": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "GRADIO_ANALYTICS_ENABLED": "False",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ[_key] = _value
for _key in [k for k in os.environ if k.startswith("RAG_")] + ["OPENAI_API_KEY"]:
    os.environ.pop(_key, None)  # the suite never depends on the shell it was started from


class NetworkBlocked(RuntimeError):
    """Raised when code under test tries to reach beyond this machine."""


def _is_local(host: object) -> bool:
    if host is None:
        return True
    host = str(host)
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


def _check_address(sock: socket.socket, address: object) -> None:
    if sock.family == getattr(socket, "AF_UNIX", None):
        return
    host = address[0] if isinstance(address, tuple) else address
    if not _is_local(host):
        raise NetworkBlocked(f"test tried to connect to {address!r}: the product must work offline")


def _guarded_connect(self: socket.socket, address: object) -> None:
    _check_address(self, address)
    return _real_connect(self, address)


def _guarded_connect_ex(self: socket.socket, address: object) -> int:
    _check_address(self, address)
    return _real_connect_ex(self, address)


def _guarded_getaddrinfo(host, *args, **kwargs):
    if not _is_local(host):
        raise NetworkBlocked(f"test tried to resolve {host!r}: the product must work offline")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
socket.getaddrinfo = _guarded_getaddrinfo


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch, tmp_path):
    """Every test starts with no RAG_* variable, fresh settings, and its own working directory.

    Tests that set a variable use `rag_env`, which also makes the settings read it.
    """
    from core.settings import reset

    for key in [k for k in os.environ if k.startswith("RAG_")]:
        monkeypatch.delenv(key)
    workdir = tmp_path / "cwd"
    workdir.mkdir(exist_ok=True)
    monkeypatch.chdir(workdir)
    reset()
    yield
    reset()


@pytest.fixture
def rag_env(monkeypatch):
    """`rag_env(NAME, VALUE)` sets (VALUE None: unsets) a RAG_* variable and has the settings read it again."""
    from core.settings import reset

    def set_variable(name: str, value: str | None) -> None:
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
        reset()

    return set_variable


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def minilm():
    """The real default embedder (all-MiniLM-L6-v2, ONNX INT8), the one `rag.query` uses, loaded once."""
    from rag.api import default_embedder

    return default_embedder()


@pytest.fixture(scope="session")
def seed_store(tmp_path_factory, minilm):
    """A store with the two seed articles ingested with the real model."""
    from index import ingest

    path = tmp_path_factory.mktemp("seed-store") / "store"
    report = ingest([SEEDS], store=path, embedder=minilm)
    assert report.ok and len(report.added) == 2
    return path


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    """A writable copy of the seed articles."""
    dest = tmp_path / "seeds"
    shutil.copytree(SEEDS, dest)
    return dest
