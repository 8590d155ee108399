"""Name normalisation for linkage, computed once per distinct author name.

Keys are built for comparison only; display names keep the raw string. Transliteration uses
``anyascii`` (Latin diacritics, Cyrillic, Greek and CJK to ASCII; Chinese characters become
pinyin syllables). A name written in CJK characters without a space is read surname first
(``江常皓`` -> given ``changhao``, surname ``jiang``) so it meets its Latin spelling
(``Changhao Jiang``); name order is otherwise handled by the swapped keys, never by guessing
anyone's origin from their name.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

import pyarrow as pa
from anyascii import anyascii

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_ALPHA = re.compile(r"[^a-z\s-]")
_SPACES = re.compile(r"\s+")
# OpenReview ids carry the name and a disambiguating number: ``~Bruce_W_McIntosh1``.
_OPENREVIEW_ID = re.compile(r"^(?:openreview:)?~(.+?)\d*$")

#: Arrow schema of :func:`name_keys`.
NAME_KEYS_SCHEMA = pa.schema(
    [
        ("author_name", pa.string()),
        ("name_full", pa.string()),
        ("name_fl", pa.string()),
        ("name_fl_swapped", pa.string()),
        ("first", pa.string()),
        ("last", pa.string()),
        ("initial_only", pa.bool_()),
        ("bk_init", pa.string()),
        ("bk_init_swapped", pa.string()),
    ]
)


def tokens(name: str | None) -> list[str]:
    """Lower-case ASCII name tokens, hyphenated parts joined (``Jun-Yan`` -> ``junyan``).

    Examples
    --------
    >>> tokens("Bernhard Schölkopf")
    ['bernhard', 'scholkopf']
    >>> tokens("J.-Y. Zhu")
    ['jy', 'zhu']
    >>> tokens("江常皓")
    ['changhao', 'jiang']
    """
    if not name:
        return []
    text = unicodedata.normalize("NFKC", name).strip()
    text = _BRACKETS.sub(" ", text)
    cjk = bool(_CJK.search(text))
    if cjk and " " not in text:
        # An unspaced CJK name is surname first; the surname is the first character.
        chars = [c for c in text if not c.isspace()]
        if len(chars) >= 2:
            text = anyascii("".join(chars[1:])) + " " + anyascii(chars[0])
    text = anyascii(text).lower().replace(".", " . ")
    text = _NON_ALPHA.sub(" ", text)
    # Hyphens join the parts of one given name; initials separated by dots stay apart.
    text = re.sub(r"\s*-\s*", "", text)
    return [t for t in _SPACES.split(text) if t]


def name_from_openreview_id(source_person_id: str | None) -> str | None:
    """The name an OpenReview id spells (``openreview:~Bruce_W_McIntosh1`` -> ``Bruce W McIntosh``)."""
    if not source_person_id:
        return None
    match = _OPENREVIEW_ID.match(source_person_id)
    return match.group(1).replace("_", " ") if match else None


def keys_for(name: str | None) -> dict[str, object]:
    """All linkage keys of one name (see :data:`NAME_KEYS_SCHEMA`).

    ``name_fl`` is first and last token (middle names dropped), ``bk_init`` the last name with
    the first initial (the blocking key), ``*_swapped`` the same with the order reversed.

    Examples
    --------
    >>> k = keys_for("Joshua B. Tenenbaum")
    >>> k["name_full"], k["name_fl"], k["bk_init"], k["bk_init_swapped"]
    ('joshua b tenenbaum', 'joshua tenenbaum', 'tenenbaum j', 'joshua t')
    """
    toks = tokens(name)
    if not toks:
        return {
            "author_name": name,
            "name_full": None,
            "name_fl": None,
            "name_fl_swapped": None,
            "first": None,
            "last": None,
            "initial_only": None,
            "bk_init": None,
            "bk_init_swapped": None,
        }
    first, last = toks[0], toks[-1]
    return {
        "author_name": name,
        "name_full": " ".join(toks),
        "name_fl": f"{first} {last}",
        "name_fl_swapped": f"{last} {first}",
        "first": first,
        "last": last,
        "initial_only": len(first) == 1,
        "bk_init": f"{last} {first[0]}",
        "bk_init_swapped": f"{first} {last[0]}",
    }


def name_keys(names: Iterable[str | None]) -> pa.Table:
    """Keys of each distinct name, as an Arrow table (one row per input name).

    Examples
    --------
    >>> name_keys(["Wei Wang", "W. Wang"]).column("bk_init").to_pylist()
    ['wang w', 'wang w']
    """
    rows = [keys_for(n) for n in names]
    return pa.Table.from_pylist(rows, schema=NAME_KEYS_SCHEMA)
