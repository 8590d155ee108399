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

import ibis
import pyarrow as pa
from anyascii import anyascii

_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_BRACKETS = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NON_ALPHA = re.compile(r"[^a-z\s-]")
_SPACES = re.compile(r"\s+")
_HYPHEN = re.compile(r"\s*-\s*")
# OpenReview ids carry the name and a disambiguating number: ``~Bruce_W_McIntosh1``.
_OPENREVIEW_ID = re.compile(r"^(?:openreview:)?~(.+?)\d*$")
# Printable ASCII but brackets: a name :func:`tokens` reads without transliteration, NFKC or
# bracket removal (each is the identity on it), so the engine can compute its keys.
_PLAIN = r"^[ -'*-Z\\^-~]*$"

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
    text = _HYPHEN.sub("", text)
    return [t for t in _SPACES.split(text) if t]


def name_from_openreview_id(source_person_id: str | None) -> str | None:
    """The name an OpenReview id spells (``openreview:~Bruce_W_McIntosh1`` -> ``Bruce W McIntosh``)."""
    if not source_person_id:
        return None
    match = _OPENREVIEW_ID.match(source_person_id)
    return match.group(1).replace("_", " ") if match else None


_NO_KEYS = (None,) * (len(NAME_KEYS_SCHEMA) - 1)


def _key_values(name: str | None) -> tuple[object, ...]:
    """The values of :func:`keys_for`, in :data:`NAME_KEYS_SCHEMA` order."""
    toks = tokens(name)
    if not toks:
        return (name, *_NO_KEYS)
    first, last = toks[0], toks[-1]
    return (
        name,
        " ".join(toks),
        f"{first} {last}",
        f"{last} {first}",
        first,
        last,
        len(first) == 1,
        f"{last} {first[0]}",
        f"{first} {last[0]}",
    )


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
    return dict(zip(NAME_KEYS_SCHEMA.names, _key_values(name), strict=True))


def name_keys(names: Iterable[str | None]) -> pa.Table:
    """Keys of each distinct name, as an Arrow table (one row per input name).

    Examples
    --------
    >>> name_keys(["Wei Wang", "W. Wang"]).column("bk_init").to_pylist()
    ['wang w', 'wang w']
    """
    # Tuples transposed to columns, not a list of row dicts: Arrow builds columns several
    # times faster (this runs once per distinct name of the corpus).
    rows = [_key_values(n) for n in names]
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(NAME_KEYS_SCHEMA)
    return pa.Table.from_arrays(
        [pa.array(list(c), type=f.type) for c, f in zip(columns, NAME_KEYS_SCHEMA, strict=True)],
        schema=NAME_KEYS_SCHEMA,
    )


def is_plain(name: ibis.Value) -> ibis.Value:
    """Boolean: can :func:`plain_keys` compute this name's keys in the engine (printable ASCII
    without brackets)? NULL for a NULL name."""
    return name.re_search(_PLAIN)


def plain_keys(names: ibis.Table) -> ibis.Table:
    """:func:`name_keys` in the engine (an Ibis table with the columns of
    :data:`NAME_KEYS_SCHEMA`) for the names of ``names.author_name`` that :func:`is_plain`
    accepts; the same values as :func:`keys_for` (tested on every name of the corpus).

    On printable ASCII, :func:`tokens` is: lower case, every character but a letter, a space
    or a hyphen to a space, hyphens joined with their neighbours, split at spaces.
    """
    text = names.author_name.lower().re_replace(r"[^a-z -]", " ").re_replace(r" *- *", "")
    full = text.re_replace(r" +", " ").strip().nullif("")
    first = full.re_extract(r"^([^ ]+)", 1)
    last = full.re_extract(r"([^ ]+)$", 1)
    return names.select(
        author_name=names.author_name,
        name_full=full,
        name_fl=first + " " + last,
        name_fl_swapped=last + " " + first,
        first=first,
        last=last,
        initial_only=first.length() == 1,
        bk_init=last + " " + first.substr(0, 1),
        bk_init_swapped=first + " " + last.substr(0, 1),
    )
