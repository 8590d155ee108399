"""A minimal stand-in for the careers tables, for tests and benchmarks of the indicators.

:func:`person_years_from_authorships` turns resolved, linked authorships (e.g. the output of
``talentflow.careers.simulate.simulate_careers``) into a ``person_years`` table with the
contract's columns using the simplest rule (the most frequent country of the year; ties broken
alphabetically). The real careers stage is more careful; this exists so the indicators can be
exercised at scale without it.
"""

from __future__ import annotations

import pandas as pd


def person_years_from_authorships(authorships: pd.DataFrame) -> pd.DataFrame:
    """One row per (person_id, year): modal country, its sector, any student position."""
    a = authorships[authorships["person_id"].notna()].copy()
    a["student"] = a.get("career_position", pd.Series(index=a.index, dtype=object)).fillna("")
    a["student"] = a["student"].str.contains("student", case=False)
    counts = (
        a.groupby(["person_id", "year", "country", "sector"], dropna=False)
        .size()
        .rename("n")
        .reset_index()
        .sort_values(["person_id", "year", "n", "country"], ascending=[True, True, False, True])
    )
    main = counts.drop_duplicates(["person_id", "year"])
    secondary = (
        counts.merge(main[["person_id", "year", "country"]].rename(columns={"country": "main"}))
        .query("country != main and country == country")
        .groupby(["person_id", "year"])["country"]
        .agg(lambda s: sorted(set(s)))
        .rename("secondary_countries")
    )
    student = a.groupby(["person_id", "year"])["student"].any()
    n_papers = a.groupby(["person_id", "year"])["paper_id"].nunique().rename("n_papers")
    out = main.set_index(["person_id", "year"])[["country", "sector"]]
    out = out.join(n_papers).join(secondary).join(student)
    out["secondary_countries"] = out["secondary_countries"].apply(
        lambda v: v if isinstance(v, list) else []
    )
    out["career_stage"] = out.pop("student").map({True: "student", False: None})
    out["observed"] = True
    return out.reset_index()


def profile_from_person_years(person_years: pd.DataFrame) -> pd.DataFrame:
    """``person_profile``'s origin columns from ``person_years`` (first / training country)."""
    py = person_years.sort_values(["person_id", "year"])
    known = py[py["country"].notna()]
    first = known.drop_duplicates("person_id").set_index("person_id")["country"]
    stud = known[known["career_stage"] == "student"].drop_duplicates("person_id")
    out = pd.DataFrame({"person_id": first.index, "first_country": first.to_numpy()})
    out["training_country"] = stud.set_index("person_id")["country"].reindex(first.index).to_numpy()
    return out


def worked_example() -> dict[str, pd.DataFrame]:
    """Four persons, two papers: the hand-computed example of docs/indicators.md.

    a: 2010 US (student), 2012 US (student; secondary GB), 2013 CN (2011 padded as US);
    b: 2010-2011 CN; c: 2011 US (student), 2012 unknown, 2014 US (padded as US);
    d: 2010 GB, 2011 US, 2012-2013 GB (leaves and returns). Papers (nips 2013): p1 "Large
    Language Models are Fun" by a and c, p2 "Bandits" by d.
    """
    person_years = pd.DataFrame(
        [
            ("a", 2010, "US", "education", "student", []),
            ("a", 2012, "US", "company", "student", ["GB"]),
            ("a", 2013, "CN", "education", None, []),
            ("b", 2010, "CN", "education", None, []),
            ("b", 2011, "CN", "education", None, []),
            ("c", 2011, "US", "education", "student", []),
            ("c", 2012, None, None, None, []),
            ("c", 2014, "US", "company", None, []),
            ("d", 2010, "GB", None, None, []),
            ("d", 2011, "US", None, None, []),
            ("d", 2012, "GB", None, None, []),
            ("d", 2013, "GB", None, None, []),
        ],
        columns=["person_id", "year", "country", "sector", "career_stage", "secondary_countries"],
    )
    papers = pd.DataFrame(
        {
            "paper_id": ["p1", "p2"],
            "title": ["Large Language Models are Fun", "Bandits"],
            "venue": ["nips", "nips"],
            "year": [2013, 2013],
        }
    )
    authorships = pd.DataFrame(
        {
            "paper_id": ["p1", "p1", "p2"],
            "person_id": ["a", "c", "d"],
            "venue": ["nips"] * 3,
            "year": [2013] * 3,
        }
    )
    return {"person_years": person_years, "papers": papers, "authorships": authorships}
