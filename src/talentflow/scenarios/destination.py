"""The destination choice of the move model, fitted on moves counted per cell.

A cell is (current country group, first country group, destination, year, earlier
affiliations); every move in a cell has the same alternatives and features, so the
conditional logit is fitted with the cell's count as weight, which gives the same estimates as
one observation per move. The person-clustered covariance uses, per pair of cells, the sum
over persons of the product of their moves in each (:func:`talentflow.scenarios.cells.
choice_cells`), which gives the same sandwich as summing scores per person.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from talentflow.scenarios.choice import fit_conditional_logit, nearest_psd
from talentflow.scenarios.options import FitOptions, PolicyTerm

CELL_KEYS = ["C", "O", "J", "year", "ties"]


@dataclass
class ChoicePart:
    """The fitted destination choice."""

    names: list[str]
    params: np.ndarray
    cov: np.ndarray
    n_moves: int
    #: column index of each destination's constant (``k`` for the reference), and of
    #: destination x period deviations, shape (J, n_periods).
    asc: np.ndarray
    dev: np.ndarray
    tie_origin: int
    tie_prior: int

    def draw(self, n: int, rng: np.random.Generator) -> np.ndarray:
        d = rng.multivariate_normal(self.params, nearest_psd(self.cov), size=n, method="cholesky")
        return np.hstack([d, np.zeros((n, 1))])

    def point(self) -> np.ndarray:
        return np.hstack([self.params, [0.0]])[None, :]

    def table(self) -> pd.DataFrame:
        se = np.sqrt(np.clip(np.diag(self.cov), 0, None))
        return pd.DataFrame(
            {"part": "choice", "parameter": self.names, "estimate": self.params, "se": se}
        )


def tie_bits(ties: np.ndarray, n_groups: int) -> np.ndarray:
    """The bit sets of :func:`talentflow.scenarios.cells.tie_cells` as a boolean matrix."""
    return ((np.asarray(ties, dtype=np.int64)[:, None] >> np.arange(n_groups)) & 1).astype(bool)


def tie_share(ties: pd.DataFrame, n_groups: int) -> np.ndarray:
    """Share of each (C, O) state cell with an earlier affiliation in each group J."""
    C = n_groups
    ci, oi = ties["C"].to_numpy(), ties["O"].to_numpy()
    w = ties["n"].to_numpy(float)
    num = np.zeros((C, C, C))
    den = np.zeros((C, C))
    np.add.at(den, (ci, oi), w)
    np.add.at(num, (ci, oi), tie_bits(ties["ties"].to_numpy(), C) * w[:, None])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den[..., None] > 0, num / den[..., None], 0.0)


def _pair_matrix(cells: pd.DataFrame, pairs: pd.DataFrame) -> sp.csr_matrix:
    """``N[a, b]`` = sum over persons of (moves in cell a) x (moves in cell b)."""
    idx = cells[CELL_KEYS].assign(_i=np.arange(len(cells)))
    a = pairs.merge(idx.rename(columns={c: f"{c}_a" for c in CELL_KEYS}), how="left")
    a = a.merge(
        idx.rename(columns={c: f"{c}_b" for c in CELL_KEYS}),
        how="left",
        on=[f"{c}_b" for c in CELL_KEYS],
        suffixes=("_a", "_b"),
    )
    n = len(cells)
    return sp.csr_matrix(
        (a["n"].to_numpy(float), (a["_i_a"].to_numpy(), a["_i_b"].to_numpy())), shape=(n, n)
    )


def fit_choice(
    cells: pd.DataFrame,
    pairs: pd.DataFrame,
    groups: list[str],
    periods: np.ndarray,
    terms: tuple[PolicyTerm, ...],
    opts: FitOptions,
) -> tuple[ChoicePart, dict]:
    """Fit the destination choice on ``cells`` (moves per cell; ``periods``: each cell's
    period index) with person-clustered covariance from ``pairs``."""
    C = len(groups)
    oth = C - 1
    n = len(cells)
    ci, oi, ji = (cells[k].to_numpy() for k in ("C", "O", "J"))
    yr = cells["year"].to_numpy() + 1
    pi = periods
    w = cells["n"].to_numpy(float)
    prior = tie_bits(cells["ties"].to_numpy(), C)

    J = C
    avail = np.ones((n, J), dtype=bool)
    avail[np.arange(n), ci] = ci == oth
    rows_i = np.repeat(np.arange(n), J)
    alt = np.tile(np.arange(J), n)
    base = rows_i * J + alt

    names: list[str] = []
    data_r: list[np.ndarray] = []
    data_c: list[np.ndarray] = []
    data_v: list[np.ndarray] = []

    def add(mask: np.ndarray, name: str) -> int:
        col = len(names)
        names.append(name)
        idx = np.flatnonzero(mask)
        data_r.append(base[idx])
        data_c.append(np.full(len(idx), col))
        data_v.append(np.ones(len(idx)))
        return col

    asc = np.full(J, -1, dtype=np.int64)
    for j in range(J):
        if j == oth:
            continue
        asc[j] = add(alt == j, f"asc[{groups[j]}]")
    dev = np.full((J, opts.n_periods), -1, dtype=np.int64)
    per_long = np.repeat(pi, J)
    n_fixed = len(names)
    # A policy term on a destination *is* a change of its attractiveness from a year on: leave
    # that destination's period deviations out, or they would share the effect with it.
    no_dev = {
        groups.index(t.country)
        for t in terms
        if t.kind in ("inflow", "return") and t.country in groups
    }
    for j in range(J):
        if j in no_dev:
            continue
        for p in range(opts.n_periods):
            m = (alt == j) & (per_long == p)
            if m.any():
                dev[j, p] = add(m, f"dev[{groups[j]},{p}]")
    n_dev_end = len(names)
    o_long = np.repeat(oi, J)
    c_long = np.repeat(ci, J)
    tie_o = add((alt == o_long) & (c_long != o_long), "tie_origin")
    # the cells' tie sets already leave out the origin, the current country and OTHER
    tie_p = add(prior.ravel(), "tie_prior")
    y_long = np.repeat(yr, J)
    for t in terms:
        if t.kind == "inflow" and t.country in groups:
            tj = groups.index(t.country)
            m = (alt == tj) & (y_long >= t.from_year)
            if t.origins:
                ok_o = np.isin(np.asarray(groups)[c_long], list(t.origins))
                m &= ok_o
            if m.any():
                add(m, t.name)
        elif t.kind == "return" and t.country in groups:
            tj = groups.index(t.country)
            ret = (alt == tj) & (o_long == tj) & (c_long != tj)
            # The country's own return tie before the policy. The common ``tie_origin`` does
            # not fit every origin (a return adds more to a rarely chosen destination), and the
            # term would otherwise measure the post-policy tie against the common one.
            own_tie = f"tie_origin[{t.country}]"
            if own_tie not in names and ret.any():
                add(ret, own_tie)
            m = ret & (y_long >= t.from_year)
            if m.any():
                add(m, t.name)
    k = len(names)
    X = sp.csr_matrix(
        (np.concatenate(data_v), (np.concatenate(data_r), np.concatenate(data_c))),
        shape=(n * J, k),
    )
    pen = np.zeros(k)
    pen[n_fixed:n_dev_end] = 1.0 / opts.dev_sd**2
    # Weak prior (sd 10) on constants, ties and policy terms too: a destination or tie nobody
    # chose stays finite instead of sending Newton off to -inf.
    pen[:n_fixed] = 1e-2
    pen[n_dev_end:] = 1e-2
    # Moves of one person are not independent: person-clustered (sandwich) covariance.
    fit = fit_conditional_logit(
        X, ji, avail, penalty=pen, weights=w, cluster_pairs=_pair_matrix(cells, pairs)
    )
    asc_idx = np.where(asc < 0, k, asc)
    dev_idx = np.where(dev < 0, k, dev)
    part = ChoicePart(
        names=names,
        params=fit.params,
        cov=fit.cov,
        n_moves=int(w.sum()),
        asc=asc_idx,
        dev=dev_idx,
        tie_origin=tie_o,
        tie_prior=tie_p,
    )
    return part, {"X": X, "avail": avail, "weights": w}
