"""Plotly figure primitives and formatting shared by every chart: the Chart record, line and bar figures, intervals, labels, the Wilson interval."""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from talentflow.web import marks
from talentflow.web.names import country_name
from talentflow.web.queries import MEASURES, Queries

PALETTE = ["#1f5f8b", "#d1495b", "#edae49", "#00798c", "#66a182", "#8d6a9f", "#2e4057", "#c97c5d"]


BASIS_LABEL = {"training": "trained in", "first_observed": "first observed in"}


#: Fewest persons at risk behind a retention figure a reading (or the map) leads with.
MIN_AT_RISK = 20


@dataclass
class Chart:
    """One chart of a page: figure, table, reading and the API endpoint that returns it."""

    id: str
    title: str
    reading: str
    figure: dict[str, Any]
    table: pd.DataFrame
    api: str
    params: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    @property
    def query(self) -> str:
        """The chart's filters as a query string."""
        return urlencode({k: v for k, v in self.params.items() if v is not None})

    @property
    def csv_url(self) -> str:
        """URL of the chart's data as CSV."""
        sep = "&" if self.query else ""
        return f"{self.api}?{self.query}{sep}format=csv"

    @property
    def json_url(self) -> str:
        """URL of the chart's data as JSON."""
        return f"{self.api}?{self.query}" if self.query else self.api

    def records(self) -> list[dict[str, Any]]:
        """Table rows as JSON-safe dicts (NaN -> None)."""
        return [{k: clean(v) for k, v in row.items()} for row in self.table.to_dict("records")]

    def to_json(self, with_figure: bool = False) -> dict[str, Any]:
        """What the API returns for this chart."""
        out: dict[str, Any] = {
            "id": self.id,
            "title": self.title,
            "reading": self.reading,
            "note": self.note,
            "params": self.params,
            "columns": list(self.table.columns),
            "rows": self.records(),
        }
        if with_figure:
            out["figure"] = self.figure
        return out


def clean(v: Any) -> Any:
    """A JSON-safe scalar: NaN/NA -> None, NumPy scalars -> Python."""
    if v is None:
        return None
    if isinstance(v, Decimal):  # DuckDB sums of integers
        return int(v) if v == v.to_integral_value() else float(v)
    if hasattr(v, "item") and not isinstance(v, str | bytes):
        with contextlib.suppress(ValueError, AttributeError):
            v = v.item()
    if isinstance(v, float) and math.isnan(v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, list | tuple):
        return [clean(x) for x in v]
    if hasattr(v, "tolist"):
        return clean(v.tolist())
    if isinstance(v, pd.Timestamp):
        return v.isoformat()
    return v


def _vals(s: pd.Series) -> list[Any]:
    return [clean(v) for v in s.tolist()]


def _error(df: pd.DataFrame) -> dict[str, Any]:
    """Asymmetric error bars from value/ci_low/ci_high (hidden when no interval)."""
    hi = (df["ci_high"] - df["value"]).clip(lower=0)
    lo = (df["value"] - df["ci_low"]).clip(lower=0)
    return {
        "type": "data",
        "symmetric": False,
        "array": _vals(hi),
        "arrayminus": _vals(lo),
        "visible": bool(df["ci_low"].notna().any()),
        "thickness": 1.2,
        "width": 3,
    }


def _layout(x_title: str, y_title: str, y_format: str = "", height: int = 340) -> dict[str, Any]:
    return {
        "height": height,
        "margin": {"l": 64, "r": 16, "t": 34, "b": 48},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
        # legend under the plot: the Plotly toolbar (top right, above the plot area) covers
        # neither legend nor data
        "legend": {"orientation": "h", "x": 0, "y": -0.22, "yanchor": "top"},
        "xaxis": {"title": {"text": x_title}, "gridcolor": "#eeeeee", "zeroline": False},
        "yaxis": {
            "title": {"text": y_title},
            "gridcolor": "#eeeeee",
            "tickformat": y_format,
            "rangemode": "tozero",
        },
    }


#: What an empty chart says in place of bare axes.
NOTHING_TO_DRAW = "Nothing to draw here: see the reading above"


def empty_figure(text: str = NOTHING_TO_DRAW, height: int = 160) -> dict[str, Any]:
    """A figure without axes that says ``text`` (a chart with no row to draw)."""
    return {
        "data": [],
        "layout": {
            "height": height,
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
            "xaxis": {"visible": False},
            "yaxis": {"visible": False},
            "annotations": [
                {
                    "x": 0.5,
                    "y": 0.5,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "text": text,
                }
            ],
        },
    }


def line_figure(
    series: list[tuple[str, pd.DataFrame]],
    x: str,
    x_title: str,
    y_title: str,
    y_format: str = "",
) -> dict[str, Any]:
    """Lines with interval error bars; one trace per (name, frame with x/value/ci)."""
    if not any(len(df) for _, df in series):
        return empty_figure()
    data = []
    for i, (name, df) in enumerate(series):
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": _vals(df[x]),
                "y": _vals(df["value"]),
                "error_y": _error(df),
                "line": {"color": PALETTE[i % len(PALETTE)], "width": 2},
                "marker": {"size": 6},
                "hovertemplate": f"%{{x}}: %{{y:{y_format or ',.1f'}}}<extra>{name}</extra>",
            }
        )
    layout = _layout(x_title, y_title, y_format)
    layout["showlegend"] = len(series) > 1
    if x in ("year", "k", "cohort_year"):
        # whole years only: no 1.5-year ticks, no thousands separator in 2021
        layout["xaxis"].update(tickformat="d", dtick=1 if _span(series, x) <= 16 else 2)
    if len(series) > 1:
        # Legend below the plot: one row per three series.
        rows = (len(series) + 2) // 3
        layout["margin"]["b"] = 64 + 22 * rows
        layout["height"] += 22 * rows
    return {"data": data, "layout": layout}


def _span(series: list[tuple[str, pd.DataFrame]], x: str) -> float:
    values = pd.concat([df[x] for _, df in series]) if series else pd.Series([], dtype=float)
    values = pd.to_numeric(values, errors="coerce").dropna()
    return float(values.max() - values.min()) if len(values) else 0.0


def bar_figure(
    df: pd.DataFrame, label: str, x_title: str, value_format: str = ",.0f"
) -> dict[str, Any]:
    """Horizontal bars (largest on top) with interval error bars."""
    if not len(df):
        return empty_figure()
    df = df.iloc[::-1]
    err = _error(df)
    hidden = (
        df["suppressed"].fillna(False).astype(bool)
        if "suppressed" in df.columns
        else pd.Series(False, index=df.index)
    )
    data: list[dict[str, Any]] = [
        {
            "type": "bar",
            "orientation": "h",
            "y": _vals(df[label]),
            "x": _vals(df["value"]),
            "error_x": err,
            "marker": {"color": PALETTE[0]},
            "hovertemplate": f"%{{y}}: %{{x:{value_format}}}<extra></extra>",
            "showlegend": False,
        }
    ]
    if hidden.any():
        # a suppressed cell is not an empty bar: say so on its row
        data.append(
            {
                "type": "scatter",
                "mode": "text",
                "y": _vals(df.loc[hidden, label]),
                "x": [0] * int(hidden.sum()),
                "text": ["suppressed (too few persons)"] * int(hidden.sum()),
                "textposition": "middle right",
                "textfont": {"color": "#555555", "size": 11},
                "hoverinfo": "skip",
                "showlegend": False,
            }
        )
    return {
        "data": data,
        "layout": {
            **_layout(x_title, "", ""),
            "height": max(220, 34 * len(df) + 80),
            "margin": {"l": 180, "r": 16, "t": 16, "b": 48},
            "xaxis": {
                "title": {"text": x_title},
                "gridcolor": "#eeeeee",
                "tickformat": value_format.replace(",", ",") if "%" in value_format else "",
            },
            "yaxis": {"automargin": True},
        },
    }


def _rgba(hex_color: str, alpha: float) -> str:
    h = hex_color.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha})"


def _fmt(v: Any, fmt: str) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return format(v, fmt)


def _interval(row: pd.Series | dict[str, Any], fmt: str) -> str:
    return marks.interval_text(row["ci_low"], row["ci_high"], row.get("value"), fmt)


def _label(code: str) -> str:
    return f"{country_name(code)} ({code})"


def _named(df: pd.DataFrame, *cols: str) -> pd.DataFrame:
    df = df.copy()
    for col in cols:
        df[f"{col}_name"] = [country_name(str(c)) if c is not None else None for c in df[col]]
    return df


def with_years(chart: Chart, q: Queries, years: list[int] | None = None) -> Chart:
    """Mark incomplete years and coverage changes on a chart whose x axis is years, flag its
    table's rows (``complete_year``) and say so in its note."""
    if years is None:
        years = [int(y) for y in pd.to_numeric(chart.table.get("year"), errors="coerce").dropna()]
    marks.mark_years(chart.figure, q, years)
    chart.table = marks.flag_years(q, chart.table)
    note = marks.year_note(q, sorted(set(years)))
    if note:
        chart.note = f"{chart.note} {note}".strip()
    return chart


#: 95% Wilson score interval of ``k / n`` (one implementation, in :mod:`marks`).
wilson = marks.wilson


def years_text(k: int) -> str:
    """``1 year``, ``3 years``."""
    return f"{k} year" if k == 1 else f"{k} years"


def population_name(q: Queries, population: str) -> str:
    """A population as its selector names it (``nips2021-2024`` -> "NeurIPS 2021–2024,
    pooled"); the id itself when the selector does not list it."""
    labels = dict(item for _, items in q.population_groups() for item in items)
    return labels.get(population, population)


def counts_plot(df: pd.DataFrame, count: str) -> pd.DataFrame:
    """``df`` with its column ``count`` as the plotted ``value`` and no interval (NaN): an
    observed count of the corpus, drawn without error bars."""
    return df.rename(columns={count: "value"}).assign(ci_low=float("nan"), ci_high=float("nan"))


def measure_label(measure: str) -> str:
    """Plain label of a ``country_year`` measure."""
    return MEASURES.get(measure, measure)


def country_label(code: str) -> str:
    """``Name (CC)``."""
    return _label(code)


def _sankey_figure(
    labels: list[str],
    colors: list[str],
    links: tuple[list[int], list[int], list[float], list[str]],
    heads: list[tuple[str, float, str]],
    *,
    height: int,
) -> dict[str, Any]:
    """A Plotly Sankey with a bold heading (text, x, anchor) over each column of nodes."""
    src, dst, val, link_colors = links
    return {
        "data": [
            {
                "type": "sankey",
                "arrangement": "snap",
                "node": {"label": labels, "pad": 12, "thickness": 14, "color": colors},
                "link": {"source": src, "target": dst, "value": val, "color": link_colors},
            }
        ],
        "layout": {
            "height": height,
            "margin": {"l": 8, "r": 8, "t": 30, "b": 8},
            "font": {"family": "system-ui, sans-serif", "size": 12},
            "annotations": [
                {
                    "x": x,
                    "y": 1.06,
                    "xref": "paper",
                    "yref": "paper",
                    "showarrow": False,
                    "text": f"<b>{text}</b>",
                    "xanchor": anchor,
                }
                for text, x, anchor in heads
            ],
        },
    }
