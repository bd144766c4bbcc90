"""Turn raw article text into the cleaned text that chunks and citations refer to.

Cleaning is conservative: it normalises white space and Unicode, drops short
lines that are obviously page furniture (subscription calls, "Read more",
share buttons) and, for plain-text files, lifts a headline off the first line.
It never rewrites a sentence of the story.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible characters that break matching but carry no meaning.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"), None)

# Whole lines (short ones only) that are page furniture, not story.
_BOILERPLATE = re.compile(
    r"""^(?:
        read\ (?:more|next|the\ full\ (?:story|article))\b.*
      | (?:continue|keep)\ reading\b.*
      | (?:please\ )?(?:support|donate\ to|subscribe\ to|subscribe)\ (?:us|the|our|now|today)\b.*
      | (?:please\ )?(?:support|subscribe|donate)[!.]?
      | sign\ up\b.*(?:newsletter|free|today|now|here|email).*
      | (?:get|join)\ our\ (?:free\ )?newsletter\b.*
      | become\ a\ (?:member|subscriber|supporter)\b.*
      | (?:click|tap)\ here\b.*
      | (?:follow|like)\ us\ on\b.*
      | share\ (?:this|on|via)\b.*
      | (?:listen\ to|print)\ this\ (?:article|story)\b.*
      | skip\ to\ (?:main\ )?content
      | (?:advertisement|sponsored(?:\ content)?|ad)
      | (?:related|recommended|most\ read|more\ from\ \S+|trending)(?:\ (?:articles|stories|news))?:?
      | (?:all\ rights\ reserved|copyright\ ©|©\ ?\d{4})\b.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_BOILERPLATE_LEN = 90

_MD_HEADING = re.compile(r"^#{1,6}\s+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__)(.+?)\1")


def normalize(text: str) -> str:
    """Normalise Unicode (NFC), line endings and white space; drop invisible characters."""
    text = unicodedata.normalize("NFC", text).translate(_INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u00a0", " ").replace("\t", " ")
    lines = [re.sub(r" {2,}", " ", line).strip() for line in text.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def is_boilerplate(line: str) -> bool:
    """True for a short line that is page furniture ("Support The Moscow Times!", "Read more")."""
    line = line.strip()
    return len(line) <= _MAX_BOILERPLATE_LEN and bool(_BOILERPLATE.match(line))


def strip_boilerplate(text: str) -> str:
    """Drop boilerplate lines; keep every other line as it is."""
    kept = [line for line in text.split("\n") if not is_boilerplate(line)]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept)).strip()


def strip_markdown(text: str) -> str:
    """Reduce Markdown to its prose: headings, links and emphasis markers go, words stay."""
    lines = [_MD_HEADING.sub("", line) for line in text.split("\n")]
    text = "\n".join(lines)
    text = _MD_LINK.sub(r"\1", text)
    return _MD_EMPHASIS.sub(r"\2", text)


def looks_like_headline(line: str) -> bool:
    """A first line that reads as a headline: short, several words, no final period."""
    line = line.strip()
    words = line.split()
    if not 2 <= len(words) <= 25 or len(line) > 200:
        return False
    if line.endswith((".", ",", ";", ":")):
        return False
    return line[0].isalnum() or line[0] in "\"'‘“"


def split_headline(text: str) -> tuple[str, str]:
    """Return `(headline, body)`: the first line when it reads as a headline, else `("", text)`."""
    first, sep, rest = text.partition("\n")
    if sep and rest.strip() and looks_like_headline(first):
        return first.strip(), rest.strip()
    return "", text


def clean_text(raw: str, *, markdown: bool = False) -> str:
    """The full cleaning pass applied to every article body."""
    text = normalize(raw)
    if markdown:
        text = strip_markdown(text)
    return strip_boilerplate(text)


def fallback_title(text: str, limit: int = 90) -> str:
    """A title for an article that has none: its first sentence, shortened at a word boundary."""
    first = text.strip().split("\n", 1)[0]
    if len(first) <= limit:
        return first
    cut = first[:limit].rsplit(" ", 1)[0]
    return cut.rstrip(",;:") + "…"
