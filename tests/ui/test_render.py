"""The chat's HTML: each claim shown for what it is, citations link to their sources, and article text is always inert."""

from index.types import ArticleInfo, ArticleRef
from rag.types import Answer, Citation, Claim, Passage, Span
from ui import render

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
BODY = "Before. Storms closed the port on Friday. After " + XSS


def _answer(*, unsupported=(), source_title="Port news " + XSS, url="javascript:alert(1)", extra: tuple = ()):
    ref = ArticleRef("d1", source_title, "Gazette", url, "2024-01-05T10:00:00")
    quote = Span.of(ref, BODY, 0, 8, 41)
    cit = Citation.of(quote, 1, 0.9)
    phrase = Span.of(ref, BODY, 0, 8, 14)
    claims = (Claim.phrase(phrase, quote, cit), Claim.quote(cit, quote), *extra)
    passage = Passage("d1#0", "d1", "Port news", BODY, 0, len(BODY), 0.8)
    answer = Answer.of_claims(claims, [cit], question="What closed the port?", unsupported=unsupported)
    return Answer(answer.text, answer.refused, answer.citations, answer.question, "g", (passage,), answer.unsupported, answer.claims)


def test_the_phrase_comes_first_in_bold_and_the_quote_with_its_source_and_date():
    out = render.answer_html(_answer(), turn=3)
    assert out.index('class="rag-claim rag-phrase"><strong>Storms</strong>') < out.index('<blockquote class="rag-claim rag-quote">')
    assert "“Storms closed the port on Friday.”" in out and "Gazette · 2024-01-05" in out
    assert '<a class="rag-cite" href="#rag-src-3-1"' in out and 'data-turn="3"' in out


def test_an_inferred_date_is_marked_as_inferred():
    ref = ArticleRef("seed.txt", "Seed", "", "", "", "2022-02")
    quote = Span.of(ref, BODY, 0, 8, 41)
    cit = Citation.of(quote, 1, 0.5)
    answer = Answer.of_claims([Claim.quote(cit, quote)], [cit])
    assert cit.published_at == "2022-02" and cit.date_inferred
    assert "2022-02 (inferred)" in render.answer_html(answer, 1) and "2022-02 (inferred)" in render.sources_html(answer, 1)


def test_a_written_sentence_is_marked_as_written_with_its_judges():
    written = Claim.sentence("Storms shut the port.", (1,), ("nli", "lexical"))
    out = render.answer_html(_answer(extra=(written,)), 1)
    assert 'class="rag-claim rag-written"' in out and ">written</span>" in out and "passed by nli, lexical" in out


def test_answer_and_sources_escape_article_and_model_text():
    answer = _answer(unsupported=("[1] Invented " + XSS,))
    for out in (render.answer_html(answer, 1), render.sources_html(answer, 1), render.draft_html(XSS), render.error_html(XSS)):
        assert "<img" not in out and "<script" not in out
    assert "&lt;img" in render.sources_html(answer, 1)


def test_sources_mark_the_quote_in_its_passage_and_drop_unsafe_urls():
    out = render.sources_html(_answer(), 2)
    assert 'id="rag-src-2-1"' in out and 'data-turn="2"' in out and "Sources of answer 2" in out
    assert "<mark>Storms closed the port on Friday.</mark>" in out
    assert "Before. " in out  # context around the quote
    assert "javascript:" not in out
    assert "Gazette · 2024-01-05" in out
    assert 'href="https://example.org/a?b=1&amp;c=2"' in render.sources_html(_answer(url="https://example.org/a?b=1&c=2"), 1)


def test_a_refusal_looks_different_and_related_quotes_are_not_an_answer():
    refused = Answer("The articles don't say.", True, claims=(Claim.refusal(),))
    out = render.answer_html(refused, 1)
    assert 'class="rag-claim rag-refusal"' in out and "rag-phrase" not in out
    assert "No sources" in render.sources_html(refused, 1)
    answered = _answer()
    related = Claim("quote", answered.claims[1].text, (1,), "related", "", (), answered.claims[1].span)
    with_related = Answer.of_claims([Claim.refusal(), related], answered.citations)
    out = render.answer_html(with_related, 1)
    answer_part, nearby = out.split('<div class="rag-related">')
    assert "rag-refusal" in answer_part and "Storms closed the port" not in answer_part
    assert "not an answer" in nearby and "Storms closed the port" in nearby
    assert with_related.refused


def test_replies_not_shown_are_listed_apart_not_as_facts():
    out = render.answer_html(_answer(unsupported=("[1] The mayor resigned",)), 1)
    answer_part, dropped = out.split('<details class="rag-dropped">')
    assert "The mayor resigned" not in answer_part
    assert "1 reply of the model not shown" in dropped and "The mayor resigned" in dropped


def test_article_rows_are_plain_values():
    info = ArticleInfo("a.txt", XSS, "src", "", "2023-02-01T00:00:00", 3, "a.txt")
    assert render.article_rows([info]) == [[XSS, "src", "2023-02-01", 3, "a.txt"]]


def test_icons_are_drawn_not_glyphs_a_font_may_lack():
    from rag.types import refusal

    refused = render.answer_html(refusal("q", "g"), 1)
    assert "<svg" in refused and "ⓘ" not in refused
    assert "<svg" in render.error_html("store missing") and "⚠" not in render.error_html("x")
