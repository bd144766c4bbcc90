"""The citation checker and the lexical judge, on hand-made sources."""

from index import Chunk, ScoredChunk
from rag.citations import CitationChecker, is_refusal, sources_from_spans, split_claims
from rag.judges import LexicalJudge

ARTICLE_A = (
    "The harbour of Brest was closed on Friday after a storm damaged two piers. "
    "Officials said it would reopen on Monday. About 40 fishing boats stayed in port."
)
ARTICLE_B = "The mayor of Brest said repairs would cost 2 million euros."


def make_sources():
    a = ScoredChunk(Chunk("a.txt", 0, ARTICLE_A, 0, len(ARTICLE_A), {"doc_id": "a.txt", "title": "Harbour Closed"}), 0.9)
    b = ScoredChunk(Chunk("b.txt", 0, ARTICLE_B, 100, 100 + len(ARTICLE_B), {"doc_id": "b.txt", "title": "Repairs"}), 0.8)
    return sources_from_spans([(a, 0, len(ARTICLE_A)), (b, 100, 100 + len(ARTICLE_B))])


def check(draft):
    return CitationChecker(LexicalJudge()).check(draft, make_sources(), question="q", generator="test")


def quote_is_verbatim(c):
    text = {"a.txt": ARTICLE_A, "b.txt": " " * 100 + ARTICLE_B}[c.doc_id]
    return text[c.start : c.end] == c.quote


def test_supported_sentences_keep_their_citation_with_the_exact_quote():
    answer = check("Officials said the harbour would reopen on Monday [1]. Repairs will cost 2 million euros [2].")
    assert not answer.refused and answer.unsupported == ()
    assert [c.doc_id for c in answer.citations] == ["a.txt", "b.txt"]
    # "it" is the harbour of the sentence before: the quote takes both sentences.
    assert answer.citations[0].quote == (
        "The harbour of Brest was closed on Friday after a storm damaged two piers. Officials said it would reopen on Monday."
    )
    assert answer.citations[1].quote == ARTICLE_B
    assert all(quote_is_verbatim(c) for c in answer.citations)
    assert answer.text == "Officials said the harbour would reopen on Monday [1]. Repairs will cost 2 million euros [2]."


def test_markers_to_missing_sources_are_removed_and_wrong_numbers_corrected():
    answer = check("About 40 fishing boats stayed in port [7]. The mayor said repairs would cost 2 million euros [1].")
    assert "[7]" not in answer.text and not answer.unsupported
    assert [c.doc_id for c in answer.citations] == ["a.txt", "b.txt"]
    assert answer.text.count("[1]") == 1 and answer.text.count("[2]") == 1


def test_uncited_sentence_gets_a_citation_when_a_source_supports_it():
    answer = check("About 40 fishing boats stayed in port.")
    assert answer.text == "About 40 fishing boats stayed in port [1]." and answer.citations[0].doc_id == "a.txt"


def test_unsupported_sentences_are_dropped_and_listed():
    answer = check("The harbour was closed on Friday [1]. About 400 boats sank in the storm [1]. Paris sent the army [2].")
    assert answer.text == "The harbour was closed on Friday [1]."
    assert answer.unsupported == ("About 400 boats sank in the storm.", "Paris sent the army.")


def test_nothing_supported_is_a_refusal_that_keeps_the_dropped_sentences():
    answer = check("The capital of Australia is Canberra [1].")
    assert answer.refused and answer.citations == () and answer.unsupported == ("The capital of Australia is Canberra.",)


def test_model_refusals_are_recognised():
    assert check("The articles don't say.").refused
    assert is_refusal("The sources do not mention the mayor.") and not is_refusal("The mayor did not say.")


def test_split_claims_attaches_trailing_markers():
    assert split_claims("It reopens Monday. [1] It cost 2 million [2, 3].") == [("It reopens Monday.", [1]), ("It cost 2 million.", [2, 3])]


def test_judge_vetoes_numbers_names_and_negation():
    judge = LexicalJudge()
    passage = "Defense Minister Sergei Shoigu on Thursday ordered the troops to return to their permanent bases by May 1."
    assert judge.judge("Shoigu ordered the troops to return to their permanent bases by May 1.", passage).supported
    assert "number" in judge.judge("Shoigu ordered the troops to return to their bases by May 9.", passage).reason
    assert "name" in judge.judge("Lavrov ordered the troops to return to their permanent bases.", passage).reason
    assert "negation" in judge.judge("Shoigu did not order the troops to return to their permanent bases.", passage).reason


def test_judge_grants_what_the_question_says_but_checks_what_the_answer_adds():
    judge = LexicalJudge()
    question = "Which politician announced this week that she is running for president in 2024?"
    passage = "Former South Carolina Gov. Nikki Haley launched her presidential bid, saying she is running for president."
    claim = "Nikki Haley announced this week that she is running for president in 2024."
    assert not judge.judge(claim, passage).supported  # "2024" and "this week" are not in the passage
    assert judge.judge(claim, passage, premise=question).supported
    # What the answer adds must still be in the passage: a name, a number, or words.
    assert not judge.judge("Kamala Harris announced this week that she is running for president in 2024.", passage, premise=question).supported
    assert not judge.judge("Nikki Haley announced this week that she is running for governor in 2028.", passage, premise=question).supported
    assert not judge.judge("Nikki Haley said this week that she is not running for president in 2024.", passage, premise=question).supported
    # A claim that only repeats the question is judged on the passage alone.
    assert not judge.judge("A politician announced this week that she is running for president in 2024.", passage, premise=question).supported


def test_checker_keeps_an_answer_that_restates_its_question():
    question = "How many fishing boats stayed in port this week in Brest?"
    draft = "About 40 fishing boats stayed in port this week in Brest [1]."
    answer = CitationChecker(LexicalJudge()).check(draft, make_sources(), question=question, generator="test")
    assert not answer.refused and answer.citations[0].quote == "About 40 fishing boats stayed in port."
    assert check(draft).refused  # without the question, "this week in Brest" is unsupported


def test_judge_doubts_names_in_another_order_without_rejecting():
    judge = LexicalJudge()
    passage = "Russian President Vladimir Putin invited President Volodymyr Zelensky to Moscow on Thursday."
    right = judge.judge("Putin invited Zelensky to Moscow on Thursday.", passage)
    swapped = judge.judge("Zelensky invited Putin to Moscow on Thursday.", passage)
    assert right.supported and right.score >= 0.9 and "order" not in right.reason
    assert swapped.supported and swapped.score < 0.9 and "another order" in swapped.reason


def test_a_short_reply_that_only_repeats_the_question_is_no_answer():
    question = "The storm closed the harbour of Brest on which day?"
    answer = CitationChecker(LexicalJudge()).check("Brest [1].", make_sources(), question=question, generator="test")
    assert answer.refused and answer.unsupported == ("Brest.",)
    answer = CitationChecker(LexicalJudge()).check("On Friday [1].", make_sources(), question=question, generator="test")
    assert not answer.refused and answer.text == "On Friday [1]."
    # A full sentence may reuse the question's words, and a yes or no is an answer.
    assert not check("The harbour of Brest was closed [1].").refused
    yes = CitationChecker(LexicalJudge()).check("Yes, Brest [1].", make_sources(), question="Was Brest closed?", generator="t")
    assert yes.unsupported != ("Yes, Brest.",)


def test_a_claim_completed_by_the_headline_the_model_saw_is_supported():
    # The model reads "(Harbour Closed) Officials said it would reopen on Monday." and names the harbour from the headline.
    a = ScoredChunk(Chunk("a.txt", 0, ARTICLE_A, 0, len(ARTICLE_A), {"doc_id": "a.txt", "title": "Brest harbour reopens Monday"}), 0.9)
    only_second = sources_from_spans([(a, 75, 116)])
    assert only_second[0].text == "Officials said it would reopen on Monday."
    answer = CitationChecker(LexicalJudge()).check("The Brest harbour reopens on Monday [1].", only_second, generator="t")
    assert not answer.refused and answer.citations[0].quote == "Officials said it would reopen on Monday."
    assert answer.citations[0].title == "Brest harbour reopens Monday"
    untitled = sources_from_spans([(ScoredChunk(Chunk("a.txt", 0, ARTICLE_A, 0, len(ARTICLE_A), {"doc_id": "a.txt"}), 0.9), 75, 116)])
    assert CitationChecker(LexicalJudge()).check("The Brest harbour reopens on Monday [1].", untitled, generator="t").refused


def test_judge_rejects_an_invented_event_between_the_right_names():
    judge = LexicalJudge()
    passage = ('Russian President Vladimir Putin said on Thursday Ukrainian leader Volodymyr Zelensky was welcome in Moscow "any time" '
               "but stressed that he should discuss the conflict in eastern Ukraine with separatists directly.")  # fmt: skip
    invented = judge.judge("Russian President Vladimir Putin met with Ukrainian President Volodymyr Zelensky in Moscow on Thursday.", passage)
    assert not invented.supported and "met" in invented.reason
    assert judge.judge("Putin said on Thursday that Zelensky was welcome in Moscow any time.", passage).supported


def test_one_article_reference_travels_from_chunk_to_citation():
    from index import ArticleRef

    meta = {"doc_id": "a.txt", "title": "Harbour Closed", "source": "Ouest", "url": "https://example.org/a", "published_at": "2024-01-05"}
    chunk = Chunk("a.txt", 0, ARTICLE_A, 0, len(ARTICLE_A), meta)
    ref = ArticleRef("a.txt", "Harbour Closed", "Ouest", "https://example.org/a", "2024-01-05")
    assert chunk.article == ref
    source = sources_from_spans([(ScoredChunk(chunk, 0.9), 0, len(ARTICLE_A))])[0]
    assert source.article == ref and source.doc_id == "a.txt"
    answer = CitationChecker(LexicalJudge()).check("About 40 fishing boats stayed in port [1].", [source], generator="t")
    assert answer.citations[0].article == ref
    assert answer.citations[0].to_dict()["url"] == "https://example.org/a"  # the public JSON keeps its flat fields


def test_a_copied_answer_phrase_is_checked_against_its_source():
    question = "Why was the harbour of Brest closed on Friday?"
    checker = CitationChecker(LexicalJudge())
    copied = checker.check("After a storm damaged two piers [1].", make_sources(), question=question, generator="t")
    assert not copied.refused and copied.text == "After a storm damaged two piers [1]."
    assert "a storm damaged two piers" in copied.citations[0].quote and quote_is_verbatim(copied.citations[0])
    for invented in ("After a storm damaged three piers [1].", "After a fire destroyed the lighthouse [1]."):
        answer = checker.check(invented, make_sources(), question=question, generator="t")
        assert answer.refused and answer.unsupported == (invented.replace(" [1]", ""),)
