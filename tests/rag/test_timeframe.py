"""Time words in questions ("this week", "in 2021") and the retriever's preference for articles from then."""

import json
from datetime import date

import pytest

from index import Chunk, HashEmbedder, ScoredChunk, ingest
from index.filters import FilterError
from index.store import open_store
from rag.engine import RetrievalConfig, Retriever, prefer_period
from rag.retrieval.timeframe import time_frame


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("Which politician announced this week that she is running?", date(2023, 2, 10), date(2023, 2, 17)),
        ("This past weekend, which venue did Drake play?", date(2023, 2, 10), date(2023, 2, 17)),
        ("What did the court rule yesterday?", date(2023, 2, 15), date(2023, 2, 17)),
        ("Which company recently warned of bankruptcy?", date(2023, 1, 17), date(2023, 2, 17)),
        ("Who won the election in 2021?", date(2021, 1, 1), date(2022, 1, 31)),
        ("What did Putin say in March 2022?", date(2022, 3, 1), date(2022, 5, 1)),
    ],
)
def test_time_words_become_date_ranges(question, start, end):
    frame = time_frame(question, "2023-02-17")
    assert (frame.start, frame.end) == (start, end)


def test_questions_without_time_words_have_no_frame_and_bad_dates_are_rejected():
    assert time_frame("Who is the president of France?", "2023-02-17") is None
    assert time_frame("Where did Putin invite Zelensky?") is None
    with pytest.raises(FilterError, match="asked_on"):
        time_frame("What happened this week?", "the day before")


def _hit(doc, published):
    return ScoredChunk(Chunk(doc, 0, doc, 0, 1, {"doc_id": doc, "published_at": published}), 0.5)


def test_preference_lifts_articles_from_the_period_by_about_two_places_only():
    frame = time_frame("What happened this week?", "2023-02-17")
    hits = [_hit("old1", "2019-01-01"), _hit("old2", "2019-01-02"), _hit("new", "2023-02-15"), _hit("undated", "")]
    assert [h.chunk.doc_id for h in prefer_period(hits, frame, 0.5)] == ["new", "old1", "old2", "undated"]
    far = [_hit(f"old{i}", "2019-01-01") for i in range(6)] + [_hit("new", "2023-02-15")]
    assert [h.chunk.doc_id for h in prefer_period(far, frame, 0.5)].index("new") == 3  # 7th -> 4th, not first
    assert prefer_period(hits, frame, 0.0) == hits


def test_the_same_story_four_years_apart_is_told_apart_by_the_day_asked(tmp_path):
    text = "Putin said he was ready to meet Zelensky and invited him to Moscow for talks."
    articles = [
        {"id": "2022", "title": "Putin invites Zelensky", "published_at": "2022-03-04", "text": text},
        {"id": "2026", "title": "Putin invites Zelensky", "published_at": "2026-09-04", "text": text + " "},
    ]
    (tmp_path / "a.jsonl").write_text("\n".join(json.dumps(a) for a in articles))
    ingest([tmp_path / "a.jsonl"], store=tmp_path / "s", embedder=HashEmbedder())
    r = Retriever(open_store(tmp_path / "s", HashEmbedder()), HashEmbedder(), config=RetrievalConfig(rerank=False))
    q = "Where did Putin invite Zelensky this week?"
    assert r.retrieve(q, 1, asked_on="2022-03-06")[0].chunk.doc_id == "2022"
    assert r.retrieve(q, 1, asked_on="2026-09-07")[0].chunk.doc_id == "2026"
    off = Retriever(open_store(tmp_path / "s", HashEmbedder()), HashEmbedder(), config=RetrievalConfig(rerank=False, time_boost=0))
    assert off.retrieve(q, 1, asked_on="2022-03-06")[0].chunk.doc_id == off.retrieve(q, 1, asked_on="2026-09-07")[0].chunk.doc_id


def test_a_name_in_capitals_is_not_a_time():
    asked = date(2023, 3, 3)
    assert time_frame("Newspapers, including the USA TODAY Network, dropped which comic strip?", asked) is None
    assert time_frame("Which comic strip did USA TODAY drop today?", asked).phrase == "today"
