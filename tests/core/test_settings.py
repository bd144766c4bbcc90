"""Settings: every RAG_* variable read once into one validated object; the CLI's flags go through it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from core.errors import ConfigError
from core.settings import Settings, configure, settings


def test_the_environment_is_read_into_one_object():
    s = Settings.from_env({"RAG_STORE": "/tmp/s", "RAG_CACHE_DIR": "~/c", "RAG_LOCK_TIMEOUT": "2.5",
                           "RAG_OPENAI_BASE_URL": "http://127.0.0.1:8000/v1/", "OPENAI_API_KEY": "not ours"})  # fmt: skip
    assert s.store == "/tmp/s" and s.cache_dir == Path("~/c").expanduser() and s.lock_timeout == 2.5
    assert s.openai_base_url == "http://127.0.0.1:8000/v1" and s.openai_api_key == ""
    assert Settings.from_env({}) == Settings()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RAG_LOCK_TIMEOUT", "soon", "RAG_LOCK_TIMEOUT must be a number"),
        ("RAG_LOCK_TIMEOUT", "-1", "RAG_LOCK_TIMEOUT must be a number"),
        ("RAG_EMBEDDER", "gpt", "RAG_EMBEDDER must be"),
        ("RAG_CHROMA_URL", "localhost:8000", "RAG_CHROMA_URL must be an http"),
        ("RAG_FETCH_ALLOW", "10.0.0.0/8,news intranet", "RAG_FETCH_ALLOW"),
        ("RAG_FETCH_ALLOW", "10.0.0.0/33", "RAG_FETCH_ALLOW"),
        ("RAG_ALLOW_HOSTS", "10.0.0.0/8", "RAG_ALLOW_HOSTS"),
        ("RAG_FETCH_TIMEOUT", "0", "RAG_FETCH_TIMEOUT must be a number"),
        ("RAG_FETCH_MAX_MB", "lots", "RAG_FETCH_MAX_MB must be a number"),
        ("RAG_FETCH_MAX_ENTRIES", "2.5", "RAG_FETCH_MAX_ENTRIES must be a whole number"),
        ("RAG_FETCH_MAX_REDIRECTS", "-1", "RAG_FETCH_MAX_REDIRECTS must be a number of at least 0"),
    ],
)
def test_a_bad_value_names_the_variable(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({name: value})


def test_the_fetch_and_serve_settings_have_newsroom_defaults_and_read_lists():
    s = Settings()
    assert (s.fetch_allow, s.fetch_timeout, s.fetch_max_mb, s.fetch_max_entries, s.fetch_max_redirects) == ((), 15.0, 5.0, 100, 5)
    s = Settings.from_env({"RAG_FETCH_ALLOW": " 127.0.0.0/8, News.Intranet., fd00::/8 ", "RAG_ALLOW_HOSTS": "chat.example.org",
                           "RAG_FETCH_MAX_ENTRIES": "20", "RAG_FETCH_TIMEOUT": "30"})  # fmt: skip
    assert s.fetch_allow == ("127.0.0.0/8", "news.intranet", "fd00::/8") and s.allow_hosts == ("chat.example.org",)
    assert s.fetch_max_entries == 20 and s.fetch_timeout == 30.0


def test_the_embedder_may_be_a_model_folder(tmp_path):
    assert Settings.from_env({"RAG_EMBEDDER": str(tmp_path)}).embedder == str(tmp_path)


def test_settings_are_read_once_and_configure_replaces_them(rag_env, monkeypatch):
    rag_env("RAG_STORE", "/tmp/first")
    assert settings().store == "/tmp/first"
    monkeypatch.setenv("RAG_STORE", "/tmp/second")  # without a reset the process keeps what it read
    assert settings().store == "/tmp/first"
    configure(replace(settings(), llm_model="/models/x.gguf"))
    assert settings().llm_model == "/models/x.gguf"
    with pytest.raises(ConfigError):
        configure({"store": "x"})  # type: ignore[arg-type]
