"""Charts: a figure, a data table, a one-line plain reading and the API call behind each.

Pages, the JSON API and the HTML report all render these same objects, so the three surfaces
always agree. Figures are plain Plotly JSON (dicts) drawn by plotly.js in the browser; every
estimate is drawn with its 95% interval (error bars) when the store has one.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

import pandas as pd

from talentflow.web import marks
from talentflow.web.names import country_name, iso3
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


def line_figure(
    series: list[tuple[str, pd.DataFrame]],
    x: str,
    x_title: str,
    y_title: str,
    y_format: str = "",
) -> dict[str, Any]:
    """Lines with interval error bars; one trace per (name, frame with x/value/ci)."""
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


def _lead_note(q: Queries, ok: pd.DataFrame, lead: pd.DataFrame) -> str:
    """`` (YYYY is incomplete and not used here)`` when the last rows shown are incomplete."""
    if not len(ok) or not len(lead) or ok["year"].max() == lead["year"].max():
        return ""
    later = sorted(int(y) for y in ok["year"] if y > lead["year"].max())
    return f" ({', '.join(map(str, later))}: incomplete coverage, not used for this reading)"


# -- overview --------------------------------------------------------------------------------


def share_chart(q: Queries, country: str, start: int, end: int) -> Chart:
    """Share of the world's active researchers, by year."""
    df = q.country_series(country, start, end, "stock_share")
    name = country_name(country)
    ok = df.dropna(subset=["value"])
    lead = marks.complete_rows(q, ok)
    if len(lead):
        last, first = lead.iloc[-1], lead.iloc[0]
        trend = "up" if last["value"] > first["value"] else "down"
        reading = (
            f"In {int(last['year'])}, {name} was home to {last['value']:.1%} of the world's active "
            f"AI researchers in these venues ({_interval(last, '.1%')}), {trend} from "
            f"{first['value']:.1%} in {int(first['year'])}{_lead_note(q, ok, lead)}."
        )
    else:
        reading = f"No share of active researchers is available for {name} in complete years of {start}–{end}."
    return with_years(
        Chart(
            id="share",
            title=f"{name}: share of the world's active AI researchers",
            reading=reading,
            figure=line_figure([(name, df)], "year", "Year", "Share of world", ".1%"),
            table=df,
            api="/api/series",
            params={"country": country, "start": start, "end": end, "measure": "stock_share"},
            note="Active researcher: authored at least one paper in the covered venues that year "
            "(or sits between two such years).",
        ),
        q,
    )


def retention_chart(
    q: Queries, country: str, start: int, end: int, basis: str | None = None
) -> Chart:
    """Retention curves: share still working in the country k years on (pooled and by cohort)."""
    if basis is None:
        # Training basis when the store has usable estimates for it, else first observed.
        bases = q.retention_bases(country) or ["training"]
        usable = [
            b for b in bases if q.retention_curves(country, start, end, b)["value"].notna().any()
        ]
        basis = (usable or bases)[0]
    df = q.retention_curves(country, start, end, basis)
    name = country_name(country)
    pooled = df[df["cohort_year"].isna()]
    cohorts = sorted(df["cohort_year"].dropna().unique().tolist())
    # The chart stays readable with the pooled curve and the last three cohorts; the table has all.
    series = [("all cohorts", pooled)] if len(pooled) else []
    series += [(f"cohort {int(c)}", df[df["cohort_year"] == c]) for c in cohorts[-3:]]
    if "at_risk" in df.columns:
        df = df.assign(cohort_year=df["cohort_year"].astype("Int64"))
    who = f"researchers {BASIS_LABEL.get(basis, basis)} {name}"
    reading = (
        f"No retention estimate for {who} in {start}–{end} rests on at least "
        f"{MIN_AT_RISK} persons at risk."
    )
    cohort_rows = marks.complete_rows(q, df[df["cohort_year"].notna()], "cohort_year")
    for frame, label in ((pooled, "all cohorts"), (cohort_rows, None)):
        # a headline never rests on a thin cell: at least MIN_AT_RISK persons still followed
        ok = frame.dropna(subset=["value"])
        ok = ok[ok["at_risk"].fillna(0) >= MIN_AT_RISK] if "at_risk" in ok.columns else ok
        if not len(ok):
            continue
        k5 = ok[ok["k"] == 5]
        pick = k5 if len(k5) else ok[ok["k"] == ok["k"].max()]
        row = pick.sort_values("cohort_year").iloc[-1]
        cohort = label or f"the {int(row['cohort_year'])} cohort"
        at_risk = (
            f"; {int(row['at_risk']):,} still followed at {int(row['k'])} years"
            if "at_risk" in row and pd.notna(row["at_risk"])
            else ""
        )
        reading = (
            f"Of {who} ({cohort}), {row['value']:.0%} were still working there "
            f"{int(row['k'])} years later ({_interval(row, '.0%')}{at_risk})."
        )
        break
    return Chart(
        id="retention",
        title=f"Does {name} retain the researchers it {'trains' if basis == 'training' else 'first hosts'}?",
        reading=reading,
        figure=line_figure(series, "k", "Years since start", "Share still in country", ".0%"),
        table=df,
        api="/api/retention",
        params={"country": country, "start": start, "end": end, "basis": basis},
        note=f"Kaplan-Meier estimate; origin = observed career fact ({basis.replace('_', ' ')}), "
        "never nationality. Empty cohort_year = all cohorts pooled; at_risk = persons still "
        f"followed at k years (readings use cells with at least {MIN_AT_RISK}).",
    )


def partner_for(country: str) -> str:
    """The default bilateral partner: the US, or China for the US itself."""
    return "CN" if country == "US" else "US"


def bilateral_chart(
    q: Queries,
    a: str,
    b: str,
    start: int,
    end: int,
    subset: str = "all",
    chart_id: str = "bilateral",
) -> Chart:
    """Flows a -> b and b -> a by year."""
    df = _named(
        marks.zero_upper(q.bilateral(a, b, start, end, subset)), "from_country", "to_country"
    )
    ab = df[(df["from_country"] == a)]
    ba = df[(df["from_country"] == b)]
    na, nb = country_name(a), country_name(b)
    lead = marks.complete_rows(q, df)
    out_total = lead.loc[lead["from_country"] == a, "value"].sum()
    in_total = lead.loc[lead["from_country"] == b, "value"].sum()
    if len(lead.dropna(subset=["value"])):
        net = in_total - out_total
        years = "the complete years of " if len(lead) < len(df) else ""
        reading = (
            f"Over {years}{start}–{end}, about {out_total:,.0f} researchers moved from {na} to "
            f"{nb} and {in_total:,.0f} the other way: a net {'gain' if net >= 0 else 'loss'} of "
            f"{abs(net):,.0f} for {na}."
        )
    else:
        reading = f"No flows recorded between {na} and {nb} in {start}–{end}."
    return with_years(
        Chart(
            id=chart_id,
            title=f"Researchers moving between {na} and {nb}",
            reading=reading,
            figure=line_figure(
                [(f"{na} → {nb}", ab), (f"{nb} → {na}", ba)], "year", "Year", "Researchers moving"
            ),
            table=df,
            api="/api/flows/bilateral",
            params={"a": a, "b": b, "start": start, "end": end, "subset": subset},
            note="Yearly totals are estimates with their own intervals; the period sums in the reading "
            "are of the point estimates.",
        ),
        q,
    )


def returns_chart(q: Queries, country: str, start: int, end: int) -> Chart:
    """Returnees per year."""
    df = marks.zero_upper(q.country_series(country, start, end, "returns"))
    name = country_name(country)
    ok = df.dropna(subset=["value"])
    lead = marks.complete_rows(q, ok)
    if len(lead):
        last = lead.iloc[-1]
        reading = (
            f"{int(last['year'])}: {last['value']:,.0f} researchers returned to {name} "
            f"({_interval(last, ',.0f')}); {lead['value'].sum():,.0f} over the complete years of "
            f"{start}–{end}{_lead_note(q, ok, lead)}."
        )
    else:
        reading = f"No returnee counts for {name} in complete years of {start}–{end}."
    return with_years(
        Chart(
            id="returns",
            title=f"Returnees to {name} per year",
            reading=reading,
            figure=line_figure([(name, df)], "year", "Year", "Returnees"),
            table=df,
            api="/api/series",
            params={"country": country, "start": start, "end": end, "measure": "returns"},
            note="A returnee worked abroad and is observed back in the country of first observation.",
        ),
        q,
    )


def llm_chart(q: Queries, country: str, start: int, end: int) -> Chart:
    """Share of the world's LLM researchers against all AI researchers, in the LLM era.

    ``llm`` means language-model papers; the LLM era is ``year >= llm_era_start`` (the build's
    parameter). The ``llm`` series starts at the era: its persons (authors of an LLM paper of
    the era) are not shown in earlier years.
    """
    era = q.llm_era_start()
    s0 = max(start, era)
    all_ = q.country_series(country, start, end, "stock_share", subset="all")
    llm = q.country_series(country, s0, end, "stock_share", subset="llm") if s0 <= end else None
    if llm is None:
        llm = all_.iloc[0:0]
    name = country_name(country)
    table = pd.concat([all_.assign(subset="all"), llm.assign(subset="llm")], ignore_index=True)
    ok_llm = marks.complete_rows(q, llm.dropna(subset=["value"]))
    ok_all = all_.dropna(subset=["value"])
    if len(ok_llm) and len(ok_all):
        row = ok_llm.iloc[-1]
        other = ok_all[ok_all["year"] == row["year"]]
        base = f" against {other['value'].iloc[0]:.1%} of all AI researchers" if len(other) else ""
        reading = (
            f"In {int(row['year'])}, {name} had {row['value']:.1%} of the world's researchers "
            f"with a language-model (LLM) paper since {era} ({_interval(row, '.1%')}){base}."
        )
    else:
        reading = f"No LLM estimate for {name} in {s0}–{end} (the LLM era starts in {era})."
    return with_years(
        Chart(
            id="llm",
            title=f"{name}: LLM researchers (LLM era, {era} on) against all AI researchers",
            reading=reading,
            figure=line_figure(
                [("All AI researchers", all_), (f"LLM researchers ({era} on)", llm)],
                "year",
                "Year",
                "Share of world",
                ".1%",
            ),
            table=table,
            api="/api/series",
            params={
                "country": country,
                "start": s0,
                "end": end,
                "measure": "stock_share",
                "subset": "llm",
            },
            note=f"LLM researchers: authors of at least one accepted paper classified `llm` "
            f"(language models) in paper_subfields with year >= {era} (the LLM era); the series "
            "starts at the era.",
        ),
        q,
    )


def overview_charts(q: Queries, country: str, start: int, end: int) -> list[Chart]:
    """The five headline questions for one country and period."""
    return [
        retention_chart(q, country, start, end),
        bilateral_chart(q, country, partner_for(country), start, end),
        returns_chart(q, country, start, end),
        share_chart(q, country, start, end),
        llm_chart(q, country, start, end),
    ]


# -- map -------------------------------------------------------------------------------------

MAP_METRICS = {
    "stock_share": ("Share of the world's active researchers", ".1%"),
    "net_rate": ("Net migration rate (per 1,000 researchers)", ",.1f"),
    "retention": ("Retention after k years (cohort k years before the year)", ".0%"),
}
#: Fewest active researchers a country needs for its rate to be coloured on the map.
MAP_MIN_STOCK = 100
#: Share-of-world ticks of the map's log colour scale.
SHARE_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5)
#: Places with no shape at 1:110m, drawn as dots (latitude, longitude) so they do not vanish.
SMALL_PLACES = {
    "SG": (1.35, 103.82),
    "HK": (22.32, 114.17),
    "MO": (22.2, 113.55),
    "BH": (26.07, 50.55),
    "MT": (35.9, 14.45),
    "LU": (49.8, 6.13),
    "MU": (-20.3, 57.55),
}


def map_chart(q: Queries, metric: str, year: int, k: int = 3) -> Chart:
    """Choropleth of one metric in one year.

    Shares use a log colour scale (so mid-sized countries are visible beside the largest);
    rates are coloured only for countries with at least ``MAP_MIN_STOCK`` active researchers
    and retention only for cells with at least ``MIN_AT_RISK`` persons at risk; readings rank
    by the interval (the clearest gain is the highest lower bound), not by the point estimate.
    """
    label, fmt = MAP_METRICS[metric]
    floor_note = ""
    if metric == "retention":
        cohort = year - k
        # the basis with more countries past the at-risk floor (training known for few years)
        options = []
        for b in ("training", "first_observed"):
            frame = q.retention_world(cohort, k, b)
            n_ok = int((frame["at_risk"].fillna(0) >= MIN_AT_RISK).sum()) if len(frame) else 0
            options.append((n_ok, b == "training", b, frame))
        _, _, basis, df = max(options, key=lambda o: (o[0], o[1]))
        label = (
            f"Retention after {k} years of the {cohort} cohort, by {year} "
            f"({BASIS_LABEL[basis]} the country)"
        )
        eligible = df["at_risk"].fillna(0) >= MIN_AT_RISK if "at_risk" in df else True
        floor_note = f"Coloured: at least {MIN_AT_RISK} persons still followed at {k} years."
    else:
        df = q.world_year(year, metric)
        eligible = pd.Series(True, index=df.index)
        if metric == "net_rate":
            stock = q.world_year(year, "stock")[["country", "value"]].rename(
                columns={"value": "stock"}
            )
            df = df.merge(stock, on="country", how="left")
            eligible = df["stock"].fillna(0) >= MAP_MIN_STOCK
            floor_note = (
                f"Coloured: countries with at least {MAP_MIN_STOCK} active researchers (rates of "
                "smaller countries swing on a handful of moves; they are in the table)."
            )
    df = _named(df, "country")
    df["iso3"] = [iso3(str(c)) for c in df["country"]]
    df["shown_on_map"] = pd.Series(eligible, index=df.index).astype(bool) & df["value"].notna()
    shown = df[df["shown_on_map"] & df["iso3"].notna()]
    text = [
        f"{r.country_name}: {format(r.value, fmt)}<br>{_interval(r._asdict(), fmt)}"
        for r in shown.itertuples()
    ]
    z = shown["value"].astype(float)
    colorbar: dict[str, Any] = {"title": {"text": ""}, "tickformat": fmt.replace(",", "")}
    trace: dict[str, Any] = {
        "type": "choropleth",
        "locationmode": "ISO-3",
        "locations": _vals(shown["iso3"]),
        "text": text,
        "hovertemplate": "%{text}<extra></extra>",
        "marker": {"line": {"color": "#ffffff", "width": 0.5}},
    }
    if metric == "stock_share":
        # log scale: the US does not wash out Singapore or Switzerland
        z = z.clip(lower=SHARE_TICKS[0] / 3).map(math.log10)
        colorbar.update(
            tickvals=[math.log10(t) for t in SHARE_TICKS],
            ticktext=[format(t, ".1%") for t in SHARE_TICKS],
            tickformat="",
        )
        trace["colorscale"] = [[0, "#deebf7"], [1, "#08306b"]]
    elif metric == "net_rate":
        trace["colorscale"] = [[0, "#b2182b"], [0.5, "#f7f7f7"], [1, "#2166ac"]]
        if len(z):
            # clip at the 90th percentile of |rate| so one extreme country does not flatten
            m = float(z.abs().quantile(0.9)) or float(z.abs().max()) or 1.0
            trace.update(zmin=-m, zmax=m, zmid=0)
    else:
        trace["colorscale"] = [[0, "#deebf7"], [1, "#08306b"]]
    trace["z"] = _vals(z)
    trace["colorbar"] = colorbar
    figure = {
        "data": [trace],
        "layout": {
            "height": 460,
            "margin": {"l": 0, "r": 0, "t": 34, "b": 0},
            "font": {"family": "system-ui, sans-serif", "size": 13},
            "geo": {
                "projection": {"type": "natural earth"},
                "showframe": False,
                "showcoastlines": False,
                "showcountries": True,
                "countrycolor": "#cccccc",
                "showland": True,
                "landcolor": "#f3f3f3",
                "lataxis": {"range": [-58, 85]},
            },
        },
    }
    dots = shown[shown["country"].isin(list(SMALL_PLACES))]
    if len(dots):
        # the same colours as the shapes (same scale and range)
        zs = z.loc[dots.index]
        lo = trace.get("zmin", float(z.min()))
        hi = trace.get("zmax", float(z.max()))
        figure["data"].append(
            {
                "type": "scattergeo",
                "lat": [SMALL_PLACES[c][0] for c in dots["country"]],
                "lon": [SMALL_PLACES[c][1] for c in dots["country"]],
                "text": [
                    t for t, keep in zip(text, shown.index.isin(dots.index), strict=True) if keep
                ],
                "hovertemplate": "%{text}<extra></extra>",
                "mode": "markers",
                "marker": {
                    "size": 9,
                    "color": _vals(zs),
                    "colorscale": trace["colorscale"],
                    "cmin": lo,
                    "cmax": hi,
                    "line": {"color": "#333333", "width": 0.8},
                },
                "showlegend": False,
            }
        )
    reading = _map_reading(q, shown, label, fmt, year, metric)
    params: dict[str, Any] = {"metric": metric, "year": year}
    if metric == "retention":
        params["k"] = k
    notes = [floor_note] if floor_note else []
    if metric == "stock_share":
        notes.append("Log colour scale.")
    notes.append(
        "Places too small for the 1:110m map (Singapore, Hong Kong, Macao, Bahrain, Malta, "
        "Luxembourg, Mauritius) are dots in the same colours."
    )
    return Chart(
        id="map",
        title=f"{label}, {year}",
        reading=reading,
        figure=figure,
        table=marks.flag_years(q, df.drop(columns=["iso3"]).assign(year=year)),
        api="/api/map",
        params=params,
        note=" ".join(notes),
    )


def _map_reading(
    q: Queries, shown: pd.DataFrame, label: str, fmt: str, year: int, metric: str
) -> str:
    """The map's reading: ranked by interval bounds among the countries coloured."""
    done = q.complete_years()
    prefix = ""
    if done is not None and year not in done:
        prefix = f"{year} has incomplete coverage (its counts reflect missing venues). "
    if not len(shown):
        return f"{prefix}No estimates of {label.lower()} for {year}."
    bound = shown["ci_low"].fillna(shown["value"])
    top = shown.loc[bound.idxmax()]
    text = (
        f"{prefix}{year}: highest {label.lower()} with confidence (highest lower bound of the 95% "
        f"interval) in {top['country_name']} ({format(top['value'], fmt)}, {_interval(top, fmt)})"
    )
    if metric == "net_rate":
        upper = shown["ci_high"].fillna(shown["value"])
        low = shown.loc[upper.idxmin()]
        text += (
            f"; clearest net loss in {low['country_name']} ({format(low['value'], fmt)}, "
            f"{_interval(low, fmt)})"
        )
    return f"{text}; {len(shown)} countries coloured."


# -- flows -----------------------------------------------------------------------------------


def sankey_chart(
    q: Queries, population: str, basis: str = "first_observed", subset: str = "all"
) -> Chart:
    """Sankey origin -> work of one venue-year population, from ``origin_work`` (with intervals).

    The three-stage origin -> training -> work diagram is :func:`pathways_chart`.
    """
    df = q.origin_work(population, basis, subset)
    df = _named(df, "origin_country", "work_country")
    top_o = df.groupby("origin_country")["n"].sum().nlargest(10).index
    top_w = df.groupby("work_country")["n"].sum().nlargest(10).index
    o = df["origin_country"].where(df["origin_country"].isin(top_o), "Other")
    w = df["work_country"].where(df["work_country"].isin(top_w), "Other")
    stages = [("origin", o)]
    if "training_country" in df.columns:
        stages.append(("training", df["training_country"].fillna("unknown")))
    stages.append(("work", w))
    labels: list[str] = []
    colors: list[str] = []
    index: dict[tuple[str, str], int] = {}
    order = sorted(set(o) | set(w), key=lambda c: (c in ("Other", "unknown"), c))
    color_of = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(order)}
    color_of.update({"Other": "#9aa5b1", "unknown": "#c3cad2"})
    for stage, col in stages:
        for code in col.unique():
            index[(stage, code)] = len(labels)
            labels.append(country_name(code) if code not in ("Other", "unknown") else code)
            colors.append(color_of.get(code, "#9aa5b1"))
    src, dst, val, link_colors = [], [], [], []
    for (s1, c1), (s2, c2) in itertools.pairwise(stages):
        g = (
            pd.DataFrame({"a": c1, "b": c2, "n": df["n"]})
            .groupby(["a", "b"], as_index=False)["n"]
            .sum()
        )
        for r in g.itertuples():
            src.append(index[(s1, r.a)])
            dst.append(index[(s2, r.b)])
            val.append(float(r.n))
            link_colors.append(_rgba(color_of.get(r.a, "#9aa5b1"), 0.35))
    heads: list[tuple[str, float, str]] = [
        (BASIS_LABEL.get(basis, basis).capitalize(), 0, "left"),
        ("Works in", 1, "right"),
    ]
    figure = _sankey_figure(labels, colors, (src, dst, val, link_colors), heads, height=520)
    reading = _stay_reading(df, population, basis)
    return Chart(
        id="origin-work",
        title=f"{population}: origin -> work, with intervals",
        reading=reading,
        figure=figure,
        table=df,
        api="/api/flows/origin-work",
        params={"population": population, "basis": basis, "subset": subset},
        note="Shares in the table carry 95% intervals; the diagram shows counts (top 10 countries, "
        "the rest as Other). Origin is an observed career fact, never nationality.",
    )


def _stay_reading(df: pd.DataFrame, population: str, basis: str) -> str:
    """How many of the population work where their origin is, of those with a known origin.

    The denominator is the persons whose origin is known (on this basis); the share with an
    unknown origin is stated beside it, never folded into the denominator.
    """
    total = df["n"].sum()
    if not total:
        return f"No origin -> work data for {population}."
    known = df[df["origin_country"] != "unknown"]
    k = known["n"].sum()
    stay = known.loc[known["origin_country"] == known["work_country"], "n"].sum()
    word = BASIS_LABEL.get(basis, basis).replace(" in", "")
    if not k:
        return f"{population}: no researcher with a known origin ({basis.replace('_', ' ')})."
    # the store's own unknown share (of the whole population, suppressed cells included)
    stored = df["unknown_origin_share"].dropna() if "unknown_origin_share" in df else None
    unknown = float(stored.iloc[0]) if stored is not None and len(stored) else 1 - k / total
    return (
        f"{population}: of the {k:,.0f} researchers whose origin ({basis.replace('_', ' ')}) "
        f"is known, {stay / k:.0%} work in the country where they were {word}; the origin of "
        f"{unknown:.0%} of the population is unknown (not counted in that share)."
    )


#: Countries shown by name at each stage of the pathways Sankey (the rest pooled as Other).
PATHWAY_TOP = 10
NOT_KNOWN = "not known"


def wilson(k: Any, n: float, z: float = 1.959964) -> tuple[Any, Any]:
    """95% Wilson score interval of the proportion ``k / n`` (vectorised over ``k``)."""
    if n <= 0:
        return float("nan"), float("nan")
    p = k / n
    den = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / den
    half = z * ((p * (1 - p) / n + z * z / (4 * n * n)) ** 0.5) / den
    return centre - half, centre + half


def pathways_chart(q: Queries, population: str) -> Chart:
    """Sankey first observed country -> country of training -> work country of a population.

    Each author of the venue-year is one person; countries outside each stage's top ten are
    pooled as Other; paths with fewer persons than the build's minimum cell are left out of
    the diagram and the table (and counted in the note). The table gives each path's share of
    the population with a 95% Wilson interval (persons are the sampling units).
    """
    raw = q.pathways(population)
    df = raw.copy()
    df["training_country"] = (
        df["training_country"].astype(object).where(df["training_country"].notna(), NOT_KNOWN)
    )
    total = float(df["n"].sum())
    for col in ("origin_country", "training_country", "work_country"):
        named = df[~df[col].isin(["unknown", NOT_KNOWN])]
        top = named.groupby(col)["n"].sum().nlargest(PATHWAY_TOP).index
        df[col] = df[col].where(df[col].isin(top) | df[col].isin(["unknown", NOT_KNOWN]), "Other")
    keys = ["origin_country", "training_country", "work_country"]
    df = df.groupby(keys, as_index=False)["n"].sum().sort_values("n", ascending=False)
    floor = q.min_cell()
    hidden = df[df["n"] < floor]
    df = df[df["n"] >= floor].reset_index(drop=True)
    df["value"] = df["n"] / total if total else float("nan")
    lo, hi = wilson(df["n"].to_numpy(dtype=float), total)
    df["ci_low"], df["ci_high"] = lo, hi
    grey = {"Other": "#9aa5b1", "unknown": "#c3cad2", NOT_KNOWN: "#c3cad2"}
    codes = sorted(
        set(df["origin_country"]) | set(df["training_country"]) | set(df["work_country"]),
        key=lambda c: (c in grey, c),
    )
    color_of = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(codes)} | grey
    labels: list[str] = []
    colors: list[str] = []
    index: dict[tuple[str, str], int] = {}
    for stage in keys:
        for code in df[stage].unique():
            index[(stage, code)] = len(labels)
            labels.append(code if code in grey else country_name(code))
            colors.append(color_of[code])
    src, dst, val, link_colors = [], [], [], []
    for s1, s2 in itertools.pairwise(keys):
        g = df.groupby([s1, s2], as_index=False)["n"].sum()
        for a, b, n in zip(g[s1], g[s2], g["n"], strict=True):
            src.append(index[(s1, a)])
            dst.append(index[(s2, b)])
            val.append(float(n))
            link_colors.append(_rgba(color_of[a], 0.35))
    heads = [
        ("First observed in", 0, "left"),
        ("Trained in", 0.5, "center"),
        ("Works in", 1, "right"),
    ]
    figure = _sankey_figure(labels, colors, (src, dst, val, link_colors), heads, height=560)
    if not len(df):
        # Nothing passes the minimum cell: say so in place of an empty diagram.
        figure = {
            "data": [],
            "layout": {
                "height": 160,
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
                        "text": f"No path with at least {floor} persons in {population}",
                    }
                ],
            },
        }
    if total:
        stay = raw.loc[raw["origin_country"] == raw["work_country"], "n"].sum()
        known = raw.loc[raw["training_country"].notna(), "n"].sum()
        reading = (
            f"{population}: {total:,.0f} authors with a known work country; {stay / total:.0%} "
            f"work in the country where they were first observed; the country of training is "
            f"known for {known / total:.0%} of them."
        )
    else:
        reading = f"No linked authors with a work country for {population}."
    table = _named(df, "origin_country", "work_country")
    return Chart(
        id="sankey",
        title=f"Where the {population} researchers were first observed, trained and work",
        reading=reading,
        figure=figure,
        table=table,
        api="/api/flows/pathways",
        params={"population": population},
        note=(
            "Origin is the first observed country and training the country of a student "
            "position when the source says (observed career facts, never nationality). Top "
            f"{PATHWAY_TOP} countries per stage, the rest as Other; "
            f"{len(hidden)} paths with fewer than {floor} persons ({hidden['n'].sum():,.0f} "
            "persons) are left out. Shares carry 95% Wilson intervals."
        ),
    )


def top_pairs_chart(q: Queries, start: int, end: int, subset: str = "all") -> Chart:
    """Yearly flows of the largest pairs among the top countries."""
    df = _named(
        marks.zero_upper(q.top_pairs(start, end, subset, n=6)), "from_country", "to_country"
    )
    pairs = df.groupby(["from_country", "to_country"])["value"].sum().sort_values(ascending=False)
    series = [
        (
            f"{country_name(a)} → {country_name(b)}",
            df[(df["from_country"] == a) & (df["to_country"] == b)],
        )
        for a, b in pairs.index
    ]
    if len(pairs):
        (a, b), n = pairs.index[0], pairs.iloc[0]
        reading = f"The largest flow among the top countries in {start}–{end}: {country_name(a)} → {country_name(b)}, about {n:,.0f} moves in all."
    else:
        reading = f"No flows among the top countries in {start}–{end}."
    return with_years(
        Chart(
            id="pairs",
            title="Bilateral flows between the top countries",
            reading=reading,
            figure=line_figure(series, "year", "Year", "Researchers moving"),
            table=df,
            api="/api/flows/top",
            params={"start": start, "end": end, "subset": subset},
            note="Top ten countries by active researchers over the period; the six largest directed "
            "pairs among them.",
        ),
        q,
    )


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
    if total and len(stay) and pd.notna(stay["value"].iloc[0]):
        row = stay.iloc[0]
        reading = (
            f"{pop}: of the {total:,.0f} researchers {BASIS_LABEL[basis]} {name}, "
            f"{row['value']:.0%} work there ({_interval(row, '.0%')}); the rest abroad.{unknown}"
        )
    elif total:
        reading = (
            f"{pop}: none of the {total:,.0f} researchers {BASIS_LABEL[basis]} {name} works there."
        )
    else:
        reading = f"No researchers {BASIS_LABEL[basis]} {name} in {pop or 'any population'}."
    top = df.head(10)
    plot = top.assign(label=top["work_country_name"])
    return Chart(
        id="alumni",
        title=f"Where researchers {BASIS_LABEL[basis]} {name} work ({pop})",
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
    plot = df.rename(columns={"persons": "value"}).assign(ci_low=float("nan"), ci_high=float("nan"))
    if len(df):
        total = df["persons"].sum()
        top = df.iloc[0]
        reading = f"{where}: {top['persons'] / total:.0%} of the {total:,} observed researchers are {top['stage']}."
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


def institution_charts(q: Queries, name: str, year: int | None = None) -> list[Chart]:
    """Profile of one institution (``year``: career stages of that year only)."""
    prof = q.institution(name, year)
    charts = []
    by_year = prof.get("by_year", pd.DataFrame(columns=["year", "persons"]))
    plot = by_year.rename(columns={"persons": "value"}).assign(
        ci_low=float("nan"), ci_high=float("nan")
    )
    reading = (
        f"{name}: {int(by_year['persons'].max()):,} researchers at most in a year "
        f"({int(by_year.loc[by_year['persons'].idxmax(), 'year'])})."
        if len(by_year)
        else f"No researchers observed at {name}."
    )
    charts.append(
        Chart(
            id="inst_years",
            title=f"Researchers observed at {name}",
            reading=reading,
            figure=line_figure([(name, plot)], "year", "Year", "Researchers"),
            table=by_year,
            api="/api/institutions",
            params={"name": name, "part": "by_year"},
            note="Observed counts (no interval).",
        )
    )
    charts[-1] = with_years(charts[-1], q)
    charts.append(
        stages_chart(
            prof.get("stages", pd.DataFrame(columns=["stage", "persons"])),
            name if year is None else f"{name}, {year}",
            "inst_stages",
            "/api/institutions",
            {"name": name, "year": year, "part": "stages"},
        )
    )
    for key, word in (
        ("destinations", "Where its researchers moved"),
        ("sources", "Where its arrivals came from"),
    ):
        df = prof.get(key, pd.DataFrame(columns=["institution", "moves"]))
        plot = df.rename(columns={"moves": "value"}).assign(
            ci_low=float("nan"), ci_high=float("nan")
        )
        charts.append(
            Chart(
                id=f"inst_{key}",
                title=word,
                reading=(
                    f"Most frequent: {df.iloc[0]['institution']} ({int(df.iloc[0]['moves'])} moves)."
                    if len(df)
                    else "No moves recorded."
                ),
                figure=bar_figure(plot, "institution", "Moves"),
                table=df,
                api="/api/institutions",
                params={"name": name, "part": key},
                note="Observed moves (no interval).",
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
