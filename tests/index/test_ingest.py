"""Ingest with the real embedding model into real Chroma stores in temporary folders."""

import json

import numpy as np
import pytest

from core.errors import ConfigError, EmbeddingMismatchError, StoreNotFoundError
from core.sentences import sentence_spans
from index import HashEmbedder, ingest, open_store
from index.store import reset_store
from ui.cli import main as cli

OLD = "The United States claim that 1.2 million people were injured or killed in the war."
NEW = "The United Nations reported that 40 thousand buildings were destroyed in the region."


def all_chunk_texts(db):
    return [c.text for a in db.list_articles() for c in db.chunks_of(a.id)]


def test_seed_ingest_offsets_and_metadata(seed_store, minilm):
    db = open_store(seed_store, minilm)
    articles = {a.id: a for a in db.list_articles()}
    assert set(articles) == {"000_c0fd83c34287717f.txt", "004_2c59799eda60ed9b.txt"}
    assert articles["004_2c59799eda60ed9b.txt"].title == "Putin Offers to Meet Ukraine President in Moscow 'Any Time'"
    total = 0
    for doc_id, info in articles.items():
        article = db.get_article(doc_id)
        chunks = db.chunks_of(doc_id)
        assert len(chunks) == info.chunks > 0
        total += len(chunks)
        for c in chunks:
            assert article.text[c.start : c.end] == c.text
            assert c.metadata["doc_id"] == doc_id and c.metadata["title"] == info.title
            assert minilm.count_tokens([c.text])[0] <= 200
            # The sentence offsets found at ingest come back with the chunk (no re-splitting at query time).
            assert c.sentences and c.sentences[0][0] == 0 and c.sentences[-1][1] == len(c.text)
            assert [c.text[s:e] for s, e in c.sentences] == [c.text[s:e] for s, e in sentence_spans(c.text)]
        assert "Support The Moscow Times" not in article.text and not article.text.endswith("Read more")
    assert db.count() == total


def test_reingest_is_idempotent_and_edits_replace_old_chunks(tmp_path, seeds_copy, minilm):
    store = tmp_path / "store"
    first = ingest([seeds_copy], store=store, embedder=minilm)
    assert len(first.added) == 2
    db = open_store(store, minilm)
    count = db.count()
    ids_before = sorted(c.id for a in db.list_articles() for c in db.chunks_of(a.id))

    again = ingest([seeds_copy], store=store, embedder=minilm)
    assert (len(again.added), len(again.updated), len(again.unchanged)) == (0, 0, 2)
    assert again.chunks_written == 0 and db.count() == count

    path = seeds_copy / "000_c0fd83c34287717f.txt"
    path.write_text(path.read_text(encoding="utf-8").replace(OLD, NEW), encoding="utf-8")
    edited = ingest([seeds_copy], store=store, embedder=minilm)
    assert edited.updated == ["000_c0fd83c34287717f.txt"] and edited.unchanged == ["004_2c59799eda60ed9b.txt"]
    db = open_store(store, minilm)
    texts = all_chunk_texts(db)
    assert not any(OLD in t for t in texts) and any(NEW in t for t in texts)
    hits = db.search(minilm.embed([OLD])[0], top_k=db.count())
    assert not any("1.2 million" in h.chunk.text for h in hits)
    assert sorted(c.id for a in db.list_articles() for c in db.chunks_of(a.id)) == ids_before
    assert db.count() == count


def test_other_embedding_model_is_a_clear_error(seed_store):
    with pytest.raises(EmbeddingMismatchError, match="all-MiniLM-L6-v2.*--rebuild"):
        open_store(seed_store, HashEmbedder())


def test_missing_store_is_a_clear_error(tmp_path):
    with pytest.raises(StoreNotFoundError, match="rag ingest"):
        open_store(tmp_path / "nowhere", HashEmbedder())


def test_chunk_size_must_fit_the_model(tmp_path, minilm):
    from index import ChunkingConfig

    with pytest.raises(ConfigError, match="254"):
        ingest([tmp_path], store=tmp_path / "s", embedder=minilm, chunking=ChunkingConfig(chunk_size=300, chunk_overlap=0))


def test_bad_folder_ingests_every_good_article_and_names_each_bad_one(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.txt").write_text("Council Votes\n\nThe council voted to build a new bridge over the river.")
    (folder / "empty.txt").write_text("")
    (folder / "binary.txt").write_bytes(bytes(range(256)) * 4)
    (folder / "latin1.txt").write_bytes("Le café était fermé mardi.".encode("latin-1"))
    good = {"id": "j1", "title": "Storm", "text": "A storm closed the port on Friday, the harbour master said."}
    (folder / "feed.jsonl").write_text(json.dumps(good) + "\n{broken\n" + json.dumps({**good, "id": "j2"}) + "\n")
    store = tmp_path / "store"
    report = ingest([folder], store=store, embedder=HashEmbedder())
    assert sorted(report.added) == ["good.txt", "j1", "j2"]
    assert not report.ok
    named = sorted(s.source.replace(str(folder), "") for s in report.skipped)
    assert named == ["/binary.txt", "/empty.txt", "/feed.jsonl:2", "/latin1.txt"]
    assert sorted(a.id for a in open_store(store, HashEmbedder()).list_articles()) == ["good.txt", "j1", "j2"]


def test_duplicate_ids_in_one_run_are_reported(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "same.txt").write_text(f"Story {sub} about the harbour and the storm on Friday.")
    report = ingest([tmp_path / "a", tmp_path / "b"], store=tmp_path / "s", embedder=HashEmbedder())
    assert report.added == ["same.txt"] and len(report.skipped) == 1 and "already read" in report.skipped[0].reason


def test_delete_and_rebuild(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("The harbour closed on Friday because of the storm.")
    store = tmp_path / "s"
    ingest([tmp_path / "in"], store=store, embedder=HashEmbedder())
    db = open_store(store, HashEmbedder())
    assert db.delete_article("a.txt") and not db.delete_article("a.txt")
    assert db.count() == 0 and db.list_articles() == []
    report = ingest([tmp_path / "in"], store=store, embedder=HashEmbedder(), rebuild=True)
    assert report.added == ["a.txt"]
    reset_store(store)
    assert [p.name for p in store.iterdir()] == [".write.lock"]  # kept: a rebuild holds it


def test_cli_ingest_exit_codes_and_summary(tmp_path, seeds_copy, capsys):
    store = str(tmp_path / "store")
    assert cli(["ingest", str(seeds_copy), "--store", store]) == 0
    out = capsys.readouterr().out
    assert "added 2, updated 0, unchanged 0, skipped 0" in out
    assert cli(["ingest", str(seeds_copy), "--store", store]) == 0
    assert "added 0, updated 0, unchanged 2, skipped 0" in capsys.readouterr().out
    (seeds_copy / "bad.txt").write_bytes(b"")
    assert cli(["ingest", str(seeds_copy), "--store", store]) == 1
    captured = capsys.readouterr()
    assert "bad.txt: empty file" in captured.err and "skipped 1" in captured.out
    assert cli(["ingest", str(tmp_path / "missing"), "--store", store]) == 1
    assert cli(["ingest", str(seeds_copy), "--store", store, "--chunk-size", "5"]) == 2
    assert "chunk_size" in capsys.readouterr().err


def test_search_returns_scores_best_first(seed_store, minilm):
    db = open_store(seed_store, minilm)
    hits = db.search(minilm.embed(["annexation of four Ukrainian regions"])[0], top_k=3)
    assert len(hits) == 3 and "annexation" in hits[0].chunk.text
    assert np.all(np.diff([h.score for h in hits]) <= 1e-6)
