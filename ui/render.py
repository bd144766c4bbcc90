"""HTML for the web chat: answers with clickable citations, and the sources panel.

Everything that comes from an article (title, source, URL, text) or from the
model is escaped here, before any markup is added: an article that holds
`<script>` or `<img onerror=...>` shows as text and runs nothing. Only http(s)
URLs become links. These functions are pure, so the escaping is unit-tested.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from index.types import ArticleInfo
from rag.types import Answer, Citation, Claim

_MARKER = re.compile(r"\[(\d+)\]")
_CONTEXT_CHARS = 280  # passage text shown on each side of the quote


def esc(text: str) -> str:
    return html.escape(text or "", quote=True)


def safe_url(url: str) -> str | None:
    """The URL if it is a plain http(s) link, else None (no javascript:, data:, ...)."""
    url = (url or "").strip()
    if re.match(r"^https?://[^\s<>\"']+$", url, re.I):
        return url
    return None


def source_id(turn: int, n: int) -> str:
    return f"rag-src-{turn}-{n}"


# Icons as inline SVG: the ⓘ and ⚠ glyphs are missing from the fonts of some systems (Debian's
# chromium showed an empty box), an SVG draws everywhere.
INFO_ICON = (
    '<svg class="rag-icon" role="img" aria-label="note" width="14" height="14" viewBox="0 0 16 16">'
    '<circle cx="8" cy="8" r="7" fill="none" stroke="currentColor" stroke-width="1.5"/>'
    '<rect x="7.25" y="7" width="1.5" height="5" fill="currentColor"/><circle cx="8" cy="4.6" r="1" fill="currentColor"/></svg>'
)
WARNING_ICON = (
    '<svg class="rag-icon" role="img" aria-label="error" width="14" height="14" viewBox="0 0 16 16">'
    '<path d="M8 1.5 15 14.5H1z" fill="none" stroke="currentColor" stroke-width="1.5" stroke-linejoin="round"/>'
    '<rect x="7.25" y="6" width="1.5" height="4.5" fill="currentColor"/><circle cx="8" cy="12.2" r="0.9" fill="currentColor"/></svg>'
)


def draft_html(text: str) -> str:
    """The model's draft while it streams (may still change: shown as a draft)."""
    return f'<span class="rag-draft">{esc(text)}</span> ▌'


def _date(c: Citation) -> str:
    """A citation's date as shown: "2022-02-24", or "2020 (inferred)" for a date read from an undated article's text."""
    day = c.published_at[:10]
    return f"{day} (inferred)" if day and c.date_inferred else day


def _links(claim: Claim, by_n: dict[int, Citation], turn: int) -> str:
    out = []
    for n in claim.citations:
        c = by_n.get(n)
        if c is not None:
            tip = esc(f"{c.title}: “{c.quote}”")
            out.append(f'<a class="rag-cite" href="#{source_id(turn, c.n)}" title="{tip}" data-n="{c.n}" data-turn="{turn}">[{c.n}]</a>')
    return "".join(out)


def _claim_html(claim: Claim, by_n: dict[int, Citation], turn: int) -> str:
    part = f'<span class="rag-part">{esc(claim.part)}</span> ' if claim.part else ""
    marks = _links(claim, by_n, turn)
    if claim.kind == "phrase":
        return f'<div class="rag-claim rag-phrase">{part}<strong>{esc(claim.text)}</strong> {marks}</div>'
    if claim.kind == "refusal":
        return f'<div class="rag-claim rag-refusal">{INFO_ICON} {part}{esc(claim.text)}</div>'
    if claim.kind == "sentence":
        judges = ", ".join(claim.checked_by)
        return (f'<div class="rag-claim rag-written">{part}{esc(claim.text)} {marks} '
                f'<span class="rag-badge" title="written by the model; passed by {esc(judges)}">written</span></div>')  # fmt: skip
    cited = by_n.get(claim.citations[0]) if claim.citations else None
    meta = " · ".join(esc(x) for x in ((cited.source, _date(cited)) if cited else ()) if x)
    return (f'<blockquote class="rag-claim rag-quote">{part}“{esc(" ".join(claim.text.split()))}” {marks}'
            f'{f"<span class=rag-meta> — {meta}</span>" if meta else ""}</blockquote>')  # fmt: skip


def answer_html(answer: Answer, turn: int) -> str:
    """An answer for the chat, claim by claim: the copied phrase first and bold, the quotes with
    source and date, a written sentence marked as written; a refusal in grey, what the articles say
    near an unanswered question marked as related. `[n]` markers link to (and preview) their source."""
    by_n = {c.n: c for c in answer.citations}
    claims = answer.claims or (Claim.refusal(answer.text),)
    answering = [_claim_html(c, by_n, turn) for c in claims if c.role == "answer"]
    related = [_claim_html(c, by_n, turn) for c in claims if c.role == "related"]
    out = f'<div class="rag-answer">{"".join(answering)}</div>'
    if related:
        out += '<div class="rag-related"><div class="rag-related-head">What the articles say nearby (not an answer):</div>' + "".join(related) + "</div>"
    if answer.unsupported:
        n = len(answer.unsupported)
        dropped = "".join(f"<li>{esc(s)}</li>" for s in answer.unsupported)
        out += (
            f'<details class="rag-dropped"><summary>{n} repl{"ies" if n > 1 else "y"} of the model not shown: '
            f"not copied from its source</summary><ul>{dropped}</ul></details>"
        )
    return out


def error_html(message: str) -> str:
    return f'<div class="rag-error">{WARNING_ICON} {esc(message)}</div>'


def _passage_with_mark(answer: Answer, c: Citation) -> str:
    """The cited passage around the quote, with the quote highlighted."""
    for p in answer.passages:
        if p.doc_id == c.doc_id and p.start <= c.start and c.end <= p.end:
            before = p.text[max(0, c.start - p.start - _CONTEXT_CHARS) : c.start - p.start]
            after = p.text[c.end - p.start : c.end - p.start + _CONTEXT_CHARS]
            lead = "…" if c.start - p.start > _CONTEXT_CHARS else ""
            tail = "…" if c.end - p.start + _CONTEXT_CHARS < len(p.text) else ""
            return f"{lead}{esc(before)}<mark>{esc(c.quote)}</mark>{esc(after)}{tail}"
    return f"<mark>{esc(c.quote)}</mark>"


def sources_html(answer: Answer | None, turn: int, *, open_first: bool = False) -> str:
    """The sources list of one answer: a card per citation, passage with the quote marked.

    The panel holds one list per answer, newest first, and shows one at a time (CSS hides all but
    the first; clicking an `[n]` shows its answer's list instead)."""
    if answer is None:
        return '<div class="rag-sources rag-empty">Sources of the latest answer appear here.</div>'
    attrs = f'class="rag-sources" data-turn="{turn}"'
    if not answer.citations:
        return f'<div {attrs}><div class="rag-empty">No sources: the articles do not answer this question.</div></div>'
    cards = []
    for i, c in enumerate(answer.citations):
        meta = " · ".join(esc(x) for x in (c.source, _date(c)) if x)
        url = safe_url(c.url)
        link = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{esc(url)}</a>' if url else ""
        cards.append(
            f'<details class="rag-source" id="{source_id(turn, c.n)}"{" open" if open_first and i == 0 else ""}>'
            f'<summary><span class="rag-n">[{c.n}]</span> <span class="rag-title">{esc(c.title or c.doc_id)}</span>'
            f'{f" <span class=rag-meta>{meta}</span>" if meta else ""}</summary>'
            f'<div class="rag-link">{link}</div>'
            f'<p class="rag-passage">{_passage_with_mark(answer, c)}</p>'
            f'<div class="rag-ref">{esc(c.doc_id)} · characters {c.start}–{c.end}</div>'
            "</details>"
        )
    head = f'<div class="rag-sources-head">Sources of answer {turn}</div>'
    return f"<div {attrs}>{head}" + "".join(cards) + "</div>"


def article_rows(articles: Sequence[ArticleInfo]) -> list[list[object]]:
    """Rows for the articles table (plain text cells; the table does not render HTML)."""
    return [[a.title or a.id, a.source, a.published_at[:10] or (f"{a.inferred_date} (inferred)" if a.inferred_date else ""), a.chunks, a.id]
            for a in articles]  # fmt: skip


ARTICLE_COLUMNS = ["title", "source", "date", "chunks", "id"]

CSS = """
.rag-refusal { color: #555; font-style: italic; border-left: 3px solid #aaa; padding-left: .6em; }
.rag-claim { margin: .25em 0; }
.rag-phrase strong { font-size: 1.1em; }
.rag-quote { margin: .3em 0 .3em .2em; padding-left: .6em; border-left: 3px solid #d0d7de; color: #222; }
.rag-part { color: #555; font-size: .9em; }
.rag-badge { font-size: .75em; border: 1px solid #999; border-radius: 4px; padding: 0 .3em; color: #555; }
.rag-related { margin-top: .4em; color: #555; }
.rag-related-head { font-size: .85em; font-style: italic; }
.rag-sources[data-turn] ~ .rag-sources[data-turn] { display: none; }
.rag-error { color: #a40000; }
.rag-draft { color: #666; }
.rag-dropped { color: #777; font-size: .85em; margin-top: .4em; }
a.rag-cite { text-decoration: none; font-weight: 600; font-size: .8em; vertical-align: super; padding: 0 .1em; cursor: pointer; }
.rag-sources-head { font-weight: 600; margin-bottom: .3em; }
.rag-source { border: 1px solid #ddd; border-radius: 6px; padding: .4em .6em; margin-bottom: .4em; }
.rag-source summary { cursor: pointer; }
.rag-meta, .rag-ref { color: #666; font-size: .85em; }
.rag-passage mark { background: #ffe58a; padding: 0 .1em; }
.rag-flash { outline: 2px solid #f0b400; }
.rag-empty { color: #777; }
.rag-icon { vertical-align: -2px; margin-right: .25em; }
"""

# Clicking a [n] marker in an answer opens its card in the sources panel.
HEAD = """
<script>
document.addEventListener('click', function (event) {
  var a = event.target && event.target.closest ? event.target.closest('a.rag-cite') : null;
  if (!a) return;
  event.preventDefault();
  event.stopPropagation();
  var turn = a.getAttribute('data-turn');
  if (turn) {
    document.querySelectorAll('.rag-sources[data-turn]').forEach(function (list) {
      list.style.display = list.getAttribute('data-turn') === turn ? 'block' : 'none';
    });
  }
  var el = document.getElementById((a.getAttribute('href') || '').slice(1));
  if (!el) return;
  el.open = true;
  el.scrollIntoView({block: 'nearest'});
  el.classList.add('rag-flash');
  setTimeout(function () { el.classList.remove('rag-flash'); }, 1500);
}, true);
</script>
"""
