"""What each venue-year of the corpus holds, which years are complete, and the fixed venue panel.

The ``coverage`` table (one row per venue-year and one ``venue = 'all'`` row per year) says how
many papers, accepted papers and author slots a venue-year holds, and the shares of slots with a
country, of papers with a decision and of papers the subfield rules could classify. Counts are
aggregates on the engine (:func:`venue_year_counts`); the rules below work on that small frame.

**Completeness.** A year ``y`` is *complete* when the venues it covers (at least one population
paper) hold at least ``threshold`` (default 0.5) of the population papers of its adjacent years
together: ``overlap(y) = sum over n in {y-1, y+1} of P(n, venues covered in y) / sum over n of
P(n)``, over the adjacent years the corpus has, ``P`` counting the papers the build's population
rule admits. A year that misses the venues holding most of its neighbours' papers is
*incomplete*: its counts move because venues left, not because people did. A year with no
adjacent year in the corpus is complete.

**Fixed panel.** Trends on a coverage-consistent basis use the venues present (at least one
population paper) in every year of a window: by default the run of consecutive complete years
ending at the last complete year, at most ``panel_years`` (default 4) long.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd

#: Default share of a neighbouring year's papers a complete year's venues must hold.
COMPLETE_THRESHOLD = 0.5
#: Default length (years) of the fixed venue panel's window.
PANEL_YEARS = 4
#: The integer columns of :func:`venue_year_counts` (after venue).
COUNT_COLUMNS = (
    "year",
    "papers",
    "accepted_papers",
    "rejected_papers",
    "withdrawn_papers",
    "unknown_decision_papers",
    "top_papers",
    "population_papers",
    "authorships",
    "authorships_with_country",
)
_POPULATION_YEARS = re.compile(r"(\d{4})(?:-(\d{4}))?$")


def venue_year_counts(con: Any, population_papers: str = "accepted") -> pd.DataFrame:
    """Papers and author slots per (venue, year), counted on the engine.

    Columns: venue, year, papers, accepted_papers, rejected_papers, withdrawn_papers,
    unknown_decision_papers, top_papers, population_papers (papers the population rule
    admits: ``accepted`` = all but rejected and withdrawn; ``all`` = every paper),
    authorships, authorships_with_country, with_decision (bool: ``papers.decision`` exists).
    """
    tables = set(con.list_tables())
    if "papers" not in tables:
        empty = {c: pd.Series([], dtype=np.int64) for c in COUNT_COLUMNS}
        return pd.DataFrame({"venue": pd.Series([], dtype=object), **empty, "with_decision": False})
    p = con.table("papers")
    with_decision = "decision" in p.columns
    decision = p.decision.fill_null("unknown") if with_decision else ibis.literal("unknown")
    tier = p.tier if "tier" in p.columns else ibis.null().cast("string")
    excluded = (
        decision.isin(["rejected", "withdrawn"]) if population_papers == "accepted" else False
    )
    p = p.filter(p.venue.notnull() & p.year.notnull())
    p = p.mutate(_d=decision, _t=tier, _out=excluded)
    papers = p.group_by(["venue", "year"]).aggregate(
        papers=p.count(),
        accepted_papers=(p._d == "accepted").sum(),
        rejected_papers=(p._d == "rejected").sum(),
        withdrawn_papers=(p._d == "withdrawn").sum(),
        unknown_decision_papers=(p._d == "unknown").sum(),
        top_papers=(p._t.fill_null("") == "top").sum(),
        population_papers=(~p._out).sum() if population_papers == "accepted" else p.count(),
    )
    df = papers.to_pyarrow().to_pandas()
    if "authorships" in tables:
        a = con.table("authorships")
        country = a.country.notnull() if "country" in a.columns else ibis.literal(False)
        a = a.filter(a.venue.notnull() & a.year.notnull()).mutate(_c=country)
        slots = a.group_by(["venue", "year"]).aggregate(
            authorships=a.count(), authorships_with_country=a._c.sum()
        )
        df = df.merge(slots.to_pyarrow().to_pandas(), on=["venue", "year"], how="left")
    else:
        df["authorships"] = 0
        df["authorships_with_country"] = 0
    counts = [c for c in df.columns if c not in ("venue", "year")]
    df[counts] = df[counts].fillna(0).astype(np.int64)
    df["year"] = df["year"].astype(np.int64)
    df["with_decision"] = with_decision
    return df.sort_values(["year", "venue"]).reset_index(drop=True)


def completeness(
    counts: pd.DataFrame, threshold: float = COMPLETE_THRESHOLD, measure: str = "population_papers"
) -> pd.DataFrame:
    """Per year: ``overlap``, ``overlap_prev``, ``overlap_next`` and ``complete``.

    ``overlap_prev`` is the share of year ``y - 1``'s papers (``measure``) at venues year ``y``
    covers (has at least one such paper), NaN without that year; ``overlap`` the same over the
    adjacent years' papers together; ``complete`` is ``overlap >= threshold`` (true for a year
    with no adjacent year).
    """
    if not len(counts):
        return pd.DataFrame(columns=["year", "overlap", "overlap_prev", "overlap_next", "complete"])
    grid = counts.pivot_table(index="venue", columns="year", values=measure, aggfunc="sum")
    grid = grid.fillna(0)
    years = sorted(int(y) for y in grid.columns)
    rows = []
    for y in years:
        covered = grid[y] > 0
        over, hit, total = {}, 0.0, 0.0
        for key, n in (("overlap_prev", y - 1), ("overlap_next", y + 1)):
            papers = float(grid[n].sum()) if n in grid.columns else 0.0
            mine = float(grid.loc[covered, n].sum()) if papers > 0 else 0.0
            over[key] = mine / papers if papers > 0 else np.nan
            hit, total = hit + mine, total + papers
        overlap = hit / total if total > 0 else np.nan
        done = bool(overlap >= threshold) if total > 0 else True
        rows.append({"year": y, "overlap": overlap, **over, "complete": done})
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class FixedPanel:
    """The coverage-consistent basis: a window of years and the venues present in each."""

    years: tuple[int, ...]
    venues: tuple[str, ...]

    def label(self) -> str:
        """``2021-2024: aistats, nips, ...``."""
        span = f"{self.years[0]}-{self.years[-1]}" if self.years else "none"
        return f"{span}: {', '.join(self.venues) or 'no venue'}"


def fixed_panel(
    counts: pd.DataFrame,
    complete: pd.DataFrame,
    panel_years: int = PANEL_YEARS,
    measure: str = "population_papers",
) -> FixedPanel:
    """The window (consecutive complete years ending at the last complete year, at most
    ``panel_years`` long) and the venues with papers in every year of it."""
    done = complete[complete["complete"].astype(bool)]["year"].astype(int).tolist()
    if not done:
        return FixedPanel((), ())
    window = [done[-1]]
    while len(window) < panel_years and window[0] - 1 in done:
        window.insert(0, window[0] - 1)
    have = counts[(counts[measure] > 0) & counts["year"].isin(window)]
    per_venue = have.groupby("venue")["year"].nunique()
    venues = sorted(str(v) for v in per_venue[per_venue == len(window)].index)
    return FixedPanel(tuple(window), tuple(venues))


def coverage_table(
    counts: pd.DataFrame,
    complete: pd.DataFrame,
    classified: pd.DataFrame | None = None,
    panel: FixedPanel | None = None,
) -> pd.DataFrame:
    """The ``coverage`` table: venue-year rows and one ``venue = 'all'`` row per year.

    ``classified`` (venue, year, classified_papers) counts the papers the subfield rules could
    classify (a text to read, or a venue rule). Shares are of the row's papers (decision,
    subfield) or author slots (country); ``complete`` is the year's completeness,
    ``in_fixed_panel`` whether the venue-year belongs to the fixed panel (on ``all`` rows: the
    year is in the panel's window).
    """
    df = counts.copy()
    if classified is not None and len(classified):
        df = df.merge(classified, on=["venue", "year"], how="left")
    if "classified_papers" not in df.columns:
        df["classified_papers"] = 0
    df["classified_papers"] = df["classified_papers"].fillna(0).astype(np.int64)
    sums = [
        c
        for c in df.columns
        if c not in ("venue", "year", "with_decision") and df[c].dtype.kind in "iuf"
    ]
    alls = df.groupby("year", as_index=False)[sums].sum().assign(venue="all")
    alls["n_venues"] = df.groupby("year")["venue"].nunique().to_numpy()
    df["n_venues"] = 1
    out = pd.concat([df.drop(columns="with_decision"), alls], ignore_index=True)
    papers = out["papers"].where(out["papers"] > 0)
    slots = out["authorships"].where(out["authorships"] > 0)
    out["share_with_country"] = out["authorships_with_country"] / slots
    out["share_with_decision"] = (out["papers"] - out["unknown_decision_papers"]) / papers
    out["share_classified"] = out["classified_papers"] / papers
    flags = complete[["year", "complete", "overlap", "overlap_prev", "overlap_next"]].astype(
        {"year": np.int64}
    )
    out = out.merge(flags, on="year", how="left")
    window = set(panel.years) if panel else set()
    venues = set(panel.venues) if panel else set()
    in_window = out["year"].isin(window)
    out["in_fixed_panel"] = in_window & (out["venue"].isin(venues) | (out["venue"] == "all"))
    cols = [
        "venue",
        "year",
        "n_venues",
        *COUNT_COLUMNS[1:],
        "classified_papers",
        "share_with_country",
        "share_with_decision",
        "share_classified",
        "complete",
        "overlap",
        "overlap_prev",
        "overlap_next",
        "in_fixed_panel",
    ]
    out["complete"] = out["complete"].fillna(False).astype(bool)
    order = out["venue"] == "all"
    out = out.assign(_all=order).sort_values(["year", "_all", "venue"]).drop(columns="_all")
    return out[cols].reset_index(drop=True)


def classified_counts(con: Any) -> pd.DataFrame:
    """Papers per (venue, year) the subfield rules could classify, from ``paper_subfields``.

    A paper counts when it had a text to read (title, keywords or abstract) or a venue rule
    tagged it; a paper with neither falls to ``other_ml`` by default and is not counted.
    """
    tables = set(con.list_tables())
    if not {"papers", "paper_subfields"} <= tables:
        return pd.DataFrame(columns=["venue", "year", "classified_papers"])
    p = con.table("papers")
    s = con.table("paper_subfields").select("paper_id", "rule")
    texts = [
        p[c].fill_null("").strip().length() > 0
        for c in ("title", "keywords", "abstract")
        if c in p.columns
    ]
    has_text = ibis.literal(False)
    for t in texts:
        has_text = has_text | t
    j = p.select("paper_id", "venue", "year", _text=has_text).join(s, "paper_id")
    ok = j._text | ~j.rule.startswith("other_ml:default")
    agg = j.group_by(["venue", "year"]).aggregate(classified_papers=ok.sum())
    df = agg.to_pyarrow().to_pandas()
    df["year"] = df["year"].astype(np.int64)
    return df


def population_years(population: str) -> tuple[int, int] | None:
    """First and last year of an ``origin_work`` population label (``nips2022`` ->
    (2022, 2022), ``nips2021-2024`` -> (2021, 2024), ``all2023`` -> (2023, 2023))."""
    m = _POPULATION_YEARS.search(population)
    if m is None:
        return None
    lo = int(m.group(1))
    return lo, int(m.group(2) or lo)


def year_flags(frame: pd.DataFrame, complete_years: set[int], column: str = "year") -> pd.Series:
    """``complete_year`` for each row of an indicator table (nullable bool).

    By ``year`` (``cohort_year``) where there is one: NULL on pooled rows (year NULL); by the
    years of ``population`` in ``origin_work`` (complete when every year of it is).
    """
    if column == "population":
        labels = frame[column].astype(str)
        flags = {}
        for lab in labels.unique():
            span = population_years(lab)
            flags[lab] = (
                None
                if span is None
                else all(y in complete_years for y in range(span[0], span[1] + 1))
            )
        return labels.map(flags).astype("boolean")
    year = frame[column]
    out = year.isin(list(complete_years)).astype("boolean")
    return out.mask(year.isna())
