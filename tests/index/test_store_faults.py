"""Store faults: a second writer, damaged files, another embedding model: each named, none a hang or silent emptiness."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from index import HashEmbedder, ingest, open_store
from index.store import write_lock
from rag.cli import main as cli
from rag.errors import ConfigError, EmbeddingMismatchError, StoreLockedError

HOLD = """
import sys, time
from index.store import write_lock
with write_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def locked_store(tmp_path, seeds_copy):
    store = tmp_path / "store"
    ingest([seeds_copy], store=store, embedder=HashEmbedder())
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    yield store, holder
    if holder.poll() is None:
        holder.kill()
    holder.wait()


def test_a_second_writer_fails_within_the_timeout_and_readers_do_not_wait(locked_store, seeds_copy, monkeypatch, capsys):
    store, holder = locked_store
    monkeypatch.setenv("RAG_LOCK_TIMEOUT", "1.5")
    started = time.monotonic()
    with pytest.raises(StoreLockedError, match=rf"process {holder.pid} is writing to the store at .*waited 1.5 s.*RAG_LOCK_TIMEOUT"):
        ingest([seeds_copy], store=store, embedder=HashEmbedder(), rebuild=True)
    assert 1.4 <= time.monotonic() - started < 5
    # Nothing was lost by the refused rebuild, and searching never waits for the lock.
    db = open_store(store, HashEmbedder())
    assert len(db.list_articles()) == 2
    assert db.search(HashEmbedder().embed(["Putin Zelensky Moscow"])[0], top_k=3)
    with pytest.raises(StoreLockedError):
        db.delete_articles(["004_2c59799eda60ed9b.txt"])
    assert len(db.list_articles()) == 2
    # The CLI reports it as a store error (exit 2) with the same advice.
    assert cli(["delete", "004_2c59799eda60ed9b.txt", "--store", str(store)]) == 2
    assert "RAG_LOCK_TIMEOUT" in capsys.readouterr().err


def test_the_lock_dies_with_a_killed_writer(locked_store, seeds_copy, monkeypatch):
    store, holder = locked_store
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    monkeypatch.setenv("RAG_LOCK_TIMEOUT", "5")
    report = ingest([seeds_copy], store=store, embedder=HashEmbedder(), rebuild=True)
    assert len(report.added) == 2


def test_bad_lock_timeout_is_a_config_error(tmp_path, monkeypatch):
    monkeypatch.setenv("RAG_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="RAG_LOCK_TIMEOUT must be a number of seconds"), write_lock(tmp_path / "s"):
        pass


def test_store_built_with_another_model_names_the_fix(tmp_path, seeds_copy):
    store = tmp_path / "store"
    ingest([seeds_copy], store=store, embedder=HashEmbedder(dim=64, name="model-a"))
    with pytest.raises(EmbeddingMismatchError, match="built with model-a .*but model-b .*rag ingest PATH --rebuild"):
        open_store(store, HashEmbedder(dim=64, name="model-b"))
