"""Two countries side by side, and every country ranked in one year."""

from __future__ import annotations

import pandas as pd

from talentflow.web import marks
from talentflow.web.charts.figures import (
    MIN_AT_RISK,
    Chart,
    _interval,
    bar_figure,
    line_figure,
    with_years,
    years_text,
)
from talentflow.web.names import country_name
from talentflow.web.queries import Queries

#: Fewest active researchers a country needs for its net migration rate to be ranked.
RANK_MIN_STOCK = 100


def _pair_series(
    q: Queries, a: str, b: str, start: int, end: int, measure: str
) -> tuple[list[tuple[str, pd.DataFrame]], pd.DataFrame]:
    frames = []
    for c in (a, b):
        df = q.country_series(c, start, end, measure)
        if measure in ("inflow", "outflow", "returns", "net_flow"):
            df = marks.zero_upper(df)
        frames.append((country_name(c), df.assign(country=c)))
    table = pd.concat([f for _, f in frames], ignore_index=True)
    return frames, table


def _last_complete(q: Queries, df: pd.DataFrame, fmt: str) -> str:
    lead = marks.complete_rows(q, df.dropna(subset=["value"]))
    if not len(lead):
        return "no estimate in a complete year"
    row = lead.iloc[-1]
    return f"{format(row['value'], fmt)} in {int(row['year'])} ({_interval(row, fmt)})"


def compare_charts(q: Queries, a: str, b: str, start: int, end: int) -> list[Chart]:
    """Share of the world, net migration rate, returnees and retention of two countries."""
    na, nb = country_name(a), country_name(b)
    params = {"a": a, "b": b, "start": start, "end": end}
    charts = []
    for measure, cid, title, y_title, fmt in (
        ("stock_share", "cmp-share", "Share of the world's active researchers", "Share", ".1%"),
        ("net_rate", "cmp-net-rate", "Net migration rate (per 1,000)", "Per 1,000", ",.1f"),
        ("returns", "cmp-returns", "Returnees per year", "Returnees", ",.0f"),
    ):
        series, table = _pair_series(q, a, b, start, end, measure)
        reading = (
            f"{na}: {_last_complete(q, series[0][1], fmt)}; "
            f"{nb}: {_last_complete(q, series[1][1], fmt)}."
        )
        charts.append(
            with_years(
                Chart(
                    id=cid,
                    title=f"{title}: {na} and {nb}",
                    reading=reading,
                    figure=line_figure(series, "year", "Year", y_title, fmt if "%" in fmt else ""),
                    table=table,
                    api="/api/compare",
                    params={**params, "part": cid},
                    note="Each point with its 95% interval; where the intervals overlap the "
                    "data do not tell the two countries apart.",
                ),
                q,
            )
        )
    series = []
    frames = []
    for c in (a, b):
        df = marks.share_bounds(q.retention_curves(c, start, end, "training"))
        basis = "training"
        if not df["value"].notna().any():
            basis = "first_observed"
            df = marks.share_bounds(q.retention_curves(c, start, end, basis))
        pooled = df[df["cohort_year"].isna()].assign(country=c, basis=basis)
        series.append((f"{country_name(c)} ({basis.replace('_', ' ')})", pooled))
        frames.append(pooled)
    table = pd.concat(frames, ignore_index=True)

    def longest(df: pd.DataFrame) -> str:
        ok = df.dropna(subset=["value"])
        ok = ok[ok["at_risk"].fillna(0) >= MIN_AT_RISK] if "at_risk" in ok.columns else ok
        if not len(ok):
            return f"no estimate with at least {MIN_AT_RISK} persons at risk"
        r = ok.sort_values("k").iloc[-1]  # the longest horizon with enough persons followed
        return (
            f"{r['value']:.0%} after {years_text(int(r['k']))} ({_interval(r, '.0%')}; "
            f"{int(r['at_risk']):,} at risk)"
        )

    charts.append(
        Chart(
            id="cmp-retention",
            title=f"Retention (all cohorts pooled): {na} and {nb}",
            reading=f"{na}: {longest(series[0][1])}; {nb}: {longest(series[1][1])}.",
            figure=line_figure(series, "k", "Years since start", "Share still in country", ".0%"),
            table=table,
            api="/api/compare",
            params={**params, "part": "cmp-retention"},
            note="Kaplan-Meier, all cohorts pooled; training basis where the store has it, else "
            "first observed country (the legend says which).",
        )
    )
    return charts


def country_table_chart(q: Queries, year: int) -> Chart:
    """Every country in one year, ranked by active researchers."""
    df = q.country_table(year).copy()
    df["country_name"] = [country_name(c) for c in df["country"]]
    cols = [
        "country",
        "country_name",
        *[c for c in df.columns if c not in ("country", "country_name")],
    ]
    df = df[cols].reset_index(drop=True)
    df.insert(0, "rank", range(1, len(df) + 1))
    if "net_rate" in df.columns and "stock" in df.columns:
        thin = df["stock"].fillna(0) < RANK_MIN_STOCK
        df["rate_ranked"] = ~thin
    df = marks.flag_years(q, df.assign(year=year))
    top = df.head(15).rename(columns={"stock_share": "value"})
    if "stock_share_ci_low" in top.columns:
        top = top.rename(columns={"stock_share_ci_low": "ci_low", "stock_share_ci_high": "ci_high"})
    else:
        top = top.assign(ci_low=float("nan"), ci_high=float("nan"))
    top = top.assign(label=top["country_name"])
    done = q.complete_years()
    prefix = f"{year} has incomplete coverage. " if done is not None and year not in done else ""
    reading = (
        f"{prefix}{year}: {df['country_name'].iloc[0]} has the most active researchers "
        f"({df['stock'].iloc[0]:,.0f}); {len(df)} countries have researchers in the store."
        if len(df)
        else f"No countries in {year}."
    )
    return Chart(
        id="countries",
        title=f"Countries ranked by active researchers, {year}",
        reading=reading,
        figure=bar_figure(
            top[["label", "value", "ci_low", "ci_high"]], "label", "Share of world", ".1%"
        ),
        table=df,
        api="/api/countries",
        params={"year": year},
        note=f"Bars: the 15 largest, share of the world with 95% intervals. Net migration rates "
        f"of countries under {RANK_MIN_STOCK} active researchers are noisy (rate_ranked = no).",
    )
