"""A real Chroma server (`chroma run`, shipped with chromadb) on 127.0.0.1 as the store."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import free_port

import rag
from core.errors import StoreError, StoreNotFoundError
from index import ingest, open_store
from index.store import resolve_location
from ui.cli import main as cli

OLD = "The United States claim that 1.2 million people were injured or killed in the war."
NEW = "The United Nations reported that 40 thousand buildings were destroyed in the region."


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory):
    exe = Path(sys.executable).with_name("chroma")
    if not exe.exists():
        exe = shutil.which("chroma")
    assert exe, "the chroma command (installed with chromadb) is missing"
    port = free_port()
    data = tmp_path_factory.mktemp("chroma-server")
    log = open(data / "server.log", "wb")  # noqa: SIM115 - closed below
    env = dict(os.environ, ANONYMIZED_TELEMETRY="False")
    proc = subprocess.Popen(
        [str(exe), "run", "--path", str(data / "db"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=log, stderr=subprocess.STDOUT, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    import chromadb

    deadline = time.monotonic() + 60
    while True:
        try:
            chromadb.HttpClient(host="127.0.0.1", port=port).heartbeat()
            break
        except Exception:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"chroma run did not start: {(data / 'server.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.mark.slow
def test_ingest_query_reingest_through_a_chroma_server(chroma_server, seeds_copy, minilm, monkeypatch, tmp_path, capsys, rag_env):
    rag_env("RAG_CHROMA_URL", chroma_server)
    rag_env("RAG_CACHE_DIR", str(tmp_path / "cache"))
    assert resolve_location(None) == chroma_server

    first = ingest([seeds_copy], embedder=minilm, rebuild=True)
    assert len(first.added) == 2 and first.chunks_written > 0
    db = open_store(None, minilm)
    assert db.remote and db.count() == first.chunks_written
    assert not (Path.cwd() / ".rag").exists()  # nothing was written to a local store

    answer = rag.query("Where did Putin invite Zelensky to meet?", generator="extractive")
    assert not answer.refused and "Moscow" in answer.text
    assert answer.citations and answer.citations[0].doc_id == "004_2c59799eda60ed9b.txt"
    # Keyword search works too: its index lives in the local cache, keyed by the server.
    assert (tmp_path / "cache" / "servers").is_dir()

    again = ingest([seeds_copy], embedder=minilm)
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 2)

    other = open_store(chroma_server, minilm)  # another `rag serve`, on another machine
    generation = other.generation
    path = seeds_copy / "000_c0fd83c34287717f.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    edited = ingest([seeds_copy], embedder=minilm)
    assert edited.updated == ["000_c0fd83c34287717f.txt"]
    hits = other.search(minilm.embed([NEW])[0], top_k=3)
    assert other.generation != generation  # it noticed the write
    assert NEW in hits[0].chunk.text and not any(OLD in h.chunk.text for h in hits)

    answer = rag.query("How many buildings were destroyed according to the United Nations?", generator="extractive")
    assert "40 thousand" in answer.text

    # The CLI takes the server's URL as --store.
    assert cli(["list", "--store", chroma_server]) == 0
    assert "004_2c59799eda60ed9b.txt" in capsys.readouterr().out

    ingest([], embedder=minilm, rebuild=True)  # --rebuild empties the server's store
    emptied = open_store(chroma_server, minilm)
    assert emptied.count() == 0 and emptied.list_articles() == []
    assert not rag.query("Where did Putin invite Zelensky?", store=chroma_server, generator="extractive").citations


def test_a_server_without_articles_says_ingest_first(chroma_server, minilm):
    import chromadb

    port = int(chroma_server.rsplit(":", 1)[1])
    client = chromadb.HttpClient(host="127.0.0.1", port=port)
    for c in client.list_collections():
        client.delete_collection(getattr(c, "name", c))
    with pytest.raises(StoreNotFoundError, match=f"no articles have been ingested into the store at {chroma_server}"):
        open_store(chroma_server, minilm)


def test_unreachable_server_is_a_clear_error(minilm):
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(StoreError, match=rf"cannot reach the Chroma server at {url}.*chroma run --path DIR"):
        open_store(url, minilm)
