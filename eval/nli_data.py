"""Training pairs for the entailment judge: the public pairs, windowed, and pairs built from their sentences.

Every pair is `(claim, passage, label)` with label 1 (the passage supports the
whole claim) or 0. Passages longer than the model reads are cut to the window
of whole sentences that shares most words with the claim: the judge reads
long passages window by window at run time (`core.sentences.windows`), so it
learns on what it will see.

Built pairs (`perturbed_pairs`) teach what the public sets rarely show and news
answers often get wrong: a sentence of a real passage, changed in one place,
against the passage it came from. Positives: the sentence copied, its
first clause (a subset), or two sentences of the window joined (a claim that
needs more than one sentence). Negatives: a changed number, date or month; a
negation added or removed; two names swapped (roles, speakers); a name replaced
by one from another passage; certainty raised ("proposed" → "approved");
a claim over-generalised ("some" → "all"); a detail added; a true sentence
joined to a changed one; a sentence of another passage that names the same
person or place.

Nothing from the CC BY-NC ANLI set is ever read here (`load_rows` refuses it).
"""

from __future__ import annotations

import json
import random
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.sentences import sentence_spans, windows
from core.text import content_terms

WINDOW_WORDS = 150  # what the judge reads of a passage at once (with the claim: under 256 tokens)


@dataclass(frozen=True)
class Pair:
    claim: str
    passage: str
    label: int
    source: str
    kind: str = ""


def load_rows(path: Path) -> list[dict]:
    """The JSON Lines rows of a pair file; refuses files whose licence forbids training (non-commercial)."""
    rows = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                if re.search(r"\bBY-NC\b|\bNC\b|non-?commercial", row.get("licence", ""), re.IGNORECASE):
                    raise ValueError(f"{path}: {row.get('id')} is licensed {row['licence']!r}: not for training a shipped model")
                rows.append(row)
    return rows


def best_window(claim: str, passage: str, max_words: int = WINDOW_WORDS) -> str:
    """The window of `passage` (whole sentences, at most `max_words`) sharing most content words with `claim`."""
    if len(passage.split()) <= max_words:
        return passage
    wanted = set(content_terms(claim))
    best, best_score = passage[:0], -1.0
    for start, end in windows(passage, max_words):
        text = passage[start:end]
        score = len(wanted & set(content_terms(text)))
        if score > best_score:
            best, best_score = text, score
    return best


def sample_public(rows: Sequence[dict], caps: dict[str, int], rng: random.Random) -> list[Pair]:
    """At most `caps[family]` rows of each source family (default cap: all), as windowed pairs."""
    by_family: dict[str, list[dict]] = defaultdict(list)
    for row in rows:
        by_family[family(row["source"])].append(row)
    out: list[Pair] = []
    for fam in sorted(by_family):
        group = by_family[fam]
        cap = caps.get(fam, len(group))
        chosen = group if cap >= len(group) else rng.sample(group, cap)
        for row in chosen:
            label = 1 if row["label"] == "supported" else 0
            out.append(Pair(row["claim"], best_window(row["claim"], row["passage"]), label, fam))
    return out


def family(source: str) -> str:
    """A short name for a row's source ("DocNLI binary-MNLI test" → "mnli")."""
    low = source.lower()
    for key, name in (("mnli", "mnli"), ("fever-nli", "fever"), ("snli", "esnli"), ("climate", "climate-fever"),
                      ("factcheck", "factcheck-gpt"), ("summac", "summac"), ("summedits", "summedits")):
        if key in low:
            return name
    return re.sub(r"\W+", "-", low).strip("-")


# --- built pairs ---------------------------------------------------------------------------------

_CERTAINTY = [
    ("proposed", "approved"), ("proposes", "approves"), ("plans to", "has decided to"), ("planned", "completed"),
    ("may", "will"), ("might", "will"), ("could", "will"), ("would", "will"), ("expected to", "certain to"),
    ("considering", "has decided on"), ("suspected", "convicted"), ("alleged", "proven"), ("accused", "convicted"),
    ("reportedly", "officially"), ("likely", "certain"), ("possible", "confirmed"), ("hopes to", "has managed to"),
    ("seeking", "winning"), ("sought", "won"), ("asked", "ordered"), ("threatened to", "did"), ("talks", "a deal"),
    ("estimated", "confirmed"), ("about", "exactly"), ("nearly", "more than"), ("almost", "more than"),
]
_GENERAL = [("some", "all"), ("several", "all"), ("many", "all"), ("most", "all"), ("often", "always"),
            ("sometimes", "always"), ("few", "no"), ("a few", "all"), ("one of the", "the only")]
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|can|could|would|should|did|does|do|must)\b(?! not)")
_NEGATED = re.compile(r"\b(is|are|was|were|has|have|had|will|can|could|would|should|did|does|do|must) not\b|n't\b")
_NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)*")
_NUMBER_WORDS = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "twenty", "hundred"]
_MONTHS = "January February March April May June July August September October November December".split()
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_NAME = re.compile(r"(?<!^)(?<![.!?] )\b[A-Z][a-z]+(?: [A-Z][a-z]+)*")
_ADDED = ["on Tuesday", "last year", "for the first time", "after a long delay", "in a unanimous vote",
          "at the request of the government", "by a wide margin", "earlier this month", "in secret"]


def _sub_word(sentence: str, old: str, new: str) -> str | None:
    pattern = re.compile(rf"\b{re.escape(old)}\b", re.IGNORECASE)
    if not pattern.search(sentence):
        return None
    return pattern.sub(new, sentence, count=1)


def _change_number(s: str, rng: random.Random) -> str | None:
    found = list(_NUMBER.finditer(s))
    if found:
        m = rng.choice(found)
        tok = m.group()
        digits = tok.replace(",", "")
        try:
            value = float(digits)
        except ValueError:
            return None
        if re.fullmatch(r"(1[89]|20)\d\d", tok):
            new = str(int(value) + rng.choice([-3, -2, -1, 1, 2, 3]))
        elif "." in digits:
            new = f"{value * rng.choice([0.5, 1.5, 2, 3]):.{len(digits.split('.')[1])}f}"
        else:
            new = str(max(0, int(value) + rng.choice([-1, 1]) * max(1, int(value * rng.choice([0.2, 0.5, 1, 2])))))
            if "," in tok and len(new) > 3:
                new = f"{int(new):,}"
        return None if new == tok else s[: m.start()] + new + s[m.end():]
    for word in _NUMBER_WORDS:
        if re.search(rf"\b{word}\b", s, re.IGNORECASE):
            return _sub_word(s, word, rng.choice([w for w in _NUMBER_WORDS if w != word]))
    return None


def _change_date(s: str, rng: random.Random) -> str | None:
    for group in (_MONTHS, _DAYS):
        present = [w for w in group if re.search(rf"\b{w}\b", s)]
        if present:
            old = rng.choice(present)
            return _sub_word(s, old, rng.choice([w for w in group if w != old]))
    return None


def _negate(s: str, rng: random.Random) -> str | None:
    m = _NEGATED.search(s)
    if m:  # remove an existing negation
        text = m.group()
        return s[: m.start()] + (text.replace(" not", "") if " not" in text else "") + s[m.end():]
    m = _AUX.search(s)
    if m:
        return s[: m.end()] + " not" + s[m.end():]
    return None


def _names(s: str) -> list[re.Match[str]]:
    return [m for m in _NAME.finditer(s) if m.group() not in _MONTHS and m.group() not in _DAYS and m.start() > 0]


def _swap_names(s: str, rng: random.Random) -> str | None:
    found = _names(s)
    distinct = {m.group() for m in found}
    if len(distinct) < 2:
        return None
    a, b = rng.sample(sorted(distinct), 2)
    ma = next(m for m in found if m.group() == a)
    mb = next(m for m in found if m.group() == b)
    first, second = sorted([ma, mb], key=lambda m: m.start())
    between = s[first.end(): second.start()]
    if re.fullmatch(r"\s*(,|and|or|&|,\s*and)\s*", between):  # "A and B": swapping changes nothing
        return None
    return s[: first.start()] + second.group() + between + first.group() + s[second.end():]


def _replace_name(s: str, rng: random.Random, others: Sequence[str]) -> str | None:
    found = _names(s)
    if not found or not others:
        return None
    m = rng.choice(found)
    new = rng.choice(others)
    if new == m.group() or new in s:
        return None
    return s[: m.start()] + new + s[m.end():]


def _replace_phrase(s: str, rng: random.Random, table: Sequence[tuple[str, str]]) -> str | None:
    """`s` with one phrase of `table` that it contains replaced by its counterpart."""
    options = [(a, b) for a, b in table if re.search(rf"\b{re.escape(a)}\b", s, re.IGNORECASE)]
    if not options:
        return None
    a, b = rng.choice(options)
    return _sub_word(s, a, b)


def _add_detail(s: str, rng: random.Random) -> str | None:
    detail = rng.choice(_ADDED)
    if not s.endswith(".") or detail.lower() in s.lower():
        return None
    return s[:-1].rstrip() + " " + detail + "."


def _first_clause(s: str) -> str | None:
    head = s.split(",")[0].strip()
    if head == s.strip() or len(head.split()) < 6 or head.count('"') % 2 or head.count("“") != head.count("”"):
        return None
    return head + "."


# How often each kind is tried first (a kind that does not apply to a sentence passes to the next).
# "join": a true sentence of the window joined to a changed one (a claim is supported only when every part
# is); "elsewhere": a sentence of another passage that names someone this sentence names (same topic, a
# fact the window does not state).
NEGATIVE_WEIGHTS = {"number": 2.0, "date": 1.0, "negation": 2.0, "swap": 2.0, "name": 2.0, "certainty": 2.0,
                    "generalise": 1.0, "detail": 0.5, "join": 2.0, "elsewhere": 1.5}
NEGATIVE_KINDS = tuple(NEGATIVE_WEIGHTS)


def perturbed_pairs(passages: Iterable[str], n: int, rng: random.Random) -> list[Pair]:
    """`n` built pairs, half supported, from sentences of `passages` (each judged against its own window).

    Supported: the sentence itself ("copy"), its first clause ("subset"), or two sentences of the
    window joined ("join", a document-level claim). Unsupported: the sentence changed in one place
    (NEGATIVE_KINDS), a true sentence joined to a changed one, or a sentence of another passage about
    the same name.
    """
    items: list[tuple[str, str]] = []  # (sentence, window holding it)
    names_pool: list[str] = []
    for passage in passages:
        for start, end in windows(passage, WINDOW_WORDS):
            window = passage[start:end]
            for s0, e0 in sentence_spans(window):
                sentence = window[s0:e0]
                if 8 <= len(sentence.split()) <= 45 and sentence[0].isupper() and sentence[-1] in ".!?\"”":
                    items.append((sentence, window))
                    names_pool += [m.group() for m in _names(sentence)]
    names_pool = sorted(set(names_pool))
    by_window: dict[str, list[str]] = defaultdict(list)
    by_name: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for sentence, window in items:
        by_window[window].append(sentence)
        for m in _names(sentence):
            by_name[m.group()].append((sentence, window))
    rng.shuffle(items)

    def other_sentence(sentence: str, window: str) -> str | None:
        others = [o for o in by_window[window] if o != sentence and len((sentence + o).split()) <= 60]
        return rng.choice(others) if others else None

    def joined(first: str, second: str) -> str:
        return " ".join([first, second] if rng.random() < 0.5 else [second, first])

    def join_changed(s: str, window: str) -> str | None:
        other = other_sentence(s, window)
        if other is None:
            return None
        for kind in ("number", "negation", "name", "swap", "date", "certainty"):
            changed = makers[kind](s, window)
            if changed and changed != s:
                return joined(other, changed)
        return None

    def elsewhere(s: str, window: str) -> str | None:
        names = [m.group() for m in _names(s)]
        rng.shuffle(names)
        for name in names:
            found = [o for o, w in by_name[name] if w != window and o not in window]
            if found:
                return rng.choice(found)
        return None

    makers = {
        "number": lambda s, w: _change_number(s, rng),
        "date": lambda s, w: _change_date(s, rng),
        "negation": lambda s, w: _negate(s, rng),
        "swap": lambda s, w: _swap_names(s, rng),
        "name": lambda s, w: _replace_name(s, rng, names_pool),
        "certainty": lambda s, w: _replace_phrase(s, rng, _CERTAINTY),
        "generalise": lambda s, w: _replace_phrase(s, rng, _GENERAL),
        "detail": lambda s, w: _add_detail(s, rng),
        "join": join_changed,
        "elsewhere": elsewhere,
    }
    out: list[Pair] = []
    positives = negatives = 0
    for sentence, window in items:
        if positives >= n // 2 and negatives >= n - n // 2:
            break
        if positives < n // 2 and rng.random() < 0.5:
            draw = rng.random()
            claim, kind = None, "copy"
            if draw < 0.3:
                claim, kind = _first_clause(sentence), "subset"
            elif draw < 0.55 and (other := other_sentence(sentence, window)):
                claim, kind = joined(sentence, other), "join"
            out.append(Pair(claim or sentence, window, 1, "built", kind if claim else "copy"))
            positives += 1
            continue
        if negatives >= n - n // 2:
            continue
        for kind in sorted(NEGATIVE_KINDS, key=lambda k: -(rng.random() ** (1 / NEGATIVE_WEIGHTS[k]))):
            changed = makers[kind](sentence, window)
            if changed and changed != sentence and changed.lower() not in window.lower():
                out.append(Pair(changed, window, 0, "built", kind))
                negatives += 1
                break
    return out
