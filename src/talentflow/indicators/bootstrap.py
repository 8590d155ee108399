"""Cluster bootstrap over persons, vectorised.

Every indicator is a function of per-cell *weighted sums over persons*: a sparse matrix ``M``
(cells x persons) holds each person's contribution to each cell, so the estimate is ``M @ 1``
and replicate ``r`` is ``M @ w[:, r]``, where ``w`` holds Poisson(1) weights per person and
replicate (the Poisson bootstrap: resampling persons, i.e. clusters of person-years, events and
papers, with replacement). Ratios, rates and Kaplan-Meier products are computed from the
replicated sums, so they respect the clustering. The weight of a person in a replicate is a
hash of (person key, replicate, seed) (:mod:`talentflow.indicators.weights`): the same on every
engine and in NumPy, independent of the order of input rows and of which other persons a panel
holds. :class:`Weights` draws them once per build and every table reuses them.

Intervals are percentile intervals (2.5%, 97.5%) over replicates; a replicate whose statistic is
undefined (e.g. a zero denominator) is ignored for that cell.

Cost: point estimates are direct sums per cell (``np.bincount``), with no matrix; the float32
matrices are built only when replicates are asked for, and each is multiplied once per block
of replicates. A sums object used by several specs (the world totals shared by
``country_year`` and its groupings) is summed and multiplied once, also across :func:`run`
calls when they share a :class:`KeptSums`; sums that only feed statistics without intervals
(``Spec.point_only``) are not multiplied in replicates.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import scipy.sparse as sp

from talentflow.indicators import weights as pw
from talentflow.indicators.replicates import replicate_sums

Combine = Callable[[dict[str, np.ndarray]], dict[str, np.ndarray]]

#: Blocks of replicates summed at once on the driver (:func:`run`): one per core, at most 4
#: (each holds its block of float32 weights and sums).
THREADS = max(1, min(4, os.cpu_count() or 1))


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


def _index(values: np.ndarray, bound: int) -> np.ndarray:
    """``values`` as int32 when every value (and ``bound``) fits, else int64 (half the memory)."""
    small = bound < np.iinfo(np.int32).max
    return np.asarray(values, np.int32 if small else np.int64)


class PersonSums:
    """What each person adds to each cell: ``value`` (default 1) of person ``pidx`` in ``cell``.

    The point estimate of a cell is a direct sum (:meth:`totals`); the cells x persons matrix
    that the bootstrap multiplies by replicate weights (:meth:`matrix`) is built only when
    replicates are asked for. Building those matrices cost more than anything else at 10M
    author slots, and a run without bootstrap needs none of them.
    """

    def __init__(
        self,
        cell: np.ndarray,
        pidx: np.ndarray,
        n_cells: int,
        n_persons: int,
        value: np.ndarray | None = None,
        *,
        keep: bool = False,
        via: tuple[PersonSums, sp.csr_matrix] | None = None,
    ) -> None:
        self.cell = _index(cell, n_cells)
        self.pidx = _index(pidx, n_persons)
        self.value = None if value is None else np.asarray(value, np.float64)
        self.shape = (n_cells, n_persons)
        #: used by several :func:`run` calls: its replicate sums are kept (:class:`KeptSums`)
        self.keep = keep
        #: ``(source, agg)``: these sums equal ``agg @`` the kept sums of ``source`` exactly
        #: (integer counts, see :meth:`summed_via`); used when ``source``'s are kept
        self.via = via

    def summed_via(self, source: PersonSums, agg: sp.csr_matrix) -> PersonSums:
        """These sums, marked as ``agg @ source``'s (cells x cells of ``source``) when that
        is exact: both count persons (every value 1) and every replicate sum stays below
        2**24, so float32 adds integers without rounding and any order gives the same bits.
        Otherwise (or if the totals do not agree) they stay as they are."""
        if self.value is not None or source.value is not None or agg.shape[0] != self.shape[0]:
            return self
        totals, from_source = self.totals(), np.asarray(agg @ source.totals())
        bound = float(max(totals.max(initial=0), source.totals().max(initial=0)))
        if bound * pw.MAX_WEIGHT >= 2**24 or not np.array_equal(totals, from_source):
            return self
        self.via = (source, agg.astype(np.float32))
        return self

    def totals(self) -> np.ndarray:
        """The sum of each cell (float64, in cell order)."""
        sums = np.bincount(self.cell, weights=self.value, minlength=self.shape[0])
        return sums.astype(np.float64, copy=False)

    def matrix(self, dtype: type = np.float64) -> sp.csr_matrix:
        """The sparse cells x persons matrix (duplicates summed in float64, then ``dtype``)."""
        m = incidence(self.cell, self.pidx, self.shape[0], self.shape[1], self.value)
        return m if dtype is np.float64 else m.astype(dtype)


@dataclass
class Spec:
    """One table's bootstrap: named person sums and how to turn sums into statistics."""

    matrices: dict[str, PersonSums]
    combine: Combine
    ci: Sequence[str] = field(default_factory=tuple)  # statistics that get intervals
    # sums only statistics without intervals need: not multiplied in replicates
    point_only: Sequence[str] = field(default_factory=tuple)


class Weights:
    """Portable Poisson(1) weights of persons ``keys`` in replicates ``1..replicates``.

    Drawn block by block on first use and kept (int8, ``len(keys) * replicates`` bytes), so
    the tables estimated in separate :func:`run` calls (groupings, the fixed panel) reuse them.
    On an engine (:meth:`on`) they are one table, made once; :meth:`close` drops it.
    """

    TABLE = "_ind_weights"
    BLOCK = 25  # replicates drawn at once (the block of :func:`run`)

    def __init__(self, keys: np.ndarray, replicates: int, seed: int) -> None:
        self.keys = np.asarray(keys, np.int64)
        self.replicates = replicates
        self.seed = seed
        self._blocks: dict[tuple[int, int], np.ndarray] = {}
        self._tables: dict[int, tuple[Any, Any]] = {}
        self._parent: Weights | None = None
        self._at = np.zeros(0, np.int64)

    def block(self, start: int, stop: int) -> np.ndarray:
        """float32 weights of replicates ``start + 1 .. stop`` (persons x replicates)."""
        return self._drawn(start, stop).astype(np.float32)

    def _drawn(self, start: int, stop: int) -> np.ndarray:
        if self._parent is not None:
            # drawn (and kept) once, for every person, by the full panel's weights
            return self._parent._drawn(start, stop)[self._at]
        if (start, stop) not in self._blocks:
            reps = np.arange(start + 1, stop + 1, dtype=np.int64)
            self._blocks[start, stop] = pw.draw(self.keys, reps, self.seed)
        return self._blocks[start, stop]

    def of(self, at: np.ndarray) -> Weights:
        """The weights of the persons at positions ``at`` (a panel of a subset of persons)."""
        sub = Weights(self.keys[at], self.replicates, self.seed)
        sub._parent = self  # its blocks and the engine's table of every person serve both
        sub._at = np.asarray(at, np.int64)
        return sub

    def on(self, engine: Any) -> Any:
        """The weights as a table on ``engine`` (``key, w1 .. wR``), made on first use."""
        if self._parent is not None:
            return self._parent.on(engine)
        if id(engine) not in self._tables:
            # Drawn here by the NumPy mirror of the engines' hash and uploaded (int8): SQL
            # with hundreds of hash columns took far longer to compile and to evaluate.
            columns = {"key": pa.array(self.keys, pa.int64())}
            for start in range(0, self.replicates, self.BLOCK):
                stop = min(start + self.BLOCK, self.replicates)
                drawn = self._drawn(start, stop)
                for i in range(stop - start):
                    columns[f"w{start + i + 1}"] = pa.array(drawn[:, i])
            table = engine.temp_table(self.TABLE, pa.table(columns))
            self._tables[id(engine)] = (engine, table)
        return self._tables[id(engine)][1]

    def close(self) -> None:
        """Drop the weights tables made on engines."""
        for engine, _ in self._tables.values():
            engine.drop_tables(self.TABLE)
        self._tables.clear()


class KeptSums:
    """Replicate sums of the sums objects marked ``keep``, shared by :func:`run` calls.

    Tables estimated in separate calls (``country_year`` and each grouping's) divide by the
    same world totals: with one ``KeptSums`` the totals' matrix is built and multiplied by
    the weights once, and the later calls read the same float32 sums (the same bits as
    multiplying again: the product and its blocks are the same).
    """

    def __init__(self) -> None:
        self._sums: dict[tuple[int, int], tuple[PersonSums, Weights, np.ndarray]] = {}

    def get(self, m: Any, weights: Weights) -> np.ndarray | None:
        """The cells x replicates sums of ``m`` under ``weights`` (None: not kept yet)."""
        got = self._sums.get((id(m), id(weights)))
        return got[2] if got is not None and got[0] is m and got[1] is weights else None

    def put(self, m: PersonSums, weights: Weights, sums: np.ndarray) -> None:
        # the objects are held, so their ids are not reused while kept
        self._sums[id(m), id(weights)] = (m, weights, sums)

    def clear(self) -> None:
        self._sums.clear()


@dataclass
class Result:
    """Point estimates and interval bounds, one array per output statistic."""

    point: dict[str, np.ndarray]
    low: dict[str, np.ndarray]
    high: dict[str, np.ndarray]


def _points(specs: dict[str, Spec]) -> dict[str, dict[str, np.ndarray]]:
    """Point estimates: every spec combined from its cell totals (each object summed once)."""
    totals: dict[int, np.ndarray] = {}
    out = {}
    for name, s in specs.items():
        sums = {}
        for k, m in s.matrices.items():
            if id(m) not in totals:
                totals[id(m)] = m.totals()[:, None]
            sums[k] = totals[id(m)]
        out[name] = {k: v[:, 0] for k, v in s.combine(sums).items()}
    return out


class _DriverSums:
    """Replicate sums on the driver: float32 sparse matrices times blocks of weights.

    Blocks may be summed in several threads at once (the sparse products release the GIL);
    each block's float32 weights are made once (:meth:`begin`) and freed by :meth:`end`.
    """

    def __init__(self, specs: dict[str, Spec], weights: Weights, skip: set[int]) -> None:
        self.weights = weights
        self._block: dict[tuple[int, int], np.ndarray] = {}
        self.matrices: dict[int, sp.csr_matrix] = {}
        for s in specs.values():
            for k, m in s.matrices.items():
                if k not in s.point_only and id(m) not in self.matrices and id(m) not in skip:
                    if not isinstance(m, PersonSums):
                        raise ValueError("sums kept on an engine need the engine's replicates")
                    self.matrices[id(m)] = m.matrix(np.float32)

    def begin(self, start: int, stop: int) -> None:
        self._block[start, stop] = self.weights.block(start, stop)

    def end(self, start: int, stop: int) -> None:
        self._block.pop((start, stop), None)

    def sums(self, m: PersonSums, start: int, stop: int) -> np.ndarray:
        return np.asarray(self.matrices[id(m)] @ self._block[start, stop])

    def close(self) -> None:
        self.matrices.clear()
        self._block.clear()


class _EngineSums:
    """Replicate sums on the engine (:func:`talentflow.indicators.replicates.replicate_sums`).

    Every sums object's contributions go into one table ``cell, key, value`` (each object's
    cells numbered after the previous object's), so one query per block of replicates sums
    them all; only cells x replicates sums come back.
    """

    TABLE = "_ind_contrib"

    def __init__(
        self, specs: dict[str, Spec], weights: Weights, engine: Any, skip: set[int]
    ) -> None:
        self.weights, self.engine = weights, engine
        self.offsets: dict[int, int] = {}
        parts, exprs, n_cells = [], [], 0
        for s in specs.values():
            for k, m in s.matrices.items():
                if k not in s.point_only and id(m) not in self.offsets and id(m) not in skip:
                    self.offsets[id(m)] = n_cells
                    if not isinstance(m, PersonSums):
                        # contributions already on the engine (indicators.engine_sums)
                        exprs.append(m.contributions(n_cells))
                        n_cells += m.shape[0]
                        continue
                    value = np.ones(len(m.cell)) if m.value is None else m.value
                    parts.append(
                        pa.table(
                            {
                                "cell": pa.array(m.cell.astype(np.int64) + n_cells),
                                "key": pa.array(weights.keys[m.pidx], pa.int64()),
                                "value": pa.array(value, pa.float64()),
                            }
                        )
                    )
                    n_cells += m.shape[0]
        self.n_cells = n_cells
        if parts:
            exprs.append(engine.temp_table(f"{self.TABLE}_driver", pa.concat_tables(parts)))
        union = exprs[0].union(*exprs[1:]) if len(exprs) > 1 else exprs[0] if exprs else None
        self.table = engine.temp_table(self.TABLE, union) if union is not None else None
        self.block: tuple[int, int, np.ndarray] | None = None

    def sums(self, m: PersonSums, start: int, stop: int) -> np.ndarray:
        if self.block is None or self.block[:2] != (start, stop):
            reps = range(start + 1, stop + 1)
            got = replicate_sums(
                self.table,
                self.n_cells,
                reps,
                self.weights.seed,
                weights=self.weights.on(self.engine),
                block=len(reps),
            )
            self.block = (start, stop, got)
        at = self.offsets[id(m)]
        return self.block[2][at : at + m.shape[0]]

    def begin(self, start: int, stop: int) -> None:
        pass

    def end(self, start: int, stop: int) -> None:
        pass

    def close(self) -> None:
        self.engine.drop_tables(self.TABLE)
        self.block = None


def _replicate(
    spec: Spec,
    sums_of: Callable[[Any], np.ndarray],
    start: int,
    stop: int,
) -> dict[str, np.ndarray]:
    sums = {}
    for k, m in spec.matrices.items():
        if k in spec.point_only:
            sums[k] = np.zeros((m.shape[0], stop - start))
            continue
        sums[k] = sums_of(m)
    return spec.combine(sums)


@dataclass
class _Plan:
    """Where each sums object's replicate sums come from in one :func:`run` call.

    ``known``: kept by an earlier call; ``derived``: ``agg @`` the sums of a source (kept, as
    an array, or summed in this call); ``filling``: to be kept (filled block by block).
    The others are summed by the driver or the engine.
    """

    known: dict[int, np.ndarray] = field(default_factory=dict)
    derived: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    filling: dict[int, tuple[PersonSums, np.ndarray]] = field(default_factory=dict)

    @classmethod
    def of(
        cls, specs: dict[str, Spec], weights: Weights, replicates: int, kept: KeptSums | None
    ) -> _Plan:
        plan = cls()
        summed = {id(m) for s in specs.values() for k, m in s.matrices.items()}
        summed -= {
            id(m) for s in specs.values() for k, m in s.matrices.items() if k in s.point_only
        }

        def kept_sums(m: Any) -> np.ndarray | None:
            got = kept.get(m, weights) if kept is not None else None
            return got if got is not None and got.shape[1] == replicates else None

        for s in specs.values():
            for k, m in s.matrices.items():
                if k in s.point_only or id(m) in plan.known or id(m) in plan.derived:
                    continue
                keep = kept is not None and getattr(m, "keep", False)
                got = kept_sums(m) if keep else None
                if got is not None:
                    plan.known[id(m)] = got
                    continue
                via = getattr(m, "via", None)
                if via is not None:
                    source = kept_sums(via[0])
                    if source is not None:
                        plan.derived[id(m)] = (via[1], source)
                    elif id(via[0]) in summed:
                        plan.derived[id(m)] = (via[1], via[0])
                if keep and id(m) not in plan.filling:
                    plan.filling[id(m)] = (m, np.empty((m.shape[0], replicates), np.float32))
        return plan

    def sums_of(
        self,
        m: Any,
        summer: _DriverSums | _EngineSums,
        start: int,
        stop: int,
        cache: dict[int, np.ndarray],
    ) -> np.ndarray:
        """The replicate sums of ``m`` in block ``start..stop`` (each computed once per block:
        a sums object used by several specs, e.g. world totals, is multiplied once)."""
        if id(m) not in cache:
            if id(m) in self.known:
                got = self.known[id(m)][:, start:stop]
            elif id(m) in self.derived:
                agg, source = self.derived[id(m)]
                if isinstance(source, np.ndarray):
                    source = source[:, start:stop]
                else:
                    source = self.sums_of(source, summer, start, stop, cache)
                got = np.asarray(agg @ source)
            else:
                got = summer.sums(m, start, stop)
            cache[id(m)] = got
        return cache[id(m)]


def run(
    specs: dict[str, Spec],
    n_persons: int,
    *,
    replicates: int = 200,
    seed: int = 0,
    block: int = 25,
    weights: Weights | None = None,
    engine: Any = None,
    threads: int | None = None,
    kept: KeptSums | None = None,
) -> dict[str, Result]:
    """Estimate every spec and its 95% percentile interval.

    Parameters
    ----------
    specs
        Named :class:`Spec` objects sharing one person index (``0..n_persons-1``).
    replicates
        Number of bootstrap replicates (0: no intervals, bounds are NaN, and no matrix is
        built).
    seed
        Seed of the weights.
    block
        Replicates multiplied at once (memory: ``n_persons * block`` float32 weights per
        thread).
    weights
        The persons' :class:`Weights` (drawn from their keys; ``replicates`` and ``seed``
        are then taken from it). Default: weights keyed by the person index.
    engine
        A :class:`talentflow.engines.Engine`: the replicate sums are computed there (a
        map-reduce over the contributions, :mod:`talentflow.indicators.replicates`) instead
        of by sparse products on the driver; the same weights, so the same intervals.
    threads
        Blocks of replicates summed at once on the driver (default :data:`THREADS`; the
        sparse products and most NumPy work release the GIL). Each block is computed alone,
        in the same order of operations, so every thread count gives the same bits.
    kept
        Replicate sums shared with other calls: the sums objects marked ``keep`` are read
        from it when an earlier call computed them, else computed and put there.

    Point estimates are direct sums in float64; replicates are products in float32 (they
    are stored as float32 anyway, and the products run faster).
    """
    points = _points(specs)
    if weights is None:
        weights = Weights(np.arange(n_persons), replicates, seed)
    elif len(weights.keys) != n_persons or weights.replicates != replicates:
        raise ValueError("weights do not match the persons or the replicates asked for")
    # each statistic with an interval: cells x replicates, filled block by block
    reps: dict[str, dict[str, np.ndarray]] = {
        name: {
            k: np.empty((len(est), replicates), np.float32)
            for k, est in points[name].items()
            if k in s.ci and replicates and len(est)
        }
        for name, s in specs.items()
    }
    if replicates:
        plan = _Plan.of(specs, weights, replicates, kept)
        skip = set(plan.known) | set(plan.derived)
        summer: _DriverSums | _EngineSums = (
            _DriverSums(specs, weights, skip)
            if engine is None
            else _EngineSums(specs, weights, engine, skip)
        )

        def one_block(start: int) -> None:
            stop = min(start + block, replicates)
            summer.begin(start, stop)
            cache: dict[int, np.ndarray] = {}

            def sums_of(m: Any) -> np.ndarray:
                return plan.sums_of(m, summer, start, stop, cache)

            for name, s in specs.items():
                for k, v in _replicate(s, sums_of, start, stop).items():
                    if k in reps[name]:
                        reps[name][k][:, start:stop] = v
            for m, whole in plan.filling.values():
                whole[:, start:stop] = sums_of(m)
            summer.end(start, stop)

        starts = range(0, replicates, block)
        workers = 1 if engine is not None else max(1, min(threads or THREADS, len(starts)))
        try:
            if workers == 1:
                for start in starts:
                    one_block(start)
            else:
                with ThreadPoolExecutor(workers) as pool:
                    for _ in pool.map(one_block, starts):
                        pass  # re-raises a block's error
        finally:
            summer.close()
        for m, whole in plan.filling.values():
            assert kept is not None  # filling is empty without it
            kept.put(m, weights, whole)
    out: dict[str, Result] = {}
    for name in specs:
        low: dict[str, np.ndarray] = {}
        high: dict[str, np.ndarray] = {}
        for k, est in points[name].items():
            if k not in reps[name]:
                low[k] = np.full(len(est), np.nan)
                high[k] = np.full(len(est), np.nan)
                continue
            low[k], high[k] = _percentiles(reps[name].pop(k))
        out[name] = Result(points[name], low, high)
    return out


def _percentiles(mat: np.ndarray, rows: int = 1 << 16) -> tuple[np.ndarray, np.ndarray]:
    """Row-wise 2.5% and 97.5% quantiles (linear interpolation), ignoring NaN replicates.

    Computed ``rows`` rows at a time, so the sorted copy stays small."""
    if len(mat) <= rows:
        return _row_percentiles(mat)
    parts = [_row_percentiles(mat[a : a + rows]) for a in range(0, len(mat), rows)]
    return np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts])


def _row_percentiles(mat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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
    num = np.asarray(num, np.float64) * scale if scale != 1.0 else np.asarray(num, np.float64)
    num, den = np.broadcast_arrays(num, np.asarray(den, np.float64))
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


class KeyIndex:
    """Integer codes for combinations of key columns (vectorised; no per-row Python).

    Each column is factorised against its sorted distinct values; a combination's code is the
    mixed-radix number of its column codes, and the cells are the distinct codes, sorted.
    Key columns must not hold NULL (use sentinels).
    """

    def __init__(self, frame: pd.DataFrame, keys: list[str]) -> None:
        self.keys = keys
        # one hash pass per column; levels are its sorted distinct values
        factors = [pd.factorize(frame[k], use_na_sentinel=False) for k in keys]
        self.levels = [pd.Index(uniques).sort_values() for _, uniques in factors]
        self.radix = [max(len(lv), 1) for lv in self.levels]
        parts = [lv.get_indexer(u)[c] for (c, u), lv in zip(factors, self.levels, strict=True)]
        self._own = self._mix(parts)
        self.cells = np.unique(self._own)

    def _mix(self, parts: list[np.ndarray]) -> np.ndarray:
        code = np.zeros(len(parts[0]) if parts else 0, dtype=np.int64)
        for c, radix in zip(parts, self.radix, strict=True):
            code = code * radix + c
        return code

    def combined(self, frame: pd.DataFrame, cols: list[str]) -> np.ndarray:
        parts = []
        for col, levels in zip(cols, self.levels, strict=True):
            codes, uniques = pd.factorize(frame[col], use_na_sentinel=False)
            pos = levels.get_indexer(uniques)
            if len(pos) and pos.min() < 0:
                raise ValueError(f"value of {col!r} outside the key index (or NULL)")
            parts.append(pos[codes])
        return self._mix(parts)

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
    return index.frame(), np.searchsorted(index.cells, index._own)
