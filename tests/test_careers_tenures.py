"""Tenure counts and the places events carry, on every engine (hand-built careers).

The tenure builder counts papers per year and sums them over a tenure, ranks a person's years
once for the "seen elsewhere" rule, and takes a tenure's other attributes from counted rows;
country events take the top-ranked institution of the years they need only. These tests pin
what those shortcuts must keep: distinct papers, the split rule, the tie rule and the places.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from talentflow.careers.build import build_careers
from talentflow.careers.params import CareerParams
from tests.test_careers_events import COLUMNS, slots


def build(con: Any, rows: list[dict[str, Any]], **params: Any) -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    schema = dict.fromkeys(COLUMNS, "string") | {"year": "int64", "author_position": "int64"}
    con.create_table("authorships", ibis.memtable(frame, schema=schema), overwrite=True)
    tables = build_careers(con, con.table("authorships"), CareerParams(**params))
    return {name: expr.to_pandas() for name, expr in tables.items()}


def tenures_of(out: dict[str, pd.DataFrame], person: str, level: str) -> list[tuple]:
    t = out["tenures"]
    t = t[(t.person_id == person) & (t.level == level)].sort_values(["start_year", "tenure_id"])
    return [
        (r.country if level == "country" else r.institution, r.start_year, r.end_year)
        for r in t.itertuples()
    ]


def one_row(frame: pd.DataFrame, person: str, level: str) -> Any:
    """The single row of ``person`` at ``level`` (failing when there is not exactly one)."""
    rows = frame[(frame.person_id == person) & (frame.level == level)]
    assert len(rows) == 1
    return rows.iloc[0]


def second_slot(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The same papers again under new slot ids (a person linked twice on one paper)."""
    return [r | {"authorship_id": r["authorship_id"] + "b"} for r in rows]


PAD = slots("pad", [2005, 2024], "FR")
# Two slots on each 2010 paper (identity linked both): three papers, not six; and the
# attributes of the tenure are the most frequent over the rows (MIT: 6 rows vs Harvard 2).
DOUBLE = slots("d", [2010], "US", "MIT", n=3)
TWICE = (
    DOUBLE
    + second_slot(DOUBLE)
    + slots("d", [2011], "US", "Harvard", n=2)
    + slots("d", [2012], "US", "MIT", sector="facility")
)
# US in 2010 and 2013, CN in 2011-2012 between: the gap of 2 years is within b=2, but the
# person was seen elsewhere in it, so by default the US tenure splits.
SEEN_ELSEWHERE = (
    slots("g", [2010, 2013], "US", n=2)
    + slots("g", range(2011, 2013), "CN")
    + slots("g", range(2014, 2016), "US", n=2)
)
# Equal counts of two institutions in one country tenure: the alphabetically first wins.
TIE = slots("t", [2010], "DE", "Zurich Lab", n=2) + slots("t", [2011], "DE", "Aachen U", n=2)
# A move with two institutions in each country in the years of the move: the event carries
# the main one (most papers) of the year the old tenure ends and of the year the new starts.
MOVE = (
    slots("m", range(2008, 2013), "GB", "Oxford", n=3)
    + slots("m", [2012], "GB", "Cambridge", n=1)
    + slots("m", range(2013, 2018), "US", "OpenAI", sector="company", n=3)
    + slots("m", [2013], "US", "Berkeley", n=1)
)
ALL = PAD + TWICE + SEEN_ELSEWHERE + TIE + MOVE


def test_tenure_counts_distinct_papers_years_and_most_frequent_place(con):
    out = build(con, ALL)
    t = out["tenures"]
    row = one_row(t, "d", "country")
    assert (row.start_year, row.end_year, row.n_years_observed) == (2010, 2012, 3)
    assert row.n_papers == 3 + 2 + 1  # each 2010 paper once despite two slots
    assert (row.institution, row.sector) == ("MIT", "education")
    # at the institution level Harvard (2011) splits MIT into two tenures
    mit = t[(t.person_id == "d") & (t.level == "institution") & (t.institution == "MIT")]
    mit = mit.sort_values("start_year")
    assert mit.n_papers.tolist() == [3, 1]
    assert mit.sector.tolist() == ["education", "facility"]
    py = out["person_years"].set_index(["person_id", "year"])
    assert py.loc[("d", 2010), "n_papers"] == 3
    assert one_row(t, "t", "country").institution == "Aachen U"


def test_gap_filled_only_when_not_seen_elsewhere(con):
    out = build(con, ALL)
    assert tenures_of(out, "g", "country") == [
        ("US", 2010, 2010),
        ("CN", 2011, 2012),
        ("US", 2013, 2015),
    ]
    filled = build(con, ALL, backfill_seen=True)
    assert tenures_of(filled, "g", "country") == [("US", 2010, 2015), ("CN", 2011, 2012)]


def test_country_event_carries_the_main_institution_of_each_side(con):
    out = build(con, ALL)
    r = one_row(out["events"], "m", "country")
    assert (r.kind, r.year, r.from_country, r.to_country) == ("migration", 2013, "GB", "US")
    assert (r.from_institution, r.to_institution) == ("Oxford", "OpenAI")
    assert (r.from_sector, r.to_sector) == ("education", "company")


def test_main_affiliation_tie_between_sectors_is_decided_by_value(con):
    """One institution listed under two sectors on as many papers: the same main row
    whatever the input order (the sector breaks the tie)."""
    from talentflow.careers.person_years import main_affiliation

    rows = [
        ("p", 2020, "w1", "Inst X", "US", "education"),
        ("p", 2020, "w2", "Inst X", "US", "company"),
    ]
    picked = set()
    for order in (rows, rows[::-1]):
        frame = pd.DataFrame(
            order, columns=["person_id", "year", "paper_id", "institution", "country", "sector"]
        )
        frame["other_parts"] = [[] for _ in order]
        name = f"_tie_obs_{len(picked)}"
        obs = con.create_table(
            name,
            ibis.memtable(frame).cast(
                {
                    "other_parts": "array<struct<institution: string, country: string, sector: string>>"
                }
            ),
            overwrite=True,
        )
        ranked = main_affiliation(obs).to_pandas()
        main = ranked[ranked["rank"] == 1]
        assert len(main) == 1
        picked.add(main.sector.item())
    assert picked == {"company"}
