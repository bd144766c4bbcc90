"""End to end with the real embedding model and the extractive generator: seed questions through `rag.query` and the CLI."""

import json

import pytest
from conftest import SHARED

import rag
from core.errors import ConfigError, InputError, StoreNotFoundError
from ui.cli import main as cli

QA = [json.loads(line) for line in (SHARED / "data" / "seeds-dev-qa.jsonl").read_text().splitlines() if line.strip()]


def contains_terms(text, must_include):
    low = text.lower()
    return all(any(alt.lower() in low for alt in alts) for alts in must_include)


@pytest.mark.parametrize("item", [q for q in QA if q["type"] != "null"], ids=lambda q: q["id"])
def test_answerable_seed_questions(seed_store, item):
    answer = rag.query(item["question"], store=seed_store, generator="extractive")
    assert not answer.refused, answer.text
    assert contains_terms(answer.text, item["must_include"]), answer.text
    assert answer.citations
    for c in answer.citations:
        article = rag.get_article(c.doc_id, store=seed_store)
        assert article.text[c.start : c.end] == c.quote
        assert f"[{c.n}]" in answer.text
    assert answer.generator == "extractive" and answer.passages


@pytest.mark.parametrize("item", [q for q in QA if q["type"] == "null"], ids=lambda q: q["id"])
def test_unanswerable_seed_questions_are_refused(seed_store, item):
    answer = rag.query(item["question"], store=seed_store, generator="extractive")
    assert answer.refused and not answer.citations


@pytest.mark.parametrize(
    "question",
    [
        "What is the population of Brazil?",
        "Who won the 2018 FIFA World Cup final?",
        "What did Angela Merkel say about the invasion?",
    ],
)
def test_unrelated_questions_are_refused(seed_store, question):
    assert rag.query(question, store=seed_store, generator="extractive").refused


def test_bad_questions_and_settings(seed_store, tmp_path):
    with pytest.raises(InputError, match="empty"):
        rag.query("   \n", store=seed_store, generator="extractive")
    with pytest.raises(InputError, match="limit"):
        rag.query("why " * 1000, store=seed_store, generator="extractive")
    with pytest.raises(ConfigError):
        rag.query("Where is Moscow?", store=seed_store, top_k=0, generator="extractive")
    with pytest.raises(StoreNotFoundError):
        rag.query("Where is Moscow?", store=tmp_path / "empty")


def test_cli_query_json(seed_store, capsys):
    assert cli(["query", "Which Ukrainian regions did Putin decree annexed in 2022?", "--store", str(seed_store), "--json", "--generator", "extractive"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"answer", "refused", "claims", "citations"}
    assert out["refused"] is False and "Donetsk" in out["answer"]
    fields = {"n", "doc_id", "title", "source", "url", "published_at", "date_inferred", "quote", "start", "end", "score"}
    assert all(set(c) == fields for c in out["citations"])
    assert out["claims"][0]["kind"] == "quote" and out["claims"][0]["citations"] == [1]
    assert out["citations"][0]["published_at"] == "2022-02" and out["citations"][0]["date_inferred"] is True  # the seed files are undated


def test_cli_query_text_and_errors(seed_store, tmp_path, capsys):
    assert cli(["query", "How much of Ukraine's territory does Russia hold?", "--store", str(seed_store), "--generator", "extractive"]) == 0
    out = capsys.readouterr().out
    assert "one fifth" in out and "Sources:" in out and "[1]" in out
    assert cli(["query", "anything", "--store", str(tmp_path / "none")]) == 2
    assert "rag ingest" in capsys.readouterr().err


def test_cli_chat_reads_questions_until_eof(seed_store, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("How many people were injured or killed in the war?\n\n"))
    assert cli(["chat", "--store", str(seed_store), "--generator", "extractive"]) == 0
    assert "1.2 million" in capsys.readouterr().out


def test_cli_list_and_delete(tmp_path, seeds_copy, capsys):
    store = str(tmp_path / "s")
    assert cli(["ingest", str(seeds_copy), "--store", store]) == 0
    capsys.readouterr()
    assert cli(["list", "--store", store, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {a["id"] for a in listed} == {"000_c0fd83c34287717f.txt", "004_2c59799eda60ed9b.txt"}
    assert cli(["delete", "000_c0fd83c34287717f.txt", "--store", store]) == 0
    assert cli(["delete", "000_c0fd83c34287717f.txt", "--store", store]) == 1


def test_extractive_chat_follow_up_and_a_comparison_with_the_real_models(seed_store):
    from rag import Chat

    chat = Chat(rag.engine(seed_store, generator="extractive"))
    first = chat.ask("At what event did Putin promise to guarantee Zelensky's security in Moscow?")
    assert "Economic Forum" in first.text  # the sentence after the one about the promise
    follow = chat.ask("And what did he say about foreign troops?")
    assert "legitimate targets" in follow.text and not follow.refused
    compare = chat.ask("How do the casualty figures in the two articles differ?")
    assert {c.doc_id for c in compare.citations} == {"000_c0fd83c34287717f.txt", "004_2c59799eda60ed9b.txt"}
    assert "1.2 million" in compare.text and "13,000" in compare.text
