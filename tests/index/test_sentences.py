from core.sentences import sentence_spans


def split(text):
    return [text[s:e] for s, e in sentence_spans(text)]


def test_spans_point_into_the_text_and_skip_abbreviations():
    text = "Mr. Smith went to Washington D.C. on Jan. 5. He met Gov. Brown at noon. The U.S. Army agreed!"
    assert split(text) == [
        "Mr. Smith went to Washington D.C. on Jan. 5.",
        "He met Gov. Brown at noon.",
        "The U.S. Army agreed!",
    ]


def test_line_breaks_end_sentences_and_quotes_stay_attached():
    text = "A headline without a period\n\n“Really?” she asked. “Yes.” He left.\nLast line"
    assert split(text) == ["A headline without a period", "“Really?” she asked.", "“Yes.”", "He left.", "Last line"]


def test_lowercase_continuation_is_not_a_boundary():
    assert split("It rose 3.5 percent. costs fell, e.g. fuel. Then it stopped.") == [
        "It rose 3.5 percent. costs fell, e.g. fuel.",
        "Then it stopped.",
    ]


def test_slice_offsets_are_absolute():
    text = "Intro. First one. Second one."
    spans = list(sentence_spans(text, 7))
    assert [text[s:e] for s, e in spans] == ["First one.", "Second one."]
    assert spans[0][0] == 7
