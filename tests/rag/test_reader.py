"""The reader: the model picks a source and copies words from it; no other claim reaches the answer."""

import pytest

from index import HashEmbedder, ingest
from index.types import ArticleRef
from rag import Answer, Chat, QueryEngine
from rag.generators import ExtractiveGenerator, RankingConfig, ReaderConfig, ReaderGenerator
from rag.generators.copying import CopyConstraint, Window
from rag.llm.fake import CopyingFake, ScriptedLLM
from rag.retrieval.rerank import OverlapCrossEncoder
from rag.types import Claim, Span

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
    gen = ReaderGenerator(llm, embedder, OverlapCrossEncoder(), name="scripted", ranking=RankingConfig(min_score=0.3), **options)
    return QueryEngine.from_store(store, embedder=embedder, generator=gen)


def shown(answer: Answer) -> list[tuple[str, str]]:
    return [(c.kind, c.text) for c in answer.claims]


def body(engine, doc_id: str) -> str:
    """The article's cleaned text, which every offset refers to."""
    return engine.retriever.store.get_article(doc_id).text


def test_a_copied_phrase_comes_first_with_the_sentence_that_holds_it(store):
    llm = ScriptedLLM(["[1] on Monday"])
    engine = make_engine(store, llm)
    answer = engine.query("When will the harbour reopen?")
    assert shown(answer) == [("phrase", "on Monday"), ("quote", "Officials said the harbour would reopen on Monday.")]
    phrase, quote = answer.claims
    assert phrase.citations == quote.citations == (1,)
    c = answer.citations[0]
    assert c.doc_id == "storm.txt" and c.quote == quote.text
    assert body(engine, "storm.txt")[phrase.span.start : phrase.span.end] == "on Monday" and c.start <= phrase.span.start < phrase.span.end <= c.end
    assert answer.text == "on Monday [1]. Officials said the harbour would reopen on Monday. [1]"
    assert not answer.refused and answer.direct is phrase


def test_the_prompt_numbers_the_windows_with_title_and_context(store):
    llm = ScriptedLLM(["[1] About 40 fishing boats"])
    make_engine(store, llm).query("How many fishing boats stayed in port?")
    system, user = llm.calls[0]
    assert "Example:" in system.content and "none" in system.content
    # The best sentence with two sentences of context on each side (its passage ends after it).
    assert ("[1] (Storm Closes Brest Harbour) The harbour of Brest was closed on Friday after a storm damaged two piers. "
            "Officials said the harbour would reopen on Monday. About 40 fishing boats stayed") in user.content  # fmt: skip
    assert user.content.rstrip().endswith("Question: How many fishing boats stayed in port?\nAnswer:")


@pytest.mark.parametrize(
    "reply",
    [
        "[1] Brittany Ferries",  # invented: no source holds it
        "[1] About 41 fishing boats",  # one word changed
        "[1] Boats stayed in port during the storm",  # words of the source, not in its order
        "About 40 fishing boats stayed in port during the closure [1].",  # a written sentence
        "[3] About 40 fishing boats",  # a source that was not shown
    ],
)
def test_nothing_but_a_copied_phrase_is_shown(store, reply):
    engine = make_engine(store, ScriptedLLM([reply]))
    answer = engine.query("How many fishing boats stayed in port?")
    assert all(c.kind != "phrase" for c in answer.claims)
    assert reply.strip() in answer.unsupported or answer.refused
    for claim in answer.claims:
        assert claim.kind in ("quote", "refusal")
        if claim.kind == "quote":
            assert body(engine, claim.span.article.doc_id)[claim.span.start : claim.span.end] == claim.text
    assert "Brittany" not in answer.text and "41" not in answer.text


def test_a_source_named_with_an_invalid_phrase_is_quoted_not_the_phrase(store):
    answer = make_engine(store, ScriptedLLM(["[1] About 41 fishing boats"])).query("How many fishing boats stayed in port?")
    assert shown(answer) == [("quote", "About 40 fishing boats stayed in port during the closure.")]


def quoted(answer: Answer) -> list[str]:
    return [c.text for c in answer.claims if c.kind == "quote"]


def extractive_quotes(store, question: str) -> list[str]:
    """What the extractive generator quotes for `question` with the same ranking (the reader's ranker's quotes)."""
    embedder = HashEmbedder()
    gen = ExtractiveGenerator(embedder, OverlapCrossEncoder(), ranking=RankingConfig(min_score=0.3))
    return quoted(QueryEngine.from_store(store, embedder=embedder, generator=gen).query(question))


def test_none_on_a_question_the_ranker_finds_answered_gives_the_rankers_quotes(store):
    question = "Why were the piers of Brest damaged?"
    answer = make_engine(store, ScriptedLLM(["none"])).query(question)
    assert not answer.refused and {c.kind for c in answer.claims} == {"quote"}
    assert quoted(answer) == extractive_quotes(store, question) and "storm damaged two piers" in quoted(answer)[0]


def test_a_phrase_in_a_sentence_the_ranker_quotes_brings_its_other_quotes(store):
    question = "How many fishing boats stayed in port during the closure of the harbour of Brest?"
    ranked = extractive_quotes(store, question)
    boats = "About 40 fishing boats stayed in port during the closure."
    assert len(ranked) >= 2 and boats in ranked
    answer = make_engine(store, ScriptedLLM(["[1] About 40"])).query(question)
    assert shown(answer)[0] == ("phrase", "About 40")
    assert quoted(answer) == [boats] + [t for t in ranked if t != boats]  # the phrase's sentence first, then the ranker's


def test_a_phrase_elsewhere_in_its_window_is_shown_with_its_own_sentence_only(store):
    question = "How many fishing boats stayed in port during the closure of the harbour of Brest?"
    closed = "The harbour of Brest was closed on Friday after a storm damaged two piers."
    assert closed not in extractive_quotes(store, question)
    answer = make_engine(store, ScriptedLLM(["[1] on Friday"])).query(question)
    assert shown(answer) == [("phrase", "on Friday"), ("quote", closed)]  # the ranker's quotes do not hold the phrase: not shown


def test_a_phrase_that_is_a_whole_clause_is_read_as_none(store):
    question = "Why were the piers of Brest damaged?"
    clause = "The harbour of Brest was closed on Friday after a storm damaged two piers"  # 14 words
    answer = make_engine(store, ScriptedLLM([f"[1] {clause}"])).query(question)
    assert {c.kind for c in answer.claims} == {"quote"} and quoted(answer) == extractive_quotes(store, question)
    boats = "How many fishing boats stayed in port during the closure of the harbour of Brest?"
    elsewhere = make_engine(store, ScriptedLLM([f"[1] {clause}"])).query(boats)  # its sentence is not the ranker's
    assert quoted(elsewhere) == extractive_quotes(store, boats) and clause + "." not in quoted(elsewhere)
    assert [c.n for c in elsewhere.citations] == [n for c in elsewhere.claims for n in c.citations] == list(range(1, len(elsewhere.citations) + 1))
    kept = make_engine(store, ScriptedLLM([f"[1] {clause}"]), config=ReaderConfig(max_phrase_words=14)).query(question)
    assert shown(kept)[0] == ("phrase", clause)  # at the limit it is still a phrase
    short = make_engine(store, ScriptedLLM(["[1] a storm"])).query(question)
    assert shown(short)[0] == ("phrase", "a storm")
    two = make_engine(store, ScriptedLLM([f"[1] {clause}\n[1] on Monday"])).query(f"{question[:-1]}, and when will the harbour reopen?")
    assert [(c.kind, c.text) for c in two.claims if c.part == "Why were the piers of Brest damaged?"] == [("quote", clause + ".")]
    assert ("phrase", "on Monday") in shown(two) and not two.unsupported


def test_a_phrase_the_model_was_unsure_of_is_read_as_none(store):
    question = "Why were the piers of Brest damaged?"
    sure = make_engine(store, CopyingFake(["[1] a storm"])).query(question)
    assert shown(sure)[0] == ("phrase", "a storm")
    # The same words, each token of them the likeliest but far from certain: not shown; the sentence the model
    # copied them from is quoted first, then the ranker's quotes.
    unsure = make_engine(store, CopyingFake(["[1] a storm"], certainty=4.0)).query(question)
    ranked = extractive_quotes(store, question)
    storm = "The harbour of Brest was closed on Friday after a storm damaged two piers."
    assert {c.kind for c in unsure.claims} == {"quote"} and quoted(unsure)[0] == storm
    assert quoted(unsure) == [storm, *[t for t in ranked if t != storm]]
    assert [c.n for c in unsure.citations] == list(range(1, len(unsure.citations) + 1))
    assert {n for c in unsure.claims for n in c.citations} == {c.n for c in unsure.citations}  # every citation quoted
    boats = "How many fishing boats stayed in port during the closure of the harbour of Brest?"
    assert storm not in extractive_quotes(store, boats)
    elsewhere = make_engine(store, CopyingFake(["[1] on Friday"], certainty=4.0)).query(boats)
    assert quoted(elsewhere) == [storm, *extractive_quotes(store, boats)]
    shown_anyway = make_engine(store, CopyingFake(["[1] a storm"], certainty=4.0), config=ReaderConfig(min_phrase_logprob=-99.0))
    assert shown(shown_anyway.query(question))[0] == ("phrase", "a storm")
    # A backend that reports no probabilities: its phrase is shown (when its source holds it).
    assert shown(make_engine(store, ScriptedLLM(["[1] a storm"])).query(question))[0] == ("phrase", "a storm")
    # In a question of two parts, an unsure part shows the sentence the phrase was copied from.
    two = make_engine(store, CopyingFake(["[1] a storm\n[1] on Monday"], certainty=4.0)).query(
        f"{question[:-1]}, and when will the harbour reopen?")
    assert [c.kind for c in two.claims if c.part == "Why were the piers of Brest damaged?"] == ["quote"]


def test_a_question_of_two_parts_none_answered_is_a_refusal_with_what_the_articles_say_nearby(store):
    answer = make_engine(store, ScriptedLLM(["none\nnone"])).query("Why were the piers of Brest damaged, and when will the harbour reopen?")
    assert answer.refused
    assert answer.claims[0].kind == "refusal"
    related = [c for c in answer.claims if c.role == "related"]
    assert related and related[0].kind == "quote"
    assert "The articles don't say" in answer.text and "Related:" in answer.text


def test_unanswerable_question_is_refused_without_calling_the_model(store):
    llm = ScriptedLLM(["[1] Canberra"])
    answer = make_engine(store, llm).query("What is the capital of Australia?")
    assert answer.refused and llm.calls == [] and shown(answer) == [("refusal", "The articles don't say.")]


def test_a_question_of_two_parts_gets_a_claim_for_each(store):
    llm = ScriptedLLM(["[1] a storm\n[1] on Monday"])
    answer = make_engine(store, llm).query("What damaged the piers of the harbour, and when will the harbour reopen?")
    phrases = [c for c in answer.claims if c.kind == "phrase"]
    assert [(c.text, c.part) for c in phrases] == [("a storm", "What damaged the piers of the harbour?"), ("on Monday", "When will the harbour reopen?")]
    assert answer.claims[:2] == tuple(phrases)


def test_a_part_the_model_finds_no_answer_to_says_so(store):
    answer = make_engine(store, ScriptedLLM(["[1] a storm\nnone"])).query("What damaged the piers of the harbour, and who paid for the repairs?")
    assert [(c.kind, c.part) for c in answer.claims[:2]] == [("phrase", "What damaged the piers of the harbour?"), ("refusal", "Who paid for the repairs?")]
    assert not answer.refused


def test_a_question_of_two_parts_needs_a_line_for_each():
    ref = ArticleRef("a.txt")
    w = Window.of(ref, "A storm damaged two piers. Officials said it would reopen on Monday.", 0)
    c = CopyConstraint([w], "What damaged the piers, and when will it reopen?", items=2)
    assert not c.can_end(b"[1] A storm") and c.allows(b"[1] A storm\n")
    assert c.can_end(b"[1] A storm\n[1] on Monday") and c.can_end(b"[1] A storm\nnone")
    assert not c.allows(b"[1] A storm\n[1] on Monday\n")  # no third line


def test_the_phrase_must_add_something_to_the_question(store):
    """"Brest" to a question about Brest answers nothing: no phrase, the chosen source is quoted."""
    answer = make_engine(store, ScriptedLLM(["[1] Brest"])).query("The harbour of Brest was closed on which day?")
    assert all(c.kind != "phrase" for c in answer.claims) and "[1] Brest" in answer.unsupported
    assert "Friday" in answer.text


def test_a_decoder_held_to_the_grammar_never_writes_an_invented_word(store):
    """The fake wants to write a changed number and an invented place; decoding under the constraint copies instead."""
    for wanted in ("[1] About 41 fishing boats", "[1] About 40 fishing boats in Calais"):
        engine = make_engine(store, CopyingFake([wanted]))
        answer = engine.query("How many fishing boats stayed in port?")
        assert "41" not in answer.text and "Calais" not in answer.text and not answer.unsupported
        for claim in answer.claims:
            assert claim.kind in ("phrase", "quote")
            assert body(engine, "storm.txt")[claim.span.start : claim.span.end] == claim.text
    assert make_engine(store, CopyingFake(["[1] About 40 fishing boats"])).query("How many fishing boats stayed in port?").direct.text == "About 40 fishing boats"


def test_claims_can_only_be_made_from_the_article():
    ref = ArticleRef("a.txt", "T")
    with pytest.raises(TypeError):
        Span(ref, 0, 5, "made up")
    quote = Span.of(ref, STORM, 0, STORM.index("Officials"), STORM.index(" About"))
    from rag.types import Citation

    cite = Citation.of(quote, 1, 0.9)
    elsewhere = Span.of(ref, STORM, 0, STORM.index("two piers"), STORM.index("two piers") + 9)
    with pytest.raises(ValueError, match="copied from a quote"):
        Claim.phrase(elsewhere, quote, cite)
    with pytest.raises(ValueError):
        Claim("phrase", "on Tuesday", (1,), span=quote)  # text that is not its span's
    with pytest.raises(ValueError):
        Claim("sentence", "The harbour reopened.", (1,))  # a written sentence with no judge that passed it


def test_the_grammar_reads_only_phrases_of_the_window_it_names():
    ref = ArticleRef("a.txt")
    text = "Officials said the harbour would reopen on Monday.  About 40 boats stayed."
    w = Window.of(ref, text, 100)
    c = CopyConstraint([w], "When will it reopen?")
    assert w.shown == "Officials said the harbour would reopen on Monday. About 40 boats stayed."
    assert c.allows(b"[1] on Mon") and not c.allows(b"[1] on Tuesday") and not c.allows(b"[2]")
    assert not c.allows(b"[1] n Monday")  # a phrase starts at a word
    assert c.can_end(b"[1] on Monday") and c.can_end(b"[1] on Monday.") and not c.can_end(b"[1] on Mon")
    assert not c.can_end(b"[1] reopen")  # adds nothing to the question
    (n, span), = c.read("[1] About 40 boats")
    assert n == 1 and (span.start, span.end) == (152, 166) and span.text == "About 40 boats"
    assert c.read("[1] About 40  boats") == [None]  # not the shown text
    assert c.is_none("none") and c.can_end(b"none")


def test_a_phrase_is_made_of_whole_tokens():
    text = ("Tickets are sold in the U.S. Virgin Islands for $3.99 each. He took 3.134 seconds. Florida's well-known governor came. "
            "About 1,000 people came at 10:30. More Martha:Martha Stewart spoke.")  # fmt: skip
    c = CopyConstraint([Window.of(ArticleRef("a.txt"), text, 0)], "Where are tickets sold?")
    for whole in ("the U.S. Virgin Islands", "Virgin Islands", "3.134 seconds", "$3.99", "Florida", "well-known governor",
                  "1,000 people", "10:30", "Martha Stewart"):  # a colon between words is a missing space, not a token
        assert c.can_end(f"[1] {whole}".encode()) and c.read(f"[1] {whole}")[0][1].text == whole
    for cut in ("the U", "S. Virgin Islands", "3", "134 seconds", "well", "known governor", "About 1", "000 people", "10"):
        assert not c.can_end(f"[1] {cut}".encode()) and c.read(f"[1] {cut}") == [None], cut


def test_a_question_about_one_year_is_not_answered_from_another_years_article(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text(
        '{"id": "old", "title": "Putin invites Zelensky", "published_at": "2021-04-22", '
        '"text": "Putin said Zelensky was welcome in Moscow any time. He spoke after talks with Lukashenko."}\n'
    )
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    llm = ScriptedLLM(["[1] Moscow"])
    engine = make_engine(tmp_path / "s", llm)
    answer = engine.query("Where did Putin invite Zelensky in 2025?")
    assert answer.refused and llm.calls == [] and "2025" in answer.claims[0].text
    related = [c for c in answer.claims if c.role == "related"]
    assert related and answer.citations[0].published_at == "2021-04-22"
    assert not engine.query("Where did Putin invite Zelensky in 2021?").refused


@pytest.fixture
def two_reports(tmp_path):
    """Two articles about one storm that disagree on the damage, published on different days."""
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_text(
        '{"id": "ouest", "title": "Brest counts the cost", "published_at": "2024-01-09", '
        '"text": "Local officials said the storm damaged five piers and a lighthouse in Brest. Repairs will take a month."}\n'
        '{"id": "ap", "title": "Storm damage in Brest", "published_at": "2024-01-06", '
        '"text": "The storm damaged two piers in the harbour of Brest, the port authority said. Fishing resumed on Tuesday."}\n'
    )
    ingest([tmp_path / "in"], store=tmp_path / "s", embedder=HashEmbedder())
    return tmp_path / "s"


def test_a_comparison_quotes_each_article_oldest_first(two_reports):
    llm = ScriptedLLM(["[1] five piers"])
    answer = make_engine(two_reports, llm).query("How do the two articles differ on how many piers the storm damaged?")
    assert not answer.refused and [c.kind for c in answer.claims] == ["quote", "quote"]
    assert [c.doc_id for c in answer.citations] == ["ap", "ouest"]  # 6 January, then 9 January
    assert "two piers" in answer.claims[0].text and "five piers" in answer.claims[1].text


def test_chat_rewrites_follow_ups_and_cites_articles_not_turns(store):
    def reply(messages):
        if messages[0].content.startswith("Rewrite"):
            return "When were residents allowed back after the evacuation ordered by the prefect?"
        return "[1] on Sunday evening" if "allowed back" in messages[-1].content.split("Question:")[-1] else "[1] The prefect of Finistère"

    llm = ScriptedLLM(reply)
    chat = Chat(make_engine(store, llm), rewriter=llm)
    first = chat.ask("Who ordered the evacuation of homes near the river?")
    assert first.direct.text == "The prefect of Finistère"
    second = chat.ask("And when were they allowed back?")
    assert second.question == "And when were they allowed back?"
    assert second.direct.text == "on Sunday evening" and all(c.doc_id == "prefect.txt" for c in second.citations)


def test_chat_without_llm_adds_the_previous_question():
    chat = Chat.__new__(Chat)
    chat.history, chat.rewriter, chat.max_turns = [], None, 3
    from rag.chat import Turn

    chat.history.append(Turn("Who closed the harbour of Brest?", "Who closed the harbour of Brest?", Answer("x", False)))
    # The follow-up comes last: the ranker reads it as the sentence that asks.
    assert chat.standalone("And when will it reopen?") == "Who closed the harbour of Brest? And when will it reopen?"
    assert chat.standalone("How many boats stayed in port at Brest?") == "How many boats stayed in port at Brest?"
