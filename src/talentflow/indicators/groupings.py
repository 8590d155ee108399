"""Country groupings: a presentation option computed on a regrouped panel, never by summing.

A *grouping* maps some ISO2 countries to a group label; countries it does not list stay
themselves. Indicators for a grouping are computed by the same code on the panel whose
countries are replaced by their group (``panel.regroup``), so a group's intervals come from
the bootstrap of the grouped panel (not from adding members' bounds) and a move between two
members of a group is not a flow of the group.

Groupings shipped (see docs/indicators.md, "Country groupings"):

- ``greater_china``: CN, HK, MO, TW -> ``Greater China``;
- ``eu27``: the 27 member states of the European Union since 1 February 2020 -> ``EU27``
  (a fixed membership for every year: the United Kingdom is never in it);
- ``m49_region``: UN M49 regions (``Africa``, ``Americas``, ``Asia``, ``Europe``, ``Oceania``);
- ``m49_subregion``: UN M49 sub-regions (``Eastern Asia``, ``Northern America``, ...).

The M49 table (``data/m49_regions.csv``) was cut from the datasets/country-codes registry
(``registries/country-codes/country-codes.csv``, PDDL; columns ISO3166-1-Alpha-2, Region Name,
Sub-region Name); a test checks that it still agrees with that file. It lists TW under Eastern
Asia as the registry does; Antarctica (no region) stays itself.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

import pandas as pd

GREATER_CHINA = ("CN", "HK", "MO", "TW")
EU27 = (
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU",
    "IE", "IT", "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
)  # fmt: skip

#: Grouping name -> one-line description.
GROUPINGS: dict[str, str] = {
    "greater_china": "Greater China: CN + HK + MO + TW",
    "eu27": "EU27: the member states of the European Union since 2020",
    "m49_region": "UN M49 regions (Africa, Americas, Asia, Europe, Oceania)",
    "m49_subregion": "UN M49 sub-regions (e.g. Eastern Asia, Northern America)",
}


@cache
def _m49() -> pd.DataFrame:
    path = resources.files("talentflow.indicators") / "data" / "m49_regions.csv"
    with path.open(encoding="utf-8") as fh:
        # keep_default_na=False: "NA" is Namibia, not a missing value
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def grouping(name: str) -> dict[str, str]:
    """ISO2 -> group label of the grouping ``name`` (countries not listed stay themselves).

    >>> grouping("greater_china")["HK"]
    'Greater China'
    >>> grouping("m49_region")["BR"]
    'Americas'
    """
    if name == "greater_china":
        return dict.fromkeys(GREATER_CHINA, "Greater China")
    if name == "eu27":
        return dict.fromkeys(EU27, "EU27")
    if name in ("m49_region", "m49_subregion"):
        m = _m49()
        col = "region" if name == "m49_region" else "subregion"
        return dict(zip(m["iso2"], m[col], strict=True))
    raise ValueError(f"unknown grouping {name!r}; known: {', '.join(GROUPINGS)}")


def groupings_table(names: tuple[str, ...] | list[str]) -> pd.DataFrame:
    """The ``country_groups`` table: one row per (grouping, member country, group_name)."""
    rows = [
        pd.DataFrame({"grouping": name, "country": list(m), "group_name": list(m.values())})
        for name in names
        for m in [grouping(name)]
    ]
    if not rows:
        return pd.DataFrame({"grouping": [], "country": [], "group_name": []}, dtype=object)
    return pd.concat(rows, ignore_index=True).sort_values(
        ["grouping", "country"], ignore_index=True
    )
