"""A self-contained HTML chart of a scenario result (plotly, the library inlined: works offline)."""

from __future__ import annotations

from pathlib import Path

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from talentflow.scenarios.project import ScenarioResult

_COLORS = {"baseline": "rgba(90,90,90,{a})", "scenario": "rgba(214,96,39,{a})"}


def scenario_figure(result: ScenarioResult, countries: list[str] | None = None) -> go.Figure:
    """Net flow and stock per country: observed history, baseline and scenario with bands."""
    countries = countries or [c for c in result.groups if c != "OTHER"][:6]
    fig = make_subplots(
        rows=len(countries),
        cols=2,
        shared_xaxes=True,
        subplot_titles=[f"{c} {m}" for c in countries for m in ("net flow", "researchers")],
        vertical_spacing=min(0.08, 0.5 / max(len(countries), 1)),
    )
    hist = result.history
    for i, c in enumerate(countries, start=1):
        for col, measure, hcol in ((1, "net_flow", "net_flow"), (2, "stock", "stock")):
            t = result.measure(measure)
            t = t[t["country"] == c]
            if hist is not None and not hist.empty:
                h = hist[hist["country"] == c].sort_values("year")
                fig.add_trace(
                    go.Scatter(
                        x=h["year"],
                        y=h[hcol],
                        mode="lines",
                        name="observed",
                        line={"color": "black", "width": 1},
                        showlegend=(i == 1 and col == 1),
                        legendgroup="observed",
                    ),
                    row=i,
                    col=col,
                )
            for run in ("baseline", "scenario"):
                color = _COLORS[run]
                fig.add_trace(
                    go.Scatter(
                        x=list(t["year"]) + list(t["year"])[::-1],
                        y=list(t[f"{run}_high"]) + list(t[f"{run}_low"])[::-1],
                        fill="toself",
                        fillcolor=color.format(a=0.2),
                        line={"width": 0},
                        hoverinfo="skip",
                        showlegend=False,
                        legendgroup=run,
                    ),
                    row=i,
                    col=col,
                )
                fig.add_trace(
                    go.Scatter(
                        x=t["year"],
                        y=t[run],
                        mode="lines",
                        name=run,
                        line={"color": color.format(a=1.0)},
                        showlegend=(i == 1 and col == 1),
                        legendgroup=run,
                    ),
                    row=i,
                    col=col,
                )
    level = f"{result.level:.0%}"
    fig.update_layout(
        title=(
            f"{result.scenario.name}: baseline vs scenario ({level} bands over "
            f"{result.draws} parameter draws)"
        ),
        height=260 * len(countries) + 120,
        template="plotly_white",
    )
    return fig


def scenario_chart(
    result: ScenarioResult, path: str | Path, countries: list[str] | None = None
) -> Path:
    """Write the chart with its assumptions to ``path`` (HTML, plotly.js inlined)."""
    path = Path(path)
    fig = scenario_figure(result, countries)
    html = fig.to_html(include_plotlyjs=True, full_html=True)
    notes = "".join(f"<li>{a}</li>" for a in result.assumptions)
    html = html.replace("</body>", f"<h3>Assumptions</h3><ul>{notes}</ul></body>", 1)
    path.write_text(html, encoding="utf-8")
    return path
