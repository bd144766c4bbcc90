"""`rag eval` and `rag judge` end to end on the seed questions, with thresholds as CI uses them."""

import json

import pytest
from conftest import ROOT, SEEDS, SHARED

from ui.cli import main as cli

SEED_QA = SHARED / "data" / "seeds-dev-qa.jsonl"
PAIRS = SHARED / "data" / "support-judge-dev.jsonl"


def test_eval_prints_the_metrics_writes_the_report_and_names_the_graders(tmp_path, capsys):
    """The mechanics, not a figure: every design of this project was tried on the seed questions, so no
    quality figure is pinned on them. What holds by construction is pinned: every quote is exact."""
    code = cli(["eval", str(SEED_QA), "--articles", str(SEEDS), "--generator", "extractive", "--out", str(tmp_path), "--json",
                "--min", "claims_exact=1.0"])  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    metrics = json.loads(out.out)
    from eval import METRICS

    assert list(metrics) == list(METRICS)
    assert 0.0 <= metrics["answer_correct"] <= 1.0 and -1.0 <= metrics["truthfulness"] <= 1.0
    report = json.loads((tmp_path / "report.json").read_text())
    assert len(report["questions"]) == 6 and all("claim_grades" in q and "truthfulness" in q for q in report["questions"])
    assert report["config"]["graders"]["quote"] == "exact" and report["config"]["self_graded"] is False
    text = (tmp_path / "report.md").read_text()
    assert "Graders: quote: exact; phrase: exact; sentence: " in text and "## Failures by kind" in text


def test_eval_fails_when_a_metric_is_short(capsys):
    code = cli(["eval", str(SEED_QA), "--articles", str(SEEDS), "--generator", "extractive", "--top-k", "1", "--json", "--min", "latency_p50_s=1000"])
    assert code == 1
    assert "FAILED: latency_p50_s" in capsys.readouterr().err


def test_eval_rejects_an_unknown_metric(capsys):
    assert cli(["eval", str(SEED_QA), "--articles", str(SEEDS), "--min", "accuracy=1"]) == 2
    assert "--min wants METRIC=VALUE" in capsys.readouterr().err


def test_judge_prints_the_four_figures(capsys):
    """Measured on the 17 dev pairs the lexical judge's rules were written on: only the figures' presence is pinned."""
    assert cli(["judge", str(PAIRS), "--json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert set(figures) == {"accuracy", "balanced_accuracy", "precision", "recall"}
    assert all(0.0 <= v <= 1.0 for v in figures.values())


def test_the_entailment_judge_on_pairs_written_blind_to_it(capsys):
    """A figure pinned on data no rule or threshold was chosen on: the pairs written blind to the judges
    (docs/judges.md measured 0.672 balanced accuracy on this set; the floor leaves room for CPU-kernel noise)."""
    assert cli(["judge", str(ROOT / "eval" / "data" / "support-pairs-heldout3.jsonl"), "--judge", "nli", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["balanced_accuracy"] >= 0.6


@pytest.mark.slow
def test_eval_with_the_local_llm_grades_its_claims_exactly(capsys):
    pytest.importorskip("llama_cpp", reason="install the llm extra")
    code = cli(["eval", str(SEED_QA), "--articles", str(SEEDS), "--generator", "local", "--json", "--min", "claims_exact=1.0"])
    out = capsys.readouterr()
    assert code == 0, out.err
    metrics = json.loads(out.out)
    assert metrics["unsupported_claims"] == 0.0 and metrics["direct_answer"] is not None


def test_pairs_can_cite_their_passage_by_place(tmp_path):
    """Pairs built from articles that may not be copied carry the passage's place, not its text."""
    import hashlib

    from core.errors import InputError
    from eval.judging import load_pairs

    text = "Lawmakers met on Monday. The harbour of Brest reopened after the storm. Nothing else."
    (tmp_path / "arts").mkdir()
    (tmp_path / "arts" / "a.jsonl").write_text(json.dumps({"id": "a1", "title": "t", "text": text}) + "\n")
    (tmp_path / "arts" / "b.txt").write_text(text)
    start, end = text.index("The harbour"), text.index(" Nothing")
    sha = hashlib.sha1(text[start:end].encode()).hexdigest()[:12]
    refs = [
        {"file": "arts/a.jsonl", "id": "a1", "start": start, "end": end, "sha1": sha},
        {"file": "arts/b.txt", "start": start, "end": end},
    ]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps({"claim": "Brest's harbour reopened.", "label": "supported", "passage_ref": r}) + "\n" for r in refs))
    assert [p["passage"] for p in load_pairs(pairs)] == ["The harbour of Brest reopened after the storm."] * 2

    for bad, message in [
        ({**refs[0], "file": "arts/missing.jsonl"}, "which is not here"),
        ({**refs[0], "id": "zz"}, "no article 'zz'"),
        ({**refs[0], "start": end}, "offsets into the text"),
        ({**refs[0], "start": start + 1, "end": end + 1}, "sha1 differs"),
    ]:
        pairs.write_text(json.dumps({"claim": "c", "label": "supported", "passage_ref": bad}) + "\n")
        with pytest.raises(InputError, match=message) as err:
            load_pairs(pairs)
        assert "line 1" in str(err.value)


@pytest.mark.parametrize("name, least", [("built", 70), ("heldout", 50), ("heldout2", 60), ("heldout3", 60)])
def test_the_pair_files_resolve_to_their_passages(name, least):
    from eval.judging import load_pairs

    pairs = load_pairs(ROOT / "eval" / "data" / f"support-pairs-{name}.jsonl")
    assert len(pairs) >= least and all(len(p["passage"]) > 40 for p in pairs)
    assert {p["label"] for p in pairs} == {"supported", "unsupported"}
    assert len({p["id"] for p in pairs}) == len(pairs)
