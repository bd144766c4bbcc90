"""The web chat in a real browser: Debian's chromium driven by Playwright.

Starts `rag serve` (the local reader when installed, else the default
extractive generator) on a free loopback port, asks a seed question, opens a citation, uploads an article
and asks about it, and checks that an article carrying XSS payloads runs
nothing. Saves a screenshot under tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time

import pytest
from conftest import ROOT, SEEDS, free_port

pytestmark = pytest.mark.slow

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = ROOT / "tests" / "artifacts"
XSS_TITLE = 'Harbour <img src=x onerror="window.__xss=1"> notes <script>window.__xss=2</script>'
XSS_TEXT = (
    "The harbour master of Saint-Malo said the new lighthouse will open in June. "
    '<img src=x onerror="window.__xss=3"> <script>window.__xss=4</script> '
    "The lighthouse cost 4 million euros, the harbour master said."
)


def _start(tmp_path_factory, articles_of):  # noqa: ANN001, ANN202
    """Ingest the articles `articles_of(folder)` writes, start `rag serve` on them; yield (url, folder)."""
    if not os.path.exists(CHROMIUM):
        message = "Debian's chromium is not installed (apt-get install chromium; scripts/bootstrap.sh dev does it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    pytest.importorskip("playwright")
    base = tmp_path_factory.mktemp("browser")
    articles = base / "articles"
    articles_of(articles)
    store = base / "store"
    subprocess.run([sys.executable, "-m", "ui.cli", "ingest", str(articles), "--store", str(store)], check=True, cwd=ROOT, timeout=300)
    port = free_port()
    log = (base / "serve.log").open("wb")
    # The local reader when installed (answers open with a copied phrase), else the default, extractive.
    generator = ["--generator", "local"] if _local() else []
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--store", str(store), "--port", str(port), *generator],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    import httpx

    deadline = time.monotonic() + 180
    while True:
        assert proc.poll() is None, (base / "serve.log").read_text()
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "rag serve did not start in 180 s"
        time.sleep(0.5)
    yield url, base
    proc.terminate()
    proc.wait(timeout=30)


def _local() -> bool:
    from rag.llm.local import is_available

    return is_available() and os.environ.get("RAG_GENERATOR") in (None, "", "local")


def _seeds_and_payloads(folder) -> None:  # noqa: ANN001
    shutil.copytree(SEEDS, folder)
    record = {"id": "xss-1", "title": XSS_TITLE, "url": "javascript:window.__xss=5", "source": "<b>Evil</b> Gazette",
              "published_at": "2024-05-02", "text": XSS_TEXT}  # fmt: skip
    (folder / "xss.jsonl").write_text(json.dumps(record) + "\n")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    yield from _start(tmp_path_factory, _seeds_and_payloads)


@pytest.fixture(scope="module")
def browser(server):
    """One Playwright and one chromium for the module (a second sync Playwright cannot start beside the first)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _page(browser, url: str):  # noqa: ANN001, ANN202
    page = browser.new_page(viewport={"width": 1300, "height": 950})
    page.on("dialog", lambda d: d.dismiss())  # an alert() would be a failed XSS check, not a hang
    page.goto(url)
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    yield page
    page.close()


@pytest.fixture(scope="module")
def page(browser, server):
    yield from _page(browser, server[0])


DONE = "#rag-chat .rag-answer, #rag-chat .rag-error"


def ask(page, question: str, n_answers: int) -> str:
    """Ask and wait for the n-th finished answer (a .rag-answer, refusals included, or a .rag-error); return its text."""
    page.fill("#rag-question textarea", question)
    page.press("#rag-question textarea", "Enter")
    done = DONE
    page.wait_for_function(f"document.querySelectorAll({done!r}).length >= {n_answers}", timeout=180_000)
    return page.locator(done).nth(n_answers - 1).inner_text()


def test_a_seed_question_is_answered_claim_by_claim_with_a_citation_that_opens(page):
    text = ask(page, "Who ordered Russian troops to return to their permanent bases, and by what date?", 1)
    assert "Shoigu" in text and "May 1" in text
    answer = page.locator("#rag-chat .rag-answer").first
    if _local():  # the copied phrase comes first, in bold, before the quotes
        first = answer.locator(".rag-claim").first
        assert "rag-phrase" in first.get_attribute("class") and first.locator("strong").inner_text().strip()
    quote = answer.locator("blockquote.rag-quote").first
    assert quote.is_visible() and "Shoigu" in quote.inner_text()  # the quote that backs the answer, in the answer
    cite = page.locator("#rag-chat a.rag-cite").first
    assert cite.get_attribute("title")  # hover shows the quote
    cite.click()
    card = page.locator("#rag-src-1-1")
    page.wait_for_function("document.querySelector('#rag-src-1-1').open === true")
    marked = card.locator("mark").inner_text()
    assert "Shoigu" in marked
    seed = (SEEDS / "004_2c59799eda60ed9b.txt").read_text()
    assert " ".join(marked.split())[:60] in " ".join(seed.split())
    assert "(inferred)" in card.inner_text()  # the seed files are undated: the date is read from the text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat-citation.png"), full_page=True)


def test_upload_an_article_and_ask_about_it(page, server):
    article = server[1] / "brest-harbour.txt"
    article.write_text(
        "Storm closes the harbour of Brest\n\nThe harbour of Brest was closed on Friday after a storm damaged two piers, "
        "the port authority said. It is expected to reopen on Monday.\n"
    )
    page.click("#rag-articles button, #rag-articles .label-wrap")
    page.locator("#rag-upload input[type=file]").set_input_files(str(article))
    page.wait_for_timeout(1000)
    page.click("#rag-add")
    page.wait_for_function("(document.querySelector('#rag-report textarea') || {}).value?.includes('added 1')", timeout=120_000)
    assert "brest-harbour.txt" in page.locator("#rag-article-table").inner_text()
    text = ask(page, "Why was the harbour of Brest closed?", 2)
    assert "storm" in text.lower()
    assert page.locator("#rag-src-2-1").count() == 1
    # One list in the sources panel: the latest answer's, not one per answer so far.
    assert page.locator("#rag-sources .rag-sources-head:visible").count() == 1
    assert page.locator("#rag-sources .rag-sources-head:visible").inner_text() == "Sources of answer 2"


def test_article_with_xss_payloads_runs_nothing(page):
    text = ask(page, "What did the harbour master of Saint-Malo say about the lighthouse?", 3)
    assert "lighthouse" in text.lower()
    page.locator("#rag-src-3-1 summary").click()
    card = page.locator("#rag-src-3-1").inner_text()
    assert "<img src=x" in card and "<script>" in card  # shown as text
    assert "javascript:" not in page.locator("#rag-src-3-1").inner_html()
    table = page.locator("#rag-article-table").inner_text()
    assert "<script>window.__xss=2</script>" in table
    page.wait_for_timeout(500)
    assert page.evaluate("window.__xss") is None


def test_examples_a_refusal_and_a_reload_that_keeps_the_conversation(page):
    examples = [e.strip() for e in page.locator("#rag-examples").inner_text().splitlines() if e.strip().startswith("Who ")]
    assert examples  # real questions about the stored articles (a long one is shown cut, "…")
    page.locator("#rag-examples button").first.click()  # an example fills the question box with the whole question
    page.wait_for_function("(document.querySelector('#rag-question textarea') || {}).value?.endsWith('?')", timeout=10_000)
    page.fill("#rag-question textarea", "")
    done = DONE
    n = page.locator(done).count()
    ask(page, "What is the capital of Australia?", n + 1)
    icon = page.locator("#rag-chat .rag-refusal svg").last
    assert icon.is_visible() and icon.bounding_box()["width"] > 0  # drawn, not a glyph the font lacks
    assert page.locator("#rag-sources").inner_text().count("No sources") == 1
    before = page.locator("#rag-chat").inner_text()
    page.reload()
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    page.wait_for_function("document.querySelectorAll('#rag-chat .rag-answer').length >= 2", timeout=30_000)
    after = page.locator("#rag-chat").inner_text()
    assert "capital of Australia" in after and "Shoigu" in after and len(after) >= 0.9 * len(before)
    page.click("#rag-new-chat")
    page.wait_for_function("document.querySelectorAll('#rag-chat .rag-answer').length === 0", timeout=30_000)
    page.reload()
    page.wait_for_selector("#rag-question textarea", timeout=60_000)
    page.wait_for_timeout(1500)
    assert page.locator("#rag-chat .rag-answer").count() == 0  # "New chat" cleared what was kept


def test_readme_screenshot_of_the_seed_store(tmp_path_factory, browser):
    """docs/chat.png is this screenshot: the seed articles only, a question answered, its citation open."""
    for url, _base in _start(tmp_path_factory, lambda folder: shutil.copytree(SEEDS, folder)):
        for page in _page(browser, url):
            examples = [e for e in page.locator("#rag-examples").inner_text().splitlines() if e.strip().startswith("Who ")]
            assert examples  # the examples are questions about the seed articles, answered with a copied phrase
            ask(page, "Who ordered Russian troops to return to their permanent bases, and by what date?", 1)
            page.locator("#rag-chat a.rag-cite").first.click()
            page.wait_for_function("document.querySelector('#rag-src-1-1').open === true")
            assert "Saint-Malo" not in page.content() and "Evil" not in page.content()  # no test article in sight
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "readme-chat.png"), full_page=True)
            if not os.environ.get("CI"):  # the README's picture is this screenshot
                shutil.copyfile(ARTIFACTS / "readme-chat.png", ROOT / "docs" / "chat.png")
