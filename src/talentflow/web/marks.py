"""Honesty marks shared by the charts: incomplete years, coverage changes, thin and empty cells.

- Incomplete years (``coverage.complete`` false) are shaded grey and labelled on every chart
  with a year axis, flagged in its table (``complete_year``), and never lead a reading.
- Coverage changes (``Queries.coverage_changes``) are drawn as dotted lines: a trend across one
  mixes venues entering or leaving with people moving.
- A zero count has a one-sided 95% upper bound (Poisson: ``-ln 0.025`` = 3.69), never "0-0".
- Suppressed cells (fewer persons than the build's minimum cell) are drawn as labelled gaps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from talentflow.web.queries import Queries

#: Upper 95% bound of a Poisson mean when no event was observed (exact: -ln(0.025)).
ZERO_UPPER = -math.log(0.025)
GREY = "rgba(120,120,120,0.16)"


def year_status(q: Queries) -> tuple[list[int], list[int], bool]:
    """``(incomplete years, coverage-change years, coverage known)``."""
    return q.incomplete_years(), q.coverage_changes(), q.complete_years() is not None


def mark_years(figure: dict[str, Any], q: Queries, years: list[int] | None = None) -> None:
    """Shade incomplete years and draw coverage changes on a figure whose x axis is years.

    Only the years of ``years`` (the x values shown) are marked, when given.
    """
    incomplete, changes, _ = year_status(q)
    if years is not None:
        shown = {int(y) for y in years if y is not None and not pd.isna(y)}
        incomplete = [y for y in incomplete if y in shown]
        changes = [y for y in changes if y in shown and y - 1 in shown]
    layout = figure.setdefault("layout", {})
    shapes = list(layout.get("shapes", []))
    notes = list(layout.get("annotations", []))
    for y in incomplete:
        shapes.append(
            {
                "type": "rect",
                "xref": "x",
                "yref": "paper",
                "x0": y - 0.5,
                "x1": y + 0.5,
                "y0": 0,
                "y1": 1,
                "fillcolor": GREY,
                "line": {"width": 0},
                "layer": "below",
            }
        )
        notes.append(
            {
                "x": y,
                "y": 1,
                "xref": "x",
                "yref": "paper",
                "yanchor": "bottom",
                "showarrow": False,
                "text": "incomplete",
                "font": {"size": 10, "color": "#555555"},
            }
        )
    for y in changes:
        shapes.append(
            {
                "type": "line",
                "xref": "x",
                "yref": "paper",
                "x0": y - 0.5,
                "x1": y - 0.5,
                "y0": 0,
                "y1": 1,
                "line": {"color": "#8a6d00", "width": 1, "dash": "dot"},
            }
        )
    layout["shapes"] = shapes
    layout["annotations"] = notes
    if incomplete:
        # grey the points of incomplete years too (markers), so colour alone does not carry it
        for trace in figure.get("data", []):
            xs = trace.get("x") or []
            if trace.get("type") == "scatter" and xs:
                symbols = ["circle-open" if x in incomplete else "circle" for x in xs]
                trace.setdefault("marker", {})["symbol"] = symbols


def year_note(q: Queries, years: list[int]) -> str:
    """A sentence on the incomplete years and coverage changes within ``years``."""
    incomplete, changes, known = year_status(q)
    if not known:
        return "Coverage unknown: this store has no coverage table, so incomplete years are not marked."
    shown = set(years)
    inc = [y for y in incomplete if y in shown]
    chg = [y for y in changes if y in shown and y - 1 in shown]
    parts = []
    if inc:
        parts.append(
            f"Incomplete years (greyed, open markers): {', '.join(map(str, inc))}; their counts "
            "reflect missing venues, not fewer researchers."
        )
    if chg:
        parts.append(
            f"Venue coverage changes before {', '.join(map(str, chg))} (dotted lines): a trend "
            "across them mixes corpus changes with moves."
        )
    return " ".join(parts)


def complete_rows(q: Queries, df: pd.DataFrame, column: str = "year") -> pd.DataFrame:
    """The rows of complete years (all rows when coverage is unknown or none is complete)."""
    done = q.complete_years()
    if done is None or column not in df.columns:
        return df
    keep = df[df[column].isin(done)]
    return keep if len(keep) else df.iloc[0:0]


def flag_years(q: Queries, df: pd.DataFrame, column: str = "year") -> pd.DataFrame:
    """``df`` with a ``complete_year`` column (yes/no; NULL when coverage is unknown)."""
    if column not in df.columns or "complete_year" in df.columns:
        return df
    done = q.complete_years()
    out = df.copy()
    if done is None:
        out["complete_year"] = pd.Series([None] * len(out), index=out.index, dtype=object)
    else:
        year = pd.to_numeric(out[column], errors="coerce")
        out["complete_year"] = [None if pd.isna(y) else int(y) in done for y in year]
    return out


def zero_upper(df: pd.DataFrame) -> pd.DataFrame:
    """Counts of zero get the 95% upper bound of a Poisson mean (3.69) instead of "0-0"
    (an upper bound below that, from a bootstrap, is raised to it)."""
    if not {"value", "ci_low", "ci_high"} <= set(df.columns) or not len(df):
        return df
    # a bootstrap of zero events resamples zeros: its interval collapses to 0-0
    zero = (df["value"] == 0) & (df["ci_high"].fillna(0) < ZERO_UPPER)
    if not zero.any():
        return df
    out = df.copy()
    out.loc[zero, "ci_low"] = 0.0
    out.loc[zero, "ci_high"] = ZERO_UPPER
    return out


def share_bounds(df: pd.DataFrame, n: str = "at_risk") -> pd.DataFrame:
    """Shares of 0 or 1 whose interval collapsed to a point (a bootstrap of 20 of 20
    retained resamples 20 of 20: "100%-100%") get the 95% Wilson interval of the ``n``
    persons behind them instead."""
    if not {"value", "ci_low", "ci_high", n} <= set(df.columns) or not len(df):
        return df
    size = pd.to_numeric(df[n], errors="coerce")
    edge = df["value"].isin([0.0, 1.0]) & (df["ci_low"] == df["ci_high"]) & (size > 0)
    if not edge.any():
        return df
    out = df.copy()
    k = out.loc[edge, "value"].to_numpy(float) * size[edge].to_numpy(float)
    out.loc[edge, "ci_low"], out.loc[edge, "ci_high"] = wilson(k, size[edge].to_numpy(float))
    return out


def poisson_interval(counts: Any) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) 95% interval of Poisson means for observed counts."""
    k = np.asarray(counts, dtype=float)
    lo = np.where(k > 0, stats.chi2.ppf(0.025, 2 * k) / 2, 0.0)
    hi = stats.chi2.ppf(0.975, 2 * (k + 1)) / 2
    return lo, hi


def wilson(k: Any, n: Any, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """95% Wilson score interval of ``k / n`` (vectorised; NaN where ``n`` is 0)."""
    k = np.asarray(k, dtype=float)
    n = np.asarray(n, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        den = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return centre - half, centre + half


def interval_text(lo: Any, hi: Any, value: Any, fmt: str) -> str:
    """``95% interval a–b``; for a zero count ``none observed (95% upper bound b)``."""
    if lo is None or hi is None or pd.isna(lo) or pd.isna(hi):
        return "no interval available"
    if value is not None and not pd.isna(value) and value == 0 and lo == 0 and hi > 0:
        # a count's bound (3.69) keeps one decimal even where counts print as integers
        bound = format(hi, ",.1f") if fmt.endswith(".0f") and hi < 10 else format(hi, fmt)
        return f"none observed; 95% upper bound {bound}"
    return f"95% interval {format(lo, fmt)}–{format(hi, fmt)}"
