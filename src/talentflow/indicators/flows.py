"""The flow tables: ``flows``, ``sector_flows``, ``retention``, ``returns`` and ``origin_work``
(see :mod:`talentflow.indicators.compute` for the definitions)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.cells import (
    ALL,
    TOP,
    UNKNOWN,
    _Builder,
    _constant,
    _panel_row,
    _pooled,
    _with_subsets,
)
from talentflow.indicators.panel import Panel

#: A sums object: :class:`bootstrap.PersonSums` (built on the driver) or
#: :class:`~talentflow.indicators.engine_sums.EngineSums` (aggregated on the engine,
#: flows_engine.py); ``bootstrap.run`` takes either.
Sums = Any

# --------------------------------------------------------------------------- flows


def _count_table(frame: pd.DataFrame, keys: list[str], n_persons: int, stat: str = "n") -> _Builder:
    universe, codes = bs.cells(frame, keys)
    m = bs.PersonSums(codes, frame["pidx"].to_numpy(), len(universe), n_persons)
    return _count_builder(universe, m, stat)


def _count_builder(universe: pd.DataFrame, m: Sums, stat: str = "n") -> _Builder:
    """A table of counts: one sums object, one statistic, suppressed below ``min_cell``."""
    spec = bs.Spec({stat: m}, lambda s: {stat: s[stat]}, (stat,))
    return _Builder(universe, spec, stat, [stat], {stat: ""})


def _flows(panel: Panel, subsets: dict[str, np.ndarray]) -> _Builder:
    mv = _pooled(_with_subsets(panel.moves, subsets), "year")
    keys = ["from_country", "to_country", "year", "subset"]
    b = _count_table(mv, keys, panel.n_persons)
    # net of the pair: this direction minus the reverse one (0 when the reverse has no moves)
    index = pd.MultiIndex.from_frame(b.keys[keys])
    reverse = b.keys[["to_country", "from_country", "year", "subset"]]
    rev = index.get_indexer(pd.MultiIndex.from_frame(reverse.set_axis(keys, axis=1)))
    has_rev = rev >= 0

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = s["n"]
        back = np.where(has_rev[:, None], n[np.maximum(rev, 0)], 0.0)
        return {"n": n, "net": n - back, "reverse_n": back}

    b.spec = bs.Spec(b.spec.matrices, combine, ("n", "net"))
    b.order = ["n", "net", "reverse_n"]
    b.ci_names = {"n": "", "net": "net_"}
    b.post = hide_disclosing_nets
    return b


def hide_disclosing_nets(df: pd.DataFrame, min_cell: int) -> pd.DataFrame:
    """Hide the net of a pair whose reverse cell is suppressed (the net would reveal it)."""
    reveal = (df["reverse_n"] > 0) & (df["reverse_n"] < min_cell)
    df.loc[reveal, ["net", "net_ci_low", "net_ci_high"]] = np.nan
    return df.drop(columns="reverse_n")


def _sector_flows(panel: Panel, subsets: dict[str, np.ndarray]) -> _Builder:
    sm = _pooled(_with_subsets(panel.sector_moves, subsets), "year")
    keys = ["country", "year", "from_sector", "to_sector", "domestic", "subset"]
    return _count_table(sm, keys, panel.n_persons)


# --------------------------------------------------------------------------- survival


def _km(
    spells: pd.DataFrame,
    keys: list[str],
    k_max: int,
    n_persons: int,
    stat: str,
    *,
    complement: bool,
) -> _Builder:
    """Kaplan-Meier over ``spells`` (pidx, keys..., time, event) at k = 1..k_max.

    A spell is at risk at k when ``time >= k``; it ends with an event at ``time`` when
    ``event`` is true, else it is censored after ``time`` years.
    """
    cell_keys, codes = bs.cells(spells, keys)
    n_cells = len(cell_keys)
    time = spells["time"].to_numpy(np.int64)
    event = spells["event"].to_numpy(bool)
    pidx = spells["pidx"].to_numpy(np.int64)
    span = np.clip(time, 0, k_max)
    ends = span >= 1  # a spell of 0 years is at risk at no k
    exits = bs.PersonSums(
        codes[ends] * k_max + span[ends] - 1, pidx[ends], n_cells * k_max, n_persons
    )
    ev = event & (time >= 1) & (time <= k_max)
    events = bs.PersonSums(codes[ev] * k_max + time[ev] - 1, pidx[ev], n_cells * k_max, n_persons)
    return _km_builder(cell_keys, exits, events, k_max, stat, complement=complement)


def _km_builder(
    cell_keys: pd.DataFrame,
    exits: Sums,
    events: Sums,
    k_max: int,
    stat: str,
    *,
    complement: bool,
) -> _Builder:
    """Kaplan-Meier from cell sums: per cell (``cell_keys``, in cell order) and k = 1..k_max,
    ``exits`` at cell * k_max + k - 1 counts the spells whose observation stops after
    min(time, k_max) = k years, ``events`` the spells ending with the event at k.

    The number at risk at k is the number of spells lasting k years or more, the sum of the
    exits at k..k_max: a linear function of the sums, so one row per spell (not one per year
    at risk) is summed, on the driver or on the engine, and replicates alike.
    """
    n_cells = len(cell_keys)

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        r = s["exits"].shape[1]
        left = s["exits"].reshape(n_cells, k_max, r)
        n = np.cumsum(left[:, ::-1], axis=1)[:, ::-1]
        d = s["events"].reshape(n_cells, k_max, r)
        h = bs.safe_div(d, n)
        surv = np.cumprod(1.0 - h, axis=1).reshape(n_cells * k_max, r)
        at_risk = n.reshape(n_cells * k_max, r)
        return {"at_risk": at_risk, stat: 1.0 - surv if complement else surv}

    rows = cell_keys.loc[cell_keys.index.repeat(k_max)].reset_index(drop=True)
    rows["k"] = np.tile(np.arange(1, k_max + 1), n_cells)
    spec = bs.Spec({"exits": exits, "events": events}, combine, (stat,))
    return _Builder(rows, spec, "at_risk", ["at_risk", stat], {stat: ""}, keep="at_risk")


def _retention(
    panel: Panel, subsets: dict[str, np.ndarray], origins: pd.DataFrame, k_max: int
) -> _Builder:
    y = panel.years
    last = y.drop_duplicates("pidx").set_index("pidx")["last_year"]
    spells = []
    # first observed: start in the first panel year, event = first move (leaving that country)
    start = origins[["pidx", "first_country"]].rename(columns={"first_country": "country"})
    start = start[start["country"].notna()]
    start["start"] = (
        y.drop_duplicates("pidx").set_index("pidx")["first_year"].reindex(start["pidx"]).to_numpy()
    )
    bases = ["first_observed", "training"]
    spells.append(start.assign(basis=_constant("first_observed", bases)))
    # training: start at the last student year in the training country
    tr = origins[origins["training_end"].notna()][["pidx", "training_country", "training_end"]]
    tr = tr.rename(columns={"training_country": "country", "training_end": "start"})
    spells.append(tr.assign(basis=_constant("training", bases)))
    sp = pd.concat(spells, ignore_index=True)
    sp["start"] = sp["start"].astype(np.int64)
    # first later year in another country
    later = y[["pidx", "year", "country"]].merge(
        sp[["pidx", "country", "start", "basis"]].rename(columns={"country": "home"}), on="pidx"
    )
    later = later[(later["year"] > later["start"]) & (later["country"] != later["home"])]
    leave = later.groupby(["pidx", "basis"], observed=True)["year"].min()
    leave = leave.rename("leave").reset_index()
    sp = sp.merge(leave, on=["pidx", "basis"], how="left")
    sp["event"] = sp["leave"].notna()
    sp["time"] = np.where(
        sp["event"],
        sp["leave"].fillna(0) - sp["start"],
        last.reindex(sp["pidx"]).to_numpy() - sp["start"],
    ).astype(np.int64)
    sp["cohort_year"] = sp["start"]
    sp = _pooled(_with_subsets(sp, subsets), "cohort_year")
    keys = ["country", "cohort_year", "basis", "subset"]
    return _km(sp, keys, k_max, panel.n_persons, "retained_share", complement=False)


def _returns(panel: Panel, subsets: dict[str, np.ndarray], k_max: int) -> _Builder:
    mv = panel.moves
    dep = mv.groupby(["pidx", "from_country"], as_index=False, observed=True)["year"].min()
    dep = dep.rename(columns={"from_country": "country", "year": "left"})
    back = mv[["pidx", "to_country", "year"]].rename(columns={"to_country": "country"})
    back = back.merge(dep, on=["pidx", "country"])
    back = back[back["year"] > back["left"]]
    back = back.groupby(["pidx", "country"], observed=True)["year"].min()
    dep = dep.merge(back.rename("back").reset_index(), on=["pidx", "country"], how="left")
    last = panel.years.drop_duplicates("pidx").set_index("pidx")["last_year"]
    dep["event"] = dep["back"].notna()
    dep["time"] = np.where(
        dep["event"],
        dep["back"].fillna(0) - dep["left"],
        last.reindex(dep["pidx"]).to_numpy() - dep["left"],
    ).astype(np.int64)
    dep = _with_subsets(dep, subsets)
    return _km(dep, ["country", "subset"], k_max, panel.n_persons, "return_share", complement=True)


# --------------------------------------------------------------------------- origin_work


def _origin_work(
    panel: Panel, auth: pd.DataFrame, origins: pd.DataFrame, subfields: tuple[str, ...] = ()
) -> _Builder:
    if len(auth):
        # only the papers the population rule admits (rejected/withdrawn submissions are
        # careers evidence, not members of a venue-year's population)
        auth = auth[auth["in_population"].to_numpy(bool)]
    if len(auth) == 0:
        return _empty_origin_work(panel.n_persons)
    # the row keys are categoricals (codes over a few labels): rows are twice the authorships
    # times the subsets, and string columns of that length cost gigabytes at 10M slots
    subsets = sorted({"all", "llm", TOP, *subfields})
    hits = {"all": None, "llm": auth["is_llm"].to_numpy(bool), TOP: auth["is_top"].to_numpy(bool)}
    hits |= {name: (auth["subfield"] == name).to_numpy(bool) for name in subfields}
    # one integer per (person, year, population); a subset's rows are its distinct numbers
    population = auth["population"].array
    pidx, year = auth["pidx"].to_numpy(np.int64), auth["year"].to_numpy(np.int64)
    y0 = int(year.min())
    n_pop, span = len(population.categories), int(year.max()) - y0 + 1
    triple, triples = pd.factorize((pidx * span + (year - y0)) * n_pop + population.codes)
    parts = []
    for name, hit in hits.items():
        seen = np.zeros(len(triples), dtype=bool)  # marking, not sorting, the numbers
        seen[triple if hit is None else triple[hit]] = True
        mine = np.flatnonzero(seen)
        parts.append((np.full(len(mine), subsets.index(name), dtype=np.int8), triples[mine]))
    code = np.concatenate([t for _, t in parts])
    pidx, rest = np.divmod(code, span * n_pop)
    year, pop_code = np.divmod(rest, n_pop)
    year += y0
    # the country of each (person, year) in the panel, by position (the panel has every
    # year of a person's span); rows outside the span are dropped
    row = _panel_row(panel, pidx, year)
    inside = row >= 0
    pidx, row = pidx[inside], row[inside]
    subset_code = np.concatenate([s for s, _ in parts])[inside]
    work = panel.years["country"].array.take(row)
    bases = {"first_observed": "first_country", "training": "training_country"}
    names = sorted(bases)
    # one (codes, categories) pair per key of OW_KEYS; the two bases' rows one after the other
    origin_codes, origin_cats = [], []
    for col in bases.values():
        origin = origins[col].to_numpy(dtype=object)  # origins are in pidx order
        origin = pd.Categorical(np.where(pd.isna(origin), UNKNOWN, origin))
        origin_codes.append(origin.codes)
        origin_cats.append(origin.categories)
    # the origins of both bases over one set of categories (sorted, as each basis's are)
    cats = origin_cats[0].union(origin_cats[1]).sort_values()
    origin = np.concatenate(
        [cats.get_indexer(c)[o][pidx] for o, c in zip(origin_codes, origin_cats, strict=True)]
    )
    doubled = [np.concatenate([a, a]) for a in (pop_code[inside], subset_code, work.codes)]
    basis = np.repeat(np.array([names.index(b) for b in bases], np.int8), len(pidx))
    keys = [
        (doubled[0], population.categories),
        (doubled[1], pd.Index(subsets)),
        (basis, pd.Index(names)),
        (origin, cats),
        (doubled[2], work.categories),
    ]
    del doubled, origin, basis
    leaf, codes = _coded_cells(keys, OW_KEYS)
    m = bs.PersonSums(codes, np.concatenate([pidx, pidx]), len(leaf), panel.n_persons)
    return _origin_work_builder(leaf, m)


def _coded_cells(
    keys: list[tuple[np.ndarray, pd.Index]], names: list[str]
) -> tuple[pd.DataFrame, np.ndarray]:
    """What ``bootstrap.cells`` gives for categorical key columns, from their codes.

    ``keys``: per column, the codes of the rows and their categories. The cells are the
    distinct combinations in the order of the columns' codes (``bootstrap.KeyIndex`` orders a
    categorical column's levels by their codes too); no frame of the rows is made and one
    integer per row is hashed, not one per column.
    """
    code = np.zeros(len(keys[0][0]), dtype=np.int64)
    for c, cats in keys:
        if len(c) and c.min() < 0:
            raise ValueError("a key of origin_work is NULL")
        code *= max(len(cats), 1)
        code += c
    found, uniques = pd.factorize(code)
    order = np.argsort(uniques, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    cells = uniques[order]
    columns = {}
    for name, (_, cats) in reversed(list(zip(names, keys, strict=True))):
        radix = max(len(cats), 1)
        columns[name] = np.asarray(cats, dtype=object).take(cells % radix)
        cells = cells // radix
    return pd.DataFrame({n: columns[n] for n in names}), rank[found]


#: The cells of ``origin_work``.
OW_KEYS = ["population", "subset", "origin_basis", "origin_country", "work_country"]


def _empty_origin_work(n_persons: int) -> _Builder:
    """``origin_work`` without populations: no rows, the table's columns."""
    empty = pd.DataFrame({k: pd.Series([], dtype=object) for k in OW_KEYS}).assign(pidx=[])
    b = _count_table(empty, OW_KEYS, n_persons)
    b.order = ["n", "share", "origin_share", "unknown_origin_share"]
    b.ci_names = {"n": "n_", "share": "", "origin_share": "origin_share_"}
    stats = dict.fromkeys(b.order, "n")
    b.spec = bs.Spec(
        b.spec.matrices,
        lambda s: {k: s[v] for k, v in stats.items()},
        ("n", "share", "origin_share"),
    )
    return b


def _origin_work_builder(leaf: pd.DataFrame, m: Sums, fold: Any = None) -> _Builder:
    """``origin_work`` from the persons counted per leaf cell (``leaf``: the distinct
    :data:`OW_KEYS`, in cell order; ``m``: their sums): the ALL margins, shares and origin
    shares are functions of those sums.

    ``fold`` (sparse, leaf cells x cells of ``m``): ``m`` counts finer cells, and a leaf
    cell's count is the sum of the counts of its finer cells (``fold @ m``).
    """
    keys = OW_KEYS
    # the ALL margin is the sum over origins (unknown included), added after the products
    margins, margin_of = bs.cells(leaf.assign(origin_country=ALL), keys)
    agg = bs.incidence(margin_of, np.arange(len(leaf)), len(margins), len(leaf))
    universe = pd.concat([leaf, margins], ignore_index=True)
    perm = universe.sort_values(keys, kind="stable").index.to_numpy()
    universe = universe.iloc[perm].reset_index(drop=True)
    margin = (universe["origin_country"] == ALL).to_numpy()
    group_keys, groups = bs.cells(universe, ["population", "subset", "origin_basis"])
    pop_total = bs.grouper(groups, len(group_keys))
    origin_keys, origin_groups = bs.cells(
        universe, ["population", "subset", "origin_basis", "origin_country"]
    )
    origin_total = bs.grouper(origin_groups, len(origin_keys))
    unknown = (universe["origin_country"] == UNKNOWN).to_numpy()

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        n = s["n"] if fold is None else np.asarray(fold @ s["n"])
        n = np.vstack([n, np.asarray(agg @ n)])[perm]
        den = pop_total(n * margin[:, None])
        return {
            "n": n,
            "share": bs.safe_div(n, den),
            # conditional on the origin: of the persons of this origin (all work countries)
            "origin_share": bs.safe_div(n, origin_total(n)),
            "unknown_origin_share": bs.safe_div(pop_total(n * unknown[:, None]), den),
        }

    spec = bs.Spec({"n": m}, combine, ("n", "share", "origin_share"))
    order = ["n", "share", "origin_share", "unknown_origin_share"]
    names = {"n": "n_", "share": "", "origin_share": "origin_share_"}
    return _Builder(universe, spec, "n", order, names)
