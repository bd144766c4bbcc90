from index.clean import clean_text, fallback_title, is_boilerplate, split_headline


def test_boilerplate_lines_are_dropped_story_lines_kept():
    raw = "Support The Moscow Times!\n\nHeadline Here\n\nSupport for the bill grew on Monday, officials said.\n\nRead more"
    assert clean_text(raw) == "Headline Here\n\nSupport for the bill grew on Monday, officials said."


def test_boilerplate_only_matches_short_lines():
    assert is_boilerplate("Subscribe to our newsletter")
    assert is_boilerplate("Advertisement")
    assert not is_boilerplate("Read more about how the council voted " + "and why " * 20)


def test_invisible_characters_and_odd_whitespace_are_normalised():
    assert clean_text("Zero\u200bwidth\u00a0space\r\nnext\tline") == "Zerowidth space\nnext line"


def test_headline_split_only_when_it_reads_as_one():
    assert split_headline("Putin Offers to Meet Ukraine President\n\nBody text.") == (
        "Putin Offers to Meet Ukraine President",
        "Body text.",
    )
    body = "Russian President Vladimir Putin said he was ready to meet.\nMore."
    assert split_headline(body) == ("", body)


def test_fallback_title_cuts_at_a_word():
    title = fallback_title("word " * 40)
    assert title.endswith("…") and len(title) <= 92 and "wor…" not in title


def test_markdown_is_reduced_to_prose():
    assert clean_text("# Title\n\nSee [the report](http://x.example) **now**.", markdown=True) == "Title\n\nSee the report now."
