import json

from index.loaders import Skipped, discover, load_file
from index.types import Article

STORY = "The city council approved the new budget on Tuesday. The mayor said taxes would not rise."


def load(path, **kw):
    return list(load_file(path, **kw))


def test_txt_uses_headline_and_drops_boilerplate(tmp_path):
    p = tmp_path / "story.txt"
    p.write_text("Support The Daily Planet!\n\nCouncil Approves Budget\n\n" + STORY + "\n\nRead more", encoding="utf-8")
    [art] = load(p)
    assert isinstance(art, Article)
    assert art.id == "story.txt" and art.title == "Council Approves Budget"
    assert art.text == STORY


def test_markdown(tmp_path):
    p = tmp_path / "story.md"
    p.write_text("# Council Approves Budget\n\n" + STORY.replace("budget", "[budget](http://x.example)"), encoding="utf-8")
    [art] = load(p)
    assert art.title == "Council Approves Budget" and art.text == STORY


def test_html_extracts_text_and_metadata(tmp_path):
    p = tmp_path / "page.html"
    p.write_text(
        """<html><head><title>Council Approves Budget | Daily Planet</title>
        <meta property="og:site_name" content="Daily Planet"><meta name="date" content="2024-03-05">
        <link rel="canonical" href="https://planet.example/budget"></head>
        <body><nav>Home | Sports | Weather</nav><article><h1>Council Approves Budget</h1>
        <p>The city council approved the new budget on Tuesday after a long debate in the chamber.</p>
        <p>The mayor said taxes would not rise next year, and that schools would get more money.</p>
        <p>Subscribe to our newsletter</p></article><footer>Copyright 2024</footer></body></html>""",
        encoding="utf-8",
    )
    [art] = load(p)
    assert isinstance(art, Article), art
    assert art.source == "Daily Planet" and art.published_at == "2024-03-05"
    assert art.url == "https://planet.example/budget"
    assert "approved the new budget" in art.text and "Subscribe" not in art.text and "Home | Sports" not in art.text


def test_jsonl_records_and_a_broken_line(tmp_path):
    p = tmp_path / "feed.jsonl"
    good = {"id": "n1", "title": "T1", "url": "https://x.example/1", "source": "X", "published_at": "2023-01-05", "text": STORY}
    p.write_text(json.dumps(good) + "\n{not json\n\n" + json.dumps({**good, "id": "n2"}) + "\n" + json.dumps({"id": "n3"}) + "\n")
    items = load(p)
    arts = [i for i in items if isinstance(i, Article)]
    skips = [i for i in items if isinstance(i, Skipped)]
    assert [a.id for a in arts] == ["n1", "n2"]
    assert arts[0].source == "X" and arts[0].published_at == "2023-01-05" and arts[0].url.endswith("/1")
    assert [s.source for s in skips] == [f"{p}:2", f"{p}:5"]
    assert "not valid JSON" in skips[0].reason and "no 'text'" in skips[1].reason


def test_json_list_and_wrong_types(tmp_path):
    p = tmp_path / "a.json"
    p.write_text(json.dumps([{"id": 7, "text": STORY}, {"id": "b", "text": ["not", "a", "string"]}, "x"]))
    items = load(p)
    assert isinstance(items[0], Article) and items[0].id == "7"
    assert isinstance(items[1], Skipped) and "must be a string" in items[1].reason
    assert isinstance(items[2], Skipped) and "expected a JSON object" in items[2].reason


def test_bad_files_are_named_with_their_problem(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "blank.txt").write_text("  \n\n ")
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (tmp_path / "latin1.txt").write_bytes("Le café était fermé mardi. Les clients sont partis.".encode("latin-1"))
    (tmp_path / "only-boilerplate.txt").write_text("Read more\n\nAdvertisement\n")
    reasons = {p.name: load(p)[0] for p in sorted(tmp_path.iterdir())}
    assert all(isinstance(r, Skipped) for r in reasons.values())
    assert reasons["empty.txt"].reason == "empty file"
    assert reasons["blank.txt"].reason == "empty file"
    assert reasons["image.txt"].reason == "binary file, not text"
    assert "not valid utf-8" in reasons["latin1.txt"].reason and "--encoding" in reasons["latin1.txt"].reason
    assert "no article text" in reasons["only-boilerplate.txt"].reason
    assert all(str(tmp_path) in r.source for r in reasons.values())


def test_encoding_option_reads_latin1(tmp_path):
    p = tmp_path / "latin1.txt"
    p.write_bytes("Le café était fermé mardi. Les clients sont partis.".encode("latin-1"))
    [art] = load(p, encoding="latin-1")
    assert isinstance(art, Article) and "café" in art.text


def test_discover_recurses_and_reports_unusable(tmp_path):
    (tmp_path / "sub" / "deeper").mkdir(parents=True)
    (tmp_path / "sub" / "deeper" / "a.txt").write_text(STORY)
    (tmp_path / "b.md").write_text(STORY)
    (tmp_path / "c.pdf").write_bytes(b"%PDF")
    (tmp_path / ".hidden.txt").write_text(STORY)
    (tmp_path / "nothing").mkdir()
    found = list(discover([tmp_path, tmp_path / "missing.txt"]))
    files = sorted(p.name for p in found if not isinstance(p, Skipped))
    skipped = {s.source: s.reason for s in found if isinstance(s, Skipped)}
    assert files == ["a.txt", "b.md"]
    assert "unsupported file type" in skipped[str(tmp_path / "c.pdf")]
    assert "no such file" in skipped[str(tmp_path / "missing.txt")]
    assert list(discover([tmp_path / "nothing"]))[0].reason.startswith("folder holds no article files")


def test_a_jsonl_file_of_blank_characters_is_skipped_with_a_reason(tmp_path):
    """Found by the fuzz test: a file of one "\\x1c" (a separator Python counts as blank) yielded nothing."""
    path = tmp_path / "file.jsonl"
    path.write_bytes(b"\x1c\n \n\x1f")
    assert list(load_file(path)) == [Skipped(str(path), "no articles in the file (only blank lines)")]
