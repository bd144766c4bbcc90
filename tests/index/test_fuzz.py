"""Bad input, fuzzed (hypothesis): the loaders and `query` answer, skip cleanly or raise a clear error; nothing else."""

import json
import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.errors import InputError
from index import ChunkingConfig, HashEmbedder, chunk_article, ingest
from index.chunking import word_counter
from index.loaders import SUPPORTED_SUFFIXES, Skipped, load_file
from index.types import Article
from rag.engine import MAX_QUESTION_CHARS, QueryEngine
from rag.types import Answer

SUFFIXES = sorted(SUPPORTED_SUFFIXES)
ODD = "\u200b\u200c\u200d\u2060\ufeff\u00ad\x00\x01\x07\x1b\x7f\u202e\ud7ff\ue000\U0001f600é中\r\t"

odd_text = st.text(alphabet=st.sampled_from(ODD) | st.characters(), max_size=400)
json_leaf = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | odd_text
json_value = st.recursive(json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(odd_text, inner, max_size=4), max_leaves=20)
record = st.fixed_dictionaries(
    {},
    optional={k: json_value for k in ("id", "title", "url", "source", "published_at", "text")},
)


def check_loaded(items, path):
    assert items, f"{path}: nothing yielded"
    for item in items:
        assert isinstance(item, (Article, Skipped)), item
        if isinstance(item, Skipped):
            assert item.reason and item.source
        else:
            assert item.text.strip() and item.id and len(item.id) <= 512
            # Chunking keeps exact offsets whatever the characters.
            for chunk in chunk_article(item, ChunkingConfig(chunk_size=32, chunk_overlap=8), word_counter):
                assert item.text[chunk.start : chunk.end] == chunk.text


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("fuzz") / f"file{suffix}"
    path.write_bytes(data)
    check_loaded(list(load_file(path)), path)


@FUZZ
@given(text=odd_text, suffix=st.sampled_from(SUFFIXES), encoding=st.sampled_from(["utf-8", "utf-16", "latin-1", "cp1252"]))
def test_odd_characters_and_mixed_encodings(tmp_path_factory, text, suffix, encoding):
    path = tmp_path_factory.mktemp("fuzz") / f"file{suffix}"
    path.write_bytes(("Headline\n\n" + text).encode(encoding, errors="replace") + "€ naïve".encode())
    check_loaded(list(load_file(path)), path)


@FUZZ
@given(records=st.lists(record | json_value, max_size=5))
def test_wrong_typed_json_records(tmp_path_factory, records):
    folder = tmp_path_factory.mktemp("fuzz")
    (folder / "a.json").write_text(json.dumps(records), encoding="utf-8")
    (folder / "a.jsonl").write_text("\n".join(json.dumps(r) for r in records) or "{}", encoding="utf-8")
    for path in folder.iterdir():
        check_loaded(list(load_file(path)), path)


@pytest.mark.parametrize("depth", [50, 5_000, 200_000])
def test_deeply_nested_json_is_skipped_not_a_crash(tmp_path, depth):
    for suffix in (".json", ".jsonl"):
        path = tmp_path / f"deep{suffix}"
        path.write_text("[" * depth + "]" * depth + "\n" + '{"text": ' + "[" * depth + "]" * depth + "}", encoding="utf-8")
        items = list(load_file(path))
        check_loaded(items, path)
        assert all(isinstance(i, Skipped) for i in items)


def test_huge_single_line_and_50_mb_file_with_bounded_memory(tmp_path):
    line = tmp_path / "line.txt"
    line.write_text("Headline\n\n" + ("word " * 1_000_000), encoding="utf-8")  # one 5 MB line
    big = tmp_path / "big.jsonl"
    with big.open("w", encoding="utf-8") as f:
        row = json.dumps({"text": "The council met on Monday to discuss the budget. " * 200}) + "\n"
        while f.tell() < 50 * 2**20:
            f.write(row)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    items = list(load_file(line)) + [i for i in load_file(big)][:3]
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert isinstance(items[0], Article) and len(items[0].text) > 4_000_000
    assert all(isinstance(i, Article) for i in items)
    assert grown_mb < 800, f"loading grew memory by {grown_mb:.0f} MB"
    chunks = chunk_article(items[0], ChunkingConfig(chunk_size=128, chunk_overlap=0), word_counter)
    assert max(len(c.text.split()) for c in chunks) <= 128


@pytest.fixture(scope="module")
def fuzz_engine(tmp_path_factory):
    from conftest import SEEDS

    store = tmp_path_factory.mktemp("fuzz-store") / "store"
    ingest([SEEDS], store=store, embedder=HashEmbedder())
    return QueryEngine.from_store(store, embedder=HashEmbedder(), generator="extractive")


@FUZZ
@given(question=odd_text | st.sampled_from(["", " ", "\x00", "\u200b" * 50, "?" * 5, "x" * (MAX_QUESTION_CHARS + 1)]))
def test_query_answers_or_says_what_is_wrong(fuzz_engine, question):
    try:
        answer = fuzz_engine.query(question)
    except InputError as err:
        assert str(err)
        return
    assert isinstance(answer, Answer)
    assert answer.refused or answer.citations


def test_100k_character_question_is_refused_with_the_limit(fuzz_engine):
    with pytest.raises(InputError, match=f"the limit is {MAX_QUESTION_CHARS}"):
        fuzz_engine.query("Where did Putin invite Zelensky? " * 3000)
