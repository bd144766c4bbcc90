"""The ONNX INT8 embedder against the PyTorch model it was exported from, and chunk sizes in model tokens."""

import numpy as np
import pytest

from core.errors import ConfigError
from index import ChunkingConfig, OnnxEmbedder, SentenceTransformerEmbedder, ingest, make_embedder, open_store
from index.pipeline import TITLE_TOKENS

TEXTS = [
    "Russian President Vladimir Putin said he was ready to meet Ukraine's Volodymyr Zelensky in Moscow.",
    "The Federal Reserve raised interest rates by a quarter point on Wednesday, its tenth increase.",
    "Floods in Pakistan have killed more than 1,100 people since June, officials said.",
    "A short one",
    "Apple unveiled a new iPhone with a faster chip and a better camera at its September event. " * 6,
]
QUERIES = ["Where did Putin offer to meet Zelensky?", "How many people died in the Pakistan floods?"]


@pytest.fixture(scope="module")
def torch_minilm():
    return SentenceTransformerEmbedder()


@pytest.mark.slow
def test_onnx_int8_matches_pytorch_model(minilm, torch_minilm):
    assert isinstance(minilm, OnnxEmbedder) and minilm.name.endswith("(onnx-int8)")
    fast, ref = minilm.embed(TEXTS), torch_minilm.embed(TEXTS)
    assert fast.shape == ref.shape == (len(TEXTS), 384) and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-4)
    cosine = (fast * ref).sum(axis=1)
    assert cosine.min() > 0.97, cosine
    # Same nearest passage for each question as the PyTorch model.
    for q, want in zip(QUERIES, (0, 2)):
        assert int(np.argmax(fast @ minilm.embed([q])[0])) == want
        assert int(np.argmax(ref @ torch_minilm.embed([q])[0])) == want


@pytest.mark.slow
def test_length_sorted_batches_do_not_mix_up_rows(minilm):
    together = minilm.embed(TEXTS)
    alone = np.vstack([minilm.embed([t]) for t in TEXTS])
    # INT8 activations are scaled per batch, so a vector moves slightly with its batch; never to another row.
    similarity = together @ alone.T
    assert np.diag(similarity).min() > 0.98, np.diag(similarity)
    assert list(similarity.argmax(axis=1)) == list(range(len(TEXTS)))
    assert minilm.embed([]).shape == (0, 384)


@pytest.mark.slow
def test_overlong_query_is_cut_to_the_window_not_an_error(minilm):
    vector = minilm.embed(["word " * 50_000])
    assert vector.shape == (1, 384) and np.isfinite(vector).all()


def test_make_embedder_names(monkeypatch, rag_env):
    assert isinstance(make_embedder("onnx"), OnnxEmbedder)
    assert isinstance(make_embedder("torch"), SentenceTransformerEmbedder)
    rag_env("RAG_EMBEDDER", "torch")
    assert isinstance(make_embedder(), SentenceTransformerEmbedder)
    with pytest.raises(ConfigError, match="unknown embedder 'bert'.*onnx, torch"):
        make_embedder("bert")


def test_export_is_cached_and_reused(minilm, tmp_path):
    path = minilm.onnx_file()
    stamp = path.stat().st_mtime_ns
    again = OnnxEmbedder()
    assert again.onnx_file() == path and path.stat().st_mtime_ns == stamp


class Recording:
    """The real embedder, keeping every text it was asked to embed."""

    def __init__(self, inner):
        self.inner, self.seen = inner, []
        self.name, self.dim, self.max_tokens = inner.name, inner.dim, inner.max_tokens

    def count_tokens(self, texts):
        return self.inner.count_tokens(texts)

    def embed(self, texts):
        self.seen += list(texts)
        return self.inner.embed(texts)


@pytest.mark.slow
def test_no_chunk_is_longer_than_the_model_window(tmp_path, minilm, seeds_copy):
    """Every text sent to the model fits its window in the model's own tokens, so nothing is cut off silently."""
    hard = tmp_path / "hard"
    hard.mkdir()
    words = " ".join(f"Zelenskyy{i} counter-offensive 1,234,567.89%" for i in range(400))  # one 2,400-word "sentence"
    url = "https://example.com/" + "x" * 3000  # one "word" of ~800 tokens
    title = "A very long headline about " + "Kharkiv reconstruction funding " * 20
    (hard / "long.md").write_text(f"# {title}\n\n{words}\n\n{url}\n\nA normal closing sentence.\n", encoding="utf-8")
    recorder = Recording(minilm)
    for chunk_size in (254, 128):
        store = tmp_path / f"store-{chunk_size}"
        report = ingest([seeds_copy, hard], store=store, embedder=recorder, chunking=ChunkingConfig(chunk_size, 20))
        assert report.ok and len(report.added) == 3
        lengths = minilm.count_tokens(recorder.seen)
        assert max(lengths) + 2 <= minilm.max_tokens == 256
        db = open_store(store, minilm)
        for info in db.list_articles():
            article, chunks = db.get_article(info.id), db.chunks_of(info.id)
            assert max(minilm.count_tokens([c.text for c in chunks])) <= chunk_size
            # The chunks cover the whole article: every character outside them is white space.
            covered = bytearray(len(article.text))
            for c in chunks:
                covered[c.start : c.end] = b"\x01" * (c.end - c.start)
            assert all(ch.isspace() for ch, on in zip(article.text, covered) if not on)
        long_title = [t for t in recorder.seen if t.startswith("A very long headline")]
        assert long_title and all(minilm.count_tokens([t.split("\n")[0]])[0] <= TITLE_TOKENS for t in long_title)
        recorder.seen.clear()


def test_chunk_size_beyond_the_window_is_refused(tmp_path, minilm, seeds_copy):
    with pytest.raises(ConfigError, match="exceeds what .* can embed .*--chunk-size 254"):
        ingest([seeds_copy], store=tmp_path / "s", embedder=minilm, chunking=ChunkingConfig(chunk_size=300, chunk_overlap=20))


def test_a_model_folder_without_its_window_is_refused(tmp_path):
    """Without max_seq_length the tokens the model reads are unknown: chunks could be cut silently."""
    import shutil

    from core.errors import ModelError
    from index.embedding import default_model_path

    folder = tmp_path / "model"
    shutil.copytree(default_model_path(), folder)
    (folder / "sentence_bert_config.json").unlink()
    with pytest.raises(ModelError, match="max_seq_length"):
        SentenceTransformerEmbedder(folder)
