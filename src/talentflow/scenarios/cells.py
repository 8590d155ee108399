"""The counts the move model needs, computed in the engine (Ibis on DuckDB or Spark).

Every function here builds an Ibis expression over the careers tables and brings back counts
per covariate cell, never one row per person-year or per move:

* :func:`derived_rows` (an expression, never collected): one row per person-year with the
  model's covariates, career age (``year - first_year``), whether the person is seen the next
  year (``has_next``), the move dated the next year (``moved``, ``to_country``) and the next
  year's country and sector (window functions over each person's years).
* :func:`stock` and :func:`move_flows`: person-years per country-year and moves per
  (from, to, year), in raw countries (for the choice of country groups, histories, backtests).
* :func:`person_year_cells`: person-years per cell of the move hazard, the sector switches, the
  state at ``T``, continuation and entrants, with countries coded to the model's groups.
* :func:`choice_cells`: moves per cell of the destination choice (origin, current country,
  destination, year, earlier affiliations), and per pair of cells the sum over persons of the
  product of the person's moves in each (what a person-clustered covariance needs).
* :func:`tie_cells`: person-years at ``T`` per (current, first) country group and set of
  earlier affiliations.

Weighted likelihoods on these counts equal the per-row likelihoods, so the fit is the same.
"""

from __future__ import annotations

from typing import Any

import ibis
import pandas as pd

from talentflow.scenarios.levers import SECTORS, STAGES

#: careers sector -> model sector.
SECTOR_MAP = {"education": "academia", "company": "industry"}
#: careers career_stage -> model stage (anything else, or NULL, is "other").
STAGE_MAP = {
    "student": "student",
    "postdoc": "postdoc",
    "faculty": "faculty",
    "industry": "industry",
}
#: Career-age bins (years since first observed): 0-1, 2-4, 5-9, 10+.
AGE_EDGES = (2, 5, 10)
#: Earlier affiliations are a bit set over the country groups (an int64).
MAX_GROUPS = 62


def person_year_input(py: ibis.Table, llm: ibis.Table | None) -> ibis.Table:
    """Person-years with a country, in the model's terms: ``person_id, year, country, sector,
    stage, llm`` (one row per person-year: the first country in sort order is kept)."""
    py = py.filter(py.country.notnull())
    if llm is not None:
        py = py.left_join(llm, ["person_id", "year"]).select(
            "person_id", "year", "country", "sector", "career_stage", "llm"
        )
    llm_col = py.llm.fill_null(False) if "llm" in py.columns else ibis.literal(False)
    py = py.select(
        person_id=py.person_id,
        year=py.year.cast("int64"),
        country=py.country.cast("string"),
        sector=py.sector.substitute(SECTOR_MAP, else_="other").fill_null("other"),
        stage=py.career_stage.substitute(STAGE_MAP, else_="other").fill_null("other"),
        llm=llm_col.cast("boolean"),
    )
    # One row per person-year (the careers contract promises it; be safe).
    rank = ibis.row_number().over(group_by=[py.person_id, py.year], order_by=[py.country])
    return py.mutate(_rank=rank).filter(lambda t: t._rank == 0).drop("_rank")


def move_input(ev: ibis.Table) -> ibis.Table:
    """International moves with a destination, one per person and year: ``person_id, year,
    from_country, to_country, kind``."""
    ev = ev.filter(ev.to_country.notnull()).select(
        "person_id", "from_country", "to_country", "kind", year=ev.year.cast("int64")
    )
    rank = ibis.row_number().over(
        group_by=[ev.person_id, ev.year], order_by=[ev.to_country, ev.from_country]
    )
    return ev.mutate(_rank=rank).filter(lambda t: t._rank == 0).drop("_rank")


def derived_rows(py: ibis.Table, moves: ibis.Table) -> ibis.Table:
    """One row per person-year with what the model derives from each person's years.

    ``py`` from :func:`person_year_input`, ``moves`` from :func:`move_input` (both already
    limited to the panel's years). Adds ``first_year``, ``first_country`` (the first observed
    country: an observed career fact, not a nationality), ``age``, ``has_next`` (a row the
    next year: at risk of a move), ``moved`` and ``to_country`` (a move dated the next year,
    when ``has_next``), ``next_country`` and ``next_sector`` (the next year's row, if any).
    """
    by_person = ibis.window(group_by=py.person_id, order_by=py.year)
    w = py.mutate(
        first_year=py.year.min().over(group_by=py.person_id),
        _next_year=py.year.lead().over(by_person),
        _next_country=py.country.lead().over(by_person),
        _next_sector=py.sector.lead().over(by_person),
    )
    first = w.filter(w.year == w.first_year).select("person_id", first_country=w.country)
    w = w.join(first, "person_id")
    has_next = (w._next_year == w.year + 1).fill_null(False)
    w = w.mutate(
        has_next=has_next,
        next_country=has_next.ifelse(w._next_country, ibis.null("string")),
        next_sector=has_next.ifelse(w._next_sector, ibis.null("string")),
        age=w.year - w.first_year,
    ).drop("_next_year", "_next_country", "_next_sector")
    # A move dated year y is the outcome of the person-year y - 1.
    m = moves.select("person_id", year=moves.year - 1, _to=moves.to_country)
    w = w.left_join(m, ["person_id", "year"]).select(*w.columns, "_to")
    moved = w._to.notnull() & w.has_next
    return w.mutate(moved=moved, to_country=moved.ifelse(w._to, ibis.null("string"))).drop("_to")


def _code(col: Any, levels: list[str] | tuple[str, ...], other: int) -> Any:
    """Index of ``col`` in ``levels`` (``other`` for anything else, NULL included)."""
    if not levels:
        return ibis.literal(other, "int64")
    return col.substitute({v: i for i, v in enumerate(levels)}, else_=other).cast("int64")


def _age_bin(age: Any) -> Any:
    out = ibis.literal(0, "int64")
    for edge in AGE_EDGES:
        out = out + (age >= edge).cast("int64")
    return out


def stock(rows: ibis.Table) -> pd.DataFrame:
    """Person-years per raw ``country, year`` (column ``n``)."""
    out = rows.group_by("country", "year").agg(n=rows.count()).to_pandas()
    return out.astype({"year": "int64", "n": "int64"})


def move_flows(moves: ibis.Table) -> pd.DataFrame:
    """Moves per raw ``from_country, to_country, year`` (column ``n``)."""
    out = moves.group_by("from_country", "to_country", "year").agg(n=moves.count()).to_pandas()
    return out.astype({"year": "int64", "n": "int64"})


def person_year_cells(rows: ibis.Table, groups: list[str]) -> pd.DataFrame:
    """Person-years per cell, countries coded to ``groups`` (the last one is ``OTHER``).

    Columns: ``C`` (country group), ``O`` (first country group), ``abroad`` (country differs
    from the first one), ``S``, ``G``, ``L`` (LLM 0/1), ``A`` (age bin), ``first`` (the
    person's first year), ``year``, ``has_next``, ``moved``, ``J`` (destination group of the
    move, ``-1`` without one), ``stay`` (next year in the same country), ``NS`` (the next
    year's sector when ``stay``, else ``-1``) and ``n``.
    """
    oth = len(groups) - 1
    named = groups[:-1]
    stay = rows.has_next & (rows.next_country == rows.country).fill_null(False)
    keyed = rows.select(
        C=_code(rows.country, named, oth),
        O=_code(rows.first_country, named, oth),
        abroad=(rows.country != rows.first_country).cast("int64"),
        S=_code(rows.sector, SECTORS[:-1], len(SECTORS) - 1),
        G=_code(rows.stage, STAGES[:-1], len(STAGES) - 1),
        L=rows.llm.cast("int64"),
        A=_age_bin(rows.age),
        first=rows.age == 0,
        year=rows.year,
        has_next=rows.has_next,
        moved=rows.moved,
        J=rows.moved.ifelse(_code(rows.to_country, named, oth), -1),
        stay=stay,
        NS=stay.ifelse(_code(rows.next_sector, SECTORS[:-1], len(SECTORS) - 1), -1),
    )
    keys = list(keyed.columns)
    out = keyed.group_by(keys).agg(n=keyed.count()).to_pandas()
    return _tidy(out, ["first", "has_next", "moved", "stay"])


def _tidy(df: pd.DataFrame, flags: list[str]) -> pd.DataFrame:
    """Engines differ in integer widths: int64 counts and codes, bool flags, a fixed order."""
    df = df.astype(dict.fromkeys(flags, bool))
    df = df.astype({c: "int64" for c in df.columns if c not in flags})
    return df.sort_values(list(df.columns)).reset_index(drop=True)


def _earlier(rows: ibis.Table, groups: list[str]) -> ibis.Table:
    """``person_id, g, since``: the first year each person was in a country of each named group
    (``OTHER`` is never a tie, so it is left out)."""
    named = groups[:-1]
    h = rows.filter(rows.country.isin(named)) if named else rows.limit(0)
    h = h.select("person_id", "year", g=_code(h.country, named, len(groups) - 1))
    return h.group_by("person_id", "g").agg(since=h.year.min())


def _with_ties(who: ibis.Table, rows: ibis.Table, groups: list[str]) -> ibis.Table:
    """``who`` (person_id, year, C, O, ...) plus ``ties``: the bit set of the named groups the
    person was in at or before ``year``, other than ``C`` and ``O``."""
    if len(groups) > MAX_GROUPS:
        raise ValueError(f"at most {MAX_GROUPS} country groups, got {len(groups)}")
    hist = _earlier(rows, groups)
    j = who.left_join(hist, "person_id").select(*who.columns, "g", "since")
    hit = j.g.notnull() & (j.since <= j.year) & (j.g != j.C) & (j.g != j.O)
    bit = hit.ifelse(ibis.literal(2, "int64").pow(j.g.cast("int64")), 0).cast("int64")
    keys = list(who.columns)
    return j.mutate(_bit=bit).group_by(keys).agg(ties=lambda t: t._bit.sum().cast("int64"))


def tie_cells(rows: ibis.Table, groups: list[str], T: int) -> pd.DataFrame:
    """Person-years at ``T`` per ``C, O, ties`` (column ``n``)."""
    oth = len(groups) - 1
    named = groups[:-1]
    at_T = rows.filter(rows.year == T)
    who = at_T.select(
        "person_id",
        "year",
        C=_code(at_T.country, named, oth),
        O=_code(at_T.first_country, named, oth),
    )
    t = _with_ties(who, rows, groups)
    out = t.group_by("C", "O", "ties").agg(n=t.count()).to_pandas()
    return _tidy(out, [])


def choice_cells(
    rows: ibis.Table, groups: list[str], fit_end: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Moves of the destination choice per cell, and the person-level pair counts.

    The moves are those of person-years before ``fit_end``, other than moves within one named
    group. Cells: ``C, O, J, year`` (the person-year, the move is dated ``year + 1``),
    ``ties`` (as in :func:`tie_cells`) and ``n``. Pairs: for every two cells ``a`` and ``b``
    (keys suffixed ``_a``, ``_b``), ``n`` = the sum over persons of (the person's moves in
    ``a``) times (in ``b``): the person-clustered covariance needs nothing else.
    """
    oth = len(groups) - 1
    named = groups[:-1]
    mv = rows.filter(rows.moved & (rows.year < fit_end))
    mv = mv.select(
        "person_id",
        "year",
        C=_code(mv.country, named, oth),
        O=_code(mv.first_country, named, oth),
        J=_code(mv.to_country, named, oth),
    )
    mv = mv.filter((mv.J != mv.C) | mv.C.isin([oth]))
    t = _with_ties(mv, rows, groups)
    keys = ["C", "O", "J", "year", "ties"]
    per_person = t.group_by(["person_id", *keys]).agg(k=t.count())
    cells = per_person.group_by(keys).agg(n=per_person.k.sum()).to_pandas()
    a = per_person.rename({f"{c}_a": c for c in [*keys, "k"]})
    b = per_person.rename({f"{c}_b": c for c in [*keys, "k"]})
    ab = a.join(b, "person_id")
    pair_keys = [f"{c}_{s}" for s in "ab" for c in keys]
    pairs = ab.group_by(pair_keys).agg(n=(ab.k_a * ab.k_b).sum()).to_pandas()
    return _tidy(cells, []), _tidy(pairs, [])
