"""A person-year's main place: every listed affiliation counts, the first-listed breaks ties."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from talentflow.careers.build import build_careers
from talentflow.careers.params import CareerParams
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


#: One joint paper listing both places once (the first-listed is the main one), the reverse
#: order (the reverse answer), and a stable home (Alpha, 2018-2020) listed second in 2020.
TIES = [
    slot("joint", 2020, "j1", ZETA, ALPHA),
    slot("reverse", 2020, "r1", ALPHA, ZETA),
    slot("home", 2018, "h1", ALPHA),
    slot("home", 2019, "h2", ALPHA),
    slot("home", 2020, "h3", ZETA, ALPHA),
]


def test_first_listed_breaks_a_tie_before_alphabetical_order_and_stable_home():
    py = person_years(TIES)
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


def test_other_parts_are_read_from_affiliations_by_their_pair(con):
    """A built store keeps ``other_parts`` in ``affiliations`` (one row per raw affiliation
    and email domain): the careers match each slot to its pair, a NULL domain included, and
    find what a column on ``authorships`` gave."""
    rows = TIES
    want = person_years(rows)
    pairs = {  # paper -> its slot's pair; "h1" and "h2" share a pair without other parts
        "j1": ("Zeta University + Alpha University", None),
        "r1": ("Alpha University + Zeta University", "alpha.edu.cn"),
        "h1": ("Alpha University", None),
        "h2": ("Alpha University", None),
        "h3": ("Zeta University + Alpha University", "zeta.edu"),
    }
    frame = pd.DataFrame(rows).drop(columns="other_parts")
    frame["raw_affiliation"] = [pairs[p][0] for p in frame.paper_id]
    frame["email_domain"] = [pairs[p][1] for p in frame.paper_id]
    parts = {pairs[r["paper_id"]]: r["other_parts"] for r in rows}
    aff = pd.DataFrame(
        [{"raw_affiliation": a, "email_domain": d, "other_parts": p} for (a, d), p in parts.items()]
    )
    con.create_table(
        "authorships",
        ibis.memtable(
            frame, schema=SCHEMA | {"raw_affiliation": "string", "email_domain": "string"}
        ),
    )
    con.create_table(
        "affiliations",
        ibis.memtable(
            aff,
            schema={
                "raw_affiliation": "string",
                "email_domain": "string",
                "other_parts": f"array<{PART}>",
            },
        ),
    )
    got = build_careers(con, con.table("authorships"), CareerParams())["person_years"]
    got = got.to_pandas().set_index(["person_id", "year"]).sort_index()
    cols = ["institution", "country"]
    assert got[cols].equals(want.sort_index()[cols])
    assert [sorted(x) for x in got.secondary_countries] == [
        sorted(x) for x in want.sort_index().secondary_countries
    ]
    assert list(got.loc[("joint", 2020), "secondary_countries"]) == ["CN"]
