"""A date for an undated article: the latest date its text reports, never a plan for later."""

from datetime import date

from index.dates import infer_date


def test_the_latest_reported_date_as_precise_as_the_text_gives_it():
    assert infer_date("The war began in February 2022. Still in 2022, four regions were annexed.") == "2022-02"
    assert infer_date("On 24 February 2022 troops crossed. By March 3, 2022 they had reached Kherson.") == "2022-03-03"
    assert infer_date("It has claimed 13,000 lives, compared to 50 in all of 2020.") == "2020"
    assert infer_date("Separatists have fought since 2014.") == "2014"
    assert infer_date("No year is named here, only Thursday and May 1.") == ""


def test_plans_after_the_day_of_ingest_are_not_reports():
    assert infer_date("The plant opened in 2021 and will close by 2040.", today=date(2026, 12, 1)) == "2021"
    assert infer_date("Talks are set for January 5, 2027.", today=date(2026, 12, 1)) == ""


def test_an_undated_file_gets_an_inferred_date_and_a_dated_record_keeps_its_own(tmp_path):
    from index import HashEmbedder, ingest
    from index.store import open_store

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened in March 2023 after the storm of 2022.")
    (tmp_path / "in" / "b.jsonl").write_text('{"id": "b", "published_at": "2024-05-01", "text": "It happened in 2019."}\n')
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    db = open_store(tmp_path / "s", HashEmbedder())
    a, b = db.get_article("a.txt"), db.get_article("b")
    assert (a.published_at, a.inferred_date) == ("", "2023-03")
    assert (b.published_at, b.inferred_date) == ("2024-05-01", "")
    listed = {info.id: info for info in db.list_articles()}
    assert listed["a.txt"].inferred_date == "2023-03"


def test_the_newest_publication_date_of_a_store_follows_its_writes(tmp_path):
    from index import HashEmbedder, ingest
    from index.store import open_store

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("Harbour reopens\n\nThe harbour reopened in March 2025 after the storm.")
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    db = open_store(tmp_path / "s", HashEmbedder())
    assert db.newest_date() == ""  # an inferred date is not a publication date
    (tmp_path / "in" / "b.jsonl").write_text(
        '{"id": "b", "published_at": "2023-05-01T08:00:00", "text": "Old news."}\n'
        '{"id": "c", "published_at": "2024-02-10", "text": "Newer news."}\n'
    )
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    assert db.newest_date() == "2024-02-10"
    db.delete_article("c")
    assert db.newest_date() == "2023-05-01"
