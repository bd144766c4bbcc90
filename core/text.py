"""Cheap lexical features of questions and sentences: content terms, names, numbers.

Shared by the extractive answerer (which sentence answers the question) and the
support judge (does a passage back a claim). Pure Python, no model, no import cost.
"""

from __future__ import annotations

import re
from functools import lru_cache

STOPWORDS = frozenset(
    """
    a an the and or but nor so yet of in on at to for from by with without about above below over under
    into onto upon out off up down than then as is are was were be been being am do does did doing done
    have has had having will would shall should can could may might must i me my mine we us our ours you
    your yours he him his she her hers it its they them their theirs this that these those there here
    what which who whom whose when where why how whether if not no yes all any both each few more most
    other some such only own same too very just also s t don now again further once ever
    """.split()
)

# Words of the question's frame rather than its content.
QUESTION_FRAME = frozenset(
    """
    according article articles text texts story stories report reports reported say says said tell tells
    told mention mentions mentioned state states stated many much kind type name named
    """.split()
)

NUMBER_WORDS = frozenset(
    """
    one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen
    seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand
    million billion trillion dozen dozens hundreds thousands millions billions half third quarter fifth
    percent per cent first second
    """.split()
)
# Number words and their values, for comparing "three" in a claim with "3" in a passage.
NUMBER_VALUES = {
    "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
    "ten": "10", "eleven": "11", "twelve": "12", "twenty": "20", "thirty": "30", "forty": "40", "fifty": "50",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000",
    "half": "1/2", "third": "1/3", "quarter": "1/4", "fifth": "1/5",
}
MONTHS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec".split()
)
WEEKDAYS = frozenset("monday tuesday wednesday thursday friday saturday sunday".split())
NEGATIONS = frozenset("not no never none nobody nothing neither nor without cannot denied deny denies refused".split())

_TOKEN = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]|\d+(?:[.,]\d+)*%?")
_CAPWORD = re.compile(r"\b[A-Z][a-zA-Z’'\-]+|\b[A-Z]{2,}\b")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light, predictable stemmer: case, possessives and common inflections."""
    w = word.lower().replace("’", "'")
    if w.endswith("'s"):
        w = w[:-2]
    w = w.strip("'-")
    if len(w) > 4 and w.endswith("ies"):
        return w[:-3] + "y"
    if len(w) > 5 and w.endswith("ing"):
        return w[:-3]
    if len(w) > 4 and w.endswith("ed") and not w.endswith("eed"):
        return w[:-2] if not w.endswith("ied") else w[:-3] + "y"
    if len(w) > 3 and w.endswith("es") and w[-3] in "sxz":
        return w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith(("ss", "us", "is")):
        return w[:-1]
    return w


def tokens(text: str) -> list[str]:
    """Word and number tokens, original case."""
    return _TOKEN.findall(text)


def content_terms(text: str, *, drop_frame: bool = False) -> list[str]:
    """Stemmed content words (stop words removed), in order, without duplicates."""
    seen: dict[str, None] = {}
    for tok in tokens(text):
        low = tok.lower()
        if low in STOPWORDS or (drop_frame and low in QUESTION_FRAME):
            continue
        seen.setdefault(stem(low) if not tok[0].isdigit() else _norm_number(tok), None)
    return list(seen)


# Common sentence-initial subjects that are not names.
GENERIC_SUBJECTS = frozenset(
    """
    officials authorities residents police experts critics analysts scientists researchers people many several
    according after before during while although however meanwhile today yesterday earlier later since despite
    """.split()
)


def names(text: str, *, include_initial: bool = False) -> list[str]:
    """Capitalised words (rough proper nouns), stemmed.

    Args:
        include_initial: also count a sentence's first word (capitalised for
            grammar, but often the subject's name: "Shoigu ordered ...") unless it
            is a stop word or a generic subject ("Officials said ...").
    """
    return list(dict.fromkeys(stemmed for stemmed, _, _ in name_spans(text, include_initial=include_initial)))


def name_spans(text: str, *, include_initial: bool = False) -> list[tuple[str, int, int]]:
    """Each capitalised word of `names` where it occurs: (stem, start, end), in order."""
    out = []
    for match in _CAPWORD.finditer(text):
        start = match.start()
        before = text[:start].rstrip()
        word = match.group()
        low = word.lower()
        if low in STOPWORDS or low in QUESTION_FRAME:
            continue
        if not before or before[-1] in ".!?\"“‘'(:" or before.endswith("\n"):
            if not include_initial or low in GENERIC_SUBJECTS:
                continue
        out.append((stem(word), start, match.end()))
    return out


def numbers(text: str) -> set[str]:
    """Numbers written with digits, normalised ("1,200" → "1200")."""
    return {_norm_number(t) for t in re.findall(r"\d+(?:[.,]\d+)*", text)}


def _norm_number(tok: str) -> str:
    tok = tok.rstrip("%")
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+", tok):
        return tok.replace(",", "")
    return tok


def has_number(text: str) -> bool:
    return bool(re.search(r"\d", text)) or any(t.lower() in NUMBER_WORDS for t in tokens(text))


def has_date(text: str) -> bool:
    if re.search(r"\b(1[89]|20)\d{2}\b", text):
        return True
    low = {t.lower() for t in tokens(text)}
    return bool(low & MONTHS or low & WEEKDAYS or low & {"yesterday", "today", "tomorrow", "week", "month", "year"})


def fuzzy_in(term: str, vocabulary: set[str]) -> bool:
    """Whether `term` (stemmed) occurs in `vocabulary`, allowing spelling variants of long names."""
    if term in vocabulary:
        return True
    if len(term) < 6:
        return False
    prefix = term[: max(5, len(term) - 2)]
    return any(v.startswith(prefix) or (len(v) >= 6 and term.startswith(v[: max(5, len(v) - 2)])) for v in vocabulary)


# A people's or language's word is its place's name and an ending (Japan-ese, Ukrain-ian, Russia-n, Israel-i,
# Brazil-ian, Mexic-an for Mexico): the place's stem, or it less a final vowel, starts the word.
_DEMONYM_ENDINGS = ("ese", "ian", "an", "ish", "i", "n")


def mentioned(name: str, vocabulary: set[str]) -> bool:
    """Whether a name of a question (stemmed, from `names`) is in `vocabulary`, the terms of some articles.

    Spelling variants count (`fuzzy_in`), and so does the place a people's word names ("Japanese" where the
    article says "Japan"). Months and weekdays always count: they are when something happened, which an
    article often says another way ("Feb. 11", "on the 5th") or not at all, not what it is about."""
    if name in MONTHS or name in WEEKDAYS or fuzzy_in(name, vocabulary):
        return True
    for ending in _DEMONYM_ENDINGS:
        base = name[: -len(ending)]
        if name.endswith(ending) and len(base) >= 4:
            if base in vocabulary or any(base + vowel in vocabulary for vowel in "aeiouy"):
                return True
    return False


# --- search terms (the keyword index) ---------------------------------------------------------
# A shorter stop list than STOPWORDS: negations ("not", "no"), quantities ("all", "most") and
# other small words that questions hinge on stay searchable.
_SEARCH_TOKEN = re.compile(r"[^\W_]+(?:[.,'’][^\W_]+)*", re.UNICODE)
SEARCH_STOPWORDS = frozenset(
    """
    a an the and or but nor so of in on at to for from by with about into as is are was were be been being am
    do does did have has had will would shall should can could may might must i me my we us our you your he him
    his she her it its they them their this that these those there here what which who whom whose when where why
    how whether if than then also just very s t
    """.split()
)


def search_terms(text: str) -> list[str]:
    """The BM25 terms of `text`: lower-cased, stemmed words and numbers without stop words."""
    out = []
    for tok in _SEARCH_TOKEN.findall(text.lower()):
        tok = tok.replace("’", "'")
        if tok.endswith("'s"):
            tok = tok[:-2]
        if not tok or tok in SEARCH_STOPWORDS:
            continue
        out.append(tok.replace(",", "") if tok[0].isdigit() else stem(tok))
    return out
