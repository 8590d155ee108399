"""Bootstrap replicates as a map-reduce on the engine: per-person contributions in, only
cells x replicates sums out.

Given an Ibis table of contributions ``cell, key, value`` (what person ``key`` adds to cell
``cell``), replicate ``r``'s sum of a cell is ``sum(value * w(key, r, seed))`` with ``w`` the
portable Poisson(1) weight of :mod:`talentflow.indicators.weights`. The engine draws the
weights once per distinct person and block of replicates (one column per replicate), joins
them to the contributions and sums per cell, one aggregate column per replicate: the driver
receives ``n_cells x replicates`` numbers and nothing per person. The same seed gives the same
sums on every engine (up to the order of floating-point additions) and the same as
:class:`talentflow.indicators.bootstrap.Weights` gives on the driver for the same keys.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from talentflow.indicators.weights import with_weights


def replicate_sums(
    contributions: Any, n_cells: int, replicates: int, seed: int, *, block: int = 25
) -> np.ndarray:
    """``n_cells x replicates`` float64 replicate sums, computed on the engine.

    Parameters
    ----------
    contributions
        Ibis table with ``cell`` (integer, ``0..n_cells-1``), ``key`` (the person's
        non-negative integer key) and ``value`` (numeric).
    replicates, seed
        Replicates ``1..replicates`` of the weights drawn with ``seed``.
    block
        Replicates per query (each is an aggregate column; wider queries are heavier to plan).
    """
    missing = {"cell", "key", "value"} - set(contributions.columns)
    if missing:
        raise ValueError(f"contributions lack column(s) {sorted(missing)}")
    out = np.zeros((n_cells, replicates), dtype=np.float64)
    persons = contributions.select("key").distinct()
    for start in range(0, replicates, block):
        stop = min(start + block, replicates)
        names = {f"w{r}": r for r in range(start + 1, stop + 1)}
        drawn = with_weights(persons, "key", names, seed)
        j = contributions.inner_join(drawn, "key")
        sums = j.group_by("cell").aggregate(
            **{
                f"s{r}": (j[name].cast("float64") * j.value.cast("float64")).sum()
                for name, r in names.items()
            }
        )
        got = sums.to_pyarrow()
        cell = got.column("cell").to_numpy().astype(np.int64)
        if len(cell) and (cell.min() < 0 or cell.max() >= n_cells):
            raise ValueError(f"cell numbers outside 0..{n_cells - 1}")
        for r in range(start + 1, stop + 1):
            out[cell, r - 1] = got.column(f"s{r}").to_numpy(zero_copy_only=False)
    return out
