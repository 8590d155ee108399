"""Labelled author slots from the paperlists files, and the train / calibration / test split.

The upstream (Paper Copilot) labels many venue-years with normalised institutions
(``aff_unique_norm``) and countries (``aff_country_unique``) through per-author index lists.
They are training evidence for the gazetteer (learned aliases, domains) and, on venue-years
held out by :data:`HELD_OUT`, the ground truth of the evaluation. Nothing is tuned on held-out
venue-years; the confidence calibration uses :data:`CALIBRATION` venue-years only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

#: Venue families held out whole, and (family, year) pairs held out, for the evaluation.
HELD_OUT_FAMILIES = frozenset({"iccv", "naacl", "uai", "colt"})
HELD_OUT_YEARS = frozenset({("aistats", 2024), ("ijcai", 2023), ("wacv", 2024), ("nips", 2017)})
#: A second held-out split, picked on 2026-12-06 before any of the multinational-site work
#: (the newest labelled year of two venues): never learned from, tuned on or read for errors.
FRESH_YEARS = frozenset({("cvpr", 2019), ("acl", 2022)})
#: Venue-years used to calibrate confidence (never learned from when calibrating).
CALIBRATION_FAMILIES = frozenset({"coling", "acml"})
CALIBRATION_YEARS = frozenset({("icml", 2019), ("cvpr", 2017), ("aaai", 2022)})

_FILE = re.compile(r"([a-z0-9]+?)(\d{4})\.json$")


def split_of(venue: str, year: int) -> str:
    """``"fresh"``, ``"test"``, ``"calibration"`` or ``"train"`` for one labelled venue-year."""
    if (venue, year) in FRESH_YEARS:
        return "fresh"
    if venue in HELD_OUT_FAMILIES or (venue, year) in HELD_OUT_YEARS:
        return "test"
    if venue in CALIBRATION_FAMILIES or (venue, year) in CALIBRATION_YEARS:
        return "calibration"
    return "train"


@dataclass(frozen=True)
class LabelledSlot:
    """One author slot with the upstream labels, per ``+`` part."""

    venue: str
    year: int
    affiliation: str
    domain: str | None
    institutions: tuple[str, ...]
    countries: tuple[str, ...]

    @property
    def split(self) -> str:
        return split_of(self.venue, self.year)


def _pick(values: list[str], index: str) -> tuple[str, ...]:
    out = []
    for raw in index.split("+"):
        i = raw.strip()
        out.append(values[int(i)] if i.isdigit() and int(i) < len(values) else "")
    return tuple(out)


def read_labelled(paperlists_dir: Path) -> list[LabelledSlot]:
    """All labelled, aligned author slots with a non-empty affiliation under ``paperlists_dir``.

    Papers whose author, affiliation and index lists do not align are skipped (no guessing).
    The country index list of some files skips authors without an affiliation; it is then
    aligned with the non-empty affiliations.
    """
    files = sorted(paperlists_dir.glob("*/*.json"))
    if not files:
        return []
    cols = [
        "author",
        "aff",
        "aff_domain",
        "aff_unique_norm",
        "aff_unique_index",
        "aff_country_unique",
        "aff_country_unique_index",
    ]
    columns = ", ".join(f"{c}: 'VARCHAR'" for c in cols)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    try:
        rows = con.execute(
            f"""
            SELECT filename, {", ".join(cols)}
            FROM read_json(?, filename = true, union_by_name = true,
                           maximum_object_size = 536870912, columns = {{{columns}}})
            WHERE aff_unique_norm IS NOT NULL AND aff IS NOT NULL
            """,
            [[str(f) for f in files]],
        ).fetchall()
    finally:
        con.close()
    out: list[LabelledSlot] = []
    for filename, author, aff, dom, u_norm, u_idx, c_norm, c_idx in rows:
        m = _FILE.search(Path(filename).name)
        if not m or not author:
            continue
        venue, year = m.group(1), int(m.group(2))
        authors = author.split(";")
        affs = aff.split(";")
        doms = (dom or "").split(";")
        u_index = (u_idx or "").split(";")
        c_index = (c_idx or "").split(";")
        if not (len(authors) == len(affs) == len(u_index)):
            continue
        if len(doms) != len(authors):
            doms = [""] * len(authors)
        nonempty = [i for i, a in enumerate(affs) if a.strip()]
        if len(c_index) == len(authors):
            c_of = dict(enumerate(c_index))
        elif len(c_index) == len(nonempty):
            c_of = dict(zip(nonempty, c_index, strict=True))
        else:
            continue
        insts_all = (u_norm or "").split(";")
        countries_all = (c_norm or "").split(";")
        for i in nonempty:
            parts = affs[i].split("+")
            insts = _pick(insts_all, u_index[i])
            countries = _pick(countries_all, c_of.get(i, ""))
            if len(insts) != len(parts) or len(countries) != len(parts):
                continue
            out.append(
                LabelledSlot(
                    venue=venue,
                    year=year,
                    affiliation=affs[i].strip(),
                    domain=doms[i].strip().lower() or None,
                    institutions=tuple(s.strip() for s in insts),
                    countries=tuple(s.strip() for s in countries),
                )
            )
    return out
