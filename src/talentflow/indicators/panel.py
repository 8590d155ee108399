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
        At least ``person_id, year, country``; optional ``sector``, ``career_stage``,
        ``secondary_countries``. Several rows for one person-year are reduced to the first in
        (person_id, year, observed desc, country) order.
    """
    py = person_years.copy(deep=False)  # columns are added or replaced, never written into
    for col in ("sector", "career_stage"):
        if col not in py.columns:
            py[col] = None
    if "secondary_countries" not in py.columns:
        py["secondary_countries"] = None
    if "observed" not in py.columns:
        py["observed"] = True
    py = py[py["person_id"].notna() & py["year"].notna()]
    py["year"] = py["year"].astype(np.int64)
    py = py.sort_values(
        ["person_id", "year", "observed", "country"],
        ascending=[True, True, False, True],
        na_position="last",
        kind="mergesort",
    ).drop_duplicates(["person_id", "year"], keep="first")
    known = py.loc[py["country"].notna(), "person_id"].unique()
    py = py[py["person_id"].isin(known)]
    persons = np.sort(np.asarray(py["person_id"].unique(), dtype=object))
    py["pidx"] = pd.Index(persons).get_indexer(py["person_id"])

    # every year between first and last observation
    span = py.groupby("pidx")["year"].agg(["min", "max"])
    lengths = (span["max"] - span["min"] + 1).to_numpy()
    pidx = np.repeat(span.index.to_numpy(), lengths)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    year = np.repeat(span["min"].to_numpy(), lengths) + (np.arange(lengths.sum()) - offsets)
    full = pd.DataFrame({"pidx": pidx, "year": year})
    full = full.merge(
        py[["pidx", "year", "country", "sector", "career_stage", "secondary_countries"]],
        on=["pidx", "year"],
        how="left",
    )
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
    full["first_year"] = np.repeat(span["min"].to_numpy(), lengths)
    full["last_year"] = np.repeat(span["max"].to_numpy(), lengths)

    frac = _fractional(full)
    countries = pd.Index(pd.concat([full["country"], frac["country"]]).unique()).sort_values()
    full["country"] = _categorical(full["country"], countries)
    frac["country"] = _categorical(frac["country"], countries)
    moves = _moves(full)
    sector_moves = _sector_moves(full)
    years = full[
        ["pidx", "year", "country", "sector", "stage", "student", "first_year", "last_year"]
    ]
    return Panel(persons, years.reset_index(drop=True), frac, moves, sector_moves)


def regroup(panel: Panel, mapping: dict[str, str]) -> Panel:
    """The panel with each country replaced by its group (countries not in ``mapping`` stay).

    Person-years keep their person index, so a bootstrap over the regrouped panel uses the same
    weights as the original. Moves and sector moves are derived again, so a change of country
    inside a group is no move; fractional weights of members of one group are added (a group's
    fractional stock is the sum of its members').
    """
    years = panel.years.assign(country=_map_countries(panel.years["country"], mapping))
    frac = panel.frac.assign(country=_map_countries(panel.frac["country"], mapping))
    frac = frac.groupby(["pidx", "year", "country"], as_index=False, sort=False, observed=True).agg(
        sector=("sector", "first"), stage=("stage", "first"), weight=("weight", "sum")
    )
    return Panel(panel.persons, years, frac, _moves(years), _sector_moves(years))


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
    """Split each person-year over its main and secondary countries (equal shares)."""
    sec = full[["pidx", "year", "sector", "stage", "secondary_countries"]].explode(
        "secondary_countries"
    )
    sec = sec[sec["secondary_countries"].notna()].rename(columns={"secondary_countries": "country"})
    parts = pd.concat(
        [full[["pidx", "year", "sector", "stage", "country"]], sec], ignore_index=True
    )
    parts = parts.drop_duplicates(["pidx", "year", "country"])
    parts["weight"] = 1.0 / parts.groupby(["pidx", "year"])["country"].transform("size")
    return parts.reset_index(drop=True)


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
    # a return: arrival in a country the person was in in an earlier year
    first_in = full.groupby(["pidx", "country"], as_index=False, observed=True)["year"].min()
    first_in = first_in.rename(columns={"country": "to_country", "year": "first_in"})
    moves = moves.merge(first_in, on=["pidx", "to_country"], how="left")
    moves["is_return"] = moves["first_in"] < moves["year"]
    return moves.drop(columns="first_in")


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
