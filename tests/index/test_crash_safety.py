"""An ingest killed with SIGKILL at random moments, then re-run, leaves exactly what one clean ingest leaves."""

import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import ROOT, SHARED

from core.errors import StoreError, StoreNotFoundError
from index import HashEmbedder, open_store
from index.store.connection import forget_cached_client as _forget_cached_client

ARTICLES = SHARED / "data" / "newsqa-dev" / "articles.jsonl"
TRIALS = 10

# The hash embedder takes 4 ms per text here, like a real model, and says when each group starts,
# so that kills can be aimed at every stage: start-up, embedding, writing, the keyword index.
INGEST = """
import sys, time
from index import HashEmbedder, ingest

class Slow(HashEmbedder):
    def embed(self, texts):
        print("embed", len(texts), flush=True)
        time.sleep(0.004 * len(texts))
        return super().embed(texts)

report = ingest([sys.argv[1]], store=sys.argv[2], embedder=Slow())
print("done", len(report.added), report.chunks_written, flush=True)
"""


def run_ingest(store, *, kill_at: tuple[int, float] | None = None) -> tuple[int, str]:
    """Run an ingest; with `kill_at=(n, seconds)`, SIGKILL it `seconds` after its n-th embedding group starts."""
    proc = subprocess.Popen(
        [sys.executable, "-c", INGEST, str(ARTICLES), str(store)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    seen = []
    if kill_at is not None:
        marker, delay = kill_at
        while marker and len(seen) < marker:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, "".join(seen) + out + err


def fresh(store):
    """The store as a new process opens it (Chroma caches one reader per path and process)."""
    _forget_cached_client(store)
    return open_store(store, HashEmbedder())


def snapshot(store) -> dict:
    db = fresh(store)
    ids, texts, _ = db.all_chunks()
    articles = {a.id: (a.chunks, a.title) for a in db.list_articles()}
    fingerprints = db.fingerprints(list(articles))
    return {"ids": ids, "texts": texts, "articles": articles, "fingerprints": fingerprints, "count": db.count()}


@pytest.mark.slow
@pytest.mark.skipif(not ARTICLES.exists(), reason="needs ../shared/data/newsqa-dev")
def test_sigkill_at_random_moments_then_rerun_equals_a_clean_ingest(tmp_path):
    code, out = run_ingest(tmp_path / "clean")
    assert code == 0, out
    groups = out.count("embed ")
    assert groups >= 2, out
    clean = snapshot(tmp_path / "clean")
    assert len(clean["articles"]) == 60 and clean["count"] == len(clean["ids"]) > 300
    assert len(set(clean["ids"])) == len(clean["ids"])

    rng = random.Random(20261123)
    killed, killed_mid_way, unreadable = 0, 0, 0
    for trial in range(TRIALS):
        store = tmp_path / f"trial-{trial}"
        # Spread the kills: start-up (marker 0), the first group's embedding (1), and most while the last
        # group is embedded and the ones before it written (groups), or the keyword index built after that.
        marker = (0, 1, groups, groups)[trial % 4]
        delay = rng.uniform(0.3, 2.0) if marker == 0 else rng.uniform(0.0, 1.5)
        code, out = run_ingest(store, kill_at=(marker, delay))
        if code == -signal.SIGKILL:
            killed += 1
            try:
                partial = len(fresh(store).list_articles())
            except StoreNotFoundError:  # killed before anything was written
                partial = 0
            except StoreError as err:  # chunks recorded, vector index not yet on disk: readers are told to re-run
                assert "If an ingest was interrupted, run it again" in str(err)
                unreadable += 1
                partial = 1
            killed_mid_way += 0 < partial < 60
        code, out = run_ingest(store)
        assert code == 0, f"trial {trial} (killed after {delay:.2f} s): the re-run failed: {out[-2000:]}"
        again = snapshot(store)
        assert again == clean, f"trial {trial}: the store differs from a clean ingest"
        # The vector index holds every chunk: each chunk's own vector finds it first.
        db = fresh(store)
        sample = rng.sample(clean["ids"], 5)
        vectors = db.get_embeddings(sample)
        for cid in sample:
            assert db.search(np.asarray(vectors[cid]), top_k=1)[0].chunk.id == cid
    print(f"{TRIALS} trials: {killed} killed before finishing, {killed_mid_way} with some chunks written "
          f"({unreadable} refused to readers until the re-run), all equal to a clean ingest after the re-run")
    assert killed >= TRIALS - 2, f"only {killed} of {TRIALS} ingests were killed before they finished"
    assert killed_mid_way >= 1, f"{killed_mid_way} kills landed between the first and the last article written"
