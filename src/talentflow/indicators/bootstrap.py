"""Cluster bootstrap over persons, vectorised.

Every indicator is a function of per-cell *weighted sums over persons*: a sparse matrix ``M``
(cells x persons) holds each person's contribution to each cell, so the estimate is ``M @ 1``
and replicate ``r`` is ``M @ w[:, r]``, where ``w`` holds Poisson(1) weights per person and
replicate (the Poisson bootstrap: resampling persons, i.e. clusters of person-years, events and
papers, with replacement). Ratios, rates and Kaplan-Meier products are computed from the
replicated sums, so they respect the clustering. Weights are drawn in blocks of replicates from
one seeded generator, in the order of the sorted person ids, so results are reproducible and do
not depend on the order of input rows.

Intervals are percentile intervals (2.5%, 97.5%) over replicates; a replicate whose statistic is
undefined (e.g. a zero denominator) is ignored for that cell.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp

Combine = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]


def incidence(
    cell: np.ndarray,
    pidx: np.ndarray,
    n_cells: int,
    n_persons: int,
    value: np.ndarray | None = None,
) -> sp.csr_matrix:
    """Sparse cells x persons matrix summing ``value`` (default 1) per (cell, person)."""
    data = np.ones(len(cell), dtype=np.float64) if value is None else np.asarray(value, np.float64)
    m = sp.csr_matrix(
        (data, (np.asarray(cell, np.int64), np.asarray(pidx, np.int64))),
        shape=(n_cells, n_persons),
    )
    m.sum_duplicates()
    return m


@dataclass
class Spec:
    """One table's bootstrap: named sum matrices and how to turn sums into statistics."""

    matrices: dict[str, sp.csr_matrix]
    combine: Combine
    ci: Sequence[str] = field(default_factory=tuple)  # statistics that get intervals


@dataclass
class Result:
    """Point estimates and interval bounds, one array per output statistic."""

    point: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]


def _apply(spec: Spec, w: np.ndarray) -> dict[str, np.ndarray]:
    sums = {k: np.asarray(m @ w) for k, m in spec.matrices.items()}
    return spec.combine(sums)


def run(
    specs: dict[str, Spec],
    n_persons: int,
    *,
    replicates: int = 200,
    seed: int = 0,
    block: int = 25,
) -> dict[str, Result]:
    """Estimate every spec and its 95% percentile interval.

    Parameters
    ----------
    specs
        Named :class:`Spec` objects sharing one person index (``0..n_persons-1``).
    replicates
        Number of bootstrap replicates (0: no intervals, bounds are NaN).
    seed
        Seed of the weight generator.
    block
        Replicates drawn at once (memory: ``n_persons * block`` float64 weights).
    """
    ones = np.ones((n_persons, 1))
    points = {name: {k: v[:, 0] for k, v in _apply(s, ones).items()} for name, s in specs.items()}
    reps: dict[str, dict[str, list[np.ndarray]]] = {
        name: {k: [] for k in points[name]} for name in specs
    }
    rng = np.random.default_rng(seed)
    done = 0
    while done < replicates:
        r = min(block, replicates - done)
        w = rng.poisson(1.0, size=(n_persons, r)).astype(np.float64)
        for name, s in specs.items():
            for k, v in _apply(s, w).items():
                if k in s.ci:
                    reps[name][k].append(v.astype(np.float32))
        done += r
    out: dict[str, Result] = {}
    for name in specs:
        low: dict[str, np.ndarray] = {}
        high: dict[str, np.ndarray] = {}
        for k, est in points[name].items():
            if replicates == 0 or len(est) == 0 or not reps[name][k]:
                low[k] = np.full(len(est), np.nan)
                high[k] = np.full(len(est), np.nan)
                continue
            mat = np.concatenate(reps[name][k], axis=1)
            low[k], high[k] = _percentiles(mat)
        out[name] = Result(points[name], low, high)
    return out


def _percentiles(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise 2.5% and 97.5% quantiles (linear interpolation), ignoring NaN replicates."""
    srt = np.sort(mat, axis=1)  # NaN sort last
    count = np.isfinite(mat).sum(axis=1)
    bounds = []
    for q in (0.025, 0.975):
        pos = q * np.maximum(count - 1, 0)
        lo_i = np.floor(pos).astype(np.int64)
        hi_i = np.minimum(lo_i + 1, np.maximum(count - 1, 0))
        frac = pos - lo_i
        a = np.take_along_axis(srt, lo_i[:, None], axis=1)[:, 0].astype(np.float64)
        b = np.take_along_axis(srt, hi_i[:, None], axis=1)[:, 0].astype(np.float64)
        val = a + (b - a) * frac
        bounds.append(np.where(count > 0, val, np.nan))
    return bounds[0], bounds[1]


def grouper(groups: np.ndarray, n_groups: int) -> Callable[[np.ndarray], np.ndarray]:
    """A function summing rows of ``values`` (cells x r) per group, broadcast back to cells."""
    groups = np.asarray(groups, np.int64)
    g = sp.csr_matrix(
        (np.ones(len(groups)), (groups, np.arange(len(groups)))), shape=(n_groups, len(groups))
    )

    def total(values: np.ndarray) -> np.ndarray:
        return np.asarray(g @ values)[groups]

    return total


def safe_div(num: np.ndarray, den: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """``scale * num / den`` with NaN where ``den`` is 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)


class KeyIndex:
    """Integer codes for combinations of key columns (vectorised; no per-row Python).

    Each column is factorised against its sorted distinct values; a combination's code is the
    mixed-radix number of its column codes, and the cells are the distinct codes, sorted.
    Key columns must not hold NULL (use sentinels).
    """

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        self.keys = keys
        self.levels = [pd.Index(pd.unique(frame[k])).sort_values() for k in keys]
        self.radix = [max(len(lv), 1) for lv in self.levels]
        self.cells = np.unique(self.combined(frame, keys))

    def combined(self, frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
        code = np.zeros(len(frame), dtype=np.int64)
        for col, levels, radix in zip(cols, self.levels, self.radix, strict=True):
            c = levels.get_indexer(frame[col])
            if len(c) and c.min() < 0:
                raise ValueError(f"value of {col!r} outside the key index (or NULL)")
            code = code * radix + c
        return code

    def codes(self, frame: pd.DataFrame, cols: list[str] | None = None) -> np.ndarray:
        """Cell number (0..len-1) of each row; ``cols`` name the key columns in ``frame``."""
        return np.searchsorted(self.cells, self.combined(frame, cols or self.keys))

    def frame(self) -> pd.DataFrame:
        """The cells as a DataFrame of key columns, in cell order."""
        out = {}
        rest = self.cells.copy()
        for key, levels, radix in reversed(
            list(zip(self.keys, self.levels, self.radix, strict=True))
        ):
            out[key] = levels.take(rest % radix).to_numpy() if len(levels) else []
            rest //= radix
        return pd.DataFrame({k: out[k] for k in self.keys})

    def __len__(self) -> int:
        return len(self.cells)


def cells(frame: pd.DataFrame, keys: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """Distinct key combinations (sorted) and each row's cell code."""
    index = KeyIndex(frame, keys)
    return index.frame(), index.codes(frame)
