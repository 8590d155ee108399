"""Put an OpenReview record's profile fields back in author order.

In the OpenReview author records, ``author`` and ``authorids`` are in author order, but the
fields read from the authors' profiles (``aff``, ``aff_domain``, ``position``, ``dblp``,
``orcid``, ``homepage``, ...) follow ``or_profile``: the profiles as OpenReview returned them.
That list holds the authors whose id is their profile's current id first, in author order,
then the others (an id that was renamed or merged into another profile, an e-mail that now
has a profile) under their current id, appended. Read by position, every author after the
first renamed one gets a co-author's affiliation, e-mail domain, career stage and DBLP id.
(On the shared data, where a record's ``homepage`` or ``linkedin`` entry spells a name, it
spells the ``or_profile`` entry's name in 5,504 slots and the author's in 68.)

:func:`order` maps each author to their ``or_profile`` entry: the same id; else the same
name (the author's name or their id's name against the entry's id name, in any token order,
however split into tokens); else the same first and last name; else the same surname; else the
same given name; else the one entry left (or, when
only empty entries are left, those: an author without a profile has empty fields). An author
no rule places alone is left without profile fields (never guessed), and the reader names
``or_profile`` in that authorship's ``misaligned_fields``.

A file without ``or_profile`` (ICLR 2023 on the shared data) cannot be put back in order:
:func:`kept_slots` finds, from ``homepage`` and ``linkedin`` entries that spell another
author's name, the records whose fields are out of order and the leading slots that are
surely right; the other slots of such records get no profile fields (and ``or_profile`` in
``misaligned_fields``).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable

import pyarrow as pa

#: Fields that follow ``or_profile`` order (those of them the reader reads). Paper lists
#: built from OpenReview carry ``or_profile`` too, and their label indexes follow ``aff``.
PROFILE_FIELDS = (
    "aff",
    "aff_domain",
    "position",
    "dblp",
    "orcid",
    "google_scholar",
    "linkedin",
    "or_profile",
    "aff_unique_index",
    "aff_country_unique_index",
)
#: Arrow schema of :func:`orders`.
ORDER_SCHEMA = pa.schema(
    [
        ("author", pa.string()),
        ("authorids", pa.string()),
        ("or_profile", pa.string()),
        ("perm", pa.list_(pa.int32())),
    ]
)

_PROFILE_ID = re.compile(r"^~(.+?)\d*$")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def _tokens(name: str) -> tuple[str, ...]:
    """Lower-case ASCII tokens of a name (accents dropped, punctuation splits)."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    # O'Donoghue / ODonoghue, Hao-Tian / Haotian: one token either way
    text = text.replace("'", "").replace("-", "")
    return tuple(t for t in _NON_ALNUM.split(text) if t)


def _id_name(pid: str) -> str:
    """The name an OpenReview profile id spells (``~Ramin_M._Hasani1`` -> ``Ramin M. Hasani``);
    an e-mail or an empty entry spells none."""
    m = _PROFILE_ID.match(pid.strip())
    return m.group(1).replace("_", " ") if m else ""


def _keys(names: Iterable[str], key: Callable[[tuple[str, ...]], object]) -> set[object]:
    out = set()
    for n in names:
        t = _tokens(n)
        if t:
            out.add(key(t))
    return out


# Ever looser name keys: all tokens in any order, the same letters however split
# (``~JialeLi2``), first and last, surname, given name.
_RULES: tuple[Callable[[tuple[str, ...]], object], ...] = (
    lambda t: tuple(sorted(t)),
    lambda t: "".join(sorted(t)),
    lambda t: frozenset((t[0], t[-1])),
    lambda t: t[-1],
    lambda t: t[0],
)


def order(authors: list[str], ids: list[str], profiles: list[str]) -> list[int | None] | None:
    """For each author, the 0-based index of their entry in ``profiles`` (``or_profile``),
    or None where no rule places them alone; None when the lists' lengths differ.

    Examples
    --------
    >>> order(["Ann Lee", "Bo Chen", "Cy Park"], ["~Ann_Lee1", "~Bo_Chen3", "~Cy_Park1"],
    ...       ["~Ann_Lee1", "~Cy_Park1", "~Bo_Chen2"])
    [0, 2, 1]
    """
    n = len(ids)
    if len(authors) != n or len(profiles) != n:
        return None
    ids = [i.strip() for i in ids]
    profiles = [p.strip() for p in profiles]
    out: list[int | None] = [None] * n
    free = set(range(n))
    at: dict[str, list[int]] = {}
    for j, p in enumerate(profiles):
        if p:
            at.setdefault(p, []).append(j)
    once = Counter(ids)
    for i, a in enumerate(ids):
        if a and len(at.get(a, [])) == 1 and once[a] == 1:
            out[i] = at[a][0]
            free.discard(at[a][0])
    for rule in _RULES:
        left = [i for i in range(n) if out[i] is None]
        if not left or not free:
            break
        mine = {i: _keys((authors[i], _id_name(ids[i])), rule) for i in left}
        theirs = {j: _keys((_id_name(profiles[j]),), rule) for j in free}
        for i in left:
            match = [j for j in free if mine[i] & theirs[j]]
            if len(match) != 1:
                continue
            j = match[0]
            # The entry must fit no other author left, or the pairing is a guess.
            if sum(1 for k in left if out[k] is None and mine[k] & theirs[j]) == 1:
                out[i] = j
                free.discard(j)
    left = [i for i in range(n) if out[i] is None]
    if len(left) == 1 and len(free) == 1:
        out[left[0]] = free.pop()
    elif left and len(left) == len(free) and not any(profiles[j] for j in free):
        # Authors without a profile: an empty entry's fields are empty (on the shared data,
        # all 26,868 of them), so whichever empty entry they get, they get nothing.
        for i, j in zip(left, sorted(free), strict=True):
            out[i] = j
    return out


def _spells(handle: str, name: str) -> bool:
    """Does a homepage URL or LinkedIn handle spell this name (its given and last name)?"""
    t = [x for x in _tokens(name) if len(x) > 1]
    h = "".join(_tokens(handle))
    return len(t) >= 2 and t[0] in h and t[-1] in h


def kept_slots(authors: list[str], *handles: list[str]) -> int | None:
    """For a record without ``or_profile``: how many leading slots of its profile fields
    are surely the authors' own, when its ``homepage``/``linkedin`` entries show the fields
    out of author order (an entry spelling another author's name, not its slot's); None
    when nothing shows it.

    Authors before the first renamed one keep their slots, so a slot before the first
    entry spelling another author, whose own entry spells its author, and every slot before
    it, are right; the rest are not known. (On the years that have ``or_profile``: of the
    2,726 records this finds, 98% were out of order; of the slots it keeps, 3,074 of 3,080
    are right; of those it leaves, 10,991 were a co-author's and 2,183 the author's own.)

    Examples
    --------
    >>> kept_slots(["Ann Lee", "Bo Chen", "Cy Park"], ["annlee.io", "cypark.org", ""])
    1
    """
    n = len(authors)
    agree: set[int] = set()
    other: set[int] = set()
    for entries in handles:
        if len(entries) != n:
            continue
        for j, h in enumerate(entries):
            if not h.strip():
                continue
            mine = _spells(h, authors[j])
            theirs = any(_spells(h, authors[m]) for m in range(n) if m != j)
            if mine and not theirs:
                agree.add(j)
            elif theirs and not mine:
                other.add(j)
    if not other:
        return None
    first = min(other)
    return max((j + 1 for j in agree if j < first), default=0)


def prefix_orders(
    rows: Iterable[tuple[str | None, str | None, str | None, str | None]],
) -> pa.Table:
    """:func:`kept_slots` of each distinct ``(author, authorids, homepage, linkedin)`` of
    records without ``or_profile``, as an :func:`orders` table (``or_profile`` NULL): the
    kept slots in place, the others not placed. Records that show nothing are left out."""
    # One row per author list (the reader joins on it): of two records with the same
    # authors and ids, the fewer kept slots.
    kept: dict[tuple[str | None, str | None], int] = {}
    for author, ids, homepage, linkedin in rows:
        names = (author or "").split(";")
        k = kept_slots(names, (homepage or "").split(";"), (linkedin or "").split(";"))
        if k is not None:
            kept[(author, ids)] = min(k, kept.get((author, ids), k))
    out: dict[str, list[object]] = {name: [] for name in ORDER_SCHEMA.names}
    for (author, ids), k in kept.items():
        out["author"].append(author)
        out["authorids"].append(ids)
        out["or_profile"].append(None)
        out["perm"].append([j + 1 if j < k else None for j in range((author or "").count(";") + 1)])
    return pa.table(out, schema=ORDER_SCHEMA)


def orders(rows: Iterable[tuple[str | None, str | None, str | None]]) -> pa.Table:
    """:func:`order` of each distinct ``(author, authorids, or_profile)`` text triple, as 1-based
    positions for SQL (NULL where an author is not placed; ``perm`` NULL when the lists
    cannot be compared)."""
    out: dict[str, list[object]] = {name: [] for name in ORDER_SCHEMA.names}
    for author, ids, profiles in rows:
        got = order((author or "").split(";"), (ids or "").split(";"), (profiles or "").split(";"))
        out["author"].append(author)
        out["authorids"].append(ids)
        out["or_profile"].append(profiles)
        out["perm"].append(None if got is None else [None if j is None else j + 1 for j in got])
    return pa.table(out, schema=ORDER_SCHEMA)
