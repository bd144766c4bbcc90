"""The chat's HTML: citations link to their sources, and article text is always inert."""

from index.types import ArticleInfo
from rag.types import Answer, Citation, Passage
from ui import render

XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'


def _answer(text="Storms closed the port [1]. Boats stayed in [2].", **kw):
    body = "Before. Storms closed the port on Friday. After " + XSS
    cit = Citation(1, "d1", "Port news " + XSS, "Gazette", "javascript:alert(1)", "2024-01-05T10:00:00", "Storms closed the port on Friday.", 8, 41, 0.9)
    passage = Passage("d1#0", "d1", "Port news", body, 0, len(body), 0.8)
    return Answer(text=text, refused=False, citations=(cit,), passages=(passage,), **kw)


def test_markers_link_to_known_sources_only():
    out = render.answer_html(_answer(), turn=3)
    assert '<a class="rag-cite" href="#rag-src-3-1"' in out
    assert "[2]" in out and 'href="#rag-src-3-2"' not in out  # no citation 2: left as text


def test_answer_and_sources_escape_article_and_model_text():
    answer = _answer(text="The port closed " + XSS + " [1].", unsupported=("Invented " + XSS,))
    for out in (render.answer_html(answer, 1), render.sources_html(answer, 1), render.draft_html(XSS), render.error_html(XSS)):
        assert "<img" not in out and "<script" not in out
        assert "&lt;img" in out or "&lt;script" in out


def test_sources_mark_the_quote_in_its_passage_and_drop_unsafe_urls():
    out = render.sources_html(_answer(), 2)
    assert 'id="rag-src-2-1"' in out
    assert "<mark>Storms closed the port on Friday.</mark>" in out
    assert "Before. " in out  # context around the quote
    assert "javascript:" not in out
    assert "Gazette · 2024-01-05" in out
    ok = Citation(1, "d1", "t", "", "https://example.org/a?b=1&c=2", "", "q", 0, 1, 1.0)
    assert 'href="https://example.org/a?b=1&amp;c=2"' in render.sources_html(Answer("q [1]", False, (ok,)), 1)


def test_refusal_looks_different_and_has_no_sources():
    refusal = Answer("The articles don't say.", True)
    assert 'class="rag-refusal"' in render.answer_html(refusal, 1)
    assert "rag-source" not in render.sources_html(refusal, 1).replace("rag-sources", "")


def test_unsupported_sentences_are_listed_apart_not_as_facts():
    out = render.answer_html(_answer(unsupported=("The mayor resigned.",)), 1)
    answer_part, dropped = out.split('<details class="rag-dropped">')
    assert "The mayor resigned." not in answer_part
    assert "1 sentence removed" in dropped and "The mayor resigned." in dropped


def test_article_rows_are_plain_values():
    info = ArticleInfo("a.txt", XSS, "src", "", "2023-02-01T00:00:00", 3, "a.txt")
    assert render.article_rows([info]) == [[XSS, "src", "2023-02-01", 3, "a.txt"]]


def test_icons_are_drawn_not_glyphs_a_font_may_lack():
    from rag.types import refusal

    refused = render.answer_html(refusal("q", "g"), 1)
    assert "<svg" in refused and "ⓘ" not in refused
    assert "<svg" in render.error_html("store missing") and "⚠" not in render.error_html("x")
