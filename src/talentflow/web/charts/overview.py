"""The overview page's five answers for one country: share, retention, bilateral flows, returns, LLM work."""

from __future__ import annotations

import pandas as pd

from talentflow.web import marks
from talentflow.web.charts.figures import (
    BASIS_LABEL,
    MIN_AT_RISK,
    Chart,
    _interval,
    _named,
    line_figure,
    with_years,
    years_text,
)
from talentflow.web.names import country_name
from talentflow.web.queries import Queries


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
    df = marks.share_bounds(q.retention_curves(country, start, end, basis))
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
            f"{years_text(int(row['k']))} later ({_interval(row, '.0%')}{at_risk})."
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
