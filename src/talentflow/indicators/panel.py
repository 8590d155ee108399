"""The padded person-year panel every indicator is computed from.

MPIDR-style padding: a person counts in every year between their first and last observed year.
A year with no ``person_years`` row, or with an unknown country, carries the country (and
sector) of the last year before it that had one (else the next one). Persons whose country is
never known are left out. On this panel a person has exactly one country each year, so stocks,
entries, exits and moves add up exactly (the accounting identity in docs/indicators.md).

A *move* is a change of country between two consecutive panel years; it is dated to the year of
arrival. A *sector move* is a change of sector group between two consecutive years (in the same
country: domestic; otherwise international).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Resolve's sectors grouped into the sectors indicators report.
SECTOR_GROUPS: dict[str, str] = {
    "education": "academia",
    "company": "industry",
    "government": "government",
    "facility": "government",
    "nonprofit": "other",
    "healthcare": "other",
    "archive": "other",
    "other": "other",
}
SECTORS = ("academia", "industry", "government", "other")
UNKNOWN_STAGE = "unknown"


@dataclass
class Panel:
    """The padded panel and what is derived from it (all pandas, one row per fact).

    Attributes
    ----------
    persons
        Sorted distinct person ids; ``pidx`` columns index into it.
    years
        ``pidx, year, country, sector, stage, student, first_year, last_year`` (one row per
        person-year; ``stage`` is the careers ``career_stage`` of that year, else ``unknown``).
    frac
        ``pidx, year, country, sector, stage, weight``: fractional counting over the main and
        secondary countries of each observed year (weights of a person-year sum to 1).
    moves
        ``pidx, year, from_country, to_country, from_sector, to_sector, from_stage, to_stage,
        is_return``.
    sector_moves
        ``pidx, year, country, from_country, from_sector, to_sector, domestic``.
    """

    persons: np.ndarray
    years: pd.DataFrame
    frac: pd.DataFrame
    moves: pd.DataFrame
    sector_moves: pd.DataFrame
    #: pidx of each ``person_key`` (-1: not in the panel), when the input had that column
    pidx_of_key: np.ndarray | None = None
    #: the person key of each pidx (the person's rank among the sorted distinct ids of the
    #: input, as ``person_key``): what the bootstrap weights are drawn from, so a person's
    #: weights do not depend on who else is in the panel (``None``: the pidx itself)
    keys: np.ndarray | None = None

    @property
    def n_persons(self) -> int:
        return len(self.persons)


def sector_group(sector: pd.Series) -> pd.Series:
    """Map resolve's sector to ``academia/industry/government/other`` (``unknown`` if NULL)."""
    return sector.map(SECTOR_GROUPS).fillna("unknown").astype(str)


def build_panel(person_years: pd.DataFrame) -> Panel:
    """Pad ``person_years`` (the careers table) into the indicator panel.

    Parameters
    ----------
    person_years
        At least ``person_id`` (or ``person_key``), ``year``, ``country``; optional
        ``sector``, ``career_stage``,
        ``secondary_countries``. Several rows for one person-year are reduced to the first in
        (person_id, year, observed desc, country) order.
    """
    py = person_years.copy(deep=False)  # columns are added or replaced, never written into
    if "person_id" not in py.columns and "person_key" in py.columns:
        py["person_id"] = py["person_key"]  # the keys stand for the ids (same order)
    for col in ("sector", "career_stage"):
        if col not in py.columns:
            py[col] = None
    if "secondary_countries" not in py.columns:
        py["secondary_countries"] = None
    if "observed" not in py.columns:
        py["observed"] = True
    py = py[py["person_id"].notna() & py["year"].notna()]
    # Integer keys first: the person's rank among the sorted distinct ids (one sort of the
    # distinct ids, not of every row), then one lexsort of integer columns.
    keyed = "person_key" in py.columns and py["person_key"].notna().all()
    if keyed:
        # the rank is given (``indicators.stage.read_inputs`` takes it from the engine)
        rank = py["person_key"].to_numpy(np.int64)
        distinct = np.full(int(rank.max()) + 1 if len(rank) else 0, None, dtype=object)
        distinct[rank] = py["person_id"].to_numpy(dtype=object)
        by_id = np.arange(len(distinct))
    else:
        ids, distinct = pd.factorize(py["person_id"])
        distinct = np.asarray(distinct, dtype=object)
        by_id = np.argsort(distinct, kind="stable")
        rank = np.empty(len(distinct), dtype=np.int64)
        rank[by_id] = np.arange(len(distinct))
        rank = rank[ids]
    year = py["year"].to_numpy(np.int64)
    country, _ = pd.factorize(py["country"], sort=True)
    country = np.where(country < 0, np.iinfo(np.int64).max, country)  # unknown sorts last
    observed = py["observed"].to_numpy(dtype=object)
    seen_first = np.where(observed == True, 0, np.where(observed == False, 1, 2))  # noqa: E712
    order = np.lexsort((country, seen_first, year, rank))
    rank, year = rank[order], year[order]
    # several rows of one person-year: the first in that order
    first = np.ones(len(order), dtype=bool)
    first[1:] = (rank[1:] != rank[:-1]) | (year[1:] != year[:-1])
    rows = py.iloc[order[first]]
    rank, year = rank[first], year[first]
    # persons whose country is never known are left out; pidx numbers the others in id order
    known = np.zeros(len(distinct), dtype=bool)
    known[rank[rows["country"].notna().to_numpy()]] = True
    keep = known[rank]
    rows, rank, year = rows[keep], rank[keep], year[keep]
    persons = distinct[by_id][known]
    pidx_of_rank = np.where(known, np.cumsum(known) - 1, -1)
    pidx = pidx_of_rank[rank]

    # every year between first and last observation (rows are in pidx, year order)
    starts = np.flatnonzero(np.r_[True, pidx[1:] != pidx[:-1]]) if len(pidx) else pidx
    ends = np.r_[starts, len(pidx)][1:] - 1
    span_min, span_max = year[starts], year[ends]
    lengths = span_max - span_min + 1
    offsets = np.cumsum(lengths) - lengths
    full = pd.DataFrame(
        {
            "pidx": np.repeat(pidx[starts], lengths),
            "year": np.repeat(span_min, lengths)
            + (np.arange(lengths.sum()) - np.repeat(offsets, lengths)),
        }
    )
    # each observed row's place in the padded panel (no merge)
    at = np.repeat(offsets, ends - starts + 1) + (year - np.repeat(span_min, ends - starts + 1))
    for col in ("country", "sector", "career_stage", "secondary_countries"):
        values = np.full(len(full), None, dtype=object)
        values[at] = rows[col].to_numpy(dtype=object)
        full[col] = values
    full["sector"] = sector_group(full["sector"]).where(full["sector"].notna(), None)
    full["student"] = full["career_stage"].eq("student")
    # the stage is not carried over padded years: the source did not say (see docs/indicators.md)
    full["stage"] = full["career_stage"].where(full["career_stage"].notna(), UNKNOWN_STAGE)
    full["country"] = _carry(full["country"], full["pidx"])
    sector = _carry(full["sector"], full["pidx"])
    # few distinct strings over millions of rows: categorical columns make every later
    # comparison, grouping and copy work on small integer codes
    full["sector"] = _categorical(np.where(pd.isna(sector), "unknown", sector))
    full["stage"] = _categorical(full["stage"])
    full["first_year"] = np.repeat(span_min, lengths)
    full["last_year"] = np.repeat(span_max, lengths)

    frac = _fractional(full)
    # every main country is a row of frac too
    countries = pd.Index(pd.unique(frac["country"].to_numpy(dtype=object))).sort_values()
    full["country"] = _categorical(full["country"], countries)
    frac["country"] = _categorical(frac["country"], countries)
    moves = _moves(full)
    sector_moves = _sector_moves(full)
    years = full[
        ["pidx", "year", "country", "sector", "stage", "student", "first_year", "last_year"]
    ]
    return Panel(
        persons,
        years.reset_index(drop=True),
        frac,
        moves,
        sector_moves,
        pidx_of_rank if keyed else None,
        np.flatnonzero(known),
    )


def regroup(panel: Panel, mapping: dict[str, str]) -> Panel:
    """The panel with each country replaced by its group (countries not in ``mapping`` stay).

    Person-years keep their person index, so a bootstrap over the regrouped panel uses the same
    weights as the original. Moves and sector moves are derived again, so a change of country
    inside a group is no move; fractional weights of members of one group are added (a group's
    fractional stock is the sum of its members').
    """
    years = panel.years.assign(country=_map_countries(panel.years["country"], mapping))
    frac = panel.frac.assign(country=_map_countries(panel.frac["country"], mapping))
    return Panel(
        panel.persons,
        years,
        _merge_shares(frac),
        _moves(years),
        _sector_moves(years),
        panel.pidx_of_key,
        panel.keys,
    )


def _merge_shares(frac: pd.DataFrame) -> pd.DataFrame:
    """One row per (pidx, year, country): the first row of each, its weight the group's sum.

    What ``groupby(sort=False).agg(first, sum)`` gives, but only the few person-years with
    two or more rows are looked at: ``frac`` (from :func:`_fractional`) has the rows of one
    person-year next to each other, so a person-year with one row keeps it as it is.
    """
    year = frac["year"].to_numpy(np.int64)
    y0 = int(year.min()) if len(year) else 0
    n_years = int(year.max()) - y0 + 1 if len(year) else 1
    country = frac["country"].array
    cell = frac["pidx"].to_numpy(np.int64) * n_years + (year - y0)
    if len(cell) and (cell[1:] < cell[:-1]).any():
        raise ValueError("fractional rows are not in (pidx, year) order")
    same = cell[1:] == cell[:-1]
    crowded = np.flatnonzero(np.r_[False, same] | np.r_[same, False])
    weight = frac["weight"].to_numpy(np.float64).copy()
    first = np.ones(len(cell), dtype=bool)
    if len(crowded):
        key = pd.Series(cell[crowded] * (len(country.categories) + 1) + country.codes[crowded] + 1)
        mine = ~key.duplicated().to_numpy()
        first[crowded] = mine
        shared = key.duplicated(keep=False).to_numpy()
        if shared.any():
            # pandas' group sum over the same rows in the same order: the same rounding
            w = pd.Series(weight[crowded][shared])
            sums = w.groupby(key[shared].to_numpy(), sort=False).sum()
            at = crowded[mine & shared]
            weight[at] = sums.reindex(key.to_numpy()[mine & shared]).to_numpy()
    out = frac.loc[first, ["pidx", "year", "country", "sector", "stage"]]
    return out.assign(weight=weight[first]).reset_index(drop=True)


def _categorical(values: Any, categories: pd.Index | None = None) -> pd.Categorical:
    """``values`` as a categorical over sorted ``categories`` (default: its distinct values)."""
    if categories is None:
        categories = pd.Index(pd.unique(np.asarray(values, dtype=object))).dropna().sort_values()
    return pd.Categorical(values, categories=categories)


def _map_countries(country: pd.Series, mapping: dict[str, str]) -> pd.Categorical:
    """Map country codes through ``mapping`` (on the categories; others unchanged).

    Inputs with the same categories give outputs with the same categories, so the regrouped
    person-years and fractional rows still compare code to code.
    """
    old = country.cat.categories
    mapped = pd.Index([mapping.get(c, c) for c in old])
    new = mapped.unique().sort_values()
    codes = country.cat.codes.to_numpy()
    at = new.get_indexer(mapped)
    return pd.Categorical.from_codes(np.where(codes >= 0, at[codes], -1), categories=new)


def _carry(values: pd.Series, pidx: pd.Series) -> np.ndarray:
    """Fill NULLs from the person's previous known value, else the next (on integer codes)."""
    codes, uniques = pd.factorize(values)
    f = pd.Series(np.where(codes >= 0, codes, np.nan), index=values.index)
    f = f.groupby(pidx.to_numpy()).ffill()
    f = f.fillna(f.groupby(pidx.to_numpy()).bfill())
    out = np.full(len(f), None, dtype=object)
    known = f.notna().to_numpy()
    out[known] = np.asarray(uniques, dtype=object)[f[known].to_numpy().astype(np.int64)]
    return out


def _fractional(full: pd.DataFrame) -> pd.DataFrame:
    """Split each person-year over its main and secondary countries (equal shares).

    Rows stay in ``full``'s (pidx, year) order: each person-year's main country, then its
    other secondary countries in the order listed (a country named twice counts once).
    """
    # Only the person-years that name secondary countries are exploded (few of millions);
    # their rows are placed after their main row by index arithmetic, with no hash of all rows.
    listed = full["secondary_countries"].notna().to_numpy()
    sec = full["secondary_countries"][listed].explode()
    sec = sec[sec.notna()]
    src = sec.index.to_numpy(np.int64)  # full's RangeIndex: the row each country came from
    country = sec.to_numpy(dtype=object)
    other = country != full["country"].to_numpy(dtype=object)[src]
    extra = pd.DataFrame({"src": src[other], "country": country[other]}).drop_duplicates()
    src, country = extra["src"].to_numpy(np.int64), extra["country"].to_numpy(dtype=object)
    count = 1 + np.bincount(src, minlength=len(full))
    at_main = np.cumsum(count) - count
    nth = np.arange(len(src)) - np.searchsorted(src, src)  # src is ascending
    at_extra = at_main[src] + 1 + nth
    take = np.empty(len(full) + len(src), dtype=np.int64)
    take[at_main] = np.arange(len(full))
    take[at_extra] = src
    parts = full[["pidx", "year", "sector", "stage", "country"]].iloc[take].reset_index(drop=True)
    if len(src):
        values = parts["country"].to_numpy(dtype=object).copy()
        values[at_extra] = country
        parts["country"] = values
    parts["weight"] = 1.0 / count[take]
    return parts


def _moves(full: pd.DataFrame) -> pd.DataFrame:
    prev_same = full["pidx"].to_numpy()[1:] == full["pidx"].to_numpy()[:-1]
    country = full["country"].array
    codes = country.codes  # one set of categories: equal codes are equal countries
    changed = np.zeros(len(full), dtype=bool)
    changed[1:] = prev_same & (codes[1:] != codes[:-1])
    at = np.flatnonzero(changed)
    sector, stage = full["sector"].array, full["stage"].array
    moves = pd.DataFrame(
        {
            "pidx": full["pidx"].to_numpy()[at],
            "year": full["year"].to_numpy()[at],
            "from_country": country.take(at - 1),
            "to_country": country.take(at),
            "from_sector": sector.take(at - 1),
            "to_sector": sector.take(at),
            "from_stage": stage.take(at - 1),
            "to_stage": stage.take(at),
        }
    )
    # a return: arrival in a country the person was in in an earlier year, i.e. the
    # (person, country) pair already occurred in an earlier row (rows are in pidx, year order)
    # Only the rows of persons who move are hashed (a small part of the panel).
    pidx = full["pidx"].to_numpy(np.int64)
    mover = np.zeros(int(pidx.max()) + 1 if len(pidx) else 0, dtype=bool)
    mover[pidx[at]] = True
    rows = np.flatnonzero(mover[pidx])
    pair = pidx[rows] * (len(country.categories) + 1) + codes[rows] + 1
    moves["is_return"] = pd.Series(pair).duplicated().to_numpy()[np.searchsorted(rows, at)]
    return moves


def _sector_moves(full: pd.DataFrame) -> pd.DataFrame:
    pidx = full["pidx"].to_numpy()
    sector, country = full["sector"].array, full["country"].array
    s, c = sector.codes, country.codes
    unknown = sector.categories.get_indexer(["unknown"])[0]  # -1 (matches nothing) if absent
    ok = np.zeros(len(full), dtype=bool)
    ok[1:] = (pidx[1:] == pidx[:-1]) & (s[1:] != s[:-1]) & (s[1:] != unknown) & (s[:-1] != unknown)
    at = np.flatnonzero(ok)
    return pd.DataFrame(
        {
            "pidx": pidx[at],
            "year": full["year"].to_numpy()[at],
            "country": country.take(at),
            "from_country": country.take(at - 1),
            "from_sector": sector.take(at - 1),
            "to_sector": sector.take(at),
            "domestic": c[at] == c[at - 1],
        }
    )
