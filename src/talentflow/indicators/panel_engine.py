"""The padded panel (:mod:`talentflow.indicators.panel`) as Ibis expressions on the stage's engine.

The same definitions as :func:`talentflow.indicators.panel.build_panel`, computed where the data
is (DuckDB or Spark) so that nothing per person reaches the driver:

- several ``person_years`` rows of one person-year: the first in (year, observed desc,
  country, NULLs last) order;
- persons whose country is never known are left out;
- every year between a person's first and last row (a range join against a table of years);
- a year without a row, or with an unknown country (sector), carries the country (sector) of
  the last earlier year that had one, else of the next (running counts of known values and
  a window max per run, which every engine has);
- the stage (``career_stage``, else ``unknown``) is not carried;
- moves by ``lag`` over each person's years; a return is an arrival in a country the person
  was in in an earlier year.

Contract (engine tables, shared with the contributions of every indicator table)
--------------------------------------------------------------------------------
:func:`materialise` writes these intermediate tables on the engine (dropped by
:func:`drop`, prefix ``_ind_panel``). They have the columns of :class:`~talentflow.
indicators.panel.Panel`'s frames with ``person_key`` (int64) in place of ``pidx``:
``person_key`` is the person's rank (0-based) among the sorted distinct non-NULL
``person_years.person_id`` (what ``indicators.stage.read_inputs`` gives the driver and
the bootstrap weights are drawn from), so it is the same key on both paths.

``_ind_panel_years``
    ``person_key, year, country, sector, stage, student, first_year, last_year``: one row
    per panel person-year. ``sector`` is the sector group (``academia``, ``industry``,
    ``government``, ``other``, ``unknown``); ``stage`` the careers stage of that year or
    ``unknown``; ``student`` is ``career_stage = 'student'``.
``_ind_panel_frac``
    ``person_key, year, country, sector, stage, weight``: each person-year's main country and
    its distinct other secondary countries, weights ``1 / (1 + n_other)`` (sum 1).
``_ind_panel_moves``
    ``person_key, year, from_country, to_country, from_sector, to_sector, from_stage,
    to_stage, is_return``: a change of country between consecutive years, dated to the
    arrival year.
``_ind_panel_sector_moves``
    ``person_key, year, country, from_country, from_sector, to_sector, domestic``: a change
    of sector group between consecutive years, neither ``unknown``.
``_ind_subsets``
    ``person_key, subset``: one row per panel person and person subset it belongs to:
    ``all`` (every panel person), ``llm``, ``top`` and the subfields asked for (see
    :func:`talentflow.indicators.compute._person_subsets`; papers count only when the
    population rule admits them).

Further intermediates of the same prefix: ``_ind_panel_keys`` (``person_id, person_key``),
``_ind_panel_rows`` (the observed rows, one per person-year), ``_ind_panel_calendar`` (the
years), ``_ind_panel_tags`` (the papers' subfields), and per grouping ``_ind_panel_map_<g>``,
``_ind_panel_years_<g>``, ``_ind_panel_moves_<g>`` (:func:`regrouped`); the fixed venue
panel's tables have the prefix ``_ind_fpanel``.

Contributions (what a table adds per person) are Ibis expressions over these tables with
label columns, ``key`` (the ``person_key``) and ``value``; :mod:`talentflow.indicators.
engine_sums` sums them per cell on the engine (point estimates) and numbers the cells for
:func:`talentflow.indicators.replicates.replicate_sums` (the format ``cell, key, value``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import pyarrow as pa

from talentflow.indicators.cells import TOP
from talentflow.indicators.panel import SECTOR_GROUPS, UNKNOWN_STAGE

#: Prefix of every intermediate table this module writes.
PREFIX = "_ind_panel"
SUBSETS_TABLE = "_ind_subsets"
#: Decisions that keep a paper out of the populations under the ``accepted`` rule (the
#: same as :data:`talentflow.indicators.compute.NOT_ACCEPTED`).
NOT_ACCEPTED = ("rejected", "withdrawn")


@dataclass
class EnginePanel:
    """The panel's frames as Ibis tables on an engine (see the module docstring)."""

    years: Any
    frac: Any
    moves: Any
    sector_moves: Any
    prefix: str = PREFIX

    def persons(self) -> Any:
        """``person_key`` of every panel person (one row each)."""
        return self.years.filter(self.years.year == self.years.first_year).select("person_key")


def person_keys(person_years: Any) -> Any:
    """``person_id, person_key``: each distinct non-NULL id's rank (0-based) in id order."""
    ids = person_years.filter(person_years.person_id.notnull()).select("person_id").distinct()
    rank = ibis.row_number().over(order_by=ids.person_id)
    # Ibis types row_number int64 and drops a cast to int64, but Spark's is 32-bit: cast twice
    return ids.mutate(person_key=rank.cast("int32").cast("int64"))


def _column(table: Any, name: str, dtype: str) -> Any:
    return table[name] if name in table.columns else ibis.null(dtype)


def observed_rows(person_years: Any, keys: Any) -> Any:
    """One row per person-year with a ``person_key``: the first in (observed desc, country,
    NULLs last) order, as :func:`~talentflow.indicators.panel.build_panel` takes it."""
    py = person_years.filter(person_years.person_id.notnull() & person_years.year.notnull())
    py = py.select(
        person_id=py.person_id,
        year=py.year.cast("int64"),
        country=py.country,
        sector=_column(py, "sector", "string"),
        career_stage=_column(py, "career_stage", "string"),
        secondary_countries=_column(py, "secondary_countries", "array<string>"),
        observed=_column(py, "observed", "boolean"),
    )
    py = py.inner_join(keys, "person_id").drop("person_id")
    seen = (
        ibis.cases((py.observed == True, 0), (py.observed == False, 1), else_=2)  # noqa: E712
    )
    order = [seen, py.country.isnull().cast("int8"), py.country]
    py = py.mutate(_rn=ibis.row_number().over(group_by=["person_key", "year"], order_by=order))
    return py.filter(py._rn == 0).drop("_rn", "observed")


def _sector_group(sector: Any) -> Any:
    """Resolve's sector as its group (NULL stays NULL, to be carried; others ``unknown``)."""
    grouped = sector.cases(*SECTOR_GROUPS.items(), else_="unknown")
    return sector.isnull().ifelse(ibis.null("string"), grouped)


def _carried(t: Any, col: str) -> Any:
    """``t`` with NULLs of ``col`` filled from the person's last earlier known value, else
    the next one (runs of the running count of known values; one window max per run)."""
    n, run = f"_n_{col}", f"_run_{col}"
    cumulative = ibis.window(group_by="person_key", order_by="year", preceding=None, following=0)
    t = t.mutate(**{n: t[col].count().over(cumulative)})
    t = t.mutate(**{run: t[col].max().over(ibis.window(group_by=["person_key", n]))})
    first = (t[n] == 1).ifelse(t[run], ibis.null("string")).max()
    t = t.mutate(**{col: t[run].coalesce(first.over(ibis.window(group_by="person_key")))})
    return t.drop(n, run)


def panel_years(rows: Any, engine: Any, prefix: str = PREFIX) -> Any:
    """``_ind_panel_years``'s expression from :func:`observed_rows` (one row per person-year
    between each known-country person's first and last row)."""
    spans = rows.group_by("person_key").aggregate(
        first_year=rows.year.min(), last_year=rows.year.max(), _known=rows.country.count()
    )
    spans = spans.filter(spans._known > 0).drop("_known")
    bounds = spans.aggregate(lo=spans.first_year.min(), hi=spans.last_year.max()).to_pyarrow()
    lo, hi = bounds.column("lo")[0].as_py(), bounds.column("hi")[0].as_py()
    span = [] if lo is None else list(range(int(lo), int(hi) + 1))
    calendar = engine.temp_table(
        f"{prefix}_calendar", pa.table({"year": pa.array(span, pa.int64())})
    )
    full = spans.inner_join(
        calendar, [calendar.year >= spans.first_year, calendar.year <= spans.last_year]
    )
    full = full.select("person_key", "year", "first_year", "last_year")
    obs = rows.select("person_key", "year", "country", "sector", "career_stage")
    full = full.left_join(obs, ["person_key", "year"]).select(
        "person_key", "year", "first_year", "last_year", "country", "sector", "career_stage"
    )
    full = full.mutate(sector=_sector_group(full.sector))
    full = _carried(_carried(full, "country"), "sector")
    return full.select(
        person_key=full.person_key.cast("int64"),
        year=full.year.cast("int64"),
        country=full.country,
        sector=full.sector.fill_null("unknown"),
        stage=full.career_stage.fill_null(UNKNOWN_STAGE),
        student=(full.career_stage == "student").fill_null(False),
        first_year="first_year",
        last_year="last_year",
    )


def panel_frac(years: Any, rows: Any) -> Any:
    """``_ind_panel_frac``: each person-year's main country and its other distinct secondary
    countries, equal weights."""
    listed = rows.filter(rows.secondary_countries.notnull())
    listed = listed.select("person_key", "year", other=listed.secondary_countries.unnest())
    main = years.select("person_key", "year", main=years.country)
    other = listed.inner_join(main, ["person_key", "year"])
    other = other.filter(other.other.notnull() & (other.other != other.main))
    other = other.select("person_key", "year", "other").distinct()
    n_other = other.group_by("person_key", "year").aggregate(_n=other.count())
    base = years.left_join(n_other, ["person_key", "year"]).drop("person_key_right", "year_right")
    base = base.mutate(weight=1.0 / (base._n.fill_null(0) + 1).cast("float64"))
    cols = ["person_key", "year", "country", "sector", "stage", "weight"]
    extra = other.inner_join(base, ["person_key", "year"]).mutate(country=other.other)
    return base.select(*cols).union(extra.select(*cols))


def panel_moves(years: Any) -> Any:
    """``_ind_panel_moves``: changes of country between consecutive panel years."""
    w = ibis.window(group_by="person_key", order_by="year")
    t = years.mutate(
        from_country=years.country.lag().over(w),
        from_sector=years.sector.lag().over(w),
        from_stage=years.stage.lag().over(w),
        _first_here=years.year.min().over(ibis.window(group_by=["person_key", "country"])),
    )
    t = t.filter(t.from_country.notnull() & (t.from_country != t.country))
    return t.select(
        "person_key",
        "year",
        "from_country",
        to_country=t.country,
        from_sector=t.from_sector,
        to_sector=t.sector,
        from_stage=t.from_stage,
        to_stage=t.stage,
        is_return=t._first_here < t.year,
    )


def panel_sector_moves(years: Any) -> Any:
    """``_ind_panel_sector_moves``: changes of sector group (neither ``unknown``)."""
    w = ibis.window(group_by="person_key", order_by="year")
    t = years.mutate(
        from_country=years.country.lag().over(w), from_sector=years.sector.lag().over(w)
    )
    t = t.filter(
        t.from_sector.notnull()
        & (t.from_sector != t.sector)
        & (t.sector != "unknown")
        & (t.from_sector != "unknown")
    )
    return t.select(
        "person_key",
        "year",
        "country",
        "from_country",
        "from_sector",
        to_sector=t.sector,
        domestic=t.country == t.from_country,
    )


def materialise(engine: Any, person_years: Any, keys: Any, prefix: str = PREFIX) -> EnginePanel:
    """Build the panel of ``person_years`` (an Ibis table) on ``engine`` as the tables of the
    contract (``prefix`` + ``_years``, ...), with ``keys`` from :func:`person_keys`."""
    rows = engine.temp_table(f"{prefix}_rows", observed_rows(person_years, keys))
    years = engine.temp_table(f"{prefix}_years", panel_years(rows, engine, prefix))
    return EnginePanel(
        years,
        engine.temp_table(f"{prefix}_frac", panel_frac(years, rows)),
        engine.temp_table(f"{prefix}_moves", panel_moves(years)),
        engine.temp_table(f"{prefix}_sector_moves", panel_sector_moves(years)),
        prefix,
    )


def regrouped(engine: Any, panel: EnginePanel, mapping: dict[str, str], name: str) -> EnginePanel:
    """The panel with each country replaced by its group (others stay), moves derived again
    (a change of country inside a group is no move), as
    :func:`talentflow.indicators.panel.regroup` does. Fractional rows are not merged per
    group: contributions are summed per cell anyway."""
    table = pa.table({"_c": list(mapping), "_g": list(mapping.values())})
    groups = engine.temp_table(f"{panel.prefix}_map_{name}", table)

    def mapped(t: Any) -> Any:
        j = t.left_join(groups, t.country == groups._c)
        return j.mutate(country=j._g.coalesce(j.country)).drop("_c", "_g")

    years = engine.temp_table(f"{panel.prefix}_years_{name}", mapped(panel.years))
    return EnginePanel(
        years,
        mapped(panel.frac),
        engine.temp_table(f"{panel.prefix}_moves_{name}", panel_moves(years)),
        panel_sector_moves(years),
        panel.prefix,
    )


def with_flags(authorships: Any, papers: Any, population_papers: str) -> Any:
    """``authorships`` plus ``_in`` (the population rule admits the paper) and ``_top`` (an
    admitted top-tier paper), as :func:`talentflow.indicators.compute.paper_flags` says; a
    paper ``papers`` (may be None) does not list is admitted and not top-tier."""
    a = authorships
    if papers is None:
        return a.mutate(_in=ibis.literal(True), _top=ibis.literal(False))
    decision = _column(papers, "decision", "string")
    admitted = (
        ibis.literal(True)
        if "decision" not in papers.columns or population_papers != "accepted"
        else ~decision.isin(NOT_ACCEPTED).fill_null(False)
    )
    top = (papers.tier == TOP).fill_null(False) if "tier" in papers.columns else ibis.literal(False)
    flags = papers.select("paper_id", _in=admitted, _top=top & admitted)
    a = a.left_join(flags, "paper_id").drop("paper_id_right")
    return a.mutate(_in=a._in.fill_null(True), _top=a._top.fill_null(False))


def person_subsets(
    panel: EnginePanel,
    authorships: Any,
    keys: Any,
    papers: Any,
    tags: Any,
    subfields: tuple[str, ...],
    population_papers: str = "accepted",
) -> Any:
    """``_ind_subsets``'s expression: ``all`` for every panel person, ``llm`` (an admitted
    LLM paper of the LLM era), ``top`` (an admitted top-tier paper), and each subfield of
    ``subfields`` (an admitted paper of that subfield).

    ``tags`` is ``paper_id, subfield, is_llm_era`` (the classification); ``papers`` may lack
    ``decision`` (every decision unknown) or ``tier`` (no top tier). A paper ``papers`` does
    not list is admitted and not top-tier.
    """
    persons = panel.persons()
    persons = persons.select(person_key=persons.person_key.cast("int64"))
    out = persons.mutate(subset=ibis.literal("all"))
    if authorships is None:
        return out
    a = authorships.filter(authorships.person_id.notnull()).select("paper_id", "person_id")
    a = a.inner_join(keys, "person_id").select("paper_id", "person_key")
    a = a.inner_join(persons, "person_key")
    a = with_flags(a, papers, population_papers)
    a = a.left_join(tags, "paper_id").drop("paper_id_right")
    a = a.filter(a._in)
    names = [(a.subfield == "llm", a.is_llm_era.ifelse("llm", ibis.null("string")))]
    names += [(a.subfield == s, ibis.literal(s)) for s in subfields if s != "llm"]
    a = a.mutate(person_key=a.person_key.cast("int64"))
    by_tag = a.select("person_key", subset=ibis.cases(*names, else_=ibis.null("string")))
    by_tag = by_tag.filter(by_tag.subset.notnull())
    top_rows = a.filter(a._top).select("person_key", subset=ibis.literal(TOP))
    return out.union(by_tag.union(top_rows).distinct())


def drop(engine: Any, prefix: str = PREFIX) -> None:
    """Drop the intermediate tables of the panel (and of :data:`SUBSETS_TABLE`)."""
    engine.drop_tables(prefix)
    engine.drop_tables(SUBSETS_TABLE)
