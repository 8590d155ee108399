"""The coverage chart of the methods page."""

from __future__ import annotations

from talentflow.web.charts.figures import Chart, _layout, clean
from talentflow.web.queries import Queries


def coverage_chart(q: Queries) -> Chart:
    """Papers by venue and year (heatmap)."""
    df = q.coverage()
    if len(df):
        pivot = df.pivot_table(index="venue", columns="year", values="papers", aggfunc="sum")
        pivot = pivot.loc[pivot.sum(axis=1).sort_values().index]
        figure = {
            "data": [
                {
                    "type": "heatmap",
                    "z": [[clean(v) for v in row] for row in pivot.to_numpy().tolist()],
                    "x": [int(c) for c in pivot.columns],
                    "y": [str(i) for i in pivot.index],
                    "colorscale": [[0, "#deebf7"], [1, "#08306b"]],
                    "hovertemplate": "%{y} %{x}: %{z:,} papers<extra></extra>",
                }
            ],
            "layout": {
                **_layout("Year", "Venue"),
                "height": max(300, 18 * len(pivot) + 100),
                "yaxis": {"automargin": True, "dtick": 1},
            },
        }
        reading = f"{df['papers'].sum():,} papers from {df['venue'].nunique()} venues, {int(df['year'].min())}–{int(df['year'].max())}."
    else:
        figure = {"data": [], "layout": _layout("Year", "Venue")}
        reading = "No papers in the store."
    return Chart(
        id="coverage",
        title="Coverage: papers by venue and year",
        reading=reading,
        figure=figure,
        table=df,
        api="/api/methods",
        params={"part": "coverage"},
        note="Counts of deduplicated papers (no interval: the corpus itself).",
    )
