"""A person-year's main place: every listed affiliation counts, the first-listed breaks ties."""

from __future__ import annotations

from typing import Any

import pandas as pd

from tests.test_careers_sites import SCHEMA, build

ZETA = ("Zeta University", "US", "education")
ALPHA = ("Alpha University", "CN", "education")
PART = "struct<institution: string, country: string, sector: string>"


def slot(person: str, year: int, paper: str, *listed: tuple[str, str, str]) -> dict[str, Any]:
    first, *others = listed
    return {
        "paper_id": paper,
        "year": year,
        "person_id": person,
        "institution": first[0],
        "country": first[1],
        "sector": first[2],
        "career_position": None,
        "hq_fallback": False,
        "other_parts": [{"institution": i, "country": c, "sector": s} for i, c, s in others],
    }


def person_years(rows: list[dict[str, Any]]) -> pd.DataFrame:
    schema = SCHEMA | {"other_parts": f"array<{PART}>"}
    out = build(pd.DataFrame(rows), schema)
    return out["person_years"].set_index(["person_id", "year"])


def test_first_listed_breaks_a_tie_before_alphabetical_order_and_stable_home():
    rows = [
        # one joint paper: both places listed once; the first-listed is the main one
        slot("joint", 2020, "j1", ZETA, ALPHA),
        # the reverse order gives the reverse answer
        slot("reverse", 2020, "r1", ALPHA, ZETA),
        # Alpha is the stable home (2018-2020) but in 2020 Zeta is listed first on the only paper
        slot("home", 2018, "h1", ALPHA),
        slot("home", 2019, "h2", ALPHA),
        slot("home", 2020, "h3", ZETA, ALPHA),
    ]
    py = person_years(rows)
    assert py.loc[("joint", 2020), ["institution", "country"]].tolist() == ["Zeta University", "US"]
    assert list(py.loc[("joint", 2020), "secondary_countries"]) == ["CN"]
    assert py.loc[("reverse", 2020), "country"] == "CN"
    assert py.loc[("home", 2020), "country"] == "US"


def test_a_place_listed_on_more_papers_wins_over_the_first_listed():
    rows = [
        slot("p", 2021, "a", ZETA, ALPHA),
        slot("p", 2021, "b", ALPHA),
        slot("p", 2021, "c", ALPHA),
    ]
    py = person_years(rows)
    assert py.loc[("p", 2021), "institution"] == "Alpha University"
    assert list(py.loc[("p", 2021), "secondary_institutions"]) == ["Zeta University"]


def test_equal_first_listed_counts_fall_back_to_the_stable_home():
    rows = [
        slot("q", 2018, "q1", ALPHA),
        slot("q", 2019, "q2", ZETA, ALPHA),
        slot("q", 2019, "q3", ALPHA, ZETA),
        slot("q", 2020, "q4", ALPHA),
    ]
    assert person_years(rows).loc[("q", 2019), "country"] == "CN"
