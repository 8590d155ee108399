"""The flows page: the three-stage Sankey, pathways with intervals, the top country pairs."""

from __future__ import annotations

import itertools

import pandas as pd

from talentflow.web import marks
from talentflow.web.charts.figures import (
    BASIS_LABEL,
    PALETTE,
    Chart,
    _named,
    _rgba,
    _sankey_figure,
    empty_figure,
    line_figure,
    population_name,
    wilson,
    with_years,
)
from talentflow.web.names import country_name
from talentflow.web.queries import Queries

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
    reading = _stay_reading(df, population_name(q, population), basis)
    return Chart(
        id="origin-work",
        title=f"{population_name(q, population)}: origin -> work, with intervals",
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


def subset_label(subset: str) -> str:
    """Who a subset of ``origin_work`` counts, in words (as the Authors selector says)."""
    if subset == "all":
        return "all authors"
    if subset == "top":
        return "authors of top-tier papers"
    if subset == "llm":
        return "authors of LLM-era LLM papers"
    return f"authors of {subset} papers"


def pathways_chart(q: Queries, population: str, subset: str = "all") -> Chart:
    """Sankey first observed country -> country of training -> work country of a population.

    ``subset`` keeps the authors of the population's papers of that subset (the Authors
    selector, as for ``origin_work``). Each author of the venue-year is one person; countries outside each stage's top ten are
    pooled as Other; paths with fewer persons than the build's minimum cell are left out of
    the diagram and the table (and counted in the note). The table gives each path's share of
    the population with a 95% Wilson interval (persons are the sampling units).
    """
    raw = q.pathways(population, subset)
    shown = population_name(q, population)
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
        figure = empty_figure(
            f"No path with at least {floor} persons in {shown} ({subset_label(subset)})"
        )
    if total:
        stay = raw.loc[raw["origin_country"] == raw["work_country"], "n"].sum()
        known = raw.loc[raw["training_country"].notna(), "n"].sum()
        reading = (
            f"{shown}, {subset_label(subset)}: {total:,.0f} authors with a known work "
            f"country; {stay / total:.0%} work in the country where they were first "
            "observed; the country of training is "
            f"known for {known / total:.0%} of them."
        )
    else:
        reading = f"No linked authors with a work country for {shown} ({subset_label(subset)})."
    table = _named(df, "origin_country", "work_country")
    return Chart(
        id="sankey",
        title=f"Where the {shown} researchers were first observed, trained and work"
        + ("" if subset == "all" else f" ({subset_label(subset)})"),
        reading=reading,
        figure=figure,
        table=table,
        api="/api/flows/pathways",
        params={"population": population, "subset": subset},
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
