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
