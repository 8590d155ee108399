"""Tenures: uninterrupted periods a person is linked to one place (country or institution).

Every observed (person, place, year) counts, main or secondary affiliation alike, so a visit is a
short tenure beside the home one. Two observations of the same place separated by a gap of at most
``b`` years belong to one tenure (the gap is backfilled); a longer gap starts a new tenure. Unlike
the reference R code, tenures are never extended before their first observation, so the year of
a move is the first year the new place is seen.
"""

from __future__ import annotations

from typing import Any

import ibis
from ibis import _

LEVELS = ("country", "institution")


def most_common(
    t: ibis.Table, keys: list[str], col: str, *, weight: str | None = None
) -> ibis.Table:
    """``keys + [col]``: the most frequent non-null ``col`` per group, ties to the smallest.

    ``weight``: a column of row counts when ``t`` is already counted (rows of ``t`` then
    stand for that many rows each). Deterministic on every engine (SQL ``mode`` breaks ties
    arbitrarily and Ibis's PySpark backend does not compile it).
    """
    n = ibis._.count() if weight is None else t[weight].sum()
    counts = t.filter(t[col].notnull()).group_by([*keys, col]).agg(_n=n)
    w = ibis.window(group_by=keys, order_by=[ibis.desc("_n"), col])
    top = counts.mutate(_rk=ibis.row_number().over(w))
    return top.filter(top._rk == 0).select(*keys, col)


def person_span(obs: Any) -> Any:
    """First and last observed year of every person."""
    return obs.group_by("person_id").agg(first_year=_.year.min(), last_year=_.year.max())


def build_tenures(
    obs: Any,
    level: str,
    backfill: int,
    *,
    fill_seen_elsewhere: bool = True,
    span: Any | None = None,
) -> Any:
    """The ``tenures`` rows of one level as an Ibis expression.

    Parameters
    ----------
    obs
        Observations (``person_years.observations``): person_id, year, institution, country,
        sector, paper_id.
    level
        ``"country"`` or ``"institution"``.
    backfill
        ``b``: the largest gap (in years) filled inside one tenure.
    span
        :func:`person_span` of ``obs`` when the caller has it materialised (else computed).
    """
    if level not in LEVELS:
        raise ValueError(f"unknown tenure level {level!r}")
    rows = obs.filter(obs[level].notnull()).mutate(unit=obs[level])
    others = ("institution", "sector") if level == "country" else ("country", "sector")
    # One row per (person, unit, year) with its papers: a paper has one year, so a tenure's
    # distinct papers are the sum over its years (no COUNT(DISTINCT) over whole tenures).
    per_year = rows.select("person_id", "unit", "year", "paper_id").distinct()
    years = per_year.group_by(["person_id", "unit", "year"]).agg(n_papers=_.paper_id.count())
    w = ibis.window(group_by=["person_id", "unit"], order_by="year")
    split = _.year - _.prev - 1 > backfill
    lags: dict[str, Any] = {"prev": _.year.lag().over(w)}
    if not fill_seen_elsewhere:
        # Rank of each year among the person's observed years at this level: the difference
        # of ranks tells how many years in a gap the person was seen elsewhere.
        years = years.mutate(
            seen_rank=ibis.dense_rank().over(ibis.window(group_by="person_id", order_by="year"))
        )
        lags["prev_rank"] = _.seen_rank.lag().over(w)
        split = split | (_.seen_rank - _.prev_rank - 1 > 0)
    islands = years.mutate(**lags)
    islands = islands.mutate(new=ibis.ifelse(_.prev.isnull() | split, 1, 0))
    islands = islands.mutate(
        island=_.new.sum().over(
            ibis.cumulative_window(group_by=["person_id", "unit"], order_by="year")
        )
    ).select("person_id", "unit", "year", "n_papers", "island")
    keys = ["person_id", "unit", "island"]
    tenures = islands.group_by(keys).agg(
        start_year=_.year.min(),
        end_year=_.year.max(),
        n_years_observed=_.count(),
        n_papers=_.n_papers.sum(),
    )
    # The unit is the tenure's country (or institution); the other attributes are the most
    # frequent value within the tenure (counted over its observations).
    counts = rows.group_by(["person_id", "unit", "year", *others]).agg(_w=_.count())
    counts = counts.inner_join(
        islands.select("person_id", "unit", "year", "island"), ["person_id", "unit", "year"]
    )
    own = "country" if level == "country" else "institution"
    tenures = tenures.mutate(**{own: _.unit})
    for col in others:
        tenures = tenures.left_join(most_common(counts, keys, col, weight="_w"), keys).drop(
            *[f"{k}_right" for k in keys]
        )
    if span is None:
        span = person_span(obs)
    tenures = tenures.inner_join(span, "person_id")
    return tenures.select(
        "person_id",
        tenure_id=_.person_id.concat(":", level[0], ":", _.start_year.cast("string"), ":", _.unit),
        level=ibis.literal(level),
        country=_.country,
        institution=_.institution,
        sector=_.sector,
        start_year=_.start_year.cast("int64"),
        end_year=_.end_year.cast("int64"),
        n_years_observed=_.n_years_observed.cast("int64"),
        censored_left=_.start_year == _.first_year,
        censored_right=_.end_year == _.last_year,
        unit=_.unit,
        n_papers=_.n_papers.cast("int64"),
    )
