"""Sums over persons whose contributions stay on the engine.

A table's contributions are Ibis expressions, one per statistic (``stock``, ``inflow``, ...),
with the table's label columns (e.g. ``country, year, subset, sector``), ``key`` (the
person's ``person_key``) and ``value``. :class:`EngineContributions` sums each per label
combination on the engine in one query (the point estimates: only cell-level aggregates reach
the driver); the driver lays the cells out (:meth:`EngineContributions.sums`), and each
statistic becomes an :class:`EngineSums`, which :func:`talentflow.indicators.bootstrap.run`
treats like a :class:`~talentflow.indicators.bootstrap.PersonSums`: its point sums are the
engine's, and its replicate sums come from the map-reduce of
:mod:`talentflow.indicators.replicates` over ``cell, key, value`` rows made on the engine by
joining the contributions to a small uploaded table of cell numbers.
"""

from __future__ import annotations

import itertools
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow as pa

_SEQUENCE = itertools.count()


class EngineContributions:
    """One table's contributions on ``engine``: ``stat -> expression`` (labels, key, value).

    Parameters
    ----------
    engine
        The :class:`talentflow.engines.Engine` the expressions run on.
    stats
        Statistic name -> Ibis expression with the ``labels`` columns, ``key`` and ``value``.
    labels
        The label columns (no NULLs: use sentinels).
    """

    TABLE = "_ind_cells"

    def __init__(self, engine: Any, stats: dict[str, Any], labels: list[str]) -> None:
        self.engine, self.stats, self.labels = engine, stats, labels
        self._index: Any = None
        self._cells: dict[str, pd.DataFrame] = {}

    def points(self) -> pd.DataFrame:
        """``stat, <labels>, value``: every statistic summed per label combination (one query;
        combinations without contributions are absent)."""
        parts = []
        for name, expr in self.stats.items():
            sums = expr.group_by(self.labels).aggregate(value=expr.value.cast("float64").sum())
            parts.append(sums.mutate(stat=ibis.literal(name)))
        if not parts:
            return pd.DataFrame(columns=["stat", *self.labels, "value"])
        union = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        return union.select("stat", *self.labels, "value").to_pyarrow().to_pandas()

    def sums(self, points: pd.DataFrame, cells: pd.DataFrame, n_persons: int) -> dict[str, Any]:
        """One :class:`EngineSums` per statistic over ``cells`` (label rows in cell order).

        ``points`` is :meth:`points`; every combination in it must be a row of ``cells``.
        """
        index = pd.MultiIndex.from_frame(cells[self.labels])
        out = {}
        for name in self.stats:
            mine = points[points["stat"] == name]
            at = index.get_indexer(pd.MultiIndex.from_frame(mine[self.labels]))
            if len(at) and at.min() < 0:
                raise ValueError(f"{name}: a summed cell is not among the cells laid out")
            totals = np.zeros(len(cells), dtype=np.float64)
            totals[at] = mine["value"].to_numpy(np.float64)
            self._cells[name] = mine[self.labels].assign(_cell=at.astype(np.int64))
            out[name] = EngineSums(self, name, totals, n_persons)
        return out

    def contributions(self, stat: str, offset: int) -> Any:
        """``cell, key, value`` of ``stat``, its cells numbered from ``offset``."""
        if self._index is None:
            frames = [f.assign(_stat=name) for name, f in self._cells.items()]
            # typed from the contributions (an empty frame cannot tell its columns' types)
            types = next(iter(self.stats.values())).schema().to_pyarrow()
            schema = pa.schema(
                [types.field(c) for c in self.labels]
                + [pa.field("_cell", pa.int64()), pa.field("_stat", pa.string())]
            )
            table = pa.Table.from_pandas(
                pd.concat(frames, ignore_index=True), schema=schema, preserve_index=False
            )
            name = f"{self.TABLE}{next(_SEQUENCE)}"
            self._index = self.engine.temp_table(name, table)
        index = self._index.filter(self._index._stat == stat).drop("_stat")
        expr = self.stats[stat]
        j = expr.inner_join(index, self.labels)
        return j.select(
            cell=(j._cell + offset).cast("int64"),
            key=j.key.cast("int64"),
            value=j.value.cast("float64"),
        )

    def close(self) -> None:
        """Drop the uploaded cell numbers (intermediates of this object only)."""
        if self._index is not None:
            self.engine.con.drop_table(self._index.get_name(), force=True)
            self._index = None


class EngineSums:
    """A statistic's sums per cell whose per-person contributions stay on the engine.

    Duck-types :class:`talentflow.indicators.bootstrap.PersonSums` for
    :func:`~talentflow.indicators.bootstrap.run`: :meth:`totals` are the engine's point sums,
    :meth:`contributions` the rows the replicate map-reduce sums.
    """

    def __init__(
        self, parent: EngineContributions, stat: str, totals: np.ndarray, n_persons: int
    ) -> None:
        self.parent, self.stat = parent, stat
        self._totals = totals
        self.shape = (len(totals), n_persons)

    def totals(self) -> np.ndarray:
        """The sum of each cell (float64, in cell order)."""
        return self._totals

    def contributions(self, offset: int) -> Any:
        """``cell, key, value`` on the engine, cells numbered from ``offset``."""
        return self.parent.contributions(self.stat, offset)
