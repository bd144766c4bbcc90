"""Keyword search (BM25) beside the store, filters, fusion, and the hybrid retriever."""

import json
import subprocess
import sys
from datetime import date

import pytest
from conftest import ROOT

from core.errors import ConfigError
from index import Chunk, HashEmbedder, ScoredChunk, ingest
from index.filters import FilterError, Filters
from index.lexical import BM25Index, fuse, terms
from index.store import open_store
from rag.engine import RetrievalConfig, Retriever, prefer_leads
from rag.retrieval.rerank import OverlapCrossEncoder

ARTICLES = [
    {"id": "suns", "title": "Suns land Durant", "source": "USA Today", "published_at": "2023-02-09",
     "text": "Kevin Durant is heading to the Phoenix Suns in a blockbuster deal with Brooklyn."},
    {"id": "fox", "title": "Fox settles", "source": "CNN", "published_at": "2023-04-18",
     "text": "Fox News will pay Dominion Voting Systems $787.5 million to end its defamation case."},
    {"id": "snails", "title": "Snail quarantine", "source": "USA Today", "published_at": "2022-07-01",
     "text": "Giant African land snails were seen in parts of Broward County, now under quarantine."},
    {"id": "undated", "title": "Harbour", "source": "Local",
     "text": "The harbour of Brest reopened on Monday after the storm damaged two piers."},
]  # fmt: skip


@pytest.fixture
def store(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text("\n".join(json.dumps(a) for a in ARTICLES))
    report = ingest([path], store=tmp_path / "store", embedder=HashEmbedder())
    assert len(report.added) == 4
    return tmp_path / "store"


def test_terms_stem_lower_and_keep_numbers():
    assert terms("The Nets' trade of Durant cost $787.5 million, 1,200 fans said") == [
        "net", "trade", "durant", "cost", "787.5", "million", "1200", "fan", "said"]  # fmt: skip


def test_bm25_finds_rare_words_and_numbers(store):
    index = BM25Index(open_store(store, HashEmbedder()))
    assert index.search("Which team got Kevin Durant?", 2)[0].chunk.doc_id == "suns"
    assert index.search("how much was the 787.5 settlement", 1)[0].chunk.doc_id == "fox"
    assert index.search("zzz qqq", 3) == []  # no shared term: nothing, rather than noise


def test_ingest_saves_the_index_and_a_restart_loads_it(store):
    db = open_store(store, HashEmbedder())
    saved = list((store / "bm25").iterdir())
    assert [p.name for p in saved] == [db.generation]
    # A fresh process must load, not rebuild: prove it by making rebuilding impossible.
    code = (
        "from index import HashEmbedder; from index.store import open_store; from index.lexical import BM25Index\n"
        f"idx = BM25Index(open_store({str(store)!r}, HashEmbedder()))\n"
        "idx._build = lambda g: (_ for _ in ()).throw(AssertionError('rebuilt'))\n"
        "print(idx.search('giant African land snails', 1)[0].chunk.doc_id)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "snails"


def test_index_follows_reingest_and_delete(store, tmp_path):
    emb = HashEmbedder()
    index = BM25Index(open_store(store, emb))
    assert index.search("Durant", 1)[0].chunk.doc_id == "suns"
    changed = dict(ARTICLES[0], text="The Phoenix Suns lost to the Denver Nuggets on Tuesday night.")
    (tmp_path / "change.jsonl").write_text(json.dumps(changed))
    ingest([tmp_path / "change.jsonl"], store=store, embedder=emb)
    assert index.search("Durant blockbuster", 3) == []  # the old text is gone
    assert index.search("Nuggets", 1)[0].chunk.doc_id == "suns"
    open_store(store, emb).delete_article("fox")
    assert index.search("Dominion settlement", 3) == []


def test_damaged_saved_index_is_rebuilt(store):
    db = open_store(store, HashEmbedder())
    for f in (store / "bm25" / db.generation).iterdir():
        f.write_bytes(b"garbage")
    assert BM25Index(db).search("Brest harbour", 1)[0].chunk.doc_id == "undated"


def test_filters_by_source_date_and_id(store):
    db = open_store(store, HashEmbedder())
    index = BM25Index(db)
    q = "Durant trade Dominion snails harbour"
    assert {h.chunk.doc_id for h in index.search(q, 10, Filters(sources=("USA Today",)))} == {"suns", "snails"}
    assert {h.chunk.doc_id for h in index.search(q, 10, Filters(since="2023-01-01"))} == {"suns", "fox"}
    assert {h.chunk.doc_id for h in index.search(q, 10, Filters(until=date(2022, 12, 31)))} == {"snails"}
    assert {h.chunk.doc_id for h in index.search(q, 10, Filters(doc_ids=("fox", "undated")))} == {"fox", "undated"}
    # Dense search applies the same rule through Chroma's filter.
    r = Retriever(db, HashEmbedder(), config=RetrievalConfig(mode="dense", rerank=False))
    assert {h.chunk.doc_id for h in r.retrieve(q, 10, Filters(sources=("USA Today",), since="2023"))} == {"suns"}


def test_bad_filters_are_rejected_with_a_reason():
    with pytest.raises(FilterError, match="date like"):
        Filters(since="last tuesday")
    with pytest.raises(FilterError, match="after"):
        Filters(since="2024-01-01", until="2023-01-01")
    with pytest.raises(FilterError, match="text"):
        Filters(sources=(3,))
    with pytest.raises(ConfigError, match="mode"):
        RetrievalConfig(mode="magic")


def _hits(*ids):
    return [ScoredChunk(Chunk(i, 0, i, 0, 1, {"doc_id": i}), 0.5) for i in ids]


def test_reciprocal_rank_fusion_rewards_agreement():
    fused = fuse([_hits("a", "b", "c"), _hits("c", "d", "a")])
    assert [h.chunk.doc_id for h in fused][:2] == ["a", "c"]
    assert len(fused) == 4


def _chunk(doc, index):
    return Chunk(doc, index, f"{doc} {index}", 0, 1, {"doc_id": doc})


def test_an_article_lead_wins_a_near_tie_but_not_a_clear_loss():
    b0, b1 = ScoredChunk(_chunk("b", 0), 0), ScoredChunk(_chunk("b", 1), 0)
    tie = fuse([[b1, b0], [b0, b1]])
    assert [h.chunk.index for h in prefer_leads(tie, 60, 2.0)] == [0, 1]
    # One place behind in both lists is more than two places in one: it takes a lift of 3.
    behind = fuse([[b1, b0], [b1, b0]])
    assert [h.chunk.index for h in prefer_leads(behind, 60, 2.0)] == [1, 0]
    assert [h.chunk.index for h in prefer_leads(behind, 60, 3.0)] == [0, 1]
    assert prefer_leads(behind, 60, 0.0) == behind  # 0 turns it off
    # A lead ranked 8th in both lists stays behind a chunk both rank first: a nudge, not a trump.
    far = fuse([[ScoredChunk(_chunk("c", 3), 0)] + [ScoredChunk(_chunk(f"x{i}", 2), 0) for i in range(6)]
                + [ScoredChunk(_chunk("c", 0), 0)]] * 2)  # fmt: skip
    order = [h.chunk.id for h in prefer_leads(far, 60, 2.0)]
    assert order[0] == "c::00003" and order.index("c::00000") == 6  # 8th -> 7th
    with pytest.raises(ConfigError, match="lead_lift"):
        RetrievalConfig(lead_lift=-1)


class _MisleadingEmbedder(HashEmbedder):
    """Embeds every question as if it asked about the harbour: dense search alone goes wrong."""

    def embed(self, texts):
        return super().embed(["harbour of Brest storm piers Monday"] * len(texts))


def test_hybrid_finds_what_dense_alone_misses_and_keeps_cosine_scores(store):
    db = open_store(store, HashEmbedder())
    emb = _MisleadingEmbedder()
    q = "787.5 Dominion"
    dense = Retriever(db, emb, config=RetrievalConfig(mode="dense", rerank=False))
    assert dense.retrieve(q, 1)[0].chunk.doc_id == "undated"
    hybrid = Retriever(db, emb, config=RetrievalConfig(candidates=4, rerank=False))
    hits = hybrid.retrieve(q, 2)
    assert hits[0].chunk.doc_id == "fox"
    stored = db.get_embeddings([hits[0].chunk.id])[hits[0].chunk.id]
    assert hits[0].similarity == pytest.approx(float(emb.embed([q])[0] @ stored), abs=1e-5)  # read back for a keyword hit
    assert 0 < hits[0].score < 0.1  # the fused (RRF) score it was ranked by
    assert all(h.similarity is not None for h in hits)


def test_reranker_orders_the_fused_candidates(store):
    db = open_store(store, HashEmbedder())
    q = "giant African land snails quarantine"
    plain = Retriever(db, _MisleadingEmbedder(), config=RetrievalConfig(candidates=4, rerank=False, bm25_weight=0.0))
    assert plain.retrieve(q, 1)[0].chunk.doc_id == "undated"  # BM25 weighted out: the misleading dense order
    reranked = Retriever(db, _MisleadingEmbedder(), cross_encoder=OverlapCrossEncoder(),
                         config=RetrievalConfig(candidates=4, bm25_weight=0.0, rerank=True, time_boost=0))  # fmt: skip
    assert reranked.retrieve(q, 1)[0].chunk.doc_id == "snails"
    # The time preference comes after: asked today, the 2022 article is older than the store's news.
    timed = Retriever(db, _MisleadingEmbedder(), cross_encoder=OverlapCrossEncoder(),
                      config=RetrievalConfig(candidates=4, bm25_weight=0.0, rerank=True))  # fmt: skip
    assert timed.retrieve(q, 1)[0].chunk.doc_id != "snails"
    assert timed.retrieve(q, 1, asked_on="2022-07-02")[0].chunk.doc_id == "snails"


class _RecordingCrossEncoder(OverlapCrossEncoder):
    def __init__(self):
        self.texts = []

    def score(self, query, texts):
        self.texts.extend(texts)
        return super().score(query, texts)


def test_the_reranker_reads_a_window_of_each_candidate(store):
    db = open_store(store, HashEmbedder())
    full = {a["text"] for a in ARTICLES}
    for window, expect in ((10, {" ".join(t.split()[:10]) for t in full}), (0, full)):
        cross = _RecordingCrossEncoder()
        config = RetrievalConfig(candidates=4, rerank=True, rerank_window=window)
        Retriever(db, HashEmbedder(), cross_encoder=cross, config=config).retrieve("giant snails", 2)
        assert set(cross.texts) == expect
    for bad in (5, True, 2.5):
        with pytest.raises(ConfigError, match="rerank_window"):
            RetrievalConfig(rerank_window=bad)


def test_cli_query_honours_filters_and_rejects_bad_dates(tmp_path, minilm, capsys):
    from ui.cli import main as cli

    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(a) for a in ARTICLES))
    store = tmp_path / "minilm-store"
    ingest([tmp_path / "a.jsonl"], store=store, embedder=minilm)
    q = "Which team got Kevin Durant in a trade?"
    assert cli(["query", q, "--store", str(store), "--generator", "extractive", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["citations"][0]["doc_id"] == "suns"
    # Only CNN articles: the Suns story is out of reach, whatever the question.
    assert cli(["query", q, "--store", str(store), "--generator", "extractive", "--json", "--source", "CNN"]) == 0
    cited = {c["doc_id"] for c in json.loads(capsys.readouterr().out)["citations"]}
    assert cited <= {"fox"}
    assert cli(["query", q, "--store", str(store), "--since", "yesterday-ish"]) == 2
    assert "date like" in capsys.readouterr().err


def test_the_same_story_from_two_outlets_takes_one_slot(tmp_path):
    story = "Kevin Durant is heading to the Phoenix Suns in a blockbuster deal with Brooklyn, officials said."
    articles = [
        {"id": "ap", "title": "Durant to Suns", "source": "AP", "text": story},
        {"id": "copy", "title": "Durant traded", "source": "Yahoo", "text": story.replace("officials said", "sources said")},
        {"id": "other", "title": "Nets rebuild", "source": "ESPN",
         "text": "The Brooklyn Nets are rebuilding after trading Kevin Durant and Kyrie Irving this season."},
    ]  # fmt: skip
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(a) for a in articles))
    ingest([tmp_path / "a.jsonl"], store=tmp_path / "s", embedder=HashEmbedder())
    db = open_store(tmp_path / "s", HashEmbedder())
    q = "Which team is getting Kevin Durant in the blockbuster deal with Brooklyn?"
    plain = Retriever(db, HashEmbedder(), config=RetrievalConfig(dedup=0))
    assert {h.chunk.doc_id for h in plain.retrieve(q, 2)} == {"ap", "copy"}
    hits = Retriever(db, HashEmbedder()).retrieve(q, 2)
    assert hits[0].chunk.doc_id == plain.retrieve(q, 1)[0].chunk.doc_id  # the best passage is kept
    assert {h.chunk.doc_id for h in hits} == {hits[0].chunk.doc_id, "other"}


def test_building_the_index_does_not_log_debug_lines(store):
    import logging

    # As after logging.basicConfig(level=WARNING): the root handler passes whatever loggers let through.
    seen: list[logging.LogRecord] = []
    handler = logging.Handler()
    handler.emit = seen.append
    logging.getLogger().addHandler(handler)
    try:
        BM25Index(open_store(store, HashEmbedder())).rebuild()
    finally:
        logging.getLogger().removeHandler(handler)
    assert not [r for r in seen if r.name.startswith("bm25s")]


def test_hybrid_retrieval_applies_the_lead_lift(tmp_path):
    lead = "The city council approved a new harbour budget on Monday after a long debate about piers. " * 12
    body = "Council members said the harbour budget debate about piers and ferries would continue next year. " * 12
    (tmp_path / "a.jsonl").write_text(json.dumps({"id": "port", "title": "Harbour budget", "text": lead + "\n\n" + body}))
    ingest([tmp_path / "a.jsonl"], store=tmp_path / "s", embedder=HashEmbedder())
    db = open_store(tmp_path / "s", HashEmbedder())
    q = "harbour budget debate about piers and ferries next year"

    def first(lift):
        return Retriever(db, HashEmbedder(), config=RetrievalConfig(lead_lift=lift)).retrieve(q, 2)[0].chunk.index

    assert first(0.0) > 0  # the body chunk matches the question better
    assert first(20.0) == 0  # a strong lift puts the lead first


def test_an_ingest_updates_the_keyword_index_without_reading_the_store_back(tmp_path, seeds_copy, monkeypatch):
    """The index an ingest leaves equals a full rebuild, though it never read the store's chunks."""
    import json as _json

    from index import HashEmbedder, ingest
    from index.lexical import BM25Index
    from index.store import ChromaStore, open_store

    emb = HashEmbedder()
    store = tmp_path / "store"
    ingest([seeds_copy], store=store, embedder=emb)
    extra = tmp_path / "extra.jsonl"
    extra.write_text("\n".join(_json.dumps({"id": f"x{i}", "title": f"Harbour news {i}", "source": "Gazette", "published_at": "2024-03-0" + str(i + 1),
                                            "text": f"The harbour of Brest closed on day {i} after a storm damaged {i + 2} piers."})
                               for i in range(3)))  # fmt: skip
    reads = []
    real = ChromaStore.all_chunks
    monkeypatch.setattr(ChromaStore, "all_chunks", lambda self: reads.append(1) or real(self))
    ingest([extra], store=store, embedder=emb)
    (seeds_copy / "000_c0fd83c34287717f.txt").write_text("Putin changed his mind\n\nThe Kremlin said on Monday the meeting was off.")
    ingest([seeds_copy], store=store, embedder=emb)
    assert reads == []  # neither ingest read the store back
    db = open_store(store, emb)
    incremental = BM25Index(db).refresh()
    monkeypatch.setattr(ChromaStore, "all_chunks", real)
    rebuilt = BM25Index(db)
    rebuilt.rebuild()
    full = rebuilt.refresh()
    assert incremental.ids == full.ids and incremental.terms == full.terms and list(incremental.meta) == list(full.meta)
    for query in ("harbour storm piers", "Kremlin meeting", "Zelensky Moscow"):
        a = [(h.chunk.id, round(h.score, 6)) for h in BM25Index(db).search(query, 5)]
        b = [(h.chunk.id, round(h.score, 6)) for h in rebuilt.search(query, 5)]
        assert a == b and a


def test_fusion_keeps_the_similarity_a_ranking_knew():
    dense = [ScoredChunk(_chunk("a", 0), 0.8, similarity=0.8), ScoredChunk(_chunk("b", 0), 0.6, similarity=0.6)]
    keyword = [ScoredChunk(_chunk("b", 0), 7.5), ScoredChunk(_chunk("c", 0), 3.0)]
    fused = {h.chunk.doc_id: h for h in fuse([keyword, dense])}
    assert fused["b"].similarity == 0.6 and fused["a"].similarity == 0.8 and fused["c"].similarity is None
    assert fused["b"].score > fused["a"].score  # found by both rankings


def test_a_passage_holding_the_names_no_top_passage_has_takes_the_last_place():
    from rag.retrieval.ranking import cover_names

    def hit(doc, text, score):
        return ScoredChunk(Chunk(doc, 0, text, 0, len(text), {"doc_id": doc}), score)

    pool = [hit("a", "The FDA panel met on Wednesday to review the pill.", 0.9),
            hit("b", "The FDA center reviewed the research on Tuesday.", 0.8),
            hit("c", "Doctors said the research was sound.", 0.7),
            hit("d", "Peter Marks, director of the FDA's Center for Biologics Evaluation and Research, spoke.", 0.2)]  # fmt: skip
    question = "Who is the director of the FDA's Center for Biologics Evaluation and Research?"
    assert [h.chunk.doc_id for h in cover_names(question, pool, 3)] == ["a", "b", "d"]
    # Names the top passages hold already, or that no further passage holds all of: the order stands.
    assert [h.chunk.doc_id for h in cover_names("What did the FDA panel review?", pool, 3)] == ["a", "b", "c"]
    assert [h.chunk.doc_id for h in cover_names("Who runs the Biologics Center in Paris?", pool, 3)] == ["a", "b", "c"]
    assert [h.chunk.doc_id for h in cover_names(question, pool, 1)] == ["a"]  # one place: the best keeps it
