"""The country page: sectors, partners, alumni, sector mix and career stages."""

from __future__ import annotations

from typing import Any

import pandas as pd

from talentflow.web import marks
from talentflow.web.charts.figures import (
    BASIS_LABEL,
    Chart,
    _interval,
    _named,
    bar_figure,
    counts_plot,
    line_figure,
    population_name,
    with_years,
)
from talentflow.web.names import country_name
from talentflow.web.queries import Queries

SECTOR_WORDS = {
    "academia": "academia",
    "industry": "industry",
    "education": "academia",
    "company": "industry",
}


def sector_chart(q: Queries, country: str, start: int, end: int) -> Chart:
    """Moves between academia and industry by year."""
    df = marks.zero_upper(q.sector_flows(country, start, end))
    name = country_name(country)
    df = df[df["from_sector"].isin(SECTOR_WORDS) & df["to_sector"].isin(SECTOR_WORDS)]
    keys = ["from_sector", "to_sector", *(["domestic"] if "domestic" in df.columns else [])]
    series = []
    for key in df[keys].drop_duplicates().itertuples(index=False):
        mask = pd.Series(True, index=df.index)
        for col, v in zip(keys, key, strict=True):
            mask &= df[col] == v
        label = f"{SECTOR_WORDS[key[0]]} → {SECTOR_WORDS[key[1]]}"
        if len(key) == 3:
            label += " (in country)" if key[2] else " (with a move abroad)"
        series.append((label, df[mask]))
    from_ac = df["from_sector"].map(SECTOR_WORDS) == "academia"
    to_ind = df.loc[from_ac, "value"].sum()
    to_ac = df.loc[~from_ac, "value"].sum()
    reading = (
        f"In {name} over {start}–{end}: about {to_ind:,.0f} moves from academia to industry and "
        f"{to_ac:,.0f} from industry to academia."
        if len(df)
        else f"No academia ↔ industry moves recorded for {name} in {start}–{end}."
    )
    return with_years(
        Chart(
            id="sectors",
            title=f"Academia ↔ industry: {name}",
            reading=reading,
            figure=line_figure(series, "year", "Year", "Researchers"),
            table=df,
            api="/api/flows/sectors",
            params={"country": country, "start": start, "end": end},
            note="Sector groups as resolved from affiliations. Yearly counts carry intervals; the "
            "period sums in the reading are of the point estimates.",
        ),
        q,
    )


# -- profiles --------------------------------------------------------------------------------


def partners_chart(q: Queries, country: str, year: int, direction: str) -> Chart:
    """Top destinations (out) or sources (in) of a country in one year."""
    df = _named(marks.zero_upper(q.partners(country, year, direction)), "partner")
    name = country_name(country)
    word = "destinations" if direction == "out" else "sources"
    if len(df.dropna(subset=["value"])):
        top = df.iloc[0]
        reading = f"{year}: the top {word[:-1]} of {name} is {top['partner_name']} ({top['value']:,.0f} researchers, {_interval(top, ',.0f')})."
    else:
        reading = f"No {word} recorded for {name} in {year}."
    plot = df.assign(label=df["partner_name"])
    return Chart(
        id=f"{word}",
        title=f"Top {word} of {name}, {year}",
        reading=reading,
        figure=bar_figure(plot, "label", "Researchers moving"),
        table=df,
        api=f"/api/countries/{country}",
        params={"year": year, "part": word},
    )


def alumni_chart(
    q: Queries, country: str, population: str | None = None, subset: str = "all"
) -> Chart:
    """Where those trained in (or first observed in) a country work, in one population.

    Bars and reading are the same number: the share of the persons of that origin (known
    origin only) working in each country, with a 95% interval (the indicators' bootstrap
    ``origin_share`` when the store has it, else a Wilson interval on the counts).
    """
    name = country_name(country)
    pop = population if population is not None else q.default_population()
    basis = "training"
    df = q.alumni(country, basis, pop, subset) if pop else pd.DataFrame()
    if not len(df) and pop:
        basis = "first_observed"
        df = q.alumni(country, basis, pop, subset)
    if not len(df):
        df = pd.DataFrame(columns=["population", "work_country", "n", "value", "ci_low", "ci_high"])
    df = _named(df.copy(), "work_country")
    total = float(df["n"].sum())
    if "origin_share" in df.columns:
        df["value"] = df["origin_share"]
        df["ci_low"] = df["origin_share_ci_low"]
        df["ci_high"] = df["origin_share_ci_high"]
    elif total:
        df["value"] = df["n"] / total
        df["ci_low"], df["ci_high"] = marks.wilson(df["n"], total)
    if "suppressed" in df.columns:
        df.loc[df["suppressed"].fillna(False).astype(bool), ["value", "ci_low", "ci_high"]] = None
    df = df.drop(columns=[c for c in df.columns if c.startswith("origin_share")], errors="ignore")
    unknown = ""
    if "unknown_origin_share" in df.columns and df["unknown_origin_share"].notna().any():
        u = float(df["unknown_origin_share"].dropna().iloc[0])
        what = "training" if basis == "training" else "first observation"
        unknown = (
            f" The country of {what} is unknown for {u:.0%} of the population's researchers; "
            "they are not in these shares."
        )
    stay = df[df["work_country"] == country]
    shown = population_name(q, pop) if pop else "no population"
    if total and len(stay) and pd.notna(stay["value"].iloc[0]):
        row = stay.iloc[0]
        reading = (
            f"{shown}: of the {total:,.0f} researchers {BASIS_LABEL[basis]} {name}, "
            f"{row['value']:.0%} work there ({_interval(row, '.0%')}); the rest abroad.{unknown}"
        )
    elif total:
        reading = f"{shown}: none of the {total:,.0f} researchers {BASIS_LABEL[basis]} {name} works there."
    else:
        reading = f"No researchers {BASIS_LABEL[basis]} {name} in {shown}."
    top = df.head(10)
    plot = top.assign(label=top["work_country_name"])
    return Chart(
        id="alumni",
        title=f"Where researchers {BASIS_LABEL[basis]} {name} work ({shown})",
        reading=reading,
        figure=bar_figure(
            plot, "label", f"Share of researchers {BASIS_LABEL[basis]} {name}", ".0%"
        ),
        table=df,
        api=f"/api/countries/{country}",
        params={"population": pop, "subset": subset, "part": "alumni"},
        note=f"Bars: share of the researchers {BASIS_LABEL[basis]} {name} (known origin only) "
        "working in each country, with 95% intervals; origin is an observed career fact, never "
        "nationality.",
    )


def sector_mix_chart(q: Queries, country: str, year: int) -> Chart:
    """Active researchers by sector."""
    df = q.sector_mix(country, year)
    name = country_name(country)
    if len(df.dropna(subset=["value"])):
        total = df["value"].sum()
        top = df.iloc[0]
        reading = f"{year}: {top['value'] / total:.0%} of active researchers in {name} are in {top['sector']}."
    else:
        reading = f"No sector mix for {name} in {year}."
    return Chart(
        id="sector_mix",
        title=f"Sector mix of {name}, {year}",
        reading=reading,
        figure=bar_figure(df, "sector", "Active researchers"),
        table=df,
        api=f"/api/countries/{country}",
        params={"year": year, "part": "sector_mix"},
    )


def stages_chart(
    df: pd.DataFrame, where: str, chart_id: str, api: str, params: dict[str, Any]
) -> Chart:
    """Observed persons by career stage (a full count of what the sources say)."""
    plot = counts_plot(df, "persons")
    if len(df):
        total = df["persons"].sum()
        top = df.iloc[0]
        reading = (
            f"{where}: the most common career stage is {top['stage']}, "
            f"{top['persons'] / total:.0%} of the {total:,} observed researchers."
        )
    else:
        reading = f"{where}: no career stages observed."
    return Chart(
        id=chart_id,
        title=f"Career stages, {where}",
        reading=reading,
        figure=bar_figure(plot, "stage", "Researchers"),
        table=df,
        api=api,
        params=params,
        note="A count of observed person-years (no sampling, so no interval). Career stage is "
        "known only where the source states a position.",
    )
