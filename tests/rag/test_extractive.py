"""The extractive answerer on hand-made passages, with the deterministic fake embedder."""

import pytest

from core.errors import ConfigError
from index import Chunk, HashEmbedder, ScoredChunk
from rag.generators import ExtractiveConfig, ExtractiveGenerator, RankingConfig, make_generator
from rag.retrieval.rerank import OverlapCrossEncoder

ARTICLE = (
    "Storm Hits the Coast\n"
    "A powerful storm reached the coast of Brittany on Friday. "
    "The regional prefect said 12,000 homes lost power overnight. "
    "Ferries between Roscoff and Plymouth were cancelled until Sunday. "
    "Forecasters expect calmer weather next week."
)


def passage(text=ARTICLE, doc_id="storm.txt", start=0, score=0.8):
    meta = {"doc_id": doc_id, "title": "Storm Hits the Coast", "source": "Le Télégramme", "url": "", "published_at": "2024-01-05"}
    return ScoredChunk(Chunk(doc_id, 0, text, start, start + len(text), meta), score, similarity=score)


@pytest.fixture
def gen():
    return ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder())


def test_answers_with_the_sentence_holding_the_number(gen):
    answer = gen.generate("How many homes lost power?", [passage()])
    assert not answer.refused
    assert "12,000 homes" in answer.text and answer.text.endswith("[1]")
    c = answer.citations[0]
    assert c.n == 1 and c.doc_id == "storm.txt" and c.source == "Le Télégramme"
    assert ARTICLE[c.start : c.end] == c.quote == "The regional prefect said 12,000 homes lost power overnight."


def test_offsets_are_in_article_coordinates_when_the_chunk_starts_later(gen):
    offset = 500
    article = "x" * offset + ARTICLE
    answer = gen.generate("Which ferries were cancelled?", [passage(start=offset)])
    c = answer.citations[0]
    assert article[c.start : c.end] == c.quote and "Roscoff" in c.quote


def test_refuses_when_a_name_in_the_question_is_nowhere_in_the_passages(gen):
    answer = gen.generate("How many homes lost power in Australia?", [passage()])
    assert answer.refused and answer.citations == () and "don't say" in answer.text


def test_refuses_on_unrelated_question_and_on_no_passages(gen):
    assert gen.generate("what is the recipe for banana bread", [passage()]).refused
    assert gen.generate("How many homes lost power?", []).refused


def test_each_sentence_gets_its_own_marker_and_citation():
    # The fake embedder's similarities are lower than MiniLM's, for which min_score is tuned.
    gen = ExtractiveGenerator(HashEmbedder(), ranking=RankingConfig(min_score=0.3))
    ferry = "Ferry services were suspended on Friday, the port authority said."
    rail = "Rail services were suspended on Friday, the rail operator said."
    answer = gen.generate(
        "Which services were suspended on Friday?",
        [passage(ferry, doc_id="ferry.txt"), passage(rail, doc_id="rail.txt", score=0.7)],
    )
    assert not answer.refused
    assert len(answer.citations) >= 2
    for c in answer.citations:
        assert f"{c.quote} [{c.n}]" in answer.text
    assert {c.doc_id for c in answer.citations} == {"ferry.txt", "rail.txt"}


def test_config_is_validated_and_names_are_checked():
    with pytest.raises(ConfigError):
        ExtractiveConfig(max_sentences=0)
    with pytest.raises(ConfigError):
        RankingConfig(w_cross=2.0)
    with pytest.raises(ConfigError, match="extractive"):
        make_generator("gpt-17", HashEmbedder())


def test_a_question_with_a_preamble_is_ranked_by_the_sentence_that_asks_too():
    text = ("The harbour of Brest was closed on Friday after a storm damaged two piers. "
            "Officials said the harbour would reopen on Monday. About 40 fishing boats stayed in port during the closure.")  # fmt: skip
    question = "The harbour of Brest was closed on Friday after a storm damaged two piers. How many fishing boats stayed in port?"
    hits = [ScoredChunk(Chunk("s", 0, text, 0, len(text), {"doc_id": "s"}), 0.5, similarity=0.5)]
    best = {}
    for focus in ("", "mean", "max"):
        ranking = ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder(), ranking=RankingConfig(question_focus=focus, cross_context=False)).ranker.rank(question, hits)
        best[focus] = ranking.candidates[ranking.order[0]].text
    assert best[""].startswith("The harbour of Brest")  # the preamble matches itself best
    assert best["mean"].startswith("About 40 fishing boats") and best["max"] == best["mean"]
    with pytest.raises(ConfigError, match="question_focus"):
        RankingConfig(question_focus="last")


def acme_passage() -> list[ScoredChunk]:
    """One passage whose answering sentence names no company: the sentence before it does."""
    text = ("Struggling Acme Homes warned on Thursday that sales keep falling. "
            "“There is substantial doubt about the company’s ability to stay in business,” the retailer said in a statement. "
            "The shops will stay open for now.")  # fmt: skip
    return [ScoredChunk(Chunk("a", 0, text, 0, len(text), {"doc_id": "a"}), 0.6, similarity=0.6)]


def test_a_sentence_holding_the_kind_of_answer_asked_for_joins_a_quote_without_one():
    hits = acme_passage()
    question = "Which home goods chain said it has substantial doubt it can stay in business?"  # wants a name

    def answer(typed_follow, typed_first=False):
        config = ExtractiveConfig(typed_follow=typed_follow, lead_in=False, typed_first=typed_first)
        return ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder(), config=config, ranking=RankingConfig(min_score=0.25)).generate(question, hits)

    assert "Acme" not in answer(0.0).text  # the best sentence alone names no company
    typed = answer(0.5)
    assert typed.text.startswith("“There is substantial doubt") and "Struggling Acme Homes warned" in typed.text
    assert [c.quote[:10] for c in typed.citations] == ["“There is ", "Struggling"]
    first = answer(0.5, typed_first=True)  # the sentence that names the company is the first quote, the direct answer
    assert [c.quote[:10] for c in first.citations] == ["Struggling", "“There is "]
    assert first.claims[0].text.startswith("Struggling Acme Homes warned")
    assert ExtractiveConfig().typed_first  # the default
    assert "Acme" not in answer(2.0).text  # below the floor: not added
    with pytest.raises(ConfigError, match="typed_follow"):
        ExtractiveConfig(typed_follow=-1)


class KeywordCrossEncoder:
    """A fake search-trained reader: relevant only when a short, keyword-like query's words are in the text."""

    name = "fake-keyword-cross-encoder"

    def __init__(self) -> None:
        self.queries: list[str] = []

    def score(self, query, texts):
        import numpy as np

        from core.text import content_terms

        self.queries.append(query)
        q = set(content_terms(query))
        return np.array([6.0 if len(query.split()) <= 4 and q <= set(content_terms(t)) else -6.0 for t in texts])


def test_a_comparison_is_ranked_by_what_it_compares_and_quotes_both_articles():
    ap = "The storm damaged two piers in Brest, the port authority said. Fishing resumed on Tuesday."
    ouest = "Local officials said the storm damaged five piers and a lighthouse. Repairs will take a month."
    hits = [ScoredChunk(Chunk("ap", 0, ap, 0, len(ap), {"doc_id": "ap.txt"}), 0.6, similarity=0.6),
            ScoredChunk(Chunk("ouest", 0, ouest, 0, len(ouest), {"doc_id": "ouest.txt"}), 0.6, similarity=0.6)]  # fmt: skip
    question = "How do the storm damaged piers in the two reports differ?"
    answers = {}
    for on in (False, True):
        cross = KeywordCrossEncoder()
        answers[on] = ExtractiveGenerator(HashEmbedder(), cross, ranking=RankingConfig(compare_topic=on)).generate(question, hits)
    assert "storm damaged piers" in cross.queries  # what is compared, read on its own
    assert answers[False].refused  # the whole question reads as irrelevant to every sentence
    assert not answers[True].refused and {c.doc_id for c in answers[True].citations} == {"ap", "ouest"}
    assert "two piers" in answers[True].text and "five piers" in answers[True].text


def test_the_sentence_that_carries_on_the_best_one_joins_it():
    text = ("The mayor of Brest said the harbour would reopen after the storm repairs. "
            "“The piers will be ready by Monday,” he added. "
            "Fishing boats stayed in port all week.")  # fmt: skip
    hits = [ScoredChunk(Chunk("b", 0, text, 0, len(text), {"doc_id": "b"}), 0.6, similarity=0.6)]
    question = "What did the mayor of Brest say about the harbour reopening?"
    answers = {on: ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder(), config=ExtractiveConfig(continuation=on)).generate(question, hits)
               for on in (False, True)}  # fmt: skip
    assert answers[False].text.startswith("The mayor of Brest said") and "ready by Monday" not in answers[False].text
    assert answers[True].text == ("The mayor of Brest said the harbour would reopen after the storm repairs. [1] "
                                  "“The piers will be ready by Monday,” he added. [2]")  # fmt: skip
    # A quote attributed to someone the best sentence does not name is another statement.
    other = text.replace("he added", "a fisherman said")
    hits = [ScoredChunk(Chunk("b", 0, other, 0, len(other), {"doc_id": "b"}), 0.6, similarity=0.6)]
    assert "ready by Monday" not in ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder()).generate(question, hits).text


def test_a_comparison_names_the_articles_it_compares():
    from rag.question import comparison_topic, is_comparison

    assert is_comparison("How do the casualty figures in the two articles differ?")
    assert is_comparison("What changed between the first and the latest report?")
    assert not is_comparison("Did both sides deny targeting civilians?")  # two sides of one story
    assert not is_comparison("What is the difference between Donetsk and Luhansk?")
    assert comparison_topic("How do the casualty figures in the two articles differ?") == "casualty figures"


def test_a_sentence_that_scores_best_after_the_one_before_is_quoted_after_it():
    hits = acme_passage()
    question = "Which home goods chain warned there is substantial doubt about its ability to stay in business?"

    def answer(lead_in):
        config = ExtractiveConfig(typed_follow=0.0, lead_in=lead_in)
        gen = ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder(), config=config, ranking=RankingConfig(min_score=0.25))
        return gen, gen.generate(question, hits)

    gen, plain = answer(False)
    ranking = gen.ranker.rank(question, hits)
    best = ranking.order[0]
    assert ranking.candidates[best].text.startswith("“There is") and ranking.leans_back[best]
    assert plain.text.startswith("“There is") and "Acme" not in plain.text
    _, led = answer(True)
    assert [c.quote[:10] for c in led.citations] == ["Struggling", "“There is "]  # in the article's order
    assert led.claims[0].text.startswith("Struggling Acme Homes")


def test_a_sentence_left_out_of_the_order_is_never_the_lead_in_or_the_continuation():
    from dataclasses import replace

    from rag.generators.extractive import continuation_of, lead_of

    question = "Which home goods chain warned there is substantial doubt about its ability to stay in business?"
    ranker = ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder(), ranking=RankingConfig(min_score=0.25)).ranker
    ranking = ranker.rank(question, acme_passage())
    best = ranking.order[0]
    lead = lead_of(best, ranking)
    assert lead is not None and ranking.candidates[lead].text.startswith("Struggling")
    screened = replace(ranking, order=[i for i in ranking.order if i != lead])  # as rag.screen leaves out an instruction
    assert lead_of(best, screened) is None
    text = "The mayor of Brest said the harbour would reopen. “The piers will be ready by Monday,” he added. Boats stayed in port."
    hits = [ScoredChunk(Chunk("b", 0, text, 0, len(text), {"doc_id": "b"}), 0.6, similarity=0.6)]
    ranking = ranker.rank("What did the mayor of Brest say about the harbour?", hits)
    mayor = next(i for i, c in enumerate(ranking.candidates) if c.text.startswith("The mayor"))
    follow = continuation_of(mayor, ranking)
    assert follow is not None and ranking.candidates[follow].text.startswith("“The piers")
    assert continuation_of(mayor, replace(ranking, order=[i for i in ranking.order if i != follow])) is None


def dated(text, doc_id, published_at):
    meta = {"doc_id": doc_id, "title": doc_id, "source": "Wire", "url": "", "published_at": published_at}
    return ScoredChunk(Chunk(doc_id, 0, text, 0, len(text), meta), 0.8, similarity=0.8)


OLD_TITLE = "Biles won her seventh national all-around title at the championships in Texas."
NEW_TITLE = "Biles won her record eighth national all-around title at the championships in San Jose."


def test_a_question_is_answered_from_the_news_of_when_it_is_asked(gen):
    from rag.question import analyse

    passages = [dated(OLD_TITLE, "2021", "2021-06-24"), dated(NEW_TITLE, "2023", "2023-08-28")]
    asked = analyse("Which gymnast won the national all-around title?", "2023-08-31")
    answer = gen.generate(asked, passages)
    assert not answer.refused and answer.citations[0].doc_id == "2023"
    # Without the time the older report, first in the passages and as relevant, is what it quotes first.
    timeless = ExtractiveGenerator(HashEmbedder(), OverlapCrossEncoder(), ranking=RankingConfig(stale_penalty=0))
    assert timeless.generate(asked, passages).citations[0].doc_id == "2021"


def test_only_another_times_article_is_a_refusal_that_shows_it_as_related_with_its_date(gen):
    from rag.question import analyse

    asked = analyse("Which gymnast won the national all-around title?", "2023-08-31", latest="2023-11-26")
    answer = gen.generate(asked, [dated(OLD_TITLE, "2021", "2021-06-24")])
    assert answer.refused and "another time" in answer.claims[0].text
    related = [c for c in answer.claims if c.role == "related"]
    assert related and related[0].text == OLD_TITLE and answer.citations[0].published_at == "2021-06-24"
    # An archive that ends in 2021 is asked about as of its end: the same article answers.
    archive = analyse("Which gymnast won the national all-around title?", "2023-08-31", latest="2021-06-30")
    assert not gen.generate(archive, [dated(OLD_TITLE, "2021", "2021-06-24")]).refused
    # A report from after the day asked is news from after the question.
    early = analyse("Which gymnast won the national all-around title?", "2021-06-01", latest="2023-11-26")
    assert gen.generate(early, [dated(OLD_TITLE, "2021", "2021-06-24")]).refused


def test_the_time_settings_are_checked():
    for bad in ({"stale_penalty": -0.1}, {"stale_penalty": 2}):
        with pytest.raises(ConfigError):
            RankingConfig(**bad)
