"""``country_year`` and ``flows`` (with their groupings and the fixed venue panel) computed on
the engine from the panel tables of :mod:`talentflow.indicators.panel_engine`.

The definitions are those of :mod:`talentflow.indicators.country_year` and
:mod:`talentflow.indicators.flows`; only the place differs. Each table's per-person
contributions are Ibis expressions (:class:`~talentflow.indicators.engine_sums.
EngineContributions`); the engine sums them per cell and the driver receives those sums, lays
the cells out and finishes each table per cell (sector ``all`` and pooled years as sums of
cells, shares, rates, nets, suppression) with the same combine functions as the driver path.
The bootstrap replicates are the map-reduce of :mod:`talentflow.indicators.replicates` over
the same contributions, so the same seed gives the same intervals as the driver path.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

from talentflow.indicators import bootstrap as bs
from talentflow.indicators import country_year as cy
from talentflow.indicators import flows_engine as fe
from talentflow.indicators import panel_engine as pe
from talentflow.indicators.cells import POOLED, STAGE_PREFIX, TOP, _Builder
from talentflow.indicators.engine_sums import EngineContributions
from talentflow.indicators.flows import hide_disclosing_nets
from talentflow.indicators.groupings import grouping
from talentflow.indicators.panel_engine import EnginePanel

CY_LABELS = ["country", "year", "subset", "sector"]
FLOW_LABELS = ["from_country", "to_country", "year", "subset"]
_STATS = ["stock", "stock_frac", "inflow", "outflow", "returns", "entries", "exits"]


def _in_subsets(frame: Any, subsets: Any, stage: str | None) -> Any:
    """``frame``'s rows once per subset of their person (``subsets``: ``person_key, subset``),
    plus once under ``stage:<stage column>`` when ``stage`` names a column."""
    j = frame.inner_join(subsets, "person_key")
    cols = [c for c in frame.columns if c != "person_key"]
    out = j.select(*cols, subset=j.subset, key=j.person_key.cast("int64"))
    if stage is not None:
        staged = frame.select(
            *cols,
            subset=ibis.literal(STAGE_PREFIX) + frame[stage],
            key=frame.person_key.cast("int64"),
        )
        out = out.union(staged)
    return out


#: Statistics of persons' countries (additive over the members of a group); the others are
#: moves, which a regrouping changes.
_ADDITIVE = ("stock", "frac_delta", "entries", "exits")


def _country_year_stats(
    panel: EnginePanel, subsets: Any, stages: bool, keep: set[str] | None, moves_only: bool
) -> dict[str, Any]:
    """``stat -> expression`` (country, year, subset, sector, key, value) of country_year.

    ``stock_frac`` is given as ``frac_delta``, its difference from ``stock`` (rows only for
    the person-years with secondary countries: a few of the panel's). ``moves_only`` leaves
    out the statistics of :data:`_ADDITIVE`.
    """
    y, mv = panel.years, panel.moves
    one = ibis.literal(1.0)
    here = {"country": "country", "sector": "sector", "stage": "stage"}
    arrival = {"country": "to_country", "sector": "to_sector", "stage": "to_stage"}
    departure = {"country": "from_country", "sector": "from_sector", "stage": "from_stage"}
    split = panel.frac.filter(panel.frac.weight < 1)
    main = y.select("person_key", "year", _main=y.country)
    split = split.inner_join(main, ["person_key", "year"])
    # the main country's row loses 1 - weight, the others gain their weight
    delta = split.weight - (split.country == split._main).cast("float64")
    sources = {
        "stock": (y, here, one),
        "frac_delta": (split.mutate(weight=delta), here, None),
        "inflow": (mv, arrival, one),
        "outflow": (mv, departure, one),
        "returns": (mv.filter(mv.is_return), arrival, one),
        "entries": (y.filter(y.year == y.first_year), here, one),
        "exits": (y.filter(y.year == y.last_year), here, one),
    }
    out = {}
    for name, (source, cols, value) in sources.items():
        if moves_only and name in _ADDITIVE:
            continue
        rows = source.select(
            "person_key",
            year=source.year.cast("int64"),
            country=source[cols["country"]],
            sector=source[cols["sector"]],
            _stage=source[cols["stage"]],
            value=(source.weight if value is None else value).cast("float64"),
        )
        if keep is not None:
            rows = rows.filter(rows.country.isin(sorted(keep)))
        rows = _in_subsets(rows, subsets, "_stage" if stages else None)
        out[name] = rows.select(*CY_LABELS, "key", "value")
    return out


@dataclass
class WorldTotals:
    """Every country's stock per (year, subset, sector): the denominator of ``stock_share``,
    from the ungrouped table's ``stock`` sums (the same for every regrouping)."""

    keys: pd.DataFrame  # year, subset, sector: the leaf rows, then the sector-all rows
    stock: Any  # the ungrouped table's stock sums (leaf cells)
    to_leaf: Any  # totals' leaf rows x the ungrouped leaf cells
    agg: Any  # totals' sector-all rows x totals' leaf rows

    @classmethod
    def of(cls, leaf: pd.DataFrame, stock: Any) -> WorldTotals:
        groups, of = _distinct_rows(leaf[["year", "subset", "sector"]])
        to_leaf = bs.incidence(of, np.arange(len(leaf)), len(groups), len(leaf))
        alls, of_all = _distinct_rows(groups[["year", "subset"]])
        agg = bs.incidence(of_all, np.arange(len(groups)), len(alls), len(groups))
        keys = pd.concat([groups, alls.assign(sector="all")], ignore_index=True)
        return cls(keys, stock, to_leaf, agg)

    def full(self, stock_sums: np.ndarray) -> np.ndarray:
        """Totals in ``keys`` order plus a row of zeros (cells without any stock)."""
        leaf = np.asarray(self.to_leaf @ stock_sums)
        pad = np.zeros((1, stock_sums.shape[1]), dtype=stock_sums.dtype)
        return np.vstack([leaf, np.asarray(self.agg @ leaf), pad])


def _distinct_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """The sorted distinct rows of ``frame`` and each row's position among them."""
    if not len(frame):
        return frame.iloc[:0].reset_index(drop=True), np.zeros(0, dtype=np.int64)
    cols = list(frame.columns)
    distinct = frame.drop_duplicates().sort_values(cols, kind="stable").reset_index(drop=True)
    at = pd.MultiIndex.from_frame(distinct).get_indexer(pd.MultiIndex.from_frame(frame))
    return distinct, at.astype(np.int64)


@dataclass
class _Leaf:
    """A country_year's leaf cells (sector by sector) and the sums of each statistic over
    them: ``stat -> (sums object, matrix from the object's cells to the leaf cells or
    None)``."""

    cells: pd.DataFrame
    sums: dict[str, tuple[Any, Any]]
    #: cells where a statistic of :data:`_ADDITIVE` has contributions (a group's cells are
    #: its members' such cells, plus the cells of its moves)
    additive: np.ndarray


def _members(ungrouped: _Leaf, mapping: dict[str, str], keep: set[str]) -> tuple[pd.DataFrame, Any]:
    """The ungrouped leaf cells of countries mapped to a group of ``keep``: the grouped cells
    and the matrix summing members into them."""
    group = ungrouped.cells["country"].map(lambda c: mapping.get(c, c))
    mine = np.flatnonzero(group.isin(keep).to_numpy() & ungrouped.additive)
    mapped = ungrouped.cells.iloc[mine].assign(country=group.iloc[mine].to_numpy())
    cells, of = _distinct_rows(mapped[CY_LABELS])
    return cells, bs.incidence(of, mine, len(cells), len(ungrouped.cells))


def country_year(
    engine: Any,
    panel: EnginePanel,
    subsets: Any,
    n_persons: int,
    *,
    stages: bool = False,
    totals: WorldTotals | None = None,
    grouped: tuple[_Leaf, dict[str, str]] | None = None,
) -> tuple[_Builder, WorldTotals, _Leaf]:
    """The ``country_year`` builder of ``panel`` (with the world totals and leaf cells it
    used).

    ``grouped`` = (the ungrouped table's leaf, a grouping's mapping) makes the table of the
    groups on the regrouped ``panel``: stocks and entries/exits of a group are the sums of
    its members' (a person has one country a year), moves are the regrouped panel's (a move
    inside a group is none); ``stock_share`` divides by ``totals`` of the ungrouped panel.
    """
    keep = set(grouped[1].values()) if grouped is not None else None
    stats = _country_year_stats(panel, subsets, stages, keep, moves_only=grouped is not None)
    contrib = EngineContributions(engine, stats, CY_LABELS)
    points = contrib.points()
    own, _ = _distinct_rows(points[CY_LABELS])
    if grouped is None:
        leaf = own
        sums = {k: (v, None) for k, v in contrib.sums(points, leaf, n_persons).items()}
    else:
        members, to_group = _members(grouped[0], grouped[1], keep or set())
        leaf, _ = _distinct_rows(pd.concat([members, own], ignore_index=True))
        at = pd.MultiIndex.from_frame(leaf).get_indexer(pd.MultiIndex.from_frame(members))
        place = bs.incidence(at, np.arange(len(members)), len(leaf), len(members))
        sums = {k: (v, None) for k, v in contrib.sums(points, leaf, n_persons).items()}
        for stat in _ADDITIVE:
            obj, inner = grouped[0].sums[stat]
            sums[stat] = (obj, place @ to_group @ inner if inner is not None else place @ to_group)
    if totals is None:
        totals = WorldTotals.of(leaf, sums["stock"][0])
    alls, of_all = _distinct_rows(leaf[["country", "year", "subset"]])
    agg = bs.incidence(of_all, np.arange(len(leaf)), len(alls), len(leaf))
    cells = pd.concat([leaf, alls.assign(sector="all")], ignore_index=True)
    perm = np.lexsort([cells[c].to_numpy() for c in reversed(CY_LABELS)])
    universe = cells.iloc[perm].reset_index(drop=True)
    key_cols = ["year", "subset", "sector"]
    at_total = pd.MultiIndex.from_frame(totals.keys).get_indexer(
        pd.MultiIndex.from_frame(universe[key_cols])
    )
    at_total = np.where(at_total < 0, len(totals.keys), at_total)
    matrices: dict[str, Any] = {k: obj for k, (obj, _) in sums.items()}
    matrices["total"] = totals.stock

    def full(stat: str, s: dict[str, np.ndarray]) -> np.ndarray:
        inner = sums[stat][1] if stat in sums else None
        leaf_sums = s[stat] if inner is None else np.asarray(inner @ s[stat])
        return np.vstack([leaf_sums, np.asarray(agg @ leaf_sums)])[perm]

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        f = {k: full(k, s) for k in ("stock", "inflow", "outflow", "returns", "entries", "exits")}
        f["stock_frac"] = full("frac_delta", s) + f["stock"]
        return cy.statistics(f, totals.full(s["total"])[at_total])

    builder = cy.builder(universe, matrices, combine)
    additive = points[points["stat"].isin(_ADDITIVE)][CY_LABELS]
    found = pd.MultiIndex.from_frame(leaf).isin(pd.MultiIndex.from_frame(additive))
    return builder, totals, _Leaf(leaf, sums, np.asarray(found, dtype=bool))


def flows(
    engine: Any, panel: EnginePanel, subsets: Any, n_persons: int, *, touch: set[str] | None = None
) -> _Builder:
    """The ``flows`` builder of ``panel``: moves per (from, to, arrival year, subset), pooled
    rows (year :data:`POOLED`) summed from the years'. ``touch`` keeps only the pairs with one
    of these countries at either end (a grouping's groups)."""
    mv = panel.moves
    if touch is not None:
        mine = sorted(touch)
        mv = mv.filter(mv.from_country.isin(mine) | mv.to_country.isin(mine))
    rows = mv.select(
        "person_key",
        "from_country",
        "to_country",
        year=mv.year.cast("int64"),
        value=ibis.literal(1.0).cast("float64"),
    )
    rows = _in_subsets(rows, subsets, None).select(*FLOW_LABELS, "key", "value")
    contrib = EngineContributions(engine, {"n": rows}, FLOW_LABELS)
    points = contrib.points()
    leaf, _ = _distinct_rows(points[FLOW_LABELS])
    sums = contrib.sums(points, leaf, n_persons)
    pooled, of_pool = _distinct_rows(leaf[["from_country", "to_country", "subset"]])
    agg = bs.incidence(of_pool, np.arange(len(leaf)), len(pooled), len(leaf))
    cells = pd.concat([leaf, pooled.assign(year=POOLED)[FLOW_LABELS]], ignore_index=True)
    cells["year"] = cells["year"].astype(np.int64)
    perm = np.lexsort([cells[c].to_numpy() for c in reversed(FLOW_LABELS)])
    universe = cells.iloc[perm].reset_index(drop=True)
    index = pd.MultiIndex.from_frame(universe[FLOW_LABELS])
    reverse = universe[["to_country", "from_country", "year", "subset"]]
    rev = index.get_indexer(pd.MultiIndex.from_frame(reverse.set_axis(FLOW_LABELS, axis=1)))
    has_rev = rev >= 0

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = np.vstack([s["n"], np.asarray(agg @ s["n"])])[perm]
        back = np.where(has_rev[:, None], n[np.maximum(rev, 0)], 0.0)
        return {"n": n, "net": n - back, "reverse_n": back}

    spec = bs.Spec({"n": sums["n"]}, combine, ("n", "net"))
    builder = _Builder(
        universe,
        spec,
        "n",
        ["n", "net", "reverse_n"],
        {"n": "", "net": "net_"},
        None,
        hide_disclosing_nets,
    )
    return builder


def _fixed_panel(
    engine: Any, keys: Any, papers: Any, fixed: Any, population_papers: str
) -> EnginePanel | None:
    """The panel of the person-years in which the person authored an admitted paper at a
    venue of the fixed panel, inside its window (None: no such person-year)."""
    con = engine.con
    if "authorships" not in con.list_tables():
        return None
    window = [int(y) for y in fixed.years]
    a = con.table("authorships")
    a = a.filter(
        a.person_id.notnull() & a.venue.isin(list(fixed.venues)) & a.year.isin(window)
    ).select("paper_id", "person_id", year=a.year.cast("int64"))
    a = pe.with_flags(a, papers, population_papers)
    seen = a.filter(a._in).select("person_id", "year").distinct()
    py = con.table("person_years")
    py = py.filter(py.year.isin(window))
    py = py.semi_join(seen, [py.person_id == seen.person_id, py.year.cast("int64") == seen.year])
    fp = pe.materialise(engine, py, keys, prefix="_ind_fpanel")
    if not fp.years.count().to_pyarrow().as_py():
        return None
    return fp


def engine_tables(
    engine: Any,
    params: Any,
    subfields: pd.DataFrame,
    fixed: Any = None,
) -> dict[str, pd.DataFrame]:
    """Every indicator table but ``paper_subfields``, computed on ``engine`` from its
    ``person_years``, ``person_profile``, ``authorships`` and ``papers`` tables:
    ``country_year``, ``flows``, ``retention``, ``returns``, ``origin_work``,
    ``sector_flows``, ``country_year@<grouping>``, ``flows@<grouping>`` and (with a fixed
    venue panel) ``country_year_panel``, ``flows_panel``.

    ``params`` are the :class:`~talentflow.indicators.compute.IndicatorParams`;
    ``subfields`` the papers' classification (``paper_id, subfield, is_llm_era``), uploaded
    as a small table. The bootstrap weights are drawn on the engine from the persons' keys
    (:class:`~talentflow.indicators.flows_engine.EngineWeights`: the driver's function, so
    the driver's intervals), and only cell sums come back. The intermediate tables (prefix
    ``_ind_``) are dropped before returning.
    """
    con = engine.con
    present = set(con.list_tables())
    weights = None
    try:
        keys = engine.temp_table(f"{pe.PREFIX}_keys", pe.person_keys(con.table("person_years")))
        n = int(keys.count().execute())
        ep = pe.materialise(engine, con.table("person_years"), keys)
        papers = con.table("papers") if "papers" in present else None
        tags = engine.temp_table(
            f"{pe.PREFIX}_tags",
            pa.Table.from_pandas(
                subfields[["paper_id", "subfield", "is_llm_era"]].astype(
                    {"paper_id": str, "subfield": str, "is_llm_era": bool}
                ),
                preserve_index=False,
            ),
        )
        authorships = con.table("authorships") if "authorships" in present else None
        if authorships is not None and "person_id" not in authorships.columns:
            authorships = None
        subsets = engine.temp_table(
            pe.SUBSETS_TABLE,
            pe.person_subsets(
                ep, authorships, keys, papers, tags, params.subfields, params.population_papers
            ),
        )
        main, totals, leaf = country_year(engine, ep, subsets, n, stages=params.stages)
        builders: dict[str, _Builder] = {
            "country_year": main,
            "flows": flows(engine, ep, subsets, n),
        }
        builders |= fe.flow_tables(
            engine,
            params,
            fe.EngineTables(keys=f"{pe.PREFIX}_keys", paper_subfields=f"{pe.PREFIX}_tags"),
        )
        for name in params.groupings:
            mapping = grouping(name)
            gp = pe.regrouped(engine, ep, mapping, name)
            builders[f"country_year@{name}"], _, _ = country_year(
                engine, gp, subsets, n, stages=params.stages, totals=totals, grouped=(leaf, mapping)
            )
            builders[f"flows@{name}"] = flows(engine, gp, subsets, n, touch=set(mapping.values()))
        fp = None
        if fixed is not None and fixed.venues:
            fp = _fixed_panel(engine, keys, papers, fixed, params.population_papers)
        if fp is not None:
            fsubsets = subsets.filter(subsets.subset.isin(["all", "llm", TOP]))
            builders["country_year_panel"], _, _ = country_year(engine, fp, fsubsets, n)
            builders["flows_panel"] = flows(engine, fp, fsubsets, n)
        specs = {name: b.spec for name, b in builders.items()}
        weights = fe.EngineWeights(keys.select(key=keys.person_key), params.replicates, params.seed)
        # 0 persons on the driver: the weights live on the engine only
        results = bs.run(
            specs, 0, replicates=params.replicates, seed=params.seed, weights=weights, engine=engine
        )
        out = {name: b.finish(results[name], params.min_cell) for name, b in builders.items()}
    finally:
        if weights is not None:
            weights.close()
        engine.drop_tables("_ind_cells")
        engine.drop_tables("_ind_fpanel")
        fe.drop_intermediates(engine)
        pe.drop(engine)
    for name in ("country_year_panel", "flows_panel"):
        if name in out:
            out[name]["basis"] = "fixed_panel"
    if "country_year_panel" in out:
        cyp = out["country_year_panel"]
        out["country_year_panel"] = cyp[cyp["sector"] == "all"].reset_index(drop=True)
    return out
