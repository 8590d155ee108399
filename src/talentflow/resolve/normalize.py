"""Normalising affiliation strings and splitting them into parts and segments.

Everything that compares names (gazetteer keys, place names, learned aliases) goes through
:func:`normalize` so both sides of a lookup agree.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Abbreviations and spelling variants mapped to one form (applied per token, both sides).
ABBREVIATIONS: dict[str, str] = {
    "univ": "university",
    "uni": "university",
    "universty": "university",
    "univeristy": "university",
    "universiy": "university",
    "unversity": "university",
    "inst": "institute",
    "insitute": "institute",
    "institue": "institute",
    "dept": "department",
    "dep": "department",
    "sci": "science",
    "sciences": "science",
    "tech": "technology",
    "technol": "technology",
    "natl": "national",
    "nat'l": "national",
    "lab": "laboratory",
    "labs": "laboratory",
    "laboratories": "laboratory",
    "ctr": "center",
    "centre": "center",
    "cntr": "center",
    "intl": "international",
    "acad": "academy",
    "coll": "college",
    "engn": "engineering",
    "engg": "engineering",
    "corp": "corporation",
    "inc": "",
    "ltd": "",
    "llc": "",
    "gmbh": "",
    "the": "",
}

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
# Everything that is not a letter/digit becomes a space (CJK runs are kept as tokens).
_NON_WORD = re.compile(r"[^0-9a-z\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Segment boundaries inside one affiliation part.
_SEGMENT = re.compile(r"[,;()\[\]/|\n\t]|\s[-–—]\s")
# "Co., Ltd" / "Co.,Ltd." (a company suffix, like "Ltd" itself): its "Co." is dropped.
_CO_LTD = re.compile(r"\bCo\.?\s*,\s*(?=(?:Ltd|Limited)\b)", re.IGNORECASE)
_SPECIAL = str.maketrans(
    {
        "´": "",
        "`": "",
        "†": " ",
        "‡": " ",
        "*": " ",
        "ß": "ss",
        "ø": "o",
        "Ø": "O",
        "æ": "ae",
        "Æ": "AE",
        "ł": "l",
        "Ł": "L",
        "đ": "d",
        "Đ": "D",
        "ı": "i",
        "œ": "oe",
        "þ": "th",
        "&": " and ",
        "’": "",
        "‘": "",
        "'": "",
        "ﬁ": "fi",
        "ﬂ": "fl",
    }
)


#: The ASCII characters ``_SPECIAL`` rewrites (a regex test is much cheaper than translate).
_ASCII_SPECIAL = re.compile("[" + re.escape("".join(chr(c) for c in _SPECIAL if c < 128)) + "]")


def fold(text: str) -> str:
    """Unicode-normalise, strip accents and lower-case ``text`` (CJK characters kept)."""
    if text.isascii():  # the common case: nothing to decompose
        if _ASCII_SPECIAL.search(text) is None:  # and usually nothing to translate
            return text.lower()
        return text.translate(_SPECIAL).lower()
    text = unicodedata.normalize("NFKC", text).translate(_SPECIAL)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.lower()


def tokens(text: str) -> list[str]:
    """Normalised tokens of ``text``: folded, punctuation removed, abbreviations expanded."""
    return list(_tokens(text))


@lru_cache(maxsize=262_144)
def _tokens(text: str) -> tuple[str, ...]:
    out: list[str] = []
    for raw in _NON_WORD.split(fold(text)):
        if not raw:
            continue
        if len(raw) > 4 and raw[-1].isdigit() and raw[-2].isalpha():
            raw = raw[:-1]  # noqa: PLW2901  (a footnote marker: "Washington1", not "Data61")
        tok = ABBREVIATIONS.get(raw, raw)
        if tok:
            out.append(tok)
    return tuple(out)


def normalize(text: str) -> str:
    """One canonical key for ``text`` (tokens joined by single spaces).

    Examples
    --------
    >>> normalize("Dept. of CS, Univ. of Toronto")
    'department of cs university of toronto'
    >>> normalize("Technische Universität München")
    'technische universitat munchen'
    """
    return " ".join(_tokens(text))


def clean(text: str) -> str:
    """Remove control characters and surrounding whitespace from a raw string."""
    return _CONTROL.sub(" ", text).strip()


def split_parts(raw: str) -> list[str]:
    """Split a raw affiliation into its affiliations on ``+`` (the upstream joiner)."""
    return [p.strip() for p in clean(raw).split("+") if p.strip()]


def segments(part: str) -> list[str]:
    """Comma-like segments of one affiliation part, raw (not yet normalised).

    The "Co." of "Co., Ltd" is dropped: a lone "Co" segment would read as Colorado.
    """
    if "," in part and _CO_LTD.search(part) is not None:
        part = _CO_LTD.sub("", part)
    return [s for s in _SEGMENT.split(part) if s.strip()]


def has_cjk(text: str) -> bool:
    """Whether ``text`` contains Chinese, Japanese or Korean characters."""
    return _CJK.search(text) is not None
