"""The LLM generator, the engine's streaming and the chat, with a scripted fake LLM."""

import pytest

from index import HashEmbedder, ingest
from rag import Answer, Chat, QueryEngine
from rag.generators import LLMGenerator, RankingConfig
from rag.llm.fake import ScriptedLLM
from rag.retrieval.rerank import OverlapCrossEncoder

STORM = (
    "Storm Closes Brest Harbour\n\n"
    "The harbour of Brest was closed on Friday after a storm damaged two piers. "
    "Officials said the harbour would reopen on Monday. "
    "About 40 fishing boats stayed in port during the closure."
)
PREFECT = (
    "Prefect Orders Evacuation\n\n"
    "The prefect of Finistère ordered the evacuation of 300 homes near the river on Saturday. "
    "Residents were allowed back on Sunday evening."
)


@pytest.fixture
def store(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "storm.txt").write_text(STORM)
    (tmp_path / "in" / "prefect.txt").write_text(PREFECT)
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    return tmp_path / "s"


def make_engine(store, llm, **options):
    embedder = HashEmbedder()
    gen = LLMGenerator(llm, embedder, OverlapCrossEncoder(), name="scripted", ranking=RankingConfig(min_score=0.3), **options)
    return QueryEngine.from_store(store, embedder=embedder, generator=gen)


def test_streams_the_draft_then_a_checked_answer(store):
    llm = ScriptedLLM(["The harbour would reopen on Monday [1]. The mayor resigned over it [1]."])
    events = list(make_engine(store, llm).stream("When will the harbour reopen?"))
    pieces, answer = events[:-1], events[-1]
    assert all(isinstance(p, str) for p in pieces) and len(pieces) > 3
    assert "".join(pieces).startswith("The harbour would reopen")
    assert isinstance(answer, Answer) and not answer.refused
    assert answer.text == "The harbour would reopen on Monday [1]."
    assert answer.unsupported == ("The mayor resigned over it.",)
    assert answer.citations[0].doc_id == "storm.txt" and answer.citations[0].quote == "Officials said the harbour would reopen on Monday."
    assert answer.generator == "scripted" and answer.passages


def test_prompt_has_numbered_sources_with_titles_and_a_worked_example(store):
    llm = ScriptedLLM(["About 40 fishing boats stayed in port [1]."])
    make_engine(store, llm).query("How many fishing boats stayed in port?")
    system, user = llm.calls[0]
    assert system.role == "system" and "Example:" in system.content and "The articles don't say." in system.content
    assert "[1] (Storm Closes Brest Harbour) About 40 fishing boats stayed in port during the closure." in user.content
    assert user.content.rstrip().endswith("Question: How many fishing boats stayed in port?\nAnswer:")


def test_unanswerable_question_is_refused_without_calling_the_model(store):
    llm = ScriptedLLM(["Canberra is the capital of Australia [1]."])
    answer = make_engine(store, llm).query("What is the capital of Australia?")
    assert answer.refused and llm.calls == []


def test_model_answer_from_its_own_knowledge_never_reaches_the_answer(store):
    llm = ScriptedLLM(["The storm was named Ciarán and killed 12 people in England [1]."])
    answer = make_engine(store, llm).query("What happened to the harbour of Brest in the storm?")
    assert answer.unsupported == ("The storm was named Ciarán and killed 12 people in England.",)
    assert "Ciarán" not in answer.text and "12" not in answer.text
    # The sources do answer the question: their best sentence is quoted instead.
    assert not answer.refused and answer.citations[0].quote.startswith("The harbour of Brest was closed on Friday")


def test_a_model_refusal_is_overruled_only_when_the_ranker_is_sure(store):
    """Calibrated refusal: the model's "don't say" stands unless a sentence scores at least overrule_refusal."""
    question = "Why were the piers of Brest damaged?"
    events = list(make_engine(store, ScriptedLLM(["The articles don't say."]), overrule_refusal=0.8).stream(question))
    answer = events[-1]
    assert not answer.refused and "storm damaged two piers" in answer.text and answer.citations[0].doc_id == "storm.txt"
    assert "don't say" not in "".join(e for e in events if isinstance(e, str))  # the overruled refusal was never shown
    assert make_engine(store, ScriptedLLM(["The articles don't say."]), overrule_refusal=0.99).query(question).refused


def test_model_refusal_is_a_refusal(store):
    answer = make_engine(store, ScriptedLLM(["The articles don't say."]), overrule_refusal=None).query("Why were the piers of Brest damaged?")
    assert answer.refused and answer.text == "The articles don't say."


def test_chat_rewrites_follow_ups_and_cites_articles_not_turns(store):
    replies = {
        "first": "The prefect of Finistère ordered the evacuation of 300 homes [1].",
        "rewrite": "When were residents allowed back after the evacuation ordered by the prefect?",
        "second": "Residents were allowed back on Sunday evening [1].",
    }

    def reply(messages):
        if messages[0].content.startswith("Rewrite"):
            return replies["rewrite"]
        return replies["second"] if "allowed back" in messages[-1].content.split("Question:")[-1] else replies["first"]

    llm = ScriptedLLM(reply)
    chat = Chat(make_engine(store, llm), rewriter=llm)
    first = chat.ask("Who ordered the evacuation of homes near the river?")
    assert not first.refused and "300 homes" in first.text
    second = chat.ask("And when were they allowed back?")
    assert second.question == "And when were they allowed back?"
    assert chat.history[-1].standalone == replies["rewrite"]
    assert not second.refused and "Sunday evening" in second.text
    assert all(c.doc_id == "prefect.txt" for c in second.citations)
    assert second.citations[0].quote == "Residents were allowed back on Sunday evening."


def test_chat_without_llm_adds_the_previous_question():
    chat = Chat.__new__(Chat)
    chat.history, chat.rewriter, chat.max_turns = [], None, 3
    from rag.chat import Turn

    chat.history.append(Turn("Who closed the harbour of Brest?", "Who closed the harbour of Brest?", Answer("x", False)))
    # The follow-up comes last: the ranker reads it as the sentence that asks.
    assert chat.standalone("And when will it reopen?") == "Who closed the harbour of Brest? And when will it reopen?"
    assert chat.standalone("How many boats stayed in port at Brest?") == "How many boats stayed in port at Brest?"


def test_a_draft_the_checker_rejects_entirely_falls_back_to_quoting_the_sources(store):
    llm = ScriptedLLM(["The port was shut by a hurricane that sank the mayor's yacht [1]."])
    answer = make_engine(store, llm).query("When will the harbour reopen?")
    assert not answer.refused
    assert answer.unsupported == ("The port was shut by a hurricane that sank the mayor's yacht.",)
    assert answer.citations[0].quote == "Officials said the harbour would reopen on Monday."
    assert answer.text.startswith("Officials said the harbour would reopen on Monday. [1]")
    assert answer.generator == "scripted"


def test_the_models_own_refusal_is_kept(store):
    llm = ScriptedLLM(["The articles don't say."])
    assert make_engine(store, llm, overrule_refusal=None).query("When will the harbour reopen?").refused
    embedder = HashEmbedder()
    strict = LLMGenerator(ScriptedLLM(["A hurricane sank the mayor's yacht [1]."]), embedder, OverlapCrossEncoder(),
                          ranking=RankingConfig(min_score=0.3), quote_fallback=False)  # fmt: skip
    assert QueryEngine.from_store(store, embedder=embedder, generator=strict).query("When will the harbour reopen?").refused


def make_retrying_engine(store, llm, retry):
    embedder = HashEmbedder()
    gen = LLMGenerator(llm, embedder, OverlapCrossEncoder(), name="scripted", ranking=RankingConfig(min_score=0.3),
                       retry_refusals=retry, overrule_refusal=None)  # fmt: skip
    return QueryEngine.from_store(store, embedder=embedder, generator=gen)


def test_a_refusal_is_asked_again_when_the_ranker_found_an_answer(store):
    """Calibrated refusal: the model's first "don't say" is not taken when the sources hold a likely answer."""
    llm = ScriptedLLM(["The articles don't say.", "The harbour would reopen on Monday [1]."])
    events = list(make_retrying_engine(store, llm, retry=0.3).stream("When will the harbour reopen?"))
    answer = events[-1]
    assert not answer.refused and answer.text == "The harbour would reopen on Monday [1]."
    assert len(llm.calls) == 2 and "one of them answers the question" in llm.calls[1][1].content
    shown = "".join(e for e in events if isinstance(e, str))
    assert "don't say" not in shown  # the refusal that did not stand was never shown


def test_the_refusal_stands_when_the_second_draft_is_unsupported_or_retry_is_off(store):
    llm = ScriptedLLM(["The articles don't say.", "The mayor reopened the harbour on Sunday [1]."])
    answer = make_retrying_engine(store, llm, retry=0.3).query("When will the harbour reopen?")
    assert answer.refused and len(llm.calls) == 2
    llm = ScriptedLLM(["The articles don't say.", "The harbour would reopen on Monday [1]."])
    assert make_retrying_engine(store, llm, retry=None).query("When will the harbour reopen?").refused
    assert len(llm.calls) == 1
    llm = ScriptedLLM(["The articles don't say.", "The harbour would reopen on Monday [1]."])
    assert make_retrying_engine(store, llm, retry=1.4).query("When will the harbour reopen?").refused  # ranker not sure enough
    assert len(llm.calls) == 1


def test_an_answer_is_streamed_at_once_even_with_retry_on(store):
    llm = ScriptedLLM(["About 40 fishing boats stayed in port [1]."])
    events = list(make_retrying_engine(store, llm, retry=0.3).stream("How many fishing boats stayed in port?"))
    assert "".join(e for e in events if isinstance(e, str)) == "About 40 fishing boats stayed in port [1]."
    assert len(llm.calls) == 1 and not events[-1].refused


@pytest.fixture
def two_reports(tmp_path):
    """Two articles about one storm that disagree on the damage."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ap.txt").write_text(
        "Storm damage in Brest\n\nThe storm damaged two piers in the harbour of Brest, the port authority said. "
        "Fishing resumed on Tuesday.")  # fmt: skip
    (tmp_path / "in" / "ouest.txt").write_text(
        "Brest counts the cost\n\nLocal officials said the storm damaged five piers and a lighthouse in Brest. "
        "Repairs will take a month.")  # fmt: skip
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    return tmp_path / "s"


def test_a_comparison_question_shows_and_cites_both_articles(two_reports):
    def reply(messages) -> str:  # cites whichever sources it was shown
        user = messages[-1].content
        return " ".join(f"The storm damaged {n} piers [{k}]." for k, n in ((1, "two" if "two piers" in user.split("[2]")[0] else "five"),
                                                                          (2, "five" if "two piers" in user.split("[2]")[0] else "two")))  # fmt: skip

    llm = ScriptedLLM(reply)
    answer = make_engine(two_reports, llm).query("How do the two articles differ on how many piers the storm damaged?")
    user = llm.calls[0][1].content
    assert "two piers" in user and "five piers" in user
    assert not answer.refused and {c.doc_id for c in answer.citations} == {"ap.txt", "ouest.txt"}


def test_the_best_sentence_is_shown_with_its_neighbours_when_asked(store):
    question = "How many fishing boats stayed in port?"
    llm = ScriptedLLM(["About 40 fishing boats stayed in port [1]."] * 2)
    make_engine(store, llm).query(question)
    assert "Officials said the harbour would reopen on Monday." not in llm.calls[0][1].content
    answer = make_engine(store, llm, lead_context=1).query(question)
    first_source = llm.calls[1][1].content.split("\n")[1]
    assert first_source == ("[1] (Storm Closes Brest Harbour) Officials said the harbour would reopen on Monday. "
                            "About 40 fishing boats stayed in port during the closure.")  # fmt: skip
    assert answer.citations[0].quote == "About 40 fishing boats stayed in port during the closure."


def test_a_bare_phrase_that_repeats_the_question_is_replaced_by_a_quote(store):
    llm = ScriptedLLM(["Brest [1]."])
    answer = make_engine(store, llm).query("The harbour of Brest was closed on which day?")
    assert "Brest." in answer.unsupported and not answer.refused
    assert "Friday" in answer.text and answer.citations[0].doc_id == "storm.txt"


def test_a_dropped_drafts_answer_is_quoted_from_the_sentence_of_its_article_that_holds_it(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ferry.txt").write_text(
        "Island Ferry Halted\n\nThe ferry service between the islands was halted on Friday, the operator said. "
        "Engineers inspected the vessels over the weekend. "
        "The operator, Brittany Ferries, blamed a strike by dock workers.")  # fmt: skip
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    question = "Which company halted the ferry service between the islands?"
    # The draft names the company, but cites a sentence that does not: the checker drops it.
    llm = ScriptedLLM(["Brittany Ferries halted the ferry service between the islands [1].",
                       "Condor Ferries halted the ferry service between the islands [1]."])  # fmt: skip
    engine = make_engine(tmp_path / "s", llm)
    answer = engine.query(question)
    assert answer.unsupported and not answer.refused
    assert answer.text.startswith("The ferry service between the islands was halted on Friday")
    assert "The operator, Brittany Ferries, blamed a strike by dock workers. [2]" in answer.text
    assert answer.citations[1].quote == "The operator, Brittany Ferries, blamed a strike by dock workers."
    # A name the article never mentions finds no sentence: the best sentences alone are quoted.
    answer = engine.query(question)
    assert answer.unsupported and "Brittany" not in answer.text and "Condor" not in answer.text


@pytest.mark.parametrize("reply", ["The articles don't say.", "The storm damaged two piers [1]."])
def test_a_comparison_the_model_refuses_or_answers_for_one_article_quotes_both(two_reports, reply):
    llm = ScriptedLLM([reply])
    answer = make_engine(two_reports, llm).query("How do the two articles differ on how many piers the storm damaged?")
    assert len(llm.calls) == 1  # the model was asked
    assert not answer.refused and {c.doc_id for c in answer.citations} == {"ap.txt", "ouest.txt"}
    assert "two piers" in answer.text and "five piers" in answer.text
    for c in answer.citations:
        assert f"{c.quote} [{c.n}]" in answer.text  # quoted verbatim


def test_the_best_source_is_shown_with_the_sentence_that_carries_it_on(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "mayor.txt").write_text(
        "Harbour to reopen\n\nThe mayor of Brest said the harbour would reopen after the storm repairs. "
        "“The piers will be ready by Monday,” he added. Fishing boats stayed in port all week.")  # fmt: skip
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    question = "What did the mayor of Brest say about the harbour reopening?"
    llm = ScriptedLLM(["The mayor said the piers will be ready by Monday [1]."] * 2)
    answer = make_engine(tmp_path / "s", llm).query(question)
    first_source = llm.calls[0][1].content.split("\n")[1]
    assert first_source == ("[1] (Harbour to reopen) The mayor of Brest said the harbour would reopen after the storm repairs. "
                            "“The piers will be ready by Monday,” he added.")  # fmt: skip
    assert not answer.refused and answer.citations[0].quote.endswith("“The piers will be ready by Monday,” he added.")
    make_engine(tmp_path / "s", llm, show_continuation=False).query(question)
    assert "ready by Monday" not in llm.calls[1][1].content
