"""A long-running reader (the web chat) sees articles another process ingests or deletes."""

import subprocess
import sys

from conftest import ROOT

from index import HashEmbedder, ingest
from index.store import open_store

BANANA = "Banana bread wins the national baking prize\n\nA banana bread recipe from Leeds won the national baking prize on Sunday, judges said.\n"


def _other_process(code: str) -> None:
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


def test_search_sees_articles_written_by_another_process(tmp_path, seeds_copy):
    store = tmp_path / "store"
    emb = HashEmbedder()
    ingest([seeds_copy], store=store, embedder=emb)
    reader = open_store(store, emb)
    query = emb.embed(["banana bread recipe baking prize"])[0]
    assert all(h.chunk.doc_id != "banana.txt" for h in reader.search(query, 3))

    article = tmp_path / "banana.txt"
    article.write_text(BANANA)
    _other_process(f"from index import ingest, HashEmbedder; ingest([{str(article)!r}], store={str(store)!r}, embedder=HashEmbedder())")
    assert reader.search(query, 3)[0].chunk.doc_id == "banana.txt"

    _other_process(f"from index import HashEmbedder; from index.store import open_store; open_store({str(store)!r}, HashEmbedder()).delete_article('banana.txt')")
    assert all(h.chunk.doc_id != "banana.txt" for h in reader.search(query, 3))


def test_own_writes_do_not_force_a_reopen(tmp_path, seeds_copy):
    store = tmp_path / "store"
    emb = HashEmbedder()
    ingest([seeds_copy], store=store, embedder=emb)
    db = open_store(store, emb)
    assert db.sync() is False
    db.delete_article("000_c0fd83c34287717f.txt")
    assert db.sync() is False
    assert [a.id for a in db.list_articles()] == ["004_2c59799eda60ed9b.txt"]
