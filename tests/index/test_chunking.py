import pytest

from core.errors import ConfigError
from index.chunking import ChunkingConfig, chunk_article, word_counter
from index.types import Article


def make_article(n_sentences=40):
    text = " ".join(f"Sentence number {i} talks about topic {i % 7} in some detail." for i in range(n_sentences))
    return Article(id="a.txt", text=text, title="T")


def test_chunks_are_exact_spans_within_the_size_limit():
    article = make_article()
    cfg = ChunkingConfig(chunk_size=40, chunk_overlap=10)
    chunks = chunk_article(article, cfg, word_counter)
    assert len(chunks) > 3
    for c in chunks:
        assert article.text[c.start : c.end] == c.text
        assert word_counter([c.text])[0] <= 40
        assert c.text.startswith("Sentence") and c.text.endswith(".")  # whole sentences
    assert [c.index for c in chunks] == list(range(len(chunks)))
    assert chunks[0].start == 0 and chunks[-1].end == len(article.text)


def test_consecutive_chunks_overlap_by_whole_sentences():
    chunks = chunk_article(make_article(), ChunkingConfig(chunk_size=40, chunk_overlap=10), word_counter)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end  # overlap
        assert a.text.endswith(b.text[: a.end - b.start])


def test_no_overlap_when_disabled():
    chunks = chunk_article(make_article(), ChunkingConfig(chunk_size=40, chunk_overlap=0), word_counter)
    for a, b in zip(chunks, chunks[1:]):
        assert b.start > a.end


def test_a_sentence_longer_than_a_chunk_is_split_at_spaces():
    text = " ".join(["word"] * 100) + "."
    chunks = chunk_article(Article(id="x", text=text), ChunkingConfig(chunk_size=16, chunk_overlap=0), word_counter)
    assert len(chunks) == 7
    assert all(word_counter([c.text])[0] <= 16 and text[c.start : c.end] == c.text for c in chunks)


def test_real_tokenizer_never_exceeds_chunk_size(minilm):
    from pathlib import Path

    text = Path(__file__).parents[2].joinpath("seeds", "000_c0fd83c34287717f.txt").read_text()
    chunks = chunk_article(Article(id="s", text=text), ChunkingConfig(chunk_size=64, chunk_overlap=16), minilm.count_tokens)
    assert len(chunks) > 3
    assert max(minilm.count_tokens([c.text for c in chunks])) <= 64
    # The count the chunker carries (the sum of its sentences') is the tokenizer's count of the whole chunk.
    assert [c.tokens for c in chunks] == minilm.count_tokens([c.text for c in chunks])


@pytest.mark.parametrize(
    "size,overlap", [(8, 0), (10000, 0), (100, 60), (100, -1), ("100", 10), (100.0, 10)]
)
def test_invalid_settings_are_rejected(size, overlap):
    with pytest.raises(ConfigError):
        ChunkingConfig(chunk_size=size, chunk_overlap=overlap)


def test_chunks_carry_their_sentence_offsets_and_old_records_still_read():
    from index.store.records import _chunk_from_record, decode_spans, encode_spans

    article = make_article(12)
    for c in chunk_article(article, ChunkingConfig(chunk_size=40, chunk_overlap=10), word_counter):
        assert all(c.text[s:e].startswith("Sentence") and c.text[s:e].endswith(".") for s, e in c.sentences)
        assert decode_spans(encode_spans(c.sentences), len(c.text)) == c.sentences
        meta = {"doc_id": "a.txt", "index": c.index, "start": c.start, "end": c.end}
        old = _chunk_from_record(c.id, c.text, meta)  # a record written before offsets were stored
        assert old.sentences == () and old.sentence_spans() == c.sentences
    assert decode_spans("0:10 5:20", 30) == () and decode_spans("0:10 x", 30) == () and decode_spans("0:99", 30) == ()
