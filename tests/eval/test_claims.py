"""Grading claim by claim, CRAG's truthfulness, and retrieval of what an answer used, on hand-made cases."""

from dataclasses import replace

from eval.claims import answer_scores, grade_claims
from eval.metrics import EvalQuestion, Evidence
from eval.runner import _evaluate
from index.types import ArticleRef, Chunk, ScoredChunk
from rag.judges.base import Verdict
from rag.types import Answer, Citation, Claim, Passage, Span

PORT = "The harbour of Brest was closed on Friday after a storm. Officials said it would reopen on Monday."
REF = ArticleRef("port", "Storm closes Brest harbour")
Q = EvalQuestion("q1", "When will the harbour reopen?", "factoid", "On Monday.", (("Monday",),), (Evidence("port"),))
NULL = EvalQuestion("q2", "Who is the mayor?", "null")


def texts(doc_id):
    return {"port": PORT}.get(doc_id)


def quoted(start_word: str, end_word: str) -> tuple[Span, Citation]:
    span = Span.of(REF, PORT, 0, PORT.index(start_word), PORT.index(end_word) + len(end_word))
    return span, Citation.of(span, 1, 0.9)


def phrase_answer() -> Answer:
    quote, cite = quoted("Officials", "Monday.")
    phrase = Span.of(REF, PORT, 0, PORT.index("on Monday"), PORT.index("on Monday") + 9)
    return Answer.of_claims([Claim.phrase(phrase, quote, cite), Claim.quote(cite, quote)], [cite], question=Q.question)


class Judge:
    """A judge that says yes to the claims it is told to, and says so."""

    def __init__(self, name, yes=()):
        self.name = name
        self.yes = set(yes)

    def judge(self, claim, passage, premise=""):
        return Verdict(claim in self.yes, 1.0 if claim in self.yes else 0.0, "told so")


def test_a_quote_that_is_not_the_articles_text_fails_the_exact_check():
    answer = phrase_answer()
    assert [g.supported for g in grade_claims(answer, texts, None)] == [True, True]
    # A citation whose quote was edited after slicing: the article does not say it at those offsets.
    forged_cite = replace(answer.citations[0], quote="Officials said it would reopen on Tuesday.")
    forged_span = replace(answer.claims[1].span, text="Officials said it would reopen on Tuesday.")
    forged = Claim("quote", forged_span.text, (1,), span=forged_span)
    bad = Answer("x", False, (forged_cite,), claims=(forged,))
    grade = grade_claims(bad, texts, None)[0]
    assert not grade.supported and grade.grader == "exact" and "offsets" in grade.reason
    # A phrase outside the quote it cites.
    quote, cite = quoted("Officials", "Monday.")
    friday = Span.of(REF, PORT, 0, PORT.index("on Friday"), PORT.index("on Friday") + 9)
    loose = Claim("phrase", friday.text, (1,), span=friday)
    grade = grade_claims(Answer("x", False, (cite,), claims=(loose,)), texts, None)[0]
    assert not grade.supported and "inside the quote" in grade.reason


def test_a_written_sentence_graded_by_the_judge_that_wrote_or_filtered_it_is_marked_self_graded():
    quote, cite = quoted("Officials", "Monday.")
    sentence = Claim.sentence("The harbour reopens on Monday.", (1,), ("llm",))
    answer = Answer.of_claims([sentence, Claim.quote(cite, quote)], [cite])
    own = grade_claims(answer, texts, Judge("llm", yes={"The harbour reopens on Monday."}), self_graded=True)[0]
    assert own.supported and own.self_graded and own.grader == "llm"
    independent = grade_claims(answer, texts, Judge("nli"))[0]
    assert not independent.supported and not independent.self_graded and independent.grader == "nli"


def test_crag_truthfulness_on_five_records_equals_the_hand_count():
    right = phrase_answer()
    quote, cite = quoted("The harbour", "storm.")
    wrong = Answer.of_claims([Claim.quote(cite, quote)], [cite])
    refused = Answer("The articles don't say.", True, claims=(Claim.refusal(),))
    scores = [
        answer_scores(Q, right)["truthfulness"],  # +1: right
        answer_scores(Q, wrong)["truthfulness"],  # -1: answered, wrongly
        answer_scores(Q, refused)["truthfulness"],  # 0: refused an answerable question
        answer_scores(NULL, refused)["truthfulness"],  # +1: rightly refused
        answer_scores(NULL, right)["truthfulness"],  # -1: answered an unanswerable question
    ]
    assert scores == [1.0, -1.0, 0.0, 1.0, -1.0] and sum(scores) / 5 == 0.0
    assert answer_scores(Q, right)["direct_answer"] == 1.0 and answer_scores(Q, right)["answered_by"] == 0
    # The answer in a related quote beside a refusal is no answer.
    related = Claim("quote", right.claims[1].text, (1,), "related", "", (), right.claims[1].span)
    with_related = Answer.of_claims([Claim.refusal(), related], right.citations)
    assert answer_scores(Q, with_related) == {"answer_correct": 0.0, "direct_answer": 0.0, "shown_answer_correct": 0.0,
                                              "truthfulness": 0.0, "shown_truthfulness": 0.0, "answered_by": None}  # fmt: skip


def test_a_wrong_phrase_shown_makes_the_shown_answer_wrong_whatever_its_quote_holds():
    quote, cite = quoted("Officials", "Monday.")
    it = Span.of(REF, PORT, 0, PORT.index("it would"), PORT.index("it would") + 2)
    wrong = Answer.of_claims([Claim.phrase(it, quote, cite), Claim.quote(cite, quote)], [cite], question=Q.question)
    scores = answer_scores(Q, wrong)
    assert scores["answer_correct"] == 1.0 and scores["truthfulness"] == 1.0  # the quote holds "Monday"
    assert scores["phrase_correct"] == 0.0 and scores["shown_answer_correct"] == 0.0 and scores["shown_truthfulness"] == -1.0
    right = answer_scores(Q, phrase_answer())
    assert right["phrase_correct"] == right["shown_answer_correct"] == right["shown_truthfulness"] == 1.0
    only_quote = answer_scores(Q, Answer.of_claims([Claim.quote(cite, quote)], [cite]))
    assert "phrase_correct" not in only_quote and only_quote["shown_answer_correct"] == 1.0  # no phrase: its quotes answer
    # A phrase that gives the gold answer in other words than its required terms (SQuAD F1 >= 0.5).
    cheney = EvalQuestion("q3", "Who lost her seat?", "factoid", "Rep. Liz Cheney", (("Rep. Liz Cheney",),))
    text = "Wyoming Rep. Liz Cheney lost her primary."
    ref = ArticleRef("wy", "Cheney loses")
    sentence = Span.of(ref, text, 0, 0, len(text))
    cite = Citation.of(sentence, 1, 0.9)
    name = Span.of(ref, text, 0, text.index("Liz"), text.index(" lost"))
    assert answer_scores(cheney, Answer.of_claims([Claim.phrase(name, sentence, cite), Claim.quote(cite, sentence)], [cite]))["phrase_correct"] == 1.0
    wyoming = Span.of(ref, text, 0, 0, len("Wyoming"))
    assert answer_scores(cheney, Answer.of_claims([Claim.phrase(wyoming, sentence, cite), Claim.quote(cite, sentence)], [cite]))["phrase_correct"] == 0.0
    # A question of two parts shows a phrase for each: they are read together.
    two = EvalQuestion("q4", "Who ordered it, and by what date?", "factoid", "Defense Minister Sergei Shoigu, by May 1.", (("Shoigu",), ("May 1",)))
    text = "Defense Minister Sergei Shoigu ordered the troops back by May 1."
    sentence = Span.of(ref, text, 0, 0, len(text))
    cite = Citation.of(sentence, 1, 0.9)
    who = Span.of(ref, text, 0, text.index("Sergei"), text.index(" ordered"))
    when = Span.of(ref, text, 0, text.index("May"), len(text) - 1)
    parts = [Claim.phrase(who, sentence, cite, part="Who ordered it"), Claim.phrase(when, sentence, cite, part="by what date")]
    assert answer_scores(two, Answer.of_claims([*parts, Claim.quote(cite, sentence)], [cite]))["phrase_correct"] == 1.0
    assert answer_scores(two, Answer.of_claims([parts[0], Claim.quote(cite, sentence)], [cite]))["phrase_correct"] == 0.0


class ScriptedEngine:
    """An engine that searches and answers from fixed passages: the answer was made from the second one."""

    name = "scripted"

    def __init__(self):
        from types import SimpleNamespace

        from index.types import Article

        self.retriever = SimpleNamespace(store=SimpleNamespace(get_article=lambda doc_id: Article(doc_id, PORT) if doc_id == "port" else None))
        other = Chunk("other", 0, "Nothing about the harbour.", 0, 26, {"doc_id": "other"})
        port = Chunk("port", 0, PORT, 0, len(PORT), {"doc_id": "port", "title": REF.title})
        self.hits = [ScoredChunk(other, 0.9, similarity=0.9), ScoredChunk(port, 0.8, similarity=0.8)]

    def retrieve(self, question, k, **_):
        return self.hits[::-1]  # the search at k=10 ranks the evidence first

    def query(self, question, top_k=5, **_):
        used = tuple(Passage(h.chunk.id, h.chunk.doc_id, "", h.chunk.text, 0, len(h.chunk.text), h.cosine) for h in self.hits)
        return replace(phrase_answer(), passages=used, generator="scripted")


def test_retrieval_is_measured_on_the_passages_the_answer_used():
    report = _evaluate([Q], ScriptedEngine(), Judge("nli"), 5, False, None)
    rec = report.questions[0]
    assert rec["hits@1"] == 1.0  # the k=10 search
    assert rec["used_hits@1"] == 0.0 and rec["used_hits@k"] == 1.0 and rec["used_answer_chunk@k"] == 1.0
    assert rec["answer_correct"] == 1.0 and rec["direct_answer"] == 1.0 and rec["claims_exact"] == 1.0 and rec["failure"] is None
