"""Hand-built careers: backfill, temporary vs migration, returns, overlap, censoring, ambiguity."""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd
import pytest

from talentflow.careers.build import build_careers
from talentflow.careers.params import CareerParams

COLUMNS = [
    "authorship_id",
    "paper_id",
    "venue",
    "year",
    "author_position",
    "author_name",
    "person_id",
    "institution",
    "country",
    "sector",
    "email_domain",
    "career_position",
    "raw_affiliation",
]


def slots(
    person: str,
    years: range | list[int],
    country: str | None,
    institution: str | None = None,
    *,
    sector: str | None = "education",
    n: int = 1,
    position: str | None = None,
) -> list[dict[str, Any]]:
    """``n`` author slots per year for one person at one place."""
    inst = institution if institution is not None else (f"Univ {country}" if country else None)
    rows = []
    for year in years:
        for k in range(n):
            pid = f"t:{person}:{year}:{inst}:{k}"
            rows.append(
                {
                    "authorship_id": f"{pid}#0",
                    "paper_id": pid,
                    "venue": "nips",
                    "year": year,
                    "author_position": 0,
                    "author_name": person,
                    "person_id": person,
                    "institution": inst,
                    "country": country,
                    "sector": sector,
                    "email_domain": None,
                    "career_position": position,
                    "raw_affiliation": inst,
                }
            )
    return rows


def run(rows: list[dict[str, Any]], **params: Any) -> dict[str, pd.DataFrame]:
    frame = pd.DataFrame(rows, columns=COLUMNS)
    con = ibis.duckdb.connect()
    schema = dict.fromkeys(COLUMNS, "string") | {"year": "int64", "author_position": "int64"}
    con.create_table("authorships", ibis.memtable(frame, schema=schema))
    tables = build_careers(con, con.table("authorships"), CareerParams(**params))
    return {name: expr.to_pandas() for name, expr in tables.items()}


def country_moves(out: dict[str, pd.DataFrame], person: str) -> list[tuple]:
    ev = out["events"]
    ev = ev[(ev.level == "country") & (ev.person_id == person)].sort_values(["year", "to_country"])
    return [(r.kind, r.year, r.from_country, r.to_country) for r in ev.itertuples()]


def flags_of(out: dict[str, pd.DataFrame], person: str, year: int, level: str = "country") -> set:
    ev = out["events"]
    row = ev[(ev.level == level) & (ev.person_id == person) & (ev.year == year)]
    assert len(row) >= 1
    return set().union(*[set(f) for f in row["flags"]])


# Padding person seen over the whole window, so that dataset start/end are 2005..2024.
PAD = slots("pad", [2005, 2024], "FR")

BACKFILL = slots("a", [2010, 2012, 2016], "US")
VISIT = slots("v", range(2008, 2019), "US", n=2) + slots("v", [2013], "GB")
MOVE = slots("m", range(2008, 2013), "US", n=2) + slots("m", range(2013, 2019), "CN", n=2)
LONG_TEMP = slots("x", range(2008, 2021), "US", n=2) + slots("x", range(2011, 2017), "GB")
RETURN = (
    slots("r", range(2008, 2012), "CN", n=2)
    + slots("r", range(2012, 2016), "US", n=2)
    + slots("r", range(2016, 2021), "CN", n=2)
)
# The old place still appears for 3 years after the new one starts (2013-2015).
OVERLAP = slots("o", range(2008, 2016), "US", n=2) + slots("o", range(2013, 2021), "CN")
STALE = (
    slots("s", range(2008, 2014), "DE", n=2)
    + slots("s", range(2014, 2021), "CH", n=2)
    + slots("s", [2015], "DE")
)
# Seen from the first data year (the first move may be an unseen return) ...
CENSOR_LEFT = slots("c", range(2005, 2010), "US", n=2) + slots("c", range(2010, 2015), "GB", n=2)
# ... and a move at the end of a career, at most d years long (may still be a visit).
# (after a gap longer than b, so also flagged ``gap``).
CENSOR_RIGHT = slots("e", range(2010, 2020), "US", n=2) + slots("e", range(2023, 2025), "CN", n=2)
AMBIGUOUS = (
    slots("ar", range(2008, 2014), "US", n=2)
    + slots("ar", range(2014, 2020), "GB")
    + slots("ar", range(2014, 2020), "CN")
    + slots("as", range(2008, 2014), "US")
    + slots("as", range(2008, 2014), "DE")
    + slots("as", range(2014, 2020), "CN", n=2)
)
# Both places run to the last year: the place with most papers that year decides.
TIES = (
    slots("t1", range(2008, 2016), "US", n=2)
    + slots("t1", range(2015, 2017), "CN", n=3)
    + slots("t1", [2016], "US")
    + slots("t2", range(2008, 2017), "US", n=3)
    + slots("t2", [2016], "CN")
)
SECTORS = (
    slots("i", range(2008, 2013), "US", "Stanford", n=2)
    + slots("i", range(2013, 2019), "US", "Google", sector="company", n=2)
    + slots("ci", range(2008, 2013), "GB", "Oxford", n=2)
    + slots("ci", range(2013, 2018), "US", "OpenAI", sector="company", n=2)
)
PERSON_YEARS = (
    slots("p", [2010], "US", "MIT", n=3, position="PhD student")
    + slots("p", [2010], "CA", "Mila", n=1, position="Intern")
    + slots("p", [2011], "US", "Google", sector="company", n=2, position="Researcher")
    + slots("h", range(2008, 2012), "US", "Home U", n=2)
    + slots("h", [2012], "US", "Home U")
    + slots("h", [2012], "JP", "Visit U")
    + slots("u", range(2010, 2016), "US", n=2)
    + slots("u", [2012], None, sector=None)
)
PROFILES = (
    slots("stay", range(2010, 2015), "DE", position="PhD student")
    + slots("trav", range(2010, 2016), "JP", n=2)
    + slots("trav", [2012], "US")
    + slots("mig", range(2010, 2013), "IN", n=2, position="PhD student")
    + slots("mig", range(2013, 2018), "US", n=2, position="Assistant Professor")
    + slots("ret", range(2010, 2013), "CN", n=2)
    + slots("ret", range(2013, 2017), "US", n=2)
    + slots("ret", range(2017, 2021), "CN", n=2)
)
ALL = (
    PAD
    + BACKFILL
    + VISIT
    + MOVE
    + LONG_TEMP
    + RETURN
    + OVERLAP
    + STALE
    + CENSOR_LEFT
    + CENSOR_RIGHT
    + AMBIGUOUS
    + TIES
    + SECTORS
    + PERSON_YEARS
    + PROFILES
)


@pytest.fixture(scope="module")
def out() -> dict[str, pd.DataFrame]:
    """Every hand-built career at the default parameters (one build for the module)."""
    return run(ALL)


def test_backfill_fills_short_gaps_only(out):
    ten = out["tenures"]
    ten = ten[(ten.person_id == "a") & (ten.level == "country")].sort_values("start_year")
    assert list(zip(ten.start_year, ten.end_year, strict=True)) == [(2010, 2012), (2016, 2016)]
    py = out["person_years"]
    py = py[py.person_id == "a"].set_index("year")
    assert not py.loc[2011, "observed"] and py.loc[2011, "country"] == "US"
    assert 2013 not in py.index  # a 3-year gap is not filled


def test_parameters_change_the_result():
    ten0 = run(PAD + BACKFILL, backfill=0)["tenures"]
    assert ((ten0.person_id == "a") & (ten0.level == "country")).sum() == 3
    assert country_moves(run(PAD + LONG_TEMP, temporary=6), "x") == [
        ("temporary", 2011, "US", "GB")
    ]
    assert country_moves(run(PAD + OVERLAP, overlap=2), "o") == []


def test_visit_is_temporary_and_move_is_migration(out):
    assert country_moves(out, "v") == [("temporary", 2013, "US", "GB")]
    assert country_moves(out, "m") == [("migration", 2013, "US", "CN")]


def test_temporary_longer_than_d_is_not_an_event(out):
    assert country_moves(out, "x") == []


def test_return_to_an_earlier_country(out):
    assert country_moves(out, "r") == [
        ("migration", 2012, "CN", "US"),
        ("return", 2016, "US", "CN"),
    ]


def test_overlap_within_limit_is_a_migration(out):
    assert country_moves(out, "o") == [("migration", 2013, "US", "CN")]
    assert "concurrent" in flags_of(out, "o", 2013)


def test_stale_affiliation_after_a_move_still_a_migration(out):
    assert country_moves(out, "s") == [("migration", 2014, "DE", "CH")]


def test_censoring_flags(out):
    assert country_moves(out, "c") == [("migration", 2010, "US", "GB")]
    assert "censored_left" in flags_of(out, "c", 2010)
    assert "censored_right" not in flags_of(out, "c", 2010)
    assert country_moves(out, "e") == [("migration", 2023, "US", "CN")]
    assert {"censored_right", "gap"} <= flags_of(out, "e", 2023)
    assert "censored_left" not in flags_of(out, "e", 2023)
    assert "gap" not in flags_of(out, "m", 2013)
    ten = out["tenures"]
    c_ten = ten[(ten.person_id == "c") & (ten.level == "country")].set_index("country")
    assert c_ten.loc["US", "censored_left"] and not c_ten.loc["US", "censored_right"]
    assert c_ten.loc["GB", "censored_right"] and not c_ten.loc["GB", "censored_left"]


def test_ambiguous_receivers_and_senders(out):
    assert country_moves(out, "ar") == [
        ("migration", 2014, "US", "CN"),
        ("migration", 2014, "US", "GB"),
    ]
    assert {"ambiguous_receiver", "simultaneous_start"} <= flags_of(out, "ar", 2014)
    moves = country_moves(out, "as")
    assert len(moves) == 1 and moves[0][0] == "migration" and moves[0][3] == "CN"
    assert "ambiguous_sender" in flags_of(out, "as", 2014)


def test_tie_at_career_end_uses_main_place(out):
    assert country_moves(out, "t1") == [("migration", 2015, "US", "CN")]
    assert "undecided" in flags_of(out, "t1", 2015)
    assert country_moves(out, "t2") == [("temporary", 2016, "US", "CN")]


def test_institution_level_moves_and_sectors(out):
    ev = out["events"]
    inst = ev[(ev.person_id == "i") & (ev.level == "institution")]
    assert len(inst) == 1
    row = inst.iloc[0]
    assert (row.kind, row.year, row.from_institution, row.to_institution) == (
        "move",
        2013,
        "Stanford",
        "Google",
    )
    assert (row.from_sector, row.to_sector) == ("education", "company")
    assert country_moves(out, "i") == []


def test_country_events_carry_institutions(out):
    ev = out["events"]
    row = ev[(ev.person_id == "ci") & (ev.level == "country")].iloc[0]
    assert (row.from_institution, row.to_institution) == ("Oxford", "OpenAI")
    assert (row.from_sector, row.to_sector) == ("education", "company")


def test_person_years_main_affiliation_and_stage(out):
    py = out["person_years"]
    p = py[py.person_id == "p"].set_index("year")
    assert p.loc[2010, "institution"] == "MIT" and p.loc[2010, "n_papers"] == 4
    assert list(p.loc[2010, "secondary_institutions"]) == ["Mila"]
    assert list(p.loc[2010, "secondary_countries"]) == ["CA"]
    assert p.loc[2010, "career_stage"] == "student"
    assert p.loc[2011, "career_stage"] == "industry"  # "Researcher" at a company
    # A tie in papers goes to the institution seen in more years (the stable home).
    assert py[(py.person_id == "h") & (py.year == 2012)].institution.item() == "Home U"


def test_unresolved_rows_are_ignored_for_places(out):
    assert country_moves(out, "u") == []
    py = out["person_years"]
    assert py[(py.person_id == "u") & (py.year == 2012)].country.item() == "US"


def test_profile_typology(out):
    prof = out["person_profile"].set_index("person_id")
    assert prof.loc["stay", "typology"] == "stayer"
    assert prof.loc["trav", "typology"] == "traveller"
    assert prof.loc["mig", "typology"] == "migrant"
    assert prof.loc["ret", "typology"] == "returnee"
    assert prof.loc["mig", "training_country"] == "IN"
    assert prof.loc["mig", "first_country"] == "IN" and prof.loc["mig", "current_country"] == "US"
    assert prof.loc["mig", "n_international_moves"] == 1
    assert prof.loc["ret", "n_international_moves"] == 2
    assert pd.isna(prof.loc["trav", "training_country"])


@pytest.mark.parametrize("bad", [{"backfill": -1}, {"overlap": "x"}, {"nope": 1}])
def test_bad_parameters_are_rejected(bad: dict[str, Any]):
    with pytest.raises(ValueError):
        CareerParams.from_mapping(bad)
