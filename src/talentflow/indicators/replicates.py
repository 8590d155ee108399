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


def weights_table(persons: Any, replicates: int, seed: int) -> Any:
    """``key, w1 .. w<replicates>``: the weights of each person of ``persons`` (an Ibis table
    with a ``key`` column), to be materialised once and joined by every sum."""
    names = {f"w{r}": r for r in range(1, replicates + 1)}
    return with_weights(persons.select("key"), "key", names, seed)


def replicate_sums(
    contributions: Any,
    n_cells: int,
    replicates: int | range,
    seed: int,
    *,
    weights: Any = None,
    block: int = 25,
) -> np.ndarray:
    """``n_cells x len(replicates)`` float64 replicate sums, computed on the engine.

    Parameters
    ----------
    contributions
        Ibis table with ``cell`` (integer, ``0..n_cells-1``), ``key`` (the person's
        non-negative integer key) and ``value`` (numeric).
    replicates, seed
        Replicates ``1..replicates`` (or the replicate numbers of a ``range``) of the weights
        drawn with ``seed``.
    weights
        A materialised :func:`weights_table` with the same seed holding every replicate asked
        for (default: the weights are drawn in the query, per distinct person).
    block
        Replicates per query (each is an aggregate column; wider queries are heavier to plan).
    """
    missing = {"cell", "key", "value"} - set(contributions.columns)
    if missing:
        raise ValueError(f"contributions lack column(s) {sorted(missing)}")
    numbers = range(1, replicates + 1) if isinstance(replicates, int) else replicates
    out = np.zeros((n_cells, len(numbers)), dtype=np.float64)
    persons = contributions.select("key").distinct()
    for start in range(0, len(numbers), block):
        names = {
            f"w{numbers[i]}": numbers[i] for i in range(start, min(start + block, len(numbers)))
        }
        if weights is None:
            drawn = with_weights(persons, "key", names, seed)
        else:
            drawn = weights.select("key", *names)
        j = contributions.inner_join(drawn, "key")
        sums = j.group_by("cell").aggregate(
            **{
                f"s{name}": (j[name].cast("float64") * j.value.cast("float64")).sum()
                for name in names
            }
        )
        got = sums.to_pyarrow()
        cell = got.column("cell").to_numpy().astype(np.int64)
        if len(cell) and (cell.min() < 0 or cell.max() >= n_cells):
            raise ValueError(f"cell numbers outside 0..{n_cells - 1}")
        for i, name in enumerate(names, start):
            out[cell, i] = got.column(f"s{name}").to_numpy(zero_copy_only=False)
    return out
