"""Backtests: fit on years up to T, forecast net flows in T+1..T+h, compare with what happened.

Against two naive forecasts of a country's net flow: **persistence** (the net flow of year T)
and the **last-three-year average** (T-2..T). Errors are absolute errors of yearly net flows
(inflow minus outflow of international moves, as counted from ``events``), per country, averaged
over forecast origins and horizons.

``measure="rate"`` scores the coverage-consistent basis instead: the net migration rate per
1,000 researchers (net flow over the country's person-years that year), so that a country whose
count of researchers jumps because venues entered the corpus is not scored on that jump; and
years the ``coverage`` table calls incomplete are neither origins nor scored years.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from talentflow.scenarios.frames import Panel, load_panel
from talentflow.scenarios.model import FitOptions, fit_model
from talentflow.scenarios.project import project

METHODS = ("model", "persistence", "avg3")
MEASURES = ("count", "rate")


@dataclass
class BacktestResult:
    """Forecasts and errors of a backtest.

    Attributes
    ----------
    forecasts
        One row per (origin, country, year): ``origin, horizon, country, year, observed,
        model, model_low, model_high, persistence, avg3``.
    errors
        Per country: mean absolute error of each method (``mae_model``, ``mae_persistence``,
        ``mae_avg3``), and the mean absolute observed net flow, over all origins and horizons.
    overall
        Mean absolute error of each method over the countries (``method``, ``mae``, ``rmse``).
    """

    countries: list[str]
    origins: list[int]
    horizon: int
    forecasts: pd.DataFrame
    errors: pd.DataFrame
    overall: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def beats_persistence(self) -> bool:
        """Whether the model's overall MAE is below persistence's."""
        o = self.overall.set_index("method")["mae"]
        return bool(o["model"] < o["persistence"])


def observed_net_flows(panel: Panel) -> pd.DataFrame:
    """Observed ``country, year, inflow, outflow, net_flow`` from the panel's moves (counted
    per country-year in the engine)."""
    mv = panel.flows()
    inflow = mv.groupby(["to_country", "year"])["n"].sum().rename("inflow")
    inflow.index = inflow.index.set_names(["country", "year"])
    outflow = mv.groupby(["from_country", "year"])["n"].sum().rename("outflow")
    outflow.index = outflow.index.set_names(["country", "year"])
    out = pd.concat([inflow, outflow], axis=1).fillna(0).reset_index()
    out["net_flow"] = out["inflow"] - out["outflow"]
    return out


def observed_stock(panel: Panel) -> pd.DataFrame:
    """Person-years with a known country per ``country, year`` (the rate's denominator)."""
    return panel.stock().rename(columns={"n": "stock"})[["country", "year", "stock"]]


def incomplete_years(con: Any) -> list[int]:
    """Years the store's ``coverage`` table calls incomplete (none without the table)."""
    if not hasattr(con, "list_tables") or "coverage" not in con.list_tables():
        return []
    t = con.table("coverage")
    df = t.filter((t.venue == "all") & ~t.complete).select("year").to_pyarrow().to_pandas()
    return sorted(int(y) for y in df["year"])


def top_countries(panel: Panel, n: int, last_year: int) -> list[str]:
    """The ``n`` countries with most person-years in the five years up to ``last_year`` (ties
    broken by country code)."""
    st = panel.stock()
    recent = st[(st["year"] > last_year - 5) & (st["year"] <= last_year)]
    counts = recent.groupby("country")["n"].sum().sort_index()
    return [str(c) for c in counts.sort_values(ascending=False, kind="stable").index[:n]]


def backtest(
    source: Any,
    *,
    origins: list[int] | None = None,
    horizon: int = 3,
    top: int = 10,
    draws: int = 200,
    seed: int = 0,
    last_year: int | None = None,
    n_origins: int = 4,
    options: FitOptions | None = None,
    measure: str = "count",
    skip_years: list[int] | None = None,
) -> BacktestResult:
    """Rolling-origin backtest of yearly net flows of the ``top`` countries.

    Parameters
    ----------
    source
        An Ibis backend with the careers tables, or a :class:`Panel`.
    origins
        Forecast origins ``T``; default the last ``n_origins`` years with ``T + horizon`` at
        most ``last_year``.
    horizon
        Years forecast after each origin.
    top
        Countries evaluated: the most active over the five years before the last origin.
    draws
        Parameter draws for the model's interval (its forecast is the mean over draws).
    last_year
        Last year treated as observed (default: the last year of the data). Set it below the
        data's end when the final year is only partly covered.
    measure
        ``count`` (yearly net flows) or ``rate`` (net migration rate per 1,000 person-years
        of the country that year: the coverage-consistent basis).
    skip_years
        Years that are neither origins nor scored (default, when ``source`` is a store: the
        years its ``coverage`` table calls incomplete; a Panel: none). The last year is capped
        below the first incomplete year after the last complete one.
    """
    if measure not in MEASURES:
        raise ValueError(f"measure must be one of {MEASURES}, got {measure!r}")
    if skip_years is None:
        skip_years = [] if isinstance(source, Panel) else incomplete_years(source)
    skip = set(skip_years)
    panel = source if isinstance(source, Panel) else load_panel(source)
    end = panel.last_year if last_year is None else min(last_year, panel.last_year)
    while end in skip and end > panel.first_year:
        end -= 1  # an incomplete final year is not observed truth
    if origins is None:
        pool = [t for t in range(panel.first_year, end - horizon + 1) if t not in skip]
        origins = pool[-n_origins:]
    origins = [
        t for t in origins if t + horizon <= end and t - 5 > panel.first_year and t not in skip
    ]
    if not origins:
        raise ValueError("no forecast origin leaves room for the fitting window and the horizon")
    countries = top_countries(panel, top, max(origins))
    obs = observed_net_flows(panel)
    years_all = range(panel.first_year, end + 1)
    net = obs.pivot_table(index="year", columns="country", values="net_flow", fill_value=0.0)
    net = net.reindex(columns=countries, fill_value=0.0).reindex(years_all, fill_value=0.0)
    stock = observed_stock(panel).pivot_table(
        index="year", columns="country", values="stock", fill_value=0.0
    )
    stock = stock.reindex(columns=countries, fill_value=0.0).reindex(years_all, fill_value=0.0)
    if measure == "rate":
        net = net.where(stock > 0) / stock.where(stock > 0) * 1000.0

    rows = []
    for T in origins:
        cut = panel.cut(T)
        model = fit_model(cut, options=options, include_countries=tuple(countries))
        res = project(model, [], years=horizon, draws=draws, seed=seed)
        nf = res["net_flow"]  # (draws, horizon, groups)
        if measure == "rate":
            with np.errstate(divide="ignore", invalid="ignore"):
                nf = np.where(res["stock"] > 0, nf / res["stock"] * 1000.0, np.nan)
        for c in countries:
            if c not in model.groups:
                continue
            gi = model.groups.index(c)
            persistence = float(net.loc[T, c])
            # the mean of the origin's complete years among T-2..T
            recent = [t for t in range(T - 2, T + 1) if t not in skip]
            avg3 = float(net.loc[recent, c].mean())
            for k in range(horizon):
                y = T + k + 1
                if y in skip or not np.isfinite(net.loc[y, c]):
                    continue
                rows.append(
                    {
                        "origin": T,
                        "horizon": k + 1,
                        "country": c,
                        "year": y,
                        "observed": float(net.loc[y, c]),
                        "model": float(np.nanmean(nf[:, k, gi])),
                        "model_low": float(np.nanquantile(nf[:, k, gi], 0.05)),
                        "model_high": float(np.nanquantile(nf[:, k, gi], 0.95)),
                        "persistence": persistence,
                        "avg3": avg3,
                    }
                )
    fc = pd.DataFrame(rows)
    err = fc.assign(
        **{f"ae_{m}": (fc[m] - fc["observed"]).abs() for m in METHODS},
        abs_observed=fc["observed"].abs(),
    )
    errors = (
        err.groupby("country", sort=False)[
            ["ae_model", "ae_persistence", "ae_avg3", "abs_observed"]
        ]
        .mean()
        .rename(columns={f"ae_{m}": f"mae_{m}" for m in METHODS})
        .rename(columns={"abs_observed": "mean_abs_observed"})
        .reset_index()
    )
    errors["model_beats_persistence"] = errors["mae_model"] < errors["mae_persistence"]
    overall = pd.DataFrame(
        [
            {
                "method": m,
                "mae": float((fc[m] - fc["observed"]).abs().mean()),
                "rmse": float(np.sqrt(((fc[m] - fc["observed"]) ** 2).mean())),
            }
            for m in METHODS
        ]
    )
    notes = [
        "Observed net flows count international moves (events of kind migration or return, "
        "level country) into minus out of each country per year."
        + (
            " Scored as rates: net flow per 1,000 person-years of the country that year "
            "(the model: its projected net flow over its projected stock)."
            if measure == "rate"
            else ""
        ),
        "The careers tables are built on the whole corpus, so events near each origin may use "
        "later papers (e.g. to tell a visit from a move); the fit itself sees only years <= T.",
    ]
    if panel.dropped_years and last_year is None:
        notes.append(
            "Left out as only partly covered: "
            + ", ".join(map(str, panel.dropped_years))
            + f" (the last observed year is {end})."
        )
    if skip:
        notes.append(
            "Incomplete years (coverage), neither origins nor scored: "
            + ", ".join(str(y) for y in sorted(skip))
            + "."
        )
    return BacktestResult(
        countries=countries,
        origins=list(origins),
        horizon=horizon,
        forecasts=fc,
        errors=errors,
        overall=overall,
        notes=notes,
    )
