"""Write the overview, map, flows and methods of a store into one offline HTML file.

plotly.js and the world geometry are inlined, so the file opens anywhere without a network;
figures, readings and tables are the same ``Chart`` objects the dashboard shows.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jinja2

from talentflow import __version__
from talentflow.read import StoreReader
from talentflow.web import charts as ch
from talentflow.web.assets import PLOTLY_JS, STATIC
from talentflow.web.cells import cell
from talentflow.web.methods import LIMITATIONS
from talentflow.web.names import country_name
from talentflow.web.params import country as validate_country
from talentflow.web.params import period, population

TEMPLATES = Path(__file__).parent / "templates"


def _script_safe(text: str) -> str:
    # Inline <script> content must not close the element early.
    return text.replace("</script", "<\\/script").replace("<!--", "<\\!--")


def report_charts(q: StoreReader, country: str, start: int, end: int) -> dict[str, list[ch.Chart]]:
    """The report's sections: overview, map (one frame per year), flows, methods."""
    pop = population(q, None)
    flows = [] if pop is None else [ch.pathways_chart(q, pop), ch.sankey_chart(q, pop)]
    flows += [ch.top_pairs_chart(q, start, end), ch.sector_chart(q, country, start, end)]
    return {
        "overview": ch.overview_charts(q, country, start, end),
        "map": [ch.map_chart(q, "stock_share", q.last_complete_year())],
        "flows": flows,
        "methods": [ch.coverage_chart(q)],
    }


def _map_with_slider(q: StoreReader, years: list[int], active: int | None = None) -> dict[str, Any]:
    """The map figure with a Plotly year slider (frames precomputed, no server needed),
    opened on ``active`` (default: the last year)."""
    frames = []
    base: dict[str, Any] | None = None
    for y in years:
        fig = ch.map_chart(q, "stock_share", y).figure
        base = base or fig
        frames.append({"name": str(y), "data": fig["data"]})
    assert base is not None
    at = years.index(active) if active in years else len(frames) - 1
    last = frames[at]
    layout = dict(base["layout"])
    layout["height"] = 520
    layout["sliders"] = [
        {
            "active": at,
            "currentvalue": {"prefix": "Year: "},
            "pad": {"t": 10},
            "steps": [
                {
                    "label": f["name"],
                    "method": "animate",
                    "args": [
                        [f["name"]],
                        {"mode": "immediate", "frame": {"duration": 0, "redraw": True}},
                    ],
                }
                for f in frames
            ],
        }
    ]
    return {"data": last["data"], "layout": layout, "frames": frames}


def write_report(
    db_path: str | Path,
    output: str | Path,
    *,
    country: str | None = None,
    start: int | None = None,
    end: int | None = None,
) -> Path:
    """Write the report of the store at ``db_path`` to ``output``; return its path.

    Parameters
    ----------
    db_path
        The store (opened read-only).
    output
        The HTML file to write.
    country
        Country of the overview (default China, else the largest).
    start, end
        Period of the overview and flows (default: 15 years up to the last complete year).

    Examples
    --------
    >>> write_report("talentflow.duckdb", "report.html")  # doctest: +SKIP
    """
    q = StoreReader(db_path)
    try:
        html = render_report(q, country=country, start=start, end=end)
    finally:
        q.close()
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(html, encoding="utf-8")
    return out


def render_report(
    q: StoreReader, *, country: str | None = None, start: int | None = None, end: int | None = None
) -> str:
    """The report's HTML for the store behind ``q`` (see :func:`write_report`)."""
    lo, hi = q.year_range()
    c = validate_country(q, country)
    s, e = period(q, start, end)
    sections = report_charts(q, c, s, e)
    map_years = list(range(max(lo, hi - 14), hi + 1))
    sections["map"][0].figure = _map_with_slider(q, map_years, q.last_complete_year())
    sections["map"][0].title = "Share of the world's active researchers (slider: year)"
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([TEMPLATES, STATIC.parent / "templates"]),
        autoescape=True,
    )
    env.filters["cell"] = cell
    html: str = env.get_template("report.html").render(
        sections=sections,
        country_name=country_name(c),
        start=s,
        end=e,
        build_info=q.build_info(),
        build_params=q.build_params(),
        careers_evidence=q.careers_evidence(),
        limitations=LIMITATIONS,
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__,
        plotly_js=_script_safe(PLOTLY_JS.read_text(encoding="utf-8")),
        topojson=_script_safe(
            json.dumps(json.loads((STATIC / "topojson" / "world_110m.json").read_text()))
        ),
        css=(STATIC / "style.css").read_text(encoding="utf-8"),
    )
    return html
