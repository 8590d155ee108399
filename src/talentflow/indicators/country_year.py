"""The ``country_year`` table: stocks, flows, rates and returns per country and year (see
:mod:`talentflow.indicators.compute` for the definitions)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from talentflow.indicators import bootstrap as bs
from talentflow.indicators.cells import STAGE_PREFIX, _Builder
from talentflow.indicators.panel import Panel

# --------------------------------------------------------------------------- country_year


class _CellCoder:
    """Integer codes of ``country_year`` cells, computed on arrays (no string work per row).

    A cell is ``((country * n_years + year) * n_subsets + subset) * n_sectors + sector`` over
    sorted levels, so sorted codes are cells in the order of sorted (country, year, subset,
    sector), and ``cell % per_country`` is the cell's (year, subset, sector).
    """

    def __init__(self, panel: Panel, subsets: list[str]) -> None:
        y, mv = panel.years, panel.moves
        countries = _distinct(y["country"], panel.frac["country"])
        self.countries = pd.Index(countries).sort_values()
        sectors = _distinct(y["sector"], mv["from_sector"], mv["to_sector"])
        self.sectors = pd.Index(["all", *sectors]).unique().sort_values()
        self.subsets = pd.Index(subsets).sort_values()
        self.y0 = int(y["year"].min()) if len(y) else 0
        self.n_years = int(y["year"].max()) - self.y0 + 1 if len(y) else 1
        self.all_sector = int(self.sectors.get_loc("all"))
        self.per_country = self.n_years * len(self.subsets) * len(self.sectors)
        self.size = len(self.countries) * self.per_country  # number of possible codes

    def code(
        self, country: np.ndarray, year: np.ndarray, subset: np.ndarray, sector: np.ndarray
    ) -> np.ndarray:
        c = (country * self.n_years + (year - self.y0)) * len(self.subsets) + subset
        return c * len(self.sectors) + sector

    def to_all_sectors(self, cells: np.ndarray) -> np.ndarray:
        """The code of the same cell with sector ``all``."""
        return cells - cells % len(self.sectors) + self.all_sector

    def frame(self, cells: np.ndarray) -> pd.DataFrame:
        rest = cells.copy()
        sector = rest % len(self.sectors)
        rest //= len(self.sectors)
        subset = rest % len(self.subsets)
        rest //= len(self.subsets)
        return pd.DataFrame(
            {
                "country": self.countries.take(rest // self.n_years).to_numpy(),
                "year": (rest % self.n_years + self.y0).astype(np.int64),
                "subset": self.subsets.take(subset).to_numpy(),
                "sector": self.sectors.take(sector).to_numpy(),
            }
        )


def _distinct(*columns: pd.Series) -> list[str]:
    """The distinct values of ``columns`` as strings, in order of first appearance.

    A categorical column is read from its codes (its few categories), not row by row.
    """
    found: list[str] = []
    for col in columns:
        if isinstance(col.dtype, pd.CategoricalDtype):
            codes = col.cat.codes.to_numpy()
            used = pd.unique(codes)
            values = [str(v) for v in col.cat.categories.take(used[used >= 0])]
            found += values + (["nan"] if (used < 0).any() else [])
        else:
            found += list(col.astype(str).unique())
    return list(dict.fromkeys(found))


def _codes_of(values: pd.Series, levels: pd.Index, prefix: str = "") -> np.ndarray:
    """Position of each value (as ``prefix + str(value)``) in ``levels``.

    Factorised first (few distinct strings); a categorical column is already factorised.
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        codes = values.cat.codes.to_numpy()
        uniques = [str(v) for v in values.cat.categories] + ["nan"]  # code -1: last
    else:
        codes, uniques = pd.factorize(values.astype(str))
    return levels.get_indexer([prefix + u for u in uniques])[codes].astype(np.int64)


def _stage_names(panel: Panel, stages: bool) -> list[str]:
    if not stages:
        return []
    return [STAGE_PREFIX + s for s in _distinct(panel.years["stage"], panel.moves["from_stage"])]


def _rows(
    coder: _CellCoder,
    subsets: dict[str, np.ndarray],
    stages: bool,
    frame: pd.DataFrame,
    cols: tuple[str, str, str],
    weight: str | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(cell, pidx, value) of ``frame``'s rows in every subset (and stage), by sector.

    ``cols`` name the country, sector and stage columns. Only the sector of the row is coded;
    sector ``all`` is the sum over sectors, added after the sums. ``value`` is None when
    every row counts 1.
    """
    country, sector, stage = cols
    pidx = frame["pidx"].to_numpy(np.int64)
    value = None if weight is None else frame[weight].to_numpy(np.float64)
    country_c = _codes_of(frame[country], coder.countries)
    sector_c = _codes_of(frame[sector], coder.sectors)
    year = frame["year"].to_numpy(np.int64)
    # the code of subset 0; another subset's code is this plus its number times n_sectors
    base = coder.code(country_c, year, np.zeros(len(frame), np.int64), sector_c)
    step = len(coder.sectors)
    parts = [(int(coder.subsets.get_loc(k)), mask[pidx]) for k, mask in subsets.items()]
    cells = [base[m] + k * step for k, m in parts]
    pids = [pidx[m] for _, m in parts]
    values = [] if value is None else [value[m] for _, m in parts]
    if stages:
        stage_c = _codes_of(frame[stage], coder.subsets, STAGE_PREFIX)
        cells.append(base + stage_c * step)
        pids.append(pidx)
        values += [] if value is None else [value]
    if not cells:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), None if value is None else np.zeros(0)
    return (
        np.concatenate(cells),
        np.concatenate(pids),
        None if value is None else np.concatenate(values),
    )


def _occurring(codes: list[np.ndarray], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct codes (``0 <= code < size``) and each code's position among them.

    Codes are marked in an array of ``size`` flags: no sort of the tens of millions of rows.
    """
    seen = np.zeros(size, dtype=bool)
    for c in codes:
        if len(c) and c.min() < 0:
            raise ValueError("a country_year cell code is negative (a level is missing)")
        seen[c] = True
    found = np.flatnonzero(seen)
    at = np.full(size, -1, dtype=np.int64)
    at[found] = np.arange(len(found))
    return found, at


def _sector_sum(cells: np.ndarray, coder: _CellCoder) -> tuple[np.ndarray, Any]:
    """Cells of sector ``all`` and the sparse (all-cells x cells) matrix summing into them."""
    alls, of = np.unique(coder.to_all_sectors(cells), return_inverse=True)
    agg = bs.incidence(of, np.arange(len(cells)), len(alls), len(cells))
    return alls, agg


@dataclass
class _Totals:
    """Every country's stock per (year, subset, sector): the denominator of ``stock_share``.

    The same for a panel and its regroupings, so one matrix serves every ``country_year``
    builder (and is multiplied once per bootstrap block).
    """

    keys: pd.DataFrame  # year, subset, sector: the leaf rows, then the sector-all rows
    matrix: bs.PersonSums  # leaf rows x persons
    agg: Any  # sector-all rows x leaf rows
    leaf: np.ndarray  # the leaf rows' codes (a country cell's code modulo ``per_country``)
    per_country: int
    #: the ungrouped panel's stock (its cell coder, leaf cells and sums), set by its
    #: ``country_year`` builder: a regrouping's stock is the sum of its members' cells
    stock: tuple[_CellCoder, np.ndarray, bs.PersonSums] | None = None

    @classmethod
    def of(cls, panel: Panel, subsets: dict[str, np.ndarray], stages: bool) -> _Totals:
        coder = _CellCoder(panel, [*subsets, *_stage_names(panel, stages)])
        cell, pidx, _ = _rows(coder, subsets, stages, panel.years, ("country", "sector", "stage"))
        cell %= coder.per_country
        leaf, at_leaf = _occurring([cell], coder.per_country)
        of = at_leaf[cell]
        alls, agg = _sector_sum(leaf, coder)
        keys = coder.frame(np.concatenate([leaf, alls]))[["year", "subset", "sector"]]
        # shared by every builder of the panel and its regroupings, in separate bootstrap runs
        matrix = bs.PersonSums(of, pidx, len(leaf), panel.n_persons, keep=True)
        return cls(keys.reset_index(drop=True), matrix, agg, leaf, coder.per_country)

    def summed_from(self, coder: _CellCoder, leaf: np.ndarray, stock: bs.PersonSums) -> None:
        """Mark the totals as the sum of every country's ``stock`` cells (``leaf``: their
        codes by ``coder``, which must code this panel; see :meth:`bs.PersonSums.summed_via`)."""
        if coder.per_country != self.per_country or not len(self.leaf):
            return
        at = np.minimum(np.searchsorted(self.leaf, leaf % coder.per_country), len(self.leaf) - 1)
        ok = np.flatnonzero(self.leaf[at] == leaf % coder.per_country)
        agg = bs.incidence(at[ok], ok, len(self.leaf), len(leaf))
        self.matrix.summed_via(stock, agg)

    def full(self, leaf_sums: np.ndarray, *, pad: bool = False) -> np.ndarray:
        """Totals in ``keys`` order (``pad``: plus a row of zeros at the end)."""
        parts = [leaf_sums, np.asarray(self.agg @ leaf_sums)]
        if pad:
            parts.append(np.zeros((1, leaf_sums.shape[1]), dtype=leaf_sums.dtype))
        return np.vstack(parts)


def _country_year(
    panel: Panel,
    subsets: dict[str, np.ndarray],
    *,
    stages: bool = False,
    keep: set[str] | None = None,
    totals: _Totals | None = None,
    mapping: dict[str, str] | None = None,
) -> _Builder:
    """Stocks, flows and rates per (country, year, subset, sector).

    ``stages`` adds the ``stage:<career stage>`` subsets (by the person-year's stage);
    ``keep`` restricts the cells to these countries (``stock_share`` still divides by every
    country's stock), which is how groups are computed; ``totals`` of the ungrouped panel may
    be passed to share them. With ``totals``, the ungrouped panel's builder records its stock
    there, and a regrouping's (``mapping``: country -> group) sums its members' stock cells
    instead of multiplying the persons again (:meth:`bs.PersonSums.summed_via`).
    """
    own = totals is None
    totals = totals or _Totals.of(panel, subsets, stages)
    coder = _CellCoder(panel, [*subsets, *_stage_names(panel, stages)])
    y, mv = panel.years, panel.moves
    first, last = (
        (y["year"] == y["first_year"]).to_numpy(),
        (y["year"] == y["last_year"]).to_numpy(),
    )
    here, arrival, departure = (
        ("country", "sector", "stage"),
        ("to_country", "to_sector", "to_stage"),
        ("from_country", "from_sector", "from_stage"),
    )
    sources = {
        "stock": (y, here, None),
        "stock_frac": (panel.frac, here, "weight"),
        # an arrival counts under the sector (stage) of the arrival year, a departure under
        # the sector (stage) of the year before
        "inflow": (mv, arrival, None),
        "outflow": (mv, departure, None),
        "returns": (mv[mv["is_return"].to_numpy(bool)], arrival, None),
        "entries": (y[first], here, None),
        "exits": (y[last], here, None),
    }
    rows = {}
    for name, (source, cols, weight) in sources.items():
        # a group's cells need only the rows in the group (totals come from `totals`)
        mine = source if keep is None else source[source[cols[0]].isin(keep).to_numpy()]
        rows[name] = _rows(coder, subsets, stages, mine, cols, weight)
    leaf, at_leaf = _occurring([c for c, _, _ in rows.values()], coder.size)
    alls, agg = _sector_sum(leaf, coder)
    cells = np.concatenate([leaf, alls])
    perm = np.argsort(cells, kind="stable")
    universe = coder.frame(cells[perm])
    n_leaf, n_p = len(leaf), panel.n_persons
    matrices = {
        name: bs.PersonSums(at_leaf[c], p, n_leaf, n_p, v) for name, (c, p, v) in rows.items()
    }
    del rows
    if keep is None:
        # every person-year is in some country's stock: the totals are their sum
        totals.summed_from(coder, leaf, matrices["stock"])
    if keep is None and not own:
        matrices["stock"].keep = True  # read by the regroupings' builders
        totals.stock = (coder, leaf, matrices["stock"])
    elif totals.stock is not None and mapping is not None:
        base_coder, base_leaf, base = totals.stock
        members = _member_cells(base_coder, base_leaf, coder, at_leaf, mapping, keep or set())
        matrices["stock"] = matrices["stock"].summed_via(base, members)
    del at_leaf
    matrices["total"] = totals.matrix
    key_cols = ["year", "subset", "sector"]
    at_total = pd.MultiIndex.from_frame(totals.keys).get_indexer(
        pd.MultiIndex.from_frame(universe[key_cols])
    )
    # a (year, subset, sector) with departures but no stock anywhere: denominator 0 (NaN share)
    at_total = np.where(at_total < 0, len(totals.keys), at_total)

    def full(leaf_sums: np.ndarray) -> np.ndarray:
        return np.vstack([leaf_sums, np.asarray(agg @ leaf_sums)])[perm]

    def combine(s: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        f = {k: full(v) for k, v in s.items() if k != "total"}
        return statistics(f, totals.full(s["total"], pad=True)[at_total])

    return builder(universe, matrices, combine)


def _member_cells(
    base: _CellCoder,
    base_leaf: np.ndarray,
    coder: _CellCoder,
    at_leaf: np.ndarray,
    mapping: dict[str, str],
    keep: set[str],
) -> Any:
    """The (cells x ungrouped cells) 0/1 matrix adding each member country's cell into its
    group's cell of the same (year, subset, sector); cells of other countries add nowhere."""
    rest = base_leaf.copy()
    sector = rest % len(base.sectors)
    rest //= len(base.sectors)
    subset = rest % len(base.subsets)
    rest //= len(base.subsets)
    year = rest % base.n_years + base.y0
    group = pd.Index([mapping.get(c, c) for c in base.countries])
    country = coder.countries.get_indexer(group.where(group.isin(list(keep)), None))
    country = country[rest // base.n_years]
    subset = coder.subsets.get_indexer(base.subsets)[subset]
    sector = coder.sectors.get_indexer(base.sectors)[sector]
    ok = (country >= 0) & (subset >= 0) & (sector >= 0)
    ok &= (year >= coder.y0) & (year < coder.y0 + coder.n_years)
    code = coder.code(country, year, subset, sector)
    target = np.where(ok, at_leaf[np.where(ok, code, 0)], -1)
    hit = np.flatnonzero(target >= 0)
    n_cells = int(at_leaf.max()) + 1 if len(at_leaf) else 0
    return bs.incidence(target[hit], hit, n_cells, len(base_leaf))


#: ``country_year``'s statistics with intervals (entries and exits are reported without).
CI = (
    "stock",
    "stock_frac",
    "stock_share",
    "inflow",
    "outflow",
    "net_flow",
    "inflow_rate",
    "outflow_rate",
    "net_rate",
    "returns",
)


def statistics(f: dict[str, np.ndarray], world: np.ndarray) -> dict[str, np.ndarray]:
    """Every ``country_year`` statistic from the cells' sums ``f`` (``stock``, ``stock_frac``,
    ``inflow``, ``outflow``, ``returns``, ``entries``, ``exits``) and each cell's ``world``
    stock (the denominator of ``stock_share``)."""
    stock = f["stock"]
    net = f["inflow"] - f["outflow"]
    return {
        "stock": stock,
        "stock_frac": f["stock_frac"],
        "stock_share": bs.safe_div(stock, world),
        "inflow": f["inflow"],
        "outflow": f["outflow"],
        "net_flow": net,
        "inflow_rate": bs.safe_div(f["inflow"], stock, 1000.0),
        "outflow_rate": bs.safe_div(f["outflow"], stock, 1000.0),
        "net_rate": bs.safe_div(net, stock, 1000.0),
        "returns": f["returns"],
        "entries": f["entries"],
        "exits": f["exits"],
    }


def builder(universe: pd.DataFrame, matrices: dict[str, Any], combine: Any) -> _Builder:
    """The ``country_year`` builder of cells ``universe`` (sorted key rows)."""
    order = [*CI, "entries", "exits"]  # entries/exits are reported without intervals
    spec = bs.Spec(matrices, combine, CI, point_only=("entries", "exits"))
    return _Builder(universe, spec, "stock", order, {c: f"{c}_" for c in CI})
