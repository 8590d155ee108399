"""The world map page: one metric per country for a year, with thin cells marked."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from talentflow.web import marks
from talentflow.web.charts.figures import (
    BASIS_LABEL,
    MIN_AT_RISK,
    Chart,
    _interval,
    _named,
    _vals,
    years_text,
)
from talentflow.web.names import iso3
from talentflow.web.queries import Queries

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
            frame = marks.share_bounds(q.retention_world(cohort, k, b))
            n_ok = int((frame["at_risk"].fillna(0) >= MIN_AT_RISK).sum()) if len(frame) else 0
            options.append((n_ok, b == "training", b, frame))
        _, _, basis, df = max(options, key=lambda o: (o[0], o[1]))
        label = (
            f"Retention after {years_text(k)} of the {cohort} cohort, by {year} "
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
    figure: dict[str, Any] = {
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
        # the retention label already names its years
        title=label if metric == "retention" else f"{label}, {year}",
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
