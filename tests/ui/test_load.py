"""A short run of the load test (bench/load.py) in CI: users against a real `rag serve` during an ingest."""

import json
import subprocess
import sys

import pytest
from conftest import ROOT, SHARED

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not (SHARED / "data" / "newsqa-dev" / "articles.jsonl").exists(), reason="needs ../shared/data")
def test_users_during_an_ingest_get_every_answer(tmp_path):
    pytest.importorskip("gradio_client")
    out = tmp_path / "load.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.load", "--users", "6", "--seconds", "20", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert out.exists(), done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert report["requests"] >= 6 and report["errors"] == 0 and report["lost"] == 0, report
    assert report["answers"] == report["requests"]
    assert report["concurrent_ingest"]["returncode"] == 0, report["concurrent_ingest"]
    assert report["new_article_found_after_ingest"]["cited"] == ["dev-0000"]
    assert done.returncode == 0
