"""``retention``, ``returns``, ``origin_work`` and ``sector_flows`` as Ibis expressions on the
stage's engine: per-person rows stay there, only cell sums come back.

Definitions are those of :mod:`talentflow.indicators.flows` (docs/indicators.md). Each table's
per-person rows are Ibis expressions over the engine tables below; they are summed per cell on
the engine (:class:`~talentflow.indicators.engine_sums.EngineContributions`, one query per
table), and the driver receives the cells and their sums only (a few thousand rows), lays the
cells out in the driver path's order and gets one
:class:`~talentflow.indicators.engine_sums.EngineSums` per sum, whose contributions ``cell,
key, value`` stay on the engine for the bootstrap's replicate map-reduce
(:mod:`talentflow.indicators.replicates`). Kaplan-Meier products, shares and intervals are
finished on the driver by the driver path's own builders (:func:`flows._km_builder`,
:func:`flows._origin_work_builder`, :func:`flows._count_builder`), so both paths give the same
tables. Survival tables sum one row per spell (where it stops, and whether with the event);
the number at risk at k is a sum of those (see :func:`flows._km_builder`).

Engine tables read (:class:`EngineTables`; ``person_key`` is the person's rank among the
sorted distinct ``person_years.person_id``, as :func:`person_keys` computes it):

- ``_ind_panel_years`` ``person_key, year, country, sector, stage, student, first_year,
  last_year``; ``_ind_panel_moves`` ``person_key, year, from_country, to_country, ...``;
  ``_ind_panel_sector_moves`` ``person_key, year, country, from_country, from_sector,
  to_sector, domestic`` (the frames of :class:`~talentflow.indicators.panel.Panel`, keyed);
- ``_ind_subsets`` ``person_key, subset`` (the persons of each subset: all, llm, top, ...);
- ``person_profile`` (optional), ``authorships``, ``papers``, ``paper_subfields``
  (``paper_id, subfield, is_llm_era``) and ``person_years`` (for the keys, unless
  ``EngineTables.keys`` names a ``person_id, person_key`` table).

What the stage calls::

    builders = flow_tables(engine, params, tables)  # {"retention": _Builder, ...}
    frames = estimate(engine, builders, params, tables)  # finished tables; drops intermediates

    retention(engine, params, tables=EngineTables(), origins=None) -> _Builder
    returns(engine, params, tables=EngineTables()) -> _Builder
    origin_work(engine, params, tables=EngineTables(), origins=None) -> _Builder
    sector_flows(engine, params, tables=EngineTables()) -> _Builder
    person_origins(engine, tables=EngineTables()) -> ibis.Table  # per person, materialised

``engine`` is a :class:`talentflow.engines.Engine`, ``params`` an
:class:`~talentflow.indicators.compute.IndicatorParams`. A builder's sums are ``EngineSums``:
estimate it with ``bootstrap.run(..., engine=engine)`` and the build's weights
(``bootstrap.Weights(keys, R, seed)``, or :class:`EngineWeights` so that no key passes
through the driver), then ``builder.finish(result, min_cell)``; it mixes with the other
tables' builders in one ``run``. Intermediate tables are named ``_ind_fe_*``
(:func:`drop_intermediates`; they must outlive the bootstrap run).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.cells import POOLED, TOP, UNKNOWN, _Builder
from talentflow.indicators.compute import IndicatorParams, pool_windows
from talentflow.indicators.engine_sums import EngineContributions
from talentflow.indicators.flows import (
    OW_KEYS,
    _count_builder,
    _empty_origin_work,
    _km_builder,
    _origin_work_builder,
)
from talentflow.indicators.panel import Panel
from talentflow.indicators.panel_engine import person_keys, with_flags
from talentflow.indicators.replicates import weights_table

#: Prefix of this module's intermediate tables.
PREFIX = "_ind_fe_"
#: Keys of the survival tables' cells (besides ``subset``).
RETENTION_KEYS = ["country", "cohort_year", "basis"]
SECTOR_KEYS = ["country", "year", "from_sector", "to_sector", "domestic"]


@dataclass(frozen=True)
class EngineTables:
    """Names of the engine tables the flow tables read (defaults: the stage's contract)."""

    years: str = "_ind_panel_years"
    moves: str = "_ind_panel_moves"
    sector_moves: str = "_ind_panel_sector_moves"
    subsets: str = "_ind_subsets"
    person_years: str = "person_years"
    person_profile: str = "person_profile"
    authorships: str = "authorships"
    papers: str = "papers"
    paper_subfields: str = "paper_subfields"
    #: a ``person_id, person_key`` table (default: computed by :func:`person_keys`)
    keys: str | None = None


def load_driver_panel(con: Any, panel: Panel, subsets: dict[str, np.ndarray]) -> None:
    """Write a panel built on the driver (:func:`panel.build_panel`) and its person subsets
    (``compute._person_subsets``) as the engine tables this module reads (``pidx`` ->
    ``person_key``): for a stage that still builds the panel on the driver, tests and
    benchmarks."""
    keys = panel.keys if panel.keys is not None else np.arange(panel.n_persons)

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        out = frame.copy()
        out.insert(0, "person_key", keys[out.pop("pidx").to_numpy()].astype(np.int64))
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype(object)
        return out

    t = EngineTables()
    for name, frame in (
        (t.years, panel.years),
        (t.moves, panel.moves),
        (t.sector_moves, panel.sector_moves),
    ):
        con.create_table(name, keyed(frame), overwrite=True)
    members = [
        pd.DataFrame({"person_key": keys[np.flatnonzero(mask)].astype(np.int64), "subset": name})
        for name, mask in subsets.items()
    ]
    con.create_table(t.subsets, pd.concat(members, ignore_index=True), overwrite=True)


def drop_intermediates(engine: Any) -> None:
    """Drop this module's intermediate tables (after the bootstrap has run)."""
    engine.drop_tables(PREFIX)


def flow_tables(
    engine: Any, params: IndicatorParams, tables: EngineTables | None = None
) -> dict[str, _Builder]:
    """The builders of ``retention``, ``returns``, ``origin_work`` and ``sector_flows``."""
    tables = tables or EngineTables()
    origins = person_origins(engine, tables)
    return {
        "retention": retention(engine, params, tables, origins),
        "returns": returns(engine, params, tables),
        "origin_work": origin_work(engine, params, tables, origins),
        "sector_flows": sector_flows(engine, params, tables),
    }


class EngineWeights(bs.Weights):
    """Bootstrap weights drawn on the engine for the persons of ``persons`` (an Ibis table
    with a ``key`` column): the same function of (key, replicate, seed) as on the driver
    (:mod:`talentflow.indicators.weights`), and no key passes through the driver. Only for
    sums kept on the engine (``bootstrap.run(..., 0, engine=...)``): there are no driver-side
    keys or blocks."""

    def __init__(self, persons: Any, replicates: int, seed: int) -> None:
        super().__init__(np.zeros(0, np.int64), replicates, seed)
        self.persons = persons

    def block(self, start: int, stop: int) -> np.ndarray:
        raise ValueError("weights drawn on the engine have no driver-side blocks")

    def on(self, engine: Any) -> Any:
        if id(engine) not in self._tables:
            keys = self.persons.select(key=self.persons.key.cast("int64")).distinct()
            table = engine.temp_table(self.TABLE, weights_table(keys, self.replicates, self.seed))
            self._tables[id(engine)] = (engine, table)
        return self._tables[id(engine)][1]


def estimate(
    engine: Any,
    builders: dict[str, _Builder],
    params: IndicatorParams,
    tables: EngineTables | None = None,
) -> dict[str, pd.DataFrame]:
    """Point estimates and intervals of ``builders`` (sums on ``engine``), finished tables.

    The replicate weights are drawn on the engine for the panel's persons (the same
    function of person key, replicate and seed as on the driver, so the same intervals).
    Drops the intermediate tables afterwards.
    """
    tables = tables or EngineTables()
    years = engine.con.table(tables.years)
    weights = EngineWeights(years.select(key=years.person_key), params.replicates, params.seed)
    try:
        results = bs.run(
            {name: b.spec for name, b in builders.items()},
            0,
            replicates=params.replicates,
            seed=params.seed,
            weights=weights,
            engine=engine,
        )
    finally:
        weights.close()
        drop_intermediates(engine)
    return {name: b.finish(results[name], params.min_cell) for name, b in builders.items()}


# --------------------------------------------------------------------------- inputs


def _keys(con: Any, tables: EngineTables) -> Any:
    if tables.keys is not None:
        return con.table(tables.keys).select("person_id", "person_key")
    return person_keys(con.table(tables.person_years))


def _column(table: Any, name: str, dtype: str) -> Any:
    """``table[name]``, or a NULL of ``dtype`` when the table lacks that column."""
    return table[name] if name in table.columns else ibis.null(dtype)


def person_origins(engine: Any, tables: EngineTables | None = None) -> Any:
    """Per panel person: ``person_key, first_year, last_year, first_country,
    training_country, training_end`` (materialised as ``_ind_fe_origins``).

    As :func:`talentflow.indicators.cells._origins`: the first panel country and the
    country of the first student year, unless ``person_profile`` gives them; training ends
    at the last student year in the training country (NULL: no training spell). A person
    with several profile rows takes the smallest value of each column.
    """
    tables = tables or EngineTables()
    con = engine.con
    y = con.table(tables.years)
    first = y.filter(y.year == y.first_year).select(
        "person_key", "first_year", "last_year", panel_first=y.country
    )
    stud = y.filter(y.student).select("person_key", "year", "country")
    first_stud = stud.group_by("person_key").aggregate(year=stud.year.min())
    stud_country = stud.inner_join(first_stud, ["person_key", "year"]).select(
        "person_key", stud_country=stud.country
    )
    o = first.left_join(stud_country, "person_key").select(
        first.person_key,
        first.first_year,
        first.last_year,
        first.panel_first,
        stud_country.stud_country,
    )
    first_country, training_country = o.panel_first, o.stud_country
    if tables.person_profile in con.list_tables():
        p = con.table(tables.person_profile)
        p = p.select(
            "person_id",
            p_first=_column(p, "first_country", "string"),
            p_training=_column(p, "training_country", "string"),
        )
        p = p.inner_join(_keys(con, tables), "person_id")
        p = p.group_by("person_key").aggregate(
            p_first=p.p_first.min(), p_training=p.p_training.min()
        )
        o = o.left_join(p, "person_key").drop("person_key_right")
        first_country = o.p_first.coalesce(o.panel_first)
        training_country = o.p_training.coalesce(o.stud_country)
    o = o.select(
        "person_key",
        "first_year",
        "last_year",
        first_country=first_country,
        training_country=training_country,
    )
    # training ends at the last student year spent in the training country
    te = stud.inner_join(o.select("person_key", "training_country"), "person_key")
    te = te.filter(te.country == te.training_country)
    te = te.group_by("person_key").aggregate(training_end=te.year.max())
    o = o.left_join(te, "person_key").drop("person_key_right")
    return _materialise(engine, "origins", o)


def _materialise(engine: Any, name: str, expr: Any) -> Any:
    engine.con.drop_table(PREFIX + name, force=True)
    return engine.temp_table(PREFIX + name, expr)


def _with_subsets(con: Any, rows: Any, tables: EngineTables) -> Any:
    s = con.table(tables.subsets)
    return rows.inner_join(s.select("person_key", s.subset.cast("string")), "person_key")


# --------------------------------------------------------------------------- cells


def _summed(
    engine: Any, stats: dict[str, Any], labels: list[str]
) -> tuple[EngineContributions, pd.DataFrame]:
    """``stats`` (``stat -> rows`` with ``labels``, ``person_key``) as contributions of 1 per
    row, and their sums per label combination (one query; see :mod:`engine_sums`)."""
    exprs = {
        name: rows.select(*labels, key=rows.person_key.cast("int64"), value=ibis.literal(1.0))
        for name, rows in stats.items()
    }
    contributions = EngineContributions(engine, exprs, labels)
    contributions.TABLE = f"{PREFIX}cells"  # dropped with this module's intermediates
    return contributions, contributions.points()


def _count_table(engine: Any, rows: Any, keys: list[str]) -> _Builder:
    """A table of counts of ``rows`` (``person_key`` and ``keys``) per cell."""
    contributions, points = _summed(engine, {"n": rows}, keys)
    universe = _universe(points, keys)
    return _count_builder(universe, contributions.sums(points, universe, 0)["n"])


def _universe(points: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The distinct ``keys`` of ``points``, in :func:`bootstrap.cells` order."""
    if not len(points):
        return points[keys].reset_index(drop=True)
    return bs.cells(points, keys)[0]


def _km(
    engine: Any, spells: Any, keys: list[str], k_max: int, stat: str, complement: bool
) -> _Builder:
    """Kaplan-Meier over ``spells`` (``person_key``, ``keys``, ``time``, ``event``): one row
    per spell ending (after min(time, k_max) years) and per event, summed per cell and k."""
    rows = spells.filter(spells.time >= 1).mutate(
        t=ibis.least(spells.time, k_max).cast("int64"),
        ev=spells.event & (spells.time <= k_max),
    )
    labels = [*keys, "t"]
    contributions, points = _summed(engine, {"exits": rows, "events": rows.filter(rows.ev)}, labels)
    universe = _universe(points, keys)
    # cell g * k_max + t - 1: every k of a cell, as flows._km_builder lays them out
    layout = universe.loc[universe.index.repeat(k_max)].reset_index(drop=True)
    layout["t"] = np.tile(np.arange(1, k_max + 1, dtype=np.int64), len(universe))
    sums = contributions.sums(points, layout, 0)
    return _km_builder(universe, sums["exits"], sums["events"], k_max, stat, complement=complement)


# --------------------------------------------------------------------------- tables


def retention(
    engine: Any,
    params: IndicatorParams,
    tables: EngineTables | None = None,
    origins: Any = None,
) -> _Builder:
    """``retention``: Kaplan-Meier of staying in the cohort's country (as
    :func:`talentflow.indicators.flows._retention`), per cohort year and pooled."""
    tables = tables or EngineTables()
    con = engine.con
    o = origins if origins is not None else person_origins(engine, tables)
    first = o.filter(o.first_country.notnull()).select(
        "person_key",
        "last_year",
        country=o.first_country,
        start=o.first_year.cast("int64"),
        basis=ibis.literal("first_observed"),
    )
    training = o.filter(o.training_end.notnull()).select(
        "person_key",
        "last_year",
        country=o.training_country,
        start=o.training_end.cast("int64"),
        basis=ibis.literal("training"),
    )
    spells = first.union(training)
    # the event: the first later year in another country
    y = con.table(tables.years)
    y = y.select("person_key", "year", now=y.country)
    later = spells.inner_join(y, "person_key")
    later = later.filter((later.year > later.start) & (later.now != later.country))
    leave = later.group_by("person_key", "basis").aggregate(leave=later.year.min())
    sp = spells.left_join(leave, ["person_key", "basis"])
    sp = sp.select(
        spells.person_key,
        spells.country,
        spells.basis,
        cohort_year=spells.start,
        event=leave.leave.notnull(),
        time=(leave.leave.coalesce(spells.last_year) - spells.start).cast("int64"),
    )
    sp = _with_subsets(con, sp, tables)
    sp = sp.union(sp.mutate(cohort_year=ibis.literal(POOLED, "int64")))
    keys = [*RETENTION_KEYS, "subset"]
    return _km(engine, sp, keys, params.k_max, "retained_share", False)


def returns(engine: Any, params: IndicatorParams, tables: EngineTables | None = None) -> _Builder:
    """``returns``: cumulative incidence of being back in a country after the first
    departure from it (as :func:`talentflow.indicators.flows._returns`)."""
    tables = tables or EngineTables()
    con = engine.con
    mv = con.table(tables.moves)
    dep = mv.group_by("person_key", country=mv.from_country).aggregate(left=mv.year.min())
    arrivals = mv.select("person_key", "year", country=mv.to_country)
    back = arrivals.inner_join(dep, ["person_key", "country"])
    back = back.filter(back.year > back.left)
    back = back.group_by("person_key", "country").aggregate(back=back.year.min())
    y = con.table(tables.years)
    last = y.filter(y.year == y.first_year).select("person_key", "last_year")
    d = dep.left_join(back, ["person_key", "country"]).select(
        dep.person_key, dep.country, dep.left, back.back
    )
    d = d.inner_join(last, "person_key")
    d = d.select(
        "person_key",
        "country",
        event=d.back.notnull(),
        time=(d.back.coalesce(d.last_year) - d.left).cast("int64"),
    )
    d = _with_subsets(con, d, tables)
    return _km(engine, d, ["country", "subset"], params.k_max, "return_share", True)


def sector_flows(
    engine: Any, params: IndicatorParams, tables: EngineTables | None = None
) -> _Builder:
    """``sector_flows``: sector moves per cell, per arrival year and pooled."""
    tables = tables or EngineTables()
    con = engine.con
    sm = con.table(tables.sector_moves)
    rows = sm.select(
        "person_key",
        "country",
        "from_sector",
        "to_sector",
        year=sm.year.cast("int64"),
        domestic=sm.domestic.cast("boolean"),
    )
    rows = _with_subsets(con, rows, tables)
    rows = rows.union(rows.mutate(year=ibis.literal(POOLED, "int64")))
    return _count_table(engine, rows, [*SECTOR_KEYS, "subset"])


def _authorships(con: Any, tables: EngineTables, params: IndicatorParams, origins: Any) -> Any:
    """Authorships of panel persons admitted by the population rule: ``person_key, venue,
    year, is_llm, is_top, subfield`` (as :func:`cells._authorships` then the rule)."""
    a = con.table(tables.authorships)
    a = a.filter(a.person_id.notnull()).select("paper_id", "person_id", "venue", "year")
    a = a.inner_join(_keys(con, tables), "person_id")
    a = a.semi_join(origins.select("person_key"), "person_key")
    present = set(con.list_tables())
    papers = con.table(tables.papers) if tables.papers in present else None
    a = with_flags(a, papers, params.population_papers)
    a = a.mutate(admitted=a._in, top=a._top)
    subfield, is_llm = ibis.null("string"), ibis.literal(False)
    if tables.paper_subfields in present:
        sf = con.table(tables.paper_subfields).select("paper_id", "subfield", "is_llm_era")
        a = a.left_join(sf, "paper_id").drop("paper_id_right")
        subfield = a.subfield
        is_llm = ((a.subfield == "llm") & a.is_llm_era).coalesce(False)
    a = a.filter(a.admitted)
    return a.select(
        "person_key",
        "venue",
        year=a.year.cast("int64"),
        is_llm=is_llm,
        is_top=a.top,
        subfield=subfield,
    )


def origin_work(
    engine: Any,
    params: IndicatorParams,
    tables: EngineTables | None = None,
    origins: Any = None,
) -> _Builder:
    """``origin_work``: the persons of each population (venue-years, pooled venues,
    ``all<year>``) by origin and work country (as
    :func:`talentflow.indicators.flows._origin_work` on ``compute._with_pools``)."""
    tables = tables or EngineTables()
    con = engine.con
    if tables.authorships not in con.list_tables():
        return _empty_origin_work(0)
    o = origins if origins is not None else person_origins(engine, tables)
    a = _authorships(con, tables, params, o)
    rows = a.mutate(population=a.venue.concat(a.year.cast("string")))
    if params.pools:
        pairs = a.select("venue", "year").distinct().to_pyarrow().to_pandas()
        members = [
            pairs[pairs["year"].between(lo, hi) & (True if v is None else pairs["venue"] == v)]
            .assign(population=name)
            .astype({"year": np.int64})
            for name, (v, lo, hi) in pool_windows(pairs, params.pool_years, params.pool_end).items()
        ]
        if members:
            pools = _materialise(
                engine,
                "pools",
                pa.Table.from_pandas(pd.concat(members, ignore_index=True), preserve_index=False),
            )
            pooled = a.inner_join(pools, ["venue", "year"])
            # a pooled population counts a person once, in the last year they authored one
            # of its papers
            last = pooled.year.max().over(group_by=["person_key", "population"])
            rows = rows.union(pooled.mutate(year=last).select(*rows.columns))
    cols = ["person_key", "year", "population"]
    parts = [
        rows.select(*cols, subset=ibis.literal("all")),
        rows.filter(rows.is_llm).select(*cols, subset=ibis.literal("llm")),
        rows.filter(rows.is_top).select(*cols, subset=ibis.literal(TOP)),
    ]
    if params.subfields:
        mine = rows.filter(rows.subfield.isin(list(params.subfields)))
        parts.append(mine.select(*cols, subset=mine.subfield))
    pop = parts[0]
    for part in parts[1:]:
        pop = pop.union(part)
    pop = pop.distinct()
    y = con.table(tables.years)
    pop = pop.inner_join(
        y.select("person_key", year=y.year.cast("int64"), work_country=y.country),
        ["person_key", "year"],
    )
    pop = pop.inner_join(o.select("person_key", "first_country", "training_country"), "person_key")
    # one row per person, population and subset, with both origins: each row counts in one
    # cell of each basis, so the leaf cells are sums of these (folded on the driver) and the
    # engine sums half the rows
    pairs_rows = pop.select(
        "person_key",
        "population",
        "subset",
        "work_country",
        first_origin=pop.first_country.coalesce(UNKNOWN),
        training_origin=pop.training_country.coalesce(UNKNOWN),
    )
    labels = ["population", "subset", "work_country", "first_origin", "training_origin"]
    contributions, points = _summed(engine, {"n": pairs_rows}, labels)
    if not len(points):
        return _empty_origin_work(0)
    fine = points[labels].reset_index(drop=True)
    by_basis = pd.concat(
        [
            fine[["population", "subset", "work_country"]].assign(
                origin_basis=basis, origin_country=fine[column].to_numpy()
            )
            for basis, column in (
                ("first_observed", "first_origin"),
                ("training", "training_origin"),
            )
        ],
        ignore_index=True,
    )
    leaf, leaf_of = bs.cells(by_basis, OW_KEYS)
    fold = bs.incidence(leaf_of, np.tile(np.arange(len(fine)), 2), len(leaf), len(fine))
    sums = contributions.sums(points, fine, 0)["n"]
    return _origin_work_builder(leaf, sums, fold)
