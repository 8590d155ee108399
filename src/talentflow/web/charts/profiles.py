"""The institution and person pages."""

from __future__ import annotations

from typing import Any

import pandas as pd

from talentflow.web.charts.country import stages_chart
from talentflow.web.charts.figures import (
    PALETTE,
    Chart,
    _layout,
    _vals,
    bar_figure,
    counts_plot,
    line_figure,
    population_name,
    with_years,
)
from talentflow.web.names import country_name
from talentflow.web.queries import Queries


def population_label(q: Queries, population: str | None) -> str:
    """Whose careers a page counts, in words: the population's selector label, or every
    researcher observed (``population`` None)."""
    if population is None:
        return "every researcher observed"
    return f"authors of {population_name(q, population)}"


def institution_charts(
    q: Queries, name: str, year: int | None = None, population: str | None = None
) -> list[Chart]:
    """Profile of one institution (``year``: career stages of that year only; ``population``:
    the persons of that population only, None for every person observed)."""
    prof = q.institution(name, year, population)
    who = population_label(q, population)
    base = {"name": name, "population": population or "everyone"}
    charts = []
    by_year = prof.get("by_year", pd.DataFrame(columns=["year", "persons"]))
    plot = counts_plot(by_year, "persons")
    reading = (
        f"{name}, {who}: {int(by_year['persons'].max()):,} researchers at most in a year "
        f"({int(by_year.loc[by_year['persons'].idxmax(), 'year'])})."
        if len(by_year)
        else f"No researchers observed at {name} ({who})."
    )
    charts.append(
        Chart(
            id="inst_years",
            title=f"Researchers observed at {name} ({who})",
            reading=reading,
            figure=line_figure([(name, plot)], "year", "Year", "Researchers"),
            table=by_year,
            api="/api/institutions",
            params={**base, "year": year, "part": "by_year"},
            note="Observed counts (no interval).",
        )
    )
    charts[-1] = with_years(charts[-1], q)
    charts.append(
        stages_chart(
            prof.get("stages", pd.DataFrame(columns=["stage", "persons"])),
            f"{name}, {who}" if year is None else f"{name}, {year}, {who}",
            "inst_stages",
            "/api/institutions",
            {**base, "year": year, "part": "stages"},
        )
    )
    for key, word in (
        ("destinations", "Where its researchers moved"),
        ("sources", "Where its arrivals came from"),
    ):
        df = prof.get(key, pd.DataFrame(columns=["institution", "moves"]))
        plot = counts_plot(df, "moves")
        charts.append(
            Chart(
                id=f"inst_{key}",
                title=f"{word} ({who}, every year)",
                reading=(
                    f"Most frequent: {df.iloc[0]['institution']} ({int(df.iloc[0]['moves'])} moves)."
                    if len(df)
                    else "No moves recorded."
                ),
                figure=bar_figure(plot, "institution", "Moves"),
                table=df,
                api="/api/institutions",
                params={**base, "year": year, "part": key},
                note="Observed moves of every year (no interval).",
            )
        )
    return charts


#: ``person_years.evidence`` -> hover text and marker symbol on the timeline.
EVIDENCE_LABEL = {
    "paper": "papers in the covered venues",
    "openalex_history": "OpenAlex author history (no paper in the covered venues)",
    "backfill": "backfilled gap year",
}
EVIDENCE_SYMBOL = {"paper": "square", "openalex_history": "square-open", "backfill": "square-dot"}


def person_chart(person: dict[str, Any]) -> Chart:
    """A person's career: country and institution by year."""
    years = person.get("years")
    years = years if years is not None else pd.DataFrame(columns=["year", "country", "institution"])
    pid = (person.get("person") or {}).get("person_id", "")
    codes = list(years["country"].dropna().unique().tolist())
    data = []
    for i, code in enumerate(codes):
        sub = years[years["country"] == code]
        data.append(
            {
                "type": "scatter",
                "name": country_name(code),
                "x": _vals(sub["year"]),
                "y": [country_name(code)] * len(sub),
                "customdata": [
                    f"{r.institution or 'unknown'} ({r.career_stage or 'stage unknown'})"
                    + f" · {EVIDENCE_LABEL.get(getattr(r, 'evidence', 'paper'), 'papers')}"
                    for r in sub.itertuples()
                ],
                "text": [
                    (r.institution or "") if r.institution != prev else ""
                    for r, prev in zip(
                        sub.itertuples(), [None, *sub["institution"].tolist()[:-1]], strict=True
                    )
                ],
                "mode": "markers+text",
                "textposition": "top right",
                "textfont": {"size": 11, "color": "#5b6773"},
                "hovertemplate": "%{x}: %{customdata}<extra>%{y}</extra>",
                "marker": {
                    "size": 16,
                    # filled: a year with papers; open: an OpenAlex author history; dotted:
                    # a backfilled gap year
                    "symbol": [
                        EVIDENCE_SYMBOL.get(e, "square")
                        for e in (sub["evidence"] if "evidence" in sub else ["paper"] * len(sub))
                    ],
                    "color": PALETTE[i % len(PALETTE)],
                },
            }
        )
    layout = _layout("Year", "", "", height=140 + 50 * max(1, len(codes)))
    layout["yaxis"] = {"type": "category", "automargin": True}
    layout["xaxis"]["dtick"] = 1
    layout["showlegend"] = False
    table_cols = [
        c
        for c in (
            "year",
            "institution",
            "country",
            "sector",
            "career_stage",
            "observed",
            "evidence",
            "n_papers",
        )
        if c in years.columns
    ]
    return Chart(
        id="timeline",
        title="Career timeline",
        reading=(
            f"Observed {years['year'].min()}–{years['year'].max()} in {len(codes)} "
            f"countr{'y' if len(codes) == 1 else 'ies'}."
            if len(years)
            else "No career years observed."
        ),
        figure={"data": data, "layout": layout},
        table=years[table_cols],
        api=f"/api/persons/{pid}",
        params={},
        note="Observed facts from the person's papers (evidence = paper, filled squares); "
        "years known only from the person's OpenAlex author history (evidence = "
        "openalex_history, open squares; builds with --careers-evidence papers+histories); "
        "backfilled gap years (evidence = backfill, observed = False).",
    )
