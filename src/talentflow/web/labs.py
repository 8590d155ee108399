"""LLM labs and company-to-company moves: who joins the frontier and Chinese LLM labs, from where.

The labs are listed in ``data/llm_labs.csv`` (institution names as the resolver writes them, a
group ``frontier`` or ``chinese``, and what each name covers: Qwen is not separable from Alibaba
Group, Seed not from ByteDance). Joins are institution-level moves in ``events`` (visits,
``temporary``, left out), counted once per person, year and lab. These are observed counts;
their 95% intervals treat a yearly count as Poisson (exact Garwood interval) and a share of
joiners as binomial (Wilson), so they speak to sampling noise, not to coverage.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from talentflow.web import marks
from talentflow.web.charts.country import SECTOR_WORDS
from talentflow.web.charts.figures import (
    Chart,
    bar_figure,
    counts_plot,
    line_figure,
    with_years,
)
from talentflow.web.names import country_name
from talentflow.web.queries import Queries

LABS_FILE = Path(__file__).parent / "data" / "llm_labs.csv"
GROUPS = {"frontier": "Frontier LLM labs", "chinese": "Chinese LLM labs"}
#: Rows of the source tables (countries, institutions) shown in the bars.
TOP = 12


@dataclass(frozen=True)
class Lab:
    """One lab of the list: the resolver's institution name, its group and what it covers."""

    institution: str
    group: str
    country: str
    covers: str


def labs() -> list[Lab]:
    """The labs of ``data/llm_labs.csv``."""
    with LABS_FILE.open(encoding="utf-8", newline="") as f:
        return [Lab(**row) for row in csv.DictReader(f)]


def group_names(group: str) -> tuple[str, ...]:
    """Institution names of one group (``all``: both)."""
    return tuple(lab.institution for lab in labs() if group in ("all", lab.group))


def _persons(df: pd.DataFrame, key: str) -> pd.Series:
    """Distinct persons of ``df`` per value of ``key`` (a missing value is its own group)."""
    return df.groupby(key, dropna=False)["person_id"].nunique()


def _counts(df: pd.DataFrame, key: str, total: int) -> pd.DataFrame:
    """Joiners per value of ``key`` with the share of all joiners and a Wilson interval."""
    g = _persons(df, key).sort_values(ascending=False)
    out = g.reset_index().rename(columns={"person_id": "joiners", key: key})
    out[key] = out[key].astype(object).where(out[key].notna(), "not known")
    out["value"] = out["joiners"] / total if total else float("nan")
    out["ci_low"], out["ci_high"] = marks.wilson(out["joiners"], total)
    return out


def lab_list_chart(q: Queries, group: str, start: int, end: int, joins: pd.DataFrame) -> Chart:
    """Every lab of the group with what the corpus holds of it: researchers observed there
    (any year, and most in a year of the period) and joiners in the period; a lab the
    resolver's table names but no paper lists says so."""
    chosen = [lab for lab in labs() if group in ("all", lab.group)]
    names = tuple(lab.institution for lab in chosen)
    lo, hi = q.year_range()
    ever = q.staff(names, lo, hi)
    period = ever[ever["year"].between(start, end)]
    df = pd.DataFrame(
        {
            "institution": names,
            "group": [lab.group for lab in chosen],
            "country": [lab.country for lab in chosen],
            "covers": [lab.covers for lab in chosen],
        }
    )
    years = ever.groupby("institution")["year"].agg(["min", "max"])
    df["years_observed"] = [
        f"{years.loc[n, 'min']}–{years.loc[n, 'max']}" if n in years.index else "none"
        for n in names
    ]
    most = period.groupby("institution")["persons"].max()
    df["most_in_a_year"] = df["institution"].map(most).fillna(0).astype(int)
    df["joiners"] = df["institution"].map(_persons(joins, "institution"))
    df["joiners"] = df["joiners"].fillna(0).astype(int)
    df["in_corpus"] = df["institution"].isin(years.index).map({True: "yes", False: "no"})
    missing = df.loc[df["in_corpus"] == "no", "institution"].tolist()
    reading = f"{len(df) - len(missing)} of the {len(df)} labs have researchers in this corpus" + (
        f"; no paper in this corpus lists {', '.join(missing)} (not in the resolver's lab "
        "table yet, or not among the affiliations of the covered venues), so the charts "
        "below count nobody there."
        if missing
        else "."
    )
    return Chart(
        id="lab-list",
        title=f"The labs of this view ({GROUPS.get(group, 'all listed LLM labs')})",
        reading=reading,
        figure=bar_figure(
            counts_plot(df, "most_in_a_year"),
            "institution",
            f"Most researchers in a year, {start}–{end}",
        ),
        table=df,
        api="/api/labs",
        params={"group": group, "start": start, "end": end, "part": "lab-list"},
        note="Names as the resolver writes them (see what each covers); counts of the corpus "
        "(no interval). A lab without researchers here has no row in the other charts.",
    )


def lab_charts(q: Queries, group: str, start: int, end: int) -> list[Chart]:
    """The labs and what the corpus holds of them, joins per year, where joiners came from
    (country, sector, institution), returnees, researchers observed at each lab."""
    names = group_names(group)
    joins = q.joins(names, start, end)
    title = GROUPS.get(group, "LLM labs")
    params = {"group": group, "start": start, "end": end}
    api = "/api/labs"
    charts: list[Chart] = [lab_list_chart(q, group, start, end, joins)]

    years = pd.DataFrame({"year": range(start, end + 1)})
    by_lab_group = joins.assign(
        group=joins["institution"].map({lab.institution: lab.group for lab in labs()})
    )
    series = []
    table_parts = []
    for g in [g for g in GROUPS if group in ("all", g)]:
        per_year = _persons(by_lab_group[by_lab_group["group"] == g], "year").rename("value")
        frame = years.merge(per_year, left_on="year", right_index=True, how="left").fillna(
            {"value": 0}
        )
        frame["ci_low"], frame["ci_high"] = marks.poisson_interval(frame["value"])
        series.append((GROUPS[g], frame))
        table_parts.append(frame.assign(group=g))
    table = pd.concat(table_parts, ignore_index=True) if table_parts else years
    lead = marks.complete_rows(q, joins)
    n_lead = lead["person_id"].nunique() if len(lead) else 0
    reading = (
        f"{title}: {n_lead:,} researchers observed joining over the complete years of "
        f"{start}–{end} ({joins['person_id'].nunique():,} over all years shown)."
        if len(joins)
        else f"No researcher observed joining the {title} in {start}–{end}."
    )
    charts.append(
        with_years(
            Chart(
                id="lab-joins",
                title=f"Researchers joining the {title}, by year",
                reading=reading,
                figure=line_figure(series, "year", "Year", "Researchers joining"),
                table=table,
                api=api,
                params={**params, "part": "lab-joins"},
                note="Institution-level moves into a lab (visits left out), one per person and "
                "year; 95% intervals treat each yearly count as Poisson (exact).",
            ),
            q,
        )
    )

    total = int(joins["person_id"].nunique()) if len(joins) else 0
    joins = joins.assign(
        # the resolver's sector words as the other pages say them (education -> academia)
        from_sector=joins["from_sector"].replace(SECTOR_WORDS),
        from_country_name=[
            country_name(c) if isinstance(c, str) else "not known" for c in joins["from_country"]
        ],
        returnee=(joins["first_country"] == joins["to_country"])
        & (joins["from_country"] != joins["to_country"]),
    )
    for key, cid, heading, what in (
        ("from_country_name", "lab-countries", "Countries they came from", "country"),
        ("from_sector", "lab-sectors", "Sectors they came from", "sector"),
        ("from_institution", "lab-institutions", "Institutions they came from", "institution"),
    ):
        df = _counts(joins, key, total).rename(columns={key: what})
        top = df.head(TOP)
        lead_row = top.iloc[0] if len(top) else None
        charts.append(
            Chart(
                id=cid,
                title=f"{heading} ({title}, {start}–{end})",
                reading=(
                    f"Most joiners came from {lead_row[what]}: {lead_row['value']:.0%} of "
                    f"{total:,} ({marks.interval_text(lead_row['ci_low'], lead_row['ci_high'], lead_row['value'], '.0%')})."
                    if lead_row is not None
                    else "No joiners observed."
                ),
                figure=bar_figure(top, what, "Share of joiners", ".0%"),
                table=df,
                api=api,
                params={**params, "part": cid},
                note=f"Share of the {total:,} persons observed joining, with 95% Wilson intervals.",
            )
        )
    ret = joins[joins["returnee"]]
    k = int(ret["person_id"].nunique())
    lo, hi = marks.wilson([k], total) if total else ([float("nan")], [float("nan")])
    by_lab = (
        pd.DataFrame(
            {"joiners": _persons(joins, "institution"), "returnees": _persons(ret, "institution")}
        )
        .fillna({"returnees": 0})
        .rename_axis("institution")
        .reset_index()
    )
    by_lab["value"] = by_lab["returnees"] / by_lab["joiners"]
    by_lab["ci_low"], by_lab["ci_high"] = marks.wilson(by_lab["returnees"], by_lab["joiners"])
    share = k / total if total else float("nan")
    charts.append(
        Chart(
            id="lab-returnees",
            title=f"Returnees among joiners ({title})",
            reading=(
                f"{k:,} of {total:,} joiners ({share:.0%}, "
                f"{marks.interval_text(lo[0], hi[0], share, '.0%')}) came from abroad to the "
                "country where they were first observed."
                if total
                else "No joiners observed."
            ),
            figure=bar_figure(
                by_lab.sort_values("joiners", ascending=False),
                "institution",
                "Share returnees",
                ".0%",
            ),
            table=by_lab,
            api=api,
            params={**params, "part": "lab-returnees"},
            note="Returnee: joined from another country and was first observed in the lab's "
            "country (an observed career fact, never nationality).",
        )
    )
    staff = q.staff(names, start, end)
    charts.append(
        with_years(
            Chart(
                id="lab-staff",
                title=f"Researchers observed at each lab ({title})",
                reading=(
                    f"{staff.groupby('institution')['persons'].max().idxmax()} has the most "
                    "researchers observed in a year."
                    if len(staff)
                    else "No researcher observed at these labs."
                ),
                figure=line_figure(
                    [(name, counts_plot(g, "persons")) for name, g in staff.groupby("institution")],
                    "year",
                    "Year",
                    "Researchers",
                ),
                table=staff,
                api=api,
                params={**params, "part": "lab-staff"},
                note="Observed counts of researchers with a paper affiliated to the lab that year "
                "(no interval: a count of the corpus).",
            ),
            q,
        )
    )
    return charts


def company_flows_chart(q: Queries, start: int, end: int) -> Chart:
    """The largest company-to-company moves over a period (institution-level events)."""
    df = q.institution_moves(start, end, "company")
    df = df.assign(
        pair=[
            f"{a} → {b}" for a, b in zip(df["from_institution"], df["to_institution"], strict=True)
        ]
    )
    df["value"] = df["moves"].astype(float)
    df["ci_low"], df["ci_high"] = marks.poisson_interval(df["value"])
    reading = (
        f"Over {start}–{end}, the largest company-to-company flow is {df['pair'].iloc[0]}: "
        f"{int(df['moves'].iloc[0])} researchers "
        f"({marks.interval_text(df['ci_low'].iloc[0], df['ci_high'].iloc[0], 1, ',.0f')})."
        if len(df)
        else f"No company-to-company moves observed in {start}–{end}."
    )
    return Chart(
        id="companies",
        title=f"Company-to-company moves, {start}–{end}",
        reading=reading,
        figure=bar_figure(df, "pair", "Researchers moving"),
        table=df.drop(columns=["pair"]),
        api="/api/flows/companies",
        params={"start": start, "end": end},
        note="Institution-level moves between two companies (visits left out), persons counted "
        "once per pair; 95% intervals treat each count as Poisson (exact).",
    )
