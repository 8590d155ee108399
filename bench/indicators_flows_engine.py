"""Benchmark: retention, returns, origin_work and sector_flows on the engine against the driver.

Usage::

    uv run python bench/indicators_flows_engine.py --db COPY_OF_A_BUILT_STORE [--replicates 200]

Opens a *copy* of a built store (it writes intermediate tables into it). Reads the careers
tables once (``indicators.stage.read_inputs``), builds the padded panel on the driver and
uploads its frames as the engine tables ``_ind_panel_*`` and ``_ind_subsets`` (not timed:
both paths start from a panel). Then times, in CPU seconds of this process
(``time.process_time``: DuckDB's threads included) and wall seconds:

- driver: pools, origins, the four tables' per-person contributions, point estimates and
  bootstrap in pandas/NumPy (``flows._retention`` ... ``bootstrap.run``), finished tables;
- engine: ``flows_engine.flow_tables`` and ``flows_engine.estimate`` (cell sums and replicate
  sums on DuckDB, KM products and shares on the driver).

and reports the largest difference between the two paths' tables.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from talentflow.engines import connect, engine_of
from talentflow.indicators import bootstrap as bs
from talentflow.indicators import flows_engine as fe
from talentflow.indicators.cells import _authorships, _Builder, _origins
from talentflow.indicators.compute import (
    IndicatorParams,
    _person_subsets,
    _with_pools,
    paper_flags,
)
from talentflow.indicators.flows import _origin_work, _retention, _returns, _sector_flows
from talentflow.indicators.panel import build_panel
from talentflow.indicators.stage import read_inputs, to_arrow
from talentflow.indicators.subfields import classify


def _timed(label: str, fn, results: dict) -> object:
    c0, w0 = time.process_time(), time.perf_counter()
    out = fn()
    results[label] = (time.process_time() - c0, time.perf_counter() - w0)
    print(f"{label}: {results[label][0]:.1f} s CPU, {results[label][1]:.1f} s wall", flush=True)
    return out


def _largest_difference(a: pd.DataFrame, b: pd.DataFrame) -> float:
    keys = [c for c in a.columns if a[c].dtype == object or str(a[c].dtype) == "category"]
    keys += [c for c in ("year", "cohort_year", "k", "domestic") if c in a.columns]

    def canon(f: pd.DataFrame) -> pd.DataFrame:
        f = f.astype({c: object for c in f.columns if str(f[c].dtype) == "category"})
        return f.sort_values(keys, na_position="first").reset_index(drop=True)

    a, b = canon(a), canon(b)
    if len(a) != len(b) or not a[keys].astype(str).equals(b[keys].astype(str)):
        return float("inf")
    values = [c for c in a.columns if c not in keys and c != "suppressed"]
    x, y = a[values].to_numpy(float), b[values].to_numpy(float)
    both = np.isfinite(x) & np.isfinite(y)
    if (np.isfinite(x) != np.isfinite(y)).any():
        return float("inf")
    return float(np.max(np.abs(x[both] - y[both]) / np.maximum(np.abs(x[both]), 1e-12)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="a copy of a built store (written to)")
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--memory-limit", default="4GB")
    args = parser.parse_args()
    params = IndicatorParams(replicates=args.replicates, groupings=(), stages=False)
    con = connect(args.db)
    engine = engine_of(con)
    engine.set_limits(memory_limit=args.memory_limit)
    inputs = read_inputs(con)
    panel = build_panel(inputs["person_years"])
    papers = inputs["papers"]
    subfields = classify(papers, llm_era_start=params.llm_era_start)
    flags = paper_flags(papers, params.population_papers)
    auth = _authorships(inputs["authorships"], panel, subfields, flags)
    subsets = _person_subsets(auth, panel.n_persons, params.subfields)
    con.create_table("paper_subfields", to_arrow(subfields), overwrite=True)
    fe.load_driver_panel(con, panel, subsets)
    print(f"panel: {len(panel.years):,} person-years, {panel.n_persons:,} persons", flush=True)
    results: dict[str, tuple[float, float]] = {}

    def driver() -> dict[str, pd.DataFrame]:
        pooled = _with_pools(auth, params.pool_years, params.pool_end)
        origins = _origins(panel, inputs.get("person_profile"))
        builders: dict[str, _Builder] = {
            "retention": _retention(panel, subsets, origins, params.k_max),
            "returns": _returns(panel, subsets, params.k_max),
            "origin_work": _origin_work(panel, pooled, origins, params.subfields),
            "sector_flows": _sector_flows(panel, subsets),
        }
        weights = bs.Weights(panel.keys, params.replicates, params.seed)
        res = bs.run(
            {k: b.spec for k, b in builders.items()},
            panel.n_persons,
            replicates=params.replicates,
            seed=params.seed,
            weights=weights,
        )
        return {k: b.finish(res[k], params.min_cell) for k, b in builders.items()}

    def on_engine() -> dict[str, pd.DataFrame]:
        return fe.estimate(engine, fe.flow_tables(engine, params), params)

    a = _timed("driver", driver, results)
    b = _timed("engine", on_engine, results)
    for name in a:
        print(f"{name}: {len(a[name]):,} rows, largest relative difference "
              f"{_largest_difference(a[name], b[name]):.2e}")  # fmt: skip
    con.disconnect()


if __name__ == "__main__":
    main()
