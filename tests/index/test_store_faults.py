"""Store faults: a second writer, damaged files, another embedding model: each named, none a hang or silent emptiness."""

import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import ROOT

from core.errors import ConfigError, EmbeddingMismatchError, StoreError, StoreLockedError
from index import ChunkingConfig, HashEmbedder, ingest, open_store
from index.store import write_lock
from ui.cli import main as cli

HOLD = """
import sys, time
from index.store import write_lock
with write_lock(sys.argv[1]):
    print("locked", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def locked_store(tmp_path, seeds_copy, minilm):
    store = tmp_path / "store"
    ingest([seeds_copy], store=store, embedder=minilm)
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(store)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    yield store, holder
    if holder.poll() is None:
        holder.kill()
    holder.wait()


def test_a_second_writer_fails_within_the_timeout_and_readers_do_not_wait(locked_store, seeds_copy, minilm, monkeypatch, capsys, rag_env):
    store, holder = locked_store
    rag_env("RAG_LOCK_TIMEOUT", "1.5")
    started = time.monotonic()
    with pytest.raises(StoreLockedError, match=rf"process {holder.pid} is writing to the store at .*waited 1.5 s.*RAG_LOCK_TIMEOUT"):
        ingest([seeds_copy], store=store, embedder=minilm, rebuild=True)
    assert 1.4 <= time.monotonic() - started < 5
    # Nothing was lost by the refused rebuild, and searching never waits for the lock.
    db = open_store(store, minilm)
    assert len(db.list_articles()) == 2
    assert db.search(minilm.embed(["Putin Zelensky Moscow"])[0], top_k=3)
    with pytest.raises(StoreLockedError):
        db.delete_articles(["004_2c59799eda60ed9b.txt"])
    assert len(db.list_articles()) == 2
    # The CLI reports it as a store error (exit 2) with the same advice.
    assert cli(["delete", "004_2c59799eda60ed9b.txt", "--store", str(store)]) == 2
    assert "RAG_LOCK_TIMEOUT" in capsys.readouterr().err


def test_the_lock_dies_with_a_killed_writer(locked_store, seeds_copy, minilm, monkeypatch, rag_env):
    store, holder = locked_store
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    rag_env("RAG_LOCK_TIMEOUT", "5")
    report = ingest([seeds_copy], store=store, embedder=minilm, rebuild=True)
    assert len(report.added) == 2


def test_bad_lock_timeout_is_a_config_error(tmp_path, monkeypatch, rag_env):
    rag_env("RAG_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="RAG_LOCK_TIMEOUT must be a number of seconds"), write_lock(tmp_path / "s"):
        pass


def test_store_built_with_another_model_names_the_fix(tmp_path, seeds_copy):
    store = tmp_path / "store"
    ingest([seeds_copy], store=store, embedder=HashEmbedder(dim=64, name="model-a"))
    with pytest.raises(EmbeddingMismatchError, match="built with model-a .*but model-b .*rag ingest PATH --rebuild"):
        open_store(store, HashEmbedder(dim=64, name="model-b"))


def _ingested(tmp_path, seeds_copy):
    store = tmp_path / "store"
    ingest([seeds_copy], store=store, embedder=HashEmbedder())
    from index.store.connection import forget_cached_client as _forget_cached_client

    _forget_cached_client(store)  # as a new process would see it
    return store


def test_deleted_vector_index_files_are_detected(tmp_path):
    # Enough chunks that Chroma has persisted its HNSW index files (a few hundred stay in its log and replay).
    folder = tmp_path / "articles"
    folder.mkdir()
    for i in range(150):
        sentences = " ".join(f"Report {i} sentence {j} mentions item{i * 100 + j} in detail." for j in range(40))
        (folder / f"a{i:03d}.txt").write_text(f"Headline number {i}\n\n{sentences}\n", encoding="utf-8")
    store = tmp_path / "store"
    report = ingest([folder], store=store, embedder=HashEmbedder(), chunking=ChunkingConfig(chunk_size=32, chunk_overlap=0))
    assert report.chunks_written >= 1500
    from index.store.connection import forget_cached_client as _forget_cached_client

    _forget_cached_client(store)
    files = [f for f in store.glob("*/*.bin")]
    assert files, "Chroma's vector index files were not found where expected"
    for f in files:
        f.unlink()
    _forget_cached_client(store)
    with pytest.raises(StoreError, match="rag ingest PATH --rebuild"):
        open_store(store, HashEmbedder())


def test_truncated_database_is_a_store_error_naming_the_fix(tmp_path, seeds_copy):
    store = _ingested(tmp_path, seeds_copy)
    db_file = store / "chroma.sqlite3"
    db_file.write_bytes(db_file.read_bytes()[:4096])
    from index.store.connection import forget_cached_client as _forget_cached_client

    _forget_cached_client(store)
    with pytest.raises(StoreError, match="rebuild"):
        open_store(store, HashEmbedder()).search(HashEmbedder().embed(["Putin"])[0], top_k=3)
    assert cli(["query", "Where did Putin invite Zelensky?", "--store", str(store), "--generator", "extractive"]) == 2


def test_reading_embeddings_of_many_ids_at_once_works(tmp_path, seeds_copy):
    # One Chroma `get` of ~100,000 ids overflows SQLite's limit on query variables
    # (found at 100k chunks by bench.scale); the store must read in batches.
    ingest([seeds_copy], store=tmp_path / "s", embedder=HashEmbedder())
    db = open_store(tmp_path / "s", HashEmbedder())
    ids, _, _ = db.all_chunks()
    asked = ids + [f"missing::{i:06d}" for i in range(40_000)]
    got = db.get_embeddings(asked)
    assert sorted(got) == sorted(ids)
    assert all(v.shape == (HashEmbedder().dim,) for v in got.values())
